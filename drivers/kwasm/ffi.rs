// SPDX-License-Identifier: GPL-2.0

//! The C side of kwasm (binfmt.c, run.c, linear_memory.c, wasi_io.c,
//! entry.S), declared once and wrapped in small safe functions.

use core::ffi::{c_char, c_int, c_uint, c_void, CStr};

use kernel::bindings;
use kernel::prelude::*;

/// `struct kwasm_run` (kwasm.h): the part of a program that C and entry.S
/// use, first in [`crate::program::Program`]. Mirrored field by field; the
/// offsets and the size are checked at compile time (below) against
/// `kwasm_offsets.rs`, which the build generates from the C definition
/// (kwasm_offsets.c), so the two cannot drift apart.
#[repr(C)]
pub(crate) struct KwasmRun {
    /// Task stack pointer saved by `kwasm_enter()`.
    task_sp: usize,
    /// The wasm stack, [`WasmStack`] of the program.
    pub(crate) stack: *mut u8,
    /// The placed code, null until the program is loaded.
    pub(crate) image: *mut KwasmImage,
    /// Faulting address of the last trap in compiled code (traps.c).
    pub(crate) trap_ip: usize,
    // Used by C only (scratch.c); zeroed here.
    #[allow(dead_code)]
    scratch: usize,
    #[allow(dead_code)]
    scratch_size: usize,
    /// The exec's user, [`User`] of the program.
    pub(crate) user: *mut KwasmUser,
    #[allow(dead_code)]
    fpu_on: bool,
    #[allow(dead_code)]
    in_hostcall: bool,
    /// Set by binfmt.c after the exec's point of no return.
    pub(crate) secureexec: bool,
    #[allow(dead_code)]
    work: bindings::callback_head,
    #[allow(dead_code)]
    defer: bindings::work_struct,
    /// `struct task_struct *`, opaque here.
    #[allow(dead_code)]
    task: *mut c_void,
    #[allow(dead_code)]
    parked: bool,
    #[allow(dead_code)]
    owner: bindings::vm_special_mapping,
    #[allow(dead_code)]
    running: bindings::list_head,
    /// `struct task_struct *`, opaque here.
    #[allow(dead_code)]
    runner: *mut c_void,
    /// `struct mm_struct *`, opaque here.
    #[allow(dead_code)]
    runner_mm: *mut c_void,
    #[allow(dead_code)]
    no_contain: c_uint,
    /// The instance whose imports `leaf_imports` describes (entry.S).
    pub(crate) leaf_vmctx: *mut u8,
    /// Bit i: import i of that instance has a leaf path (leaf.rs).
    pub(crate) leaf_imports: u64,
}

/// The layouts of kwasm.h's shared structures as C sees them (generated).
pub(crate) mod offsets {
    include!("kwasm_offsets.rs");
}

