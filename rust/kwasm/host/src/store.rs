// SPDX-License-Identifier: GPL-2.0

//! A store: compiled modules loaded into executable memory and the instances
//! made from them, kept alive together (function references in shared tables
//! may point into any of them).

use std::rc::Rc;
use std::sync::Arc;

use kwasm_abi::{CompiledModule, ImportKind, Trap};
use kwasm_compiler::{CompileError, Config, IsaFeatures};
use kwasm_runtime::{Extern, Func, Instance, InstantiateError, LinkError, TypeRegistry};

use crate::code::CodeMemory;
use crate::entry;
use crate::platform::{HostPlatform, SAFEPOINT_MASK};
use crate::Stop;

/// An instance on the host platform.
pub type HInstance = Instance<HostPlatform>;
/// An extern on the host platform.
pub type HExtern = Extern<HostPlatform>;
/// A function on the host platform.
pub type HFunc = Func<HostPlatform>;

/// A compiled module with its code mapped executable.
#[derive(Debug)]
pub struct Module {
    compiled: Arc<CompiledModule>,
    code: CodeMemory,
}

impl Module {
    /// The compiler's output.
    pub fn compiled(&self) -> &Arc<CompiledModule> {
        &self.compiled
    }

    /// The executable code.
    pub fn code(&self) -> &CodeMemory {
        &self.code
    }
}

/// Why a module could not be instantiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceError {
    /// An import is missing or mismatched.
    Unlinkable(String),
    /// A resource was refused.
    Resource(&'static str),
    /// The compiled module is inconsistent (compiler bug).
    BadModule(&'static str),
    /// A segment or the start function trapped.
    Trap(Trap),
    /// The start function called `proc_exit`.
    Exit(i32),
}

impl std::fmt::Display for InstanceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unlinkable(s) => write!(f, "unlinkable: {s}"),
            Self::Resource(s) => write!(f, "resource refused: {s}"),
            Self::BadModule(s) => write!(f, "bad compiled module: {s}"),
            Self::Trap(t) => write!(f, "trap: {}", t.name()),
            Self::Exit(c) => write!(f, "exit({c})"),
        }
    }
}

/// Compiler configuration for this machine: every ISA extension the CPU has.
pub fn compiler_config() -> Config {
    let features = IsaFeatures {
        sse41: std::is_x86_feature_detected!("sse4.1"),
        sse42: std::is_x86_feature_detected!("sse4.2"),
        popcnt: std::is_x86_feature_detected!("popcnt"),
        lzcnt: std::is_x86_feature_detected!("lzcnt"),
        bmi1: std::is_x86_feature_detected!("bmi1"),
        bmi2: std::is_x86_feature_detected!("bmi2"),
        avx: std::is_x86_feature_detected!("avx"),
        avx2: std::is_x86_feature_detected!("avx2"),
        fma: std::is_x86_feature_detected!("fma"),
    };
    Config {
        features,
        safepoint_mask: Some(SAFEPOINT_MASK),
        ..Config::default()
    }
}

/// Modules and instances that live and die together.
pub struct Store {
    // Field order is drop order: instances before the code they run.
    instances: Vec<Rc<HInstance>>,
    modules: Vec<Rc<Module>>,
    types: TypeRegistry,
    platform: Rc<HostPlatform>,
    config: Config,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty store with a fresh platform.
    pub fn new() -> Self {
        Self {
            instances: Vec::new(),
            modules: Vec::new(),
            types: TypeRegistry::new(),
            platform: Rc::new(HostPlatform::new()),
            config: compiler_config(),
        }
    }

    /// The platform shared by this store's instances.
    pub fn platform(&self) -> &Rc<HostPlatform> {
        &self.platform
    }

    /// The compiler configuration used by [`Store::compile`].
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// Compiles and loads a wasm binary.
    pub fn compile(&mut self, wasm: &[u8]) -> Result<Rc<Module>, CompileError> {
        let compiled = kwasm_compiler::compile(wasm, &self.config)?;
        self.load(compiled)
            .map_err(|e| CompileError::Codegen(format!("loading code: {e}")))
    }

