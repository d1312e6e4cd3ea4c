// SPDX-License-Identifier: GPL-2.0

//! A program: the one object that owns everything of one exec (its wasm
//! stack, placed code, instance, WASI state and the exec plumbing binfmt.c
//! keeps in its `struct kwasm_run`), and running it from the task work that
//! binfmt.c queues.
//!
//! C sees a program only as its `struct kwasm_run *` and crosses into Rust
//! four times per exec: [`kwasm_rs_program_alloc`], [`kwasm_rs_program_load`]
//! (after the compile or cache lookup, which runs on the program's stack),
//! [`kwasm_rs_program_run`] and [`kwasm_rs_program_free`].

use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::{Cell, UnsafeCell};
use core::ffi::{c_char, c_int, c_void, CStr};
use core::fmt::Write;

use kernel::error::code::{ENOEXEC, ENOMEM};
use kernel::prelude::*;
use kwasm_abi::{CompiledModule, ExportKind, ImportKind, Trap};
use kwasm_runtime::{Extern, Func, Instance, InstantiateError, TypeRegistry};

use crate::compile::ErrBuf;
use crate::ffi::{self, CodeError, CodeMem, KwasmRun, User, WasmStack};
use crate::platform::KernelPlatform;
use crate::wasi::{self, StartError, WasiCtx};

/// Unwind code of a host call that ended the program with `proc_exit`.
pub(crate) const UNWIND_EXIT: u64 = 0x100;

/// Exit status of a program that could not start (its preopens), as a
/// shell's "cannot execute".
const START_FAILED: c_int = 126;

/// The status of a program that could not run (as for a failed host call).
const SIGSYS: c_int = Trap::HostError.signal();

/// One exec.
///
/// # Invariants
///
/// `run` is the first field and the program lives in a [`KBox`] that C holds
/// as a `struct kwasm_run *` from [`kwasm_rs_program_alloc`] to
/// [`kwasm_rs_program_free`]: it never moves, and C may read and write the
/// run's fields whenever the program is not borrowed by Rust, and the
/// fields C owns (`fpu_on`, `task_sp`, `trap_ip`, ...) also during
/// [`ffi::run_call`]. `run.stack` is `stack`'s memory, `run.user` is
/// `_user`'s record.
#[repr(C)]
pub(crate) struct Program {
    run: UnsafeCell<KwasmRun>,
    /// Field order is drop order: the loaded program (whose code may hold
    /// frames on the stack only while it runs) goes before its stack.
    loaded: Option<Loaded>,
    stack: WasmStack,
    _user: User,
}

/// A module linked, placed and instantiated on a program's run. Field order
/// is drop order: the instance goes before the code it runs.
struct Loaded {
    instance: Rc<Instance<KernelPlatform>>,
    platform: Rc<KernelPlatform>,
    code: CodeMem,
    module: Arc<CompiledModule>,
    start: u32,
    /// The file name, NUL-terminated (for the log).
    name: Vec<u8>,
}

/// Resolves the module's imports against the host functions kwasm provides.
fn link(
    module: &CompiledModule,
    err: &mut ErrBuf,
) -> Result<Vec<Extern<KernelPlatform>>, NewError> {
    // Sized by the module (up to 100,000 imports): fallible, as a panic
    // here, in execve() and outside any compile or host call, is a BUG().
    let mut out = Vec::new();
    out.try_reserve_exact(module.imports.len())
        .map_err(|_| NewError::NoMem)?;
    for imp in &module.imports {
        let resolved = match imp.kind {
            ImportKind::Func(ty) => wasi::lookup(&imp.module, &imp.name).and_then(|(func, fty)| {
                // A mismatching signature is reported by the runtime's link
                // check; give it the host function's real type.
                let _ = module.types.get(ty as usize)?;
                Some(Extern::Func(Func::Host { func, ty: fty }))
            }),
            _ => None,
        };
        match resolved {
            Some(e) => out.push(e),
            None => {
                let _ = write!(err, "unknown import {}::{}", imp.module, imp.name);
                return Err(NewError::Invalid);
            }
        }
    }
    Ok(out)
}