const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(size_of::<KwasmRun>() == offsets::KWASM_RUN_SIZE);
    assert!(align_of::<KwasmRun>() == offsets::KWASM_RUN_ALIGN);
    assert!(offset_of!(KwasmRun, task_sp) == offsets::KWASM_RUN_TASK_SP);
    assert!(offset_of!(KwasmRun, stack) == offsets::KWASM_RUN_STACK);
    assert!(offset_of!(KwasmRun, image) == offsets::KWASM_RUN_IMAGE);
    assert!(offset_of!(KwasmRun, trap_ip) == offsets::KWASM_RUN_TRAP_IP);
    assert!(offset_of!(KwasmRun, scratch) == offsets::KWASM_RUN_SCRATCH);
    assert!(offset_of!(KwasmRun, scratch_size) == offsets::KWASM_RUN_SCRATCH_SIZE);
    assert!(offset_of!(KwasmRun, user) == offsets::KWASM_RUN_USER);
    assert!(offset_of!(KwasmRun, fpu_on) == offsets::KWASM_RUN_FPU_ON);
    assert!(offset_of!(KwasmRun, in_hostcall) == offsets::KWASM_RUN_IN_HOSTCALL);
    assert!(offset_of!(KwasmRun, secureexec) == offsets::KWASM_RUN_SECUREEXEC);
    assert!(offset_of!(KwasmRun, work) == offsets::KWASM_RUN_WORK);
    assert!(offset_of!(KwasmRun, defer) == offsets::KWASM_RUN_DEFER);
    assert!(offset_of!(KwasmRun, task) == offsets::KWASM_RUN_TASK);
    assert!(offset_of!(KwasmRun, parked) == offsets::KWASM_RUN_PARKED);
    assert!(offset_of!(KwasmRun, owner) == offsets::KWASM_RUN_OWNER);
    assert!(offset_of!(KwasmRun, running) == offsets::KWASM_RUN_RUNNING);
    assert!(offset_of!(KwasmRun, runner) == offsets::KWASM_RUN_RUNNER);
    assert!(offset_of!(KwasmRun, runner_mm) == offsets::KWASM_RUN_RUNNER_MM);
    assert!(offset_of!(KwasmRun, no_contain) == offsets::KWASM_RUN_NO_CONTAIN);
    assert!(offset_of!(KwasmRun, leaf_vmctx) == offsets::KWASM_RUN_LEAF_VMCTX);
    assert!(offset_of!(KwasmRun, leaf_imports) == offsets::KWASM_RUN_LEAF_IMPORTS);
};

impl KwasmRun {
    /// A run of `user` on `stack` with nothing loaded; C initialises the
    /// exec plumbing (`work`, `defer`, `task`, `owner`) before it uses it.
    pub(crate) fn new(stack: &WasmStack, user: &User) -> Self {
        Self {
            task_sp: 0,
            stack: stack.0,
            user: user.0,
            image: core::ptr::null_mut(),
            trap_ip: 0,
            scratch: 0,
            scratch_size: 0,
            fpu_on: false,
            in_hostcall: false,
            secureexec: false,
            // SAFETY: C structs of integers, pointers and optional function pointers, for which all zeroes is a valid value.
            work: unsafe { core::mem::zeroed() },
            // SAFETY: as above.
            defer: unsafe { core::mem::zeroed() },
            task: core::ptr::null_mut(),
            parked: false,
            // SAFETY: as above.
            owner: unsafe { core::mem::zeroed() },
            // SAFETY: as above; C initialises it before listing the run.
            running: unsafe { core::mem::zeroed() },
            runner: core::ptr::null_mut(),
            runner_mm: core::ptr::null_mut(),
            no_contain: 0,
            leaf_vmctx: core::ptr::null_mut(),
            leaf_imports: 0,
        }
    }
}

/// A reference to the current task's user record, whose shares of kwasm's
/// global limits (user_share.c) the program's code, memories and compiles
/// take.
///
/// # Invariants
///
/// The pointer is a live, non-null reference of `kwasm_user_get`.
pub(crate) struct User(*mut KwasmUser);

impl User {
    /// The current task's user; `None` without memory.
    pub(crate) fn current() -> Option<Self> {
        // SAFETY: no preconditions; returns null on failure.
        let p = unsafe { kwasm_user_get() };
        if p.is_null() {
            None
        } else {
            // INVARIANT: a reference from kwasm_user_get.
            Some(Self(p))
        }
    }
}

impl Drop for User {
    fn drop(&mut self) {
        // SAFETY: a reference from kwasm_user_get (type invariant), dropped once.
        unsafe { kwasm_user_put(self.0) };
    }
}

/// The stack compiled code and the compiler run on (`KWASM_STACK_SIZE`
/// bytes of vmalloc memory, charged to the memory cgroup).
///
/// # Invariants
///
/// The pointer is a live, non-null allocation of `kwasm_stack_alloc`.
pub(crate) struct WasmStack(*mut u8);

