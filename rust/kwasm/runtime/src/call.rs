// SPDX-License-Identifier: GPL-2.0

//! Helpers for the runtime's entry and host-call paths: how to call a
//! function from the host, how to decode a host-call index, and which trap a
//! faulting instruction stands for.

use kwasm_abi::{Builtin, FuncType, TrampolineFn, Trap};

use crate::builtins::builtin_slots;
use crate::platform::Platform;
use crate::Instance;

/// Everything needed to call a wasm function from the host: the runtime
/// calls `trampoline(vmctx, code, args)` inside its trap-catching entry.
#[derive(Debug, Clone, Copy)]
pub struct CallTarget {
    /// Array-call trampoline for the function's signature.
    pub trampoline: TrampolineFn,
    /// First argument of the callee.
    pub vmctx: *mut u8,
    /// The callee's native entry.
    pub code: *const u8,
    /// Length the `args` array must have: max(params, results).
    pub slots: usize,
}

/// Slots an array call with this signature needs.
pub fn slots_for(ty: &FuncType) -> usize {
    ty.params.len().max(ty.results.len())
}

/// What a host-call index asks for.
pub enum HostcallTarget<'a, P: Platform> {
    /// A runtime builtin, with its slot count.
    Builtin(Builtin, usize),
    /// An imported host function, with its type.
    Import(&'a P::HostFunc, &'a FuncType),
}

impl<P: Platform> Instance<P> {
    /// How to call function `index` of this instance from the host.
    pub fn call_target(&self, index: u32) -> Option<CallTarget> {
        let m = self.module();
        let ty_index = *m.func_types.get(index as usize)?;
        let ty = m.types.get(ty_index as usize)?;
        let tramp = *m.trampolines.get(ty_index as usize)?;
        if tramp as usize >= m.code.len() {
            return None;
        }
        let f = self.funcs().get(index as usize)?;
        // SAFETY: `tramp` is inside the code (checked above) and the code is executable for the instance's lifetime (precondition of `Instance::new`); the compiler emits an array-call trampoline with the `TrampolineFn` ABI at that offset.
        let trampoline = unsafe {
            core::mem::transmute::<*const u8, TrampolineFn>(self.code_base().add(tramp as usize))
        };
        Some(CallTarget {
            trampoline,
            vmctx: f.vmctx,
            code: f.code,
            slots: slots_for(ty),
        })
    }

    /// Decodes a host-call index.
    #[inline]
    pub fn hostcall_target(&self, index: u32) -> Option<HostcallTarget<'_, P>> {
        // Imports first: nearly every host call is one (a WASI call), and
        // their indices lie far below BUILTIN_BASE (the import limit).
        if let Some((f, ty)) = self.host_func(index) {
            return Some(HostcallTarget::Import(f, ty));
        }
        let b = Builtin::from_index(index)?;
        Some(HostcallTarget::Builtin(b, builtin_slots(b)))
    }

    /// Whether `pc` lies in this instance's code.
    pub fn contains_pc(&self, pc: usize) -> bool {
        let base = self.code_base() as usize;
        pc.checked_sub(base)
            .is_some_and(|off| off < self.module().code.len())
    }

    /// The trap a faulting instruction at `pc` stands for, if `pc` is a trap
    /// site of this instance's code.
    pub fn trap_at_pc(&self, pc: usize) -> Option<Trap> {
        trap_at_pc(self.module(), self.code_base() as usize, pc)
    }
}

/// The trap at `pc` in a copy of `module.code` placed at `code_base`.
pub fn trap_at_pc(module: &kwasm_abi::CompiledModule, code_base: usize, pc: usize) -> Option<Trap> {
    let off = pc.checked_sub(code_base)?;
    if off >= module.code.len() {
        return None;
    }
    module.trap_at(u32::try_from(off).ok()?)
}