/// Why a program could not be created.
enum NewError {
    /// The module cannot run as a program (-ENOEXEC).
    Invalid,
    /// A resource was refused: memory, code space (-ENOMEM).
    NoMem,
}

/// Allocates a program with its wasm stack, nothing loaded yet. Returns it
/// as its `struct kwasm_run`, or null without memory.
#[no_mangle]
pub(crate) extern "C" fn kwasm_rs_program_alloc() -> *mut KwasmRun {
    let (Some(stack), Some(user)) = (WasmStack::new(), User::current()) else {
        return core::ptr::null_mut();
    };
    let p = Program {
        run: UnsafeCell::new(KwasmRun::new(&stack, &user)),
        loaded: None,
        stack,
        _user: user,
    };
    match KBox::new(p, GFP_KERNEL_ACCOUNT) {
        // INVARIANT: boxed, handed to C, `run` first (repr(C)).
        Ok(p) => KBox::into_raw(p).cast(),
        Err(_) => core::ptr::null_mut(),
    }
}

/// Loads `module` (a module reference from `kwasm_rs_compile` or
/// `kwasm_rs_module_get`, consumed) into the program `run`: links it,
/// places its code and instantiates it. Returns 0, or -ENOEXEC / -ENOMEM
/// with the reason in `err`.
///
/// # Safety
///
/// `run` comes from [`kwasm_rs_program_alloc`], has nothing loaded and is
/// not in use elsewhere; `module` is a module reference; `filename` is a
/// NUL-terminated string; `err` is writable for `errlen >= 1` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_program_load(
    run: *mut KwasmRun,
    module: *mut c_void,
    filename: *const c_char,
    err: *mut c_char,
    errlen: usize,
) -> c_int {
    // SAFETY: `err` is writable for `errlen` bytes (caller).
    let mut err = unsafe { ErrBuf::new(err, errlen) };
    // SAFETY: `module` is a module reference (`Arc::into_raw`) handed over by the caller, consumed here.
    let shared = unsafe { Arc::from_raw(module.cast::<CompiledModule>().cast_const()) };
    // SAFETY: `filename` is NUL-terminated (caller).
    let name = unsafe { CStr::from_ptr(filename) };
    // SAFETY: a live program no one else uses now (caller; `run` is its first field).
    let p = unsafe { &mut *run.cast::<Program>() };
    let limit = p.stack.limit();
    match Loaded::new(shared, p.run.get(), limit, name, &mut err) {
        Ok(l) => {
            // SAFETY: nothing borrows the run; the image outlives it being set, as `loaded` owns it and C reads `image` only while its code runs.
            unsafe { (*p.run.get()).image = l.code.image() };
            p.loaded = Some(l);
            0
        }
        Err(NewError::Invalid) => ENOEXEC.to_errno(),
        Err(NewError::NoMem) => ENOMEM.to_errno(),
    }
}