impl WasmStack {
    /// Allocates a stack; `None` without memory.
    pub(crate) fn new() -> Option<Self> {
        // SAFETY: no preconditions; returns null on failure.
        let p = unsafe { kwasm_stack_alloc() };
        if p.is_null() {
            None
        } else {
            // INVARIANT: non-null from kwasm_stack_alloc.
            Some(Self(p))
        }
    }

    /// Lowest address compiled code may use, above the room kept for
    /// interrupt frames (`KWASM_STACK_RESERVE`).
    pub(crate) fn limit(&self) -> u64 {
        self.0 as u64 + offsets::KWASM_STACK_LIMIT_OFFSET as u64
    }
}

impl Drop for WasmStack {
    fn drop(&mut self) {
        // SAFETY: allocated by kwasm_stack_alloc (type invariant), freed once.
        unsafe { kwasm_stack_free(self.0) };
    }
}

/// `struct kwasm_image` (drivers/kwasm/image.c).
#[repr(C)]
pub(crate) struct KwasmImage {
    _private: [u8; 0],
}

/// `struct kwasm_user` (drivers/kwasm/user_share.c).
#[repr(C)]
pub(crate) struct KwasmUser {
    _private: [u8; 0],
}

/// `struct kwasm_mem` (drivers/kwasm/linear_memory.c).
#[repr(C)]
pub(crate) struct KwasmMem {
    _private: [u8; 0],
}

// `KwasmRun` crosses only by pointer; its kernel-typed plumbing fields (a
// work_struct holds a lockdep key) make the lint reject even that.
#[allow(improper_ctypes)]
extern "C" {
    fn kwasm_binfmt_register() -> c_int;
    fn kwasm_stats_init() -> c_int;
    fn kwasm_policy_init() -> c_int;
    fn kwasm_cpu_features() -> u32;
    fn kwasm_run_call(
        run: *mut KwasmRun,
        trampoline: *const c_void,
        vmctx: *mut u8,
        code: *const u8,
        args: *mut u64,
    ) -> u64;
    fn kwasm_unwind(saved_sp: *mut usize, code: u64) -> !;
    fn kwasm_log_refusal(file: *const c_char, reason: *const c_char);
    fn kwasm_log_trap(
        file: *const c_char,
        trap: *const c_char,
        func: c_int,
        offset: u32,
        ip: usize,
    );
    fn kwasm_compile_panicked(msg: *const c_char);
    fn kwasm_hostcall_panicked(msg: *const c_char);
    fn kwasm_keep_after_panic(p: *mut c_void);
    #[cfg(CONFIG_KWASM_FAULT_INJECTION)]
    fn kwasm_inject_hostcall_panic() -> bool;
    fn kwasm_leaf_clock_ns(clock: u32, ns: *mut u64) -> bool;
    fn kwasm_stack_alloc() -> *mut u8;
    fn kwasm_user_get() -> *mut KwasmUser;
    fn kwasm_user_put(user: *mut KwasmUser);
    fn kwasm_stack_free(stack: *mut u8);
    pub(crate) fn kwasm_hostcall_entry(vmctx: *mut u8, index: u32, args: *mut u64);
    fn kwasm_image_alloc(
        code: *const u8,
        len: usize,
        nsites: u32,
        first_func: u32,
        nfuncs: u32,
        nrelocs: u32,
        file: *const c_char,
        user: *mut KwasmUser,
    ) -> *mut KwasmImage;
    fn kwasm_image_set_reloc(image: *mut KwasmImage, i: u32, offset: u32, sym: u32) -> c_int;
    fn kwasm_image_code(image: *mut KwasmImage) -> *mut u8;
    fn kwasm_image_set_site(image: *mut KwasmImage, offset: u32) -> c_int;
    fn kwasm_image_set_func(image: *mut KwasmImage, i: u32, start: u32, len: u32) -> c_int;
    fn kwasm_image_seal(image: *mut KwasmImage) -> c_int;
    fn kwasm_image_free(image: *mut KwasmImage);
    fn kwasm_code_symbol(sym: u32) -> usize;
    fn kwasm_branch_forms(forms: *mut u32) -> c_int;
    fn kwasm_mem_reserve(bytes: u64, user: *mut KwasmUser) -> *mut KwasmMem;
    fn kwasm_mem_base(mem: *mut KwasmMem) -> *mut u8;
    fn kwasm_mem_grow(mem: *mut KwasmMem, old: u64, new: u64) -> c_int;
    fn kwasm_mem_free(mem: *mut KwasmMem);
    fn kwasm_safepoint_word(mask: *mut u64) -> *const u64;
    fn kwasm_safepoint() -> c_int;
    fn kwasm_strings(env: bool, start: *mut usize, end: *mut usize);
    fn kwasm_copy_user(dst: *mut u8, src: usize, len: usize) -> c_int;
}