    /// Loads compiled code into executable memory.
    pub fn load(&mut self, compiled: CompiledModule) -> std::io::Result<Rc<Module>> {
        let hostcall = crate::hostcall::kwasm_hostcall as *const () as usize;
        let code = CodeMemory::new(&compiled, hostcall)?;
        let m = Rc::new(Module {
            compiled: Arc::new(compiled),
            code,
        });
        self.modules.push(m.clone());
        Ok(m)
    }

    /// Instantiates `module` with `imports` (in import order), applies
    /// segments and runs the start function. Instances whose segments or
    /// start function trapped are kept in the store: their functions may
    /// already be reachable through shared tables.
    pub fn instantiate(
        &mut self,
        module: &Rc<Module>,
        imports: Vec<HExtern>,
    ) -> Result<Rc<HInstance>, InstanceError> {
        // SAFETY: the module's code stays mapped as long as the store, which outlives (drops after) every instance in it.
        let r = unsafe {
            Instance::new(
                &self.platform,
                module.compiled.clone(),
                module.code.base(),
                imports,
                &mut self.types,
            )
        };
        let inst = match r {
            Ok(i) => i,
            Err(InstantiateError::Trap(t, inst)) => {
                self.instances.push(inst);
                return Err(InstanceError::Trap(t));
            }
            Err(InstantiateError::Unlinkable(LinkError { import, reason })) => {
                let name = module
                    .compiled
                    .imports
                    .get(import)
                    .map(|i| format!("{}.{}", i.module, i.name))
                    .unwrap_or_default();
                return Err(InstanceError::Unlinkable(format!("{name}: {reason}")));
            }
            Err(InstantiateError::Resource(s)) => return Err(InstanceError::Resource(s)),
            Err(InstantiateError::BadModule(s)) => return Err(InstanceError::BadModule(s)),
        };
        self.instances.push(inst.clone());
        if let Some(start) = module.compiled.start {
            match self.call(&inst, start, &mut []) {
                Ok(()) => {}
                Err(Stop::Trap(t)) => return Err(InstanceError::Trap(t)),
                Err(Stop::Exit(c)) => return Err(InstanceError::Exit(c)),
            }
        }
        Ok(inst)
    }

    /// Resolves a module's imports by name with `resolve(module, name, kind)`.
    pub fn resolve_imports(
        module: &Module,
        mut resolve: impl FnMut(&str, &str, &ImportKind) -> Option<HExtern>,
    ) -> Result<Vec<HExtern>, InstanceError> {
        module
            .compiled
            .imports
            .iter()
            .map(|imp| {
                resolve(&imp.module, &imp.name, &imp.kind).ok_or_else(|| {
                    InstanceError::Unlinkable(format!("unknown import {}.{}", imp.module, imp.name))
                })
            })
            .collect()
    }

    /// Calls function `index` of `inst`; `args` holds parameters and receives
    /// results (max(params, results) slots at least).
    pub fn call(&self, inst: &HInstance, index: u32, args: &mut [u64]) -> Result<(), Stop> {
        let target = inst.call_target(index).ok_or(Stop::Trap(Trap::HostError))?;
        inst.set_stack_limit(entry::current_stack_limit());
        let mut slots;
        let args = if args.len() < target.slots {
            slots = vec![0u64; target.slots];
            slots[..args.len()].copy_from_slice(args);
            &mut slots[..]
        } else {
            args
        };
        entry::call(&target, args)
    }

    /// Calls an exported wasm function. Host functions have no instance to
    /// run against outside a wasm call, so calling one here is a host error.
    pub fn call_func(&self, f: &HFunc, args: &mut [u64]) -> Result<(), Stop> {
        match f {
            Func::Wasm { instance, index } => self.call(instance, *index, args),
            Func::Host { .. } => Err(Stop::Trap(Trap::HostError)),
        }
    }

    /// Sets the stack limit of every instance to this thread's (after moving
    /// the store to another thread).
    pub fn adopt_current_thread(&self) {
        let limit = entry::current_stack_limit();
        for i in &self.instances {
            i.set_stack_limit(limit);
        }
    }
}