impl Loaded {
    fn new(
        module: Arc<CompiledModule>,
        run: *mut KwasmRun,
        stack_limit: u64,
        filename: &CStr,
        err: &mut ErrBuf,
    ) -> Result<Self, NewError> {
        // Shared with the code cache and other execs, not copied: nothing of
        // the module's size is allocated (infallibly) per exec.
        let mut name = Vec::new();
        if name
            .try_reserve_exact(filename.to_bytes_with_nul().len())
            .is_err()
        {
            let _ = write!(err, "out of memory");
            return Err(NewError::NoMem);
        }
        name.extend_from_slice(filename.to_bytes_with_nul());
        let start = match module.export("_start") {
            Some(ExportKind::Func(i)) => i,
            _ => {
                let _ = write!(err, "no exported _start function");
                return Err(NewError::Invalid);
            }
        };
        let takes_nothing = |f: u32| {
            module
                .func_types
                .get(f as usize)
                .and_then(|t| module.types.get(*t as usize))
                .is_some_and(|t| t.params.is_empty() && t.results.is_empty())
        };
        if !takes_nothing(start) {
            let _ = write!(err, "_start must take and return nothing");
            return Err(NewError::Invalid);
        }
        let imports = link(&module, err)?;
        // SAFETY: `run` is live and nothing writes its `user` (set at allocation).
        let user = unsafe { (*run).user };
        let code = match CodeMem::new(&module, filename, user) {
            Ok(code) => code,
            Err(CodeError::NoMem) => {
                let _ = write!(
                    err,
                    "out of memory for code, or over kwasm.code_limit_mb or this user's share of it"
                );
                return Err(NewError::NoMem);
            }
            Err(CodeError::Reloc(e)) => {
                let _ = write!(err, "cannot place the code: {e:?}");
                return Err(NewError::Invalid);
            }
            Err(CodeError::Layout) => {
                let _ = write!(err, "cannot place the code: bad trap sites or functions");
                return Err(NewError::Invalid);
            }
        };
        let platform = Rc::new(KernelPlatform {
            run,
            user,
            stack_limit,
            wasi: WasiCtx::new(),
            exit_code: Cell::new(None),
            table_elems: Cell::new(0),
        });
        let mut registry = TypeRegistry::new();
        // SAFETY: `code` holds an executable copy of `module.code` and is dropped after the instance (field order of `Loaded`).
        let instance = match unsafe {
            Instance::new(
                &platform,
                module.clone(),
                code.as_ptr(),
                imports,
                &mut registry,
            )
        } {
            Ok(i) => i,
            Err(InstantiateError::Trap(t, _)) => {
                let _ = write!(err, "instantiation trapped: {}", t.name());
                return Err(NewError::Invalid);
            }
            Err(InstantiateError::Resource(what)) => {
                let _ = write!(
                    err,
                    "cannot instantiate: no {what}: out of memory, or over a kwasm limit \
                     (max_memories) or this user's share of it"
                );
                return Err(NewError::NoMem);
            }
            Err(e) => {
                let _ = write!(err, "cannot instantiate: {e:?}");
                return Err(NewError::Invalid);
            }
        };
        let leaf_imports = crate::leaf::imports(&instance);
        // SAFETY: the run outlives its program's instance and is this task's; no wasm code runs now, so entry.S does not read these fields meanwhile.
        unsafe {
            (*platform.run).leaf_vmctx = instance.vmctx();
            (*platform.run).leaf_imports = leaf_imports;
        }
        let p = Self {
            instance,
            platform,
            code,
            module,
            start,
            name,
        };
        Ok(p)
    }
}

/// How a call into wasm ended.
enum Outcome {
    Returned,
    Exit(u32),
    /// A trap, with the function index and offset in it when a fault in
    /// compiled code caused it.
    Trap(Trap, Option<(u32, u32, usize)>),
}