/// Registers the binfmt handler.
pub(crate) fn register_binfmt() {
    // SAFETY: called once from module init; registration has no preconditions.
    unsafe { kwasm_binfmt_register() };
}

/// Creates the debugfs statistics files.
pub(crate) fn stats_init() -> kernel::error::Result {
    // SAFETY: called once from module init.
    kernel::error::to_result(unsafe { kwasm_stats_init() })
}

/// Registers the kernel.kwasm sysctls (who may exec modules).
pub(crate) fn policy_init() -> kernel::error::Result {
    // SAFETY: called once from module init.
    kernel::error::to_result(unsafe { kwasm_policy_init() })
}

/// CPU features of this machine, as `KWASM_CPU_*` bits (see run.c).
pub(crate) fn cpu_features() -> u32 {
    // SAFETY: reads boot CPU capability bits; no preconditions.
    unsafe { kwasm_cpu_features() }
}

/// Calls `trampoline(vmctx, code, args)` on the program's wasm stack inside a
/// kernel FPU section. Returns 0 or the code passed to [`unwind`].
///
/// # Safety
///
/// `run` is the live run of the current task; `trampoline`, `vmctx`, `code`
/// and `args` form a valid array call of an instance whose code is mapped,
/// with `args` long enough for the callee's parameters and results.
pub(crate) unsafe fn run_call(
    run: *mut KwasmRun,
    trampoline: *const c_void,
    vmctx: *mut u8,
    code: *const u8,
    args: *mut u64,
) -> u64 {
    // SAFETY: forwarded from the caller.
    unsafe { kwasm_run_call(run, trampoline, vmctx, code, args) }
}

/// Unwinds out of wasm to the [`run_call`] of `run`, which returns `code`.
///
/// # Safety
///
/// Must be called from a host call made by code that `run_call(run, ...)`
/// entered, on the current task, with nothing on the stack that needs
/// dropping.
pub(crate) unsafe fn unwind(run: *mut KwasmRun, code: u64) -> ! {
    // SAFETY: forwarded from the caller; `task_sp` holds the stack pointer kwasm_enter() saved for that run_call.
    unsafe { kwasm_unwind(core::ptr::addr_of_mut!((*run).task_sp), code) }
}

/// `kwasm_unwind` code of a fault in compiled code (kwasm.h).
pub(crate) const UNWIND_FAULT: u64 = offsets::KWASM_UNWIND_FAULT_CODE as u64;

/// `kwasm_unwind` code of a host call that panicked (kwasm.h).
pub(crate) const UNWIND_PANIC: u64 = offsets::KWASM_UNWIND_PANIC_CODE as u64;

/// `kwasm_branch_forms()` bits (kwasm.h `KWASM_BRANCH_*`).
pub(crate) mod branch {
    pub(crate) const LFENCE: u32 = 0x1;
    pub(crate) const THUNK: u32 = 0x2;
    pub(crate) const RETURN_THUNK: u32 = 0x4;
    pub(crate) const SLS: u32 = 0x8;
    pub(crate) const IBT: u32 = 0x10;
}

