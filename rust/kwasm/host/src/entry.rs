// SPDX-License-Identifier: GPL-2.0

//! Entering wasm and leaving it abnormally.
//!
//! `kwasm_host_entry` saves the callee-saved registers and the stack pointer
//! in a jump buffer and calls a trampoline; `kwasm_host_unwind` restores them,
//! which makes the entry return a stop code. Traps found by the signal handler
//! and stops raised by host calls both unwind this way. Host frames skipped by
//! an unwind must own nothing that needs dropping.

use std::cell::Cell;

use kwasm_abi::{TrampolineFn, Trap};
use kwasm_runtime::CallTarget;

use crate::{signals, Stop};

/// Callee-saved registers (rbx, rbp, r12-r15) and rsp of an entry.
#[repr(C)]
#[derive(Debug, Default)]
pub(crate) struct JmpBuf {
    regs: [u64; 7],
}

std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl kwasm_host_entry",
    ".type kwasm_host_entry,@function",
    // rdi = jmpbuf, rsi = trampoline, rdx = vmctx, rcx = code, r8 = args
    "kwasm_host_entry:",
    "mov [rdi], rbx",
    "mov [rdi + 8], rbp",
    "mov [rdi + 16], r12",
    "mov [rdi + 24], r13",
    "mov [rdi + 32], r14",
    "mov [rdi + 40], r15",
    // Re-align to 16 bytes for the call (the return address made it 8 mod 16).
    "sub rsp, 8",
    "mov [rdi + 48], rsp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "call rax",
    "add rsp, 8",
    "xor eax, eax",
    "ret",
    ".size kwasm_host_entry, . - kwasm_host_entry",
    "",
    ".p2align 4",
    ".globl kwasm_host_unwind",
    ".type kwasm_host_unwind,@function",
    // rdi = jmpbuf, rsi = stop code (non-zero)
    "kwasm_host_unwind:",
    "mov rbx, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov r12, [rdi + 16]",
    "mov r13, [rdi + 24]",
    "mov r14, [rdi + 32]",
    "mov r15, [rdi + 40]",
    "mov rsp, [rdi + 48]",
    "add rsp, 8",
    "mov rax, rsi",
    "ret",
    ".size kwasm_host_unwind, . - kwasm_host_unwind",
);

extern "C" {
    fn kwasm_host_entry(
        jb: *mut JmpBuf,
        trampoline: TrampolineFn,
        vmctx: *mut u8,
        code: *const u8,
        args: *mut u64,
    ) -> u64;
    pub(crate) fn kwasm_host_unwind(jb: *mut JmpBuf, code: u64) -> !;
}

thread_local! {
    /// Jump buffer of the innermost active entry on this thread. Const
    /// initialised without a destructor, so the signal handler may read it.
    static CURRENT: Cell<*mut JmpBuf> = const { Cell::new(core::ptr::null_mut()) };
    /// Lowest usable stack address of this thread (0 = not yet computed).
    static STACK_LOW: Cell<u64> = const { Cell::new(0) };
}

/// Stack left below the wasm limit for host calls (Rust code running on the
/// same stack: WASI, builtins, the spec harness's callbacks).
const STACK_RESERVE: u64 = 256 * 1024;

/// Stop code for `proc_exit`: bit 32 set, status in the low 32 bits. Trap
/// codes are 1..=255.
const EXIT_BIT: u64 = 1 << 32;

fn encode(stop: Stop) -> u64 {
    match stop {
        Stop::Trap(t) => u64::from(t as u8),
        Stop::Exit(status) => EXIT_BIT | u64::from(status as u32),
    }
}

fn decode(code: u64) -> Result<(), Stop> {
    if code == 0 {
        Ok(())
    } else if code & EXIT_BIT != 0 {
        Err(Stop::Exit(code as u32 as i32))
    } else {
        Err(Stop::Trap(
            Trap::from_u8(code as u8).unwrap_or(Trap::HostError),
        ))
    }
}

/// The innermost entry's jump buffer (null outside wasm). Signal-safe.
pub(crate) fn current_jmpbuf() -> *mut JmpBuf {
    CURRENT.with(|c| c.get())
}

/// Lowest stack pointer wasm may use on this thread: the bottom of the
/// thread's stack plus a reserve for host calls.
pub fn current_stack_limit() -> u64 {
    let low = STACK_LOW.with(|c| c.get());
    if low != 0 {
        return low + STACK_RESERVE;
    }
    let mut addr: *mut libc::c_void = core::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: pthread_getattr_np fills `attr`, which we destroy after reading the stack bounds; all pointers are to locals.
    let ok = unsafe {
        let mut attr: libc::pthread_attr_t = core::mem::zeroed();
        let ok = libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0
            && libc::pthread_attr_getstack(&attr, &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(&mut attr);
        ok
    };
    // Without stack bounds, fall back to "no limit": deep recursion then
    // hits the guard page instead of a clean trap.
    let low = if ok { addr as u64 } else { 1 };
    STACK_LOW.with(|c| c.set(low));
    low + STACK_RESERVE
}

/// Calls a wasm function through its trampoline, catching traps.
/// `args` holds the parameters and receives the results (`target.slots`
/// long at least).
pub fn call(target: &CallTarget, args: &mut [u64]) -> Result<(), Stop> {
    if args.len() < target.slots {
        return Err(Stop::Trap(Trap::HostError));
    }
    signals::install();
    signals::ensure_altstack();
    let mut jb = JmpBuf::default();
    let prev = CURRENT.with(|c| c.replace(&mut jb));
    // SAFETY: the trampoline and code come from a live instance (CallTarget is built by the runtime from it), args has the slots the trampoline reads and writes, and the jump buffer outlives the call. A trap or stop unwinds back here through `jb`.
    let code = unsafe {
        kwasm_host_entry(
            &mut jb,
            target.trampoline,
            target.vmctx,
            target.code,
            args.as_mut_ptr(),
        )
    };
    CURRENT.with(|c| c.set(prev));
    decode(code)
}

/// Leaves wasm from a host call with `stop`.
///
/// # Safety
///
/// Must be called from host code running inside a wasm call on this thread
/// (under [`call`]); every frame between here and that entry is skipped
/// without running destructors.
pub(crate) unsafe fn unwind(stop: Stop) -> ! {
    let jb = current_jmpbuf();
    if jb.is_null() {
        // A host call outside any entry cannot happen; nothing to unwind to.
        std::process::abort();
    }
    // SAFETY: jb is the live jump buffer of the innermost entry on this thread (the caller's precondition).
    unsafe { kwasm_host_unwind(jb, encode(stop)) }
}