impl Loaded {
    fn call(&self, index: u32) -> Outcome {
        let Some(t) = self.instance.call_target(index) else {
            return Outcome::Trap(Trap::HostError, None);
        };
        // On the stack, not the heap: a SIGKILL while the program is stopped
        // exits the task from inside a host call and abandons these frames
        // (binfmt.c frees the program with the mm). `_start` and the start
        // function take and return nothing (checked at creation).
        let mut args = [0u64; 1];
        if t.slots > args.len() {
            return Outcome::Trap(Trap::HostError, None);
        }
        // SAFETY: the target comes from the instance, whose code is mapped for the program's lifetime; `args` has the callee's slot count; `run` is this task's run (binfmt.c).
        let r = unsafe {
            ffi::run_call(
                self.platform.run,
                t.trampoline as *const c_void,
                t.vmctx,
                t.code,
                args.as_mut_ptr(),
            )
        };
        match r {
            0 => Outcome::Returned,
            UNWIND_EXIT => Outcome::Exit(self.platform.exit_code.get().unwrap_or(0)),
            ffi::UNWIND_PANIC => {
                // Logged by run.c. The abandoned host call may have left
                // the platform's state (WASI) half-changed, with no drop
                // guard run: never drop it, keep it.
                ffi::keep_after_panic(Rc::clone(&self.platform));
                Outcome::Trap(Trap::HostError, None)
            }
            ffi::UNWIND_FAULT => {
                // SAFETY: the run outlives its program's instance; the fault handler wrote this field during the call that just returned, and nothing writes it now.
                let ip = unsafe { (*self.platform.run).trap_ip };
                let off = ip.wrapping_sub(self.instance.code_base() as usize);
                let at = u32::try_from(off)
                    .ok()
                    .and_then(|o| self.module.func_at(o))
                    .map(|(f, o)| (f, o, ip));
                // A fault that is not a trap site would be a compiler bug;
                // it still only ends this program.
                let trap = self.instance.trap_at_pc(ip).unwrap_or(Trap::HostError);
                Outcome::Trap(trap, at)
            }
            c => Outcome::Trap(
                u8::try_from(c)
                    .ok()
                    .and_then(Trap::from_u8)
                    .unwrap_or(Trap::HostError),
                None,
            ),
        }
    }

    /// Runs the start function, then `_start`; returns the exit status for
    /// do_group_exit().
    fn run(&self, secureexec: bool) -> c_int {
        if let Err(e) = self.platform.wasi.start(secureexec) {
            let mut why = [0u8; 96];
            // SAFETY: `why` is writable for its whole length, which is >= 1.
            let mut w = unsafe { ErrBuf::new(why.as_mut_ptr().cast(), why.len()) };
            let _ = match e {
                StartError::NoMem => write!(w, "out of memory"),
                StartError::Preopen(dir, errno) => write!(
                    w,
                    "cannot preopen {}: error {}",
                    core::str::from_utf8(&dir).unwrap_or("?"),
                    -errno
                ),
            };
            ffi::log_refusal(&self.name, w.as_cstr());
            return START_FAILED << 8;
        }
        let mut outcome = Outcome::Returned;
        if let Some(s) = self.module.start {
            outcome = self.call(s);
        }
        if matches!(outcome, Outcome::Returned) {
            outcome = self.call(self.start);
        }
        match outcome {
            Outcome::Returned => 0,
            Outcome::Exit(code) => ((code & 0xff) << 8) as c_int,
            // A fatal signal is pending: do_group_exit() uses its code.
            Outcome::Trap(Trap::Interrupted, _) => 0,
            Outcome::Trap(t, at) => {
                ffi::log_trap(&self.name, t.name(), at);
                t.signal()
            }
        }
    }
}

/// Runs the program; returns the exit status.
///
/// # Safety
///
/// `run` comes from [`kwasm_rs_program_alloc`] and runs on the task that
/// created it.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_program_run(run: *mut KwasmRun) -> c_int {
    // SAFETY: a live program (caller); only shared borrows from here on, C writes the run's fields through `UnsafeCell`.
    let p = unsafe { &*run.cast::<Program>() };
    // SAFETY: binfmt.c set it before queueing the run; no one writes it now.
    let secureexec = unsafe { (*p.run.get()).secureexec };
    match &p.loaded {
        Some(l) => l.run(secureexec),
        // binfmt.c queues only loaded programs.
        None => SIGSYS,
    }
}

/// Frees a program and everything it owns.
///
/// # Safety
///
/// `run` comes from [`kwasm_rs_program_alloc`] and is not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn kwasm_rs_program_free(run: *mut KwasmRun) {
    // SAFETY: ownership returns from C, exactly once (caller); it was made by `KBox::into_raw` of a `Program`, whose first field `run` is.
    drop(unsafe { KBox::from_raw(run.cast::<Program>()) });
}