/// How generated code must branch on this kernel (`KWASM_BRANCH_*` bits),
/// or `EOPNOTSUPP` for a mitigation the compiler cannot follow.
pub(crate) fn branch_forms() -> Result<u32, kernel::error::Error> {
    let mut forms = 0u32;
    // SAFETY: `forms` is a valid, writable u32.
    let rc = unsafe { kwasm_branch_forms(&mut forms) };
    kernel::error::to_result(rc).map(|()| forms)
}

/// Why [`CodeMem::new`] failed.
pub(crate) enum CodeError {
    /// No memory, or over `kwasm.code_limit_mb`.
    NoMem,
    /// A relocation the kernel cannot fill (a symbol it lacks, or one out
    /// of rel32 reach).
    Reloc(kwasm_abi::RelocError),
    /// Trap sites or functions outside the code (a compiler bug).
    Layout,
}

/// A module's code placed in module space with its exception table and
/// symbols (image.c), read-only and executable.
///
/// # Invariants
///
/// `image` is a live, sealed image of `kwasm_image_alloc`.
pub(crate) struct CodeMem {
    image: *mut KwasmImage,
    code: *const u8,
}

/// An image being filled; freed unless sealed.
struct Unsealed(*mut KwasmImage);

impl Drop for Unsealed {
    fn drop(&mut self) {
        // SAFETY: a live image of `kwasm_image_alloc`, freed once: `CodeMem::new` forgets this guard when it takes ownership.
        unsafe { kwasm_image_free(self.0) };
    }
}

impl CodeMem {
    /// Places the module's code: copies it, fills its exception table and
    /// function symbols (named after `file`), points its direct calls and
    /// jumps at the host-call entry and the kernel's thunks, and seals it.
    /// The code takes `user`'s share of the code space.
    pub(crate) fn new(
        module: &kwasm_abi::CompiledModule,
        file: &CStr,
        user: *mut KwasmUser,
    ) -> Result<Self, CodeError> {
        let code = &module.code;
        let nsites = u32::try_from(module.trap_sites.len()).map_err(|_| CodeError::Layout)?;
        let nfuncs = u32::try_from(module.funcs.len()).map_err(|_| CodeError::Layout)?;
        let nrelocs = u32::try_from(module.relocs.len()).map_err(|_| CodeError::Layout)?;
        // SAFETY: `code` and `file` are valid; the function copies what it keeps.
        let image = unsafe {
            kwasm_image_alloc(
                code.as_ptr(),
                code.len(),
                nsites,
                module.num_imported_funcs,
                nfuncs,
                nrelocs,
                file.as_ptr(),
                user,
            )
        };
        if image.is_null() {
            return Err(CodeError::NoMem);
        }
        let guard = Unsealed(image);
        for site in &module.trap_sites {
            // SAFETY: `image` is live; the function checks the count, the offset and the order.
            if unsafe { kwasm_image_set_site(image, site.offset) } != 0 {
                return Err(CodeError::Layout);
            }
        }
        for (i, &(start, len)) in (0u32..).zip(&module.funcs) {
            // SAFETY: `image` is live; the function checks `i`.
            if unsafe { kwasm_image_set_func(image, i, start, len) } != 0 {
                return Err(CodeError::Layout);
            }
        }
        for (i, r) in (0u32..).zip(&module.relocs) {
            // SAFETY: `image` is live; the function checks `i`.
            if unsafe { kwasm_image_set_reloc(image, i, r.offset, r.symbol.to_u32()) } != 0 {
                return Err(CodeError::Layout);
            }
        }
        // SAFETY: `image` is live.
        let ptr = unsafe { kwasm_image_code(image) };
        // SAFETY: the image's code is `code.len()` bytes, ours alone and writable until `kwasm_image_seal`.
        let bytes = unsafe { core::slice::from_raw_parts_mut(ptr, code.len()) };
        module
            .relocate(bytes, ptr as usize, |sym| {
                // SAFETY: plain lookup, no preconditions.
                let addr = unsafe { kwasm_code_symbol(sym.to_u32()) };
                (addr != 0).then_some(addr)
            })
            .map_err(CodeError::Reloc)?;
        // SAFETY: `image` is live and filled.
        if unsafe { kwasm_image_seal(image) } != 0 {
            return Err(CodeError::NoMem);
        }
        core::mem::forget(guard);
        // INVARIANT: allocated and sealed above.
        Ok(CodeMem { image, code: ptr })
    }

    /// Start of the code.
    pub(crate) fn as_ptr(&self) -> *const u8 {
        self.code
    }

    /// The image, for the fault handler (`KwasmRun::image`).
    pub(crate) fn image(&self) -> *mut KwasmImage {
        self.image
    }
}

impl Drop for CodeMem {
    fn drop(&mut self) {
        // SAFETY: a live image (type invariant), freed exactly once.
        unsafe { kwasm_image_free(self.image) };
    }
}

/// A linear-memory reservation (see linear_memory.c).
///
/// # Invariants
///
/// The pointer is a live, non-null reservation of `kwasm_mem_reserve`.
pub(crate) struct LinearMem(*mut KwasmMem);

impl LinearMem {
    /// Reserves 6 GiB of address space with `[0, bytes)` mapped and zeroed,
    /// as one of `user`'s share of the reservations.
    pub(crate) fn reserve(bytes: u64, user: *mut KwasmUser) -> Option<Self> {
        // SAFETY: `user` is a live user record (callers: a program's run, which holds a reference); returns null on failure.
        let p = unsafe { kwasm_mem_reserve(bytes, user) };
        // Not `then_some`, which builds its argument eagerly: dropping a
        // `LinearMem(null)` would free a null reservation.
        if p.is_null() {
            None
        } else {
            Some(LinearMem(p))
        }
    }

    /// Start of the reservation.
    pub(crate) fn base(&self) -> *mut u8 {
        // SAFETY: `self.0` is a live reservation.
        unsafe { kwasm_mem_base(self.0) }
    }

    /// Maps zeroed pages over `[old, new)`.
    pub(crate) fn grow(&mut self, old: u64, new: u64) -> bool {
        // SAFETY: `self.0` is a live reservation; the C side checks the range.
        unsafe { kwasm_mem_grow(self.0, old, new) == 0 }
    }
}

impl Drop for LinearMem {
    fn drop(&mut self) {
        // SAFETY: reserved by `kwasm_mem_reserve`, freed exactly once.
        unsafe { kwasm_mem_free(self.0) };
    }
}

/// The current task's flag word polled at safepoints, and the mask of the
/// bits that need attention (reschedule, signals, task work).
pub(crate) fn safepoint_word() -> (*const u64, u64) {
    let mut mask = 0;
    // SAFETY: `mask` is a valid out pointer; the word belongs to `current`, which outlives the program running in it.
    let word = unsafe { kwasm_safepoint_word(&mut mask) };
    (word, mask)
}

/// Reschedules, runs pending task work, and reports whether a fatal signal
/// is pending (the program must stop).
pub(crate) fn safepoint() -> bool {
    // SAFETY: called from a host call, in process context, outside any FPU section and with no locks held.
    unsafe { kwasm_safepoint() != 0 }
}

/// The user-space range holding the program's argument (or environment)
/// strings, as recorded at exec.
pub(crate) fn strings_range(env: bool) -> (usize, usize) {
    let (mut start, mut end) = (0, 0);
    // SAFETY: valid out pointers; reads the current task's mm fields.
    unsafe { kwasm_strings(env, &mut start, &mut end) };
    (start, end)
}

/// Copies `dst.len()` bytes from user address `src` of the current task.
pub(crate) fn copy_from_user(dst: &mut [u8], src: usize) -> bool {
    // SAFETY: `dst` is a valid writable slice; the C side uses copy_from_user, which checks the user range.
    unsafe { kwasm_copy_user(dst.as_mut_ptr(), src, dst.len()) == 0 }
}

/// Logs (rate-limited, names escaped) that `file` could not run, and why.
pub(crate) fn log_refusal(file: &[u8], reason: &CStr) {
    let Ok(file) = CStr::from_bytes_until_nul(file) else {
        return;
    };
    // SAFETY: both are NUL-terminated strings that live across the call.
    unsafe { kwasm_log_refusal(file.as_ptr(), reason.as_ptr()) };
}

/// Logs (rate-limited, name escaped) a trap that ended `file`, with the
/// function index, code offset and faulting address when a fault in
/// compiled code caused it.
pub(crate) fn log_trap(file: &[u8], trap: &'static str, at: Option<(u32, u32, usize)>) {
    let Ok(file) = CStr::from_bytes_until_nul(file) else {
        return;
    };
    // Trap names are short ASCII constants; copy one into a C string.
    let mut name = [0u8; 48];
    let n = trap.len().min(name.len() - 1);
    name[..n].copy_from_slice(&trap.as_bytes()[..n]);
    let (func, off, ip) = match at {
        Some((f, o, ip)) => (c_int::try_from(f).unwrap_or(c_int::MAX), o, ip),
        None => (-1, 0, 0),
    };
    // SAFETY: `file` and `name` are NUL-terminated and live across the call.
    unsafe { kwasm_log_trap(file.as_ptr(), name.as_ptr().cast(), func, off, ip) };
}

/// Abandons the current task's compile, if it is compiling, with `msg`
/// (see compile_scope.c); returns otherwise.
pub(crate) fn compile_panicked(msg: &CStr) {
    // SAFETY: `msg` is NUL-terminated; the C side either returns or unwinds to the compile's entry, abandoning only the compile's own frames, which own nothing outside the compile scope.
    unsafe { kwasm_compile_panicked(msg.as_ptr()) };
}

/// Ends the current task's host call, if it is in one, because Rust code
/// in it panicked with `msg` (see run.c); returns otherwise.
pub(crate) fn hostcall_panicked(msg: &CStr) {
    // SAFETY: `msg` is NUL-terminated; the C side either returns or unwinds to the run's kwasm_enter(), abandoning only the host call's frames, which hold no locks (C helpers return before Rust continues).
    unsafe { kwasm_hostcall_panicked(msg.as_ptr()) };
}

/// Keeps `value` forever: what a contained panic left behind, which must
/// not be dropped (see panic.rs). Counted in debugfs kwasm/panics and known
/// to kmemleak as kept on purpose. If even its box cannot be allocated, it
/// is forgotten all the same.
pub(crate) fn keep_after_panic<T>(value: T) {
    match KBox::<T>::new_uninit(GFP_KERNEL) {
        Ok(b) => {
            let p = KBox::into_raw(b.write(value));
            // SAFETY: a live kmalloc() block (KBox), never freed from here on.
            unsafe { kwasm_keep_after_panic(p.cast()) };
        }
        Err(_) => core::mem::forget(value),
    }
}

/// Whether root asked (kwasm.hostcall_panic_pid) for this host call to
/// panic, to test that a panic ends only the program.
#[cfg(CONFIG_KWASM_FAULT_INJECTION)]
pub(crate) fn inject_hostcall_panic() -> bool {
    // SAFETY: reads and clears a module parameter; no preconditions.
    unsafe { kwasm_inject_hostcall_panic() }
}

/// The realtime or monotonic clock in ns for a leaf `clock_time_get`
/// (leaf.rs); `None` if `clock` is another or the task has policies a host
/// call must go through (then the full path runs it).
pub(crate) fn leaf_clock_ns(clock: u32) -> Option<u64> {
    let mut ns = 0;
    // SAFETY: `ns` is a valid out pointer; callable in any context.
    unsafe { kwasm_leaf_clock_ns(clock, &mut ns) }.then_some(ns)
}
