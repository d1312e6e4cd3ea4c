// SPDX-License-Identifier: GPL-2.0

//! Turning hardware faults in compiled code into wasm traps.
//!
//! Out-of-bounds accesses fault in the guard region (SIGSEGV/SIGBUS), `ud2`
//! raises SIGILL and division faults raise SIGFPE. When the faulting pc is a
//! trap site of registered code and a wasm entry is active on this thread,
//! the handler rewrites the interrupted context so that returning from the
//! handler lands in `kwasm_host_unwind` with the trap code. Anything else is
//! passed to the previously installed handler, or re-raised with the default
//! action.

use std::cell::UnsafeCell;
use std::sync::Once;

use crate::code::{lookup_pc, PcInfo};
use crate::entry::{current_jmpbuf, kwasm_host_unwind};

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];

/// Handlers that were installed before ours, for chaining.
struct Previous(UnsafeCell<[Option<libc::sigaction>; 4]>);

// SAFETY: written once inside `INSTALL.call_once` before our handlers are
// installed, read-only afterwards (from handlers).
unsafe impl Sync for Previous {}

static PREVIOUS: Previous = Previous(UnsafeCell::new([None; 4]));
static INSTALL: Once = Once::new();

/// Size of the alternate signal stack we install on threads without one.
const ALTSTACK_SIZE: usize = 64 * 1024;

/// Installs the handlers (once per process).
pub fn install() {
    INSTALL.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: plain sigaction calls with locals; PREVIOUS is written before the handler that reads it is active for this signal.
            unsafe {
                let mut sa: libc::sigaction = core::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut sa.sa_mask);
                let mut old: libc::sigaction = core::mem::zeroed();
                if libc::sigaction(sig, core::ptr::null(), &mut old) == 0 {
                    (*PREVIOUS.0.get())[i] = Some(old);
                }
                libc::sigaction(sig, &sa, core::ptr::null_mut());
            }
        }
    });
}

/// An alternate signal stack owned by this thread, freed when it exits.
struct AltStack {
    mem: *mut libc::c_void,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disable the alternate stack before freeing its memory; it is ours and no handler runs on it now (we are in a TLS destructor).
        unsafe {
            let ss = libc::stack_t {
                ss_sp: core::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&ss, core::ptr::null_mut());
            libc::munmap(self.mem, ALTSTACK_SIZE);
        }
    }
}

thread_local! {
    static ALTSTACK: UnsafeCell<Option<AltStack>> = const { UnsafeCell::new(None) };
    static ALTSTACK_CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Makes sure this thread has an alternate signal stack, so the handler runs
/// even when the fault comes from stack exhaustion.
pub fn ensure_altstack() {
    // One check per thread: the stack, once there, stays until thread exit.
    if ALTSTACK_CHECKED.with(|c| c.replace(true)) {
        return;
    }
    // SAFETY: querying the current alternate stack into a local.
    let mut cur: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: a null new stack only queries; `cur` is a valid out pointer.
    if unsafe { libc::sigaltstack(core::ptr::null(), &mut cur) } != 0 {
        return;
    }
    if cur.ss_flags & libc::SS_DISABLE == 0 && cur.ss_size >= 16 * 1024 {
        return;
    }
    // SAFETY: a fresh anonymous mapping for the stack.
    let mem = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            ALTSTACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if mem == libc::MAP_FAILED {
        return;
    }
    let ss = libc::stack_t {
        ss_sp: mem,
        ss_flags: 0,
        ss_size: ALTSTACK_SIZE,
    };
    // SAFETY: `mem` stays mapped until the AltStack destructor disables the stack at thread exit.
    unsafe { libc::sigaltstack(&ss, core::ptr::null_mut()) };
    // SAFETY: thread-local, only touched here and in its destructor.
    ALTSTACK.with(|a| unsafe { *a.get() = Some(AltStack { mem }) });
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers.
    let uc = unsafe { &mut *(ctx as *mut libc::ucontext_t) };
    let gregs = &mut uc.uc_mcontext.gregs;
    let pc = gregs[libc::REG_RIP as usize] as usize;
    match lookup_pc(pc) {
        PcInfo::Trap(trap) => {
            let jb = current_jmpbuf();
            if !jb.is_null() {
                // Resume in the unwind routine instead of the faulting
                // instruction; sigreturn restores the signal mask.
                gregs[libc::REG_RIP as usize] = kwasm_host_unwind as *const () as usize as i64;
                gregs[libc::REG_RDI as usize] = jb as i64;
                gregs[libc::REG_RSI as usize] = i64::from(trap as u8);
                return;
            }
        }
        PcInfo::NoSite(off) => {
            // A fault in compiled code that is not a known trap site is a
            // compiler bug: say where before crashing.
            let mut buf = [0u8; 64];
            let msg = fmt_fault(&mut buf, sig, off);
            // SAFETY: write(2) is async-signal-safe; buf is a local.
            unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
        }
        PcInfo::Foreign => {}
    }
    chain(sig, info, ctx);
}

/// "kwasm: signal N at code+0xOFF with no trap site\n", without allocating.
fn fmt_fault(buf: &mut [u8; 64], sig: libc::c_int, off: usize) -> &[u8] {
    let mut n = 0;
    let mut put = |s: &[u8], n: &mut usize| {
        for &b in s {
            if *n < buf.len() {
                buf[*n] = b;
                *n += 1;
            }
        }
    };
    put(b"kwasm: signal ", &mut n);
    let mut d = [0u8; 20];
    let mut i = d.len();
    let mut v = sig as u64;
    loop {
        i -= 1;
        d[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    put(&d[i..], &mut n);
    put(b" at code+0x", &mut n);
    let mut h = [0u8; 16];
    let mut j = h.len();
    let mut v = off as u64;
    loop {
        j -= 1;
        h[j] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    put(&h[j..], &mut n);
    put(b" with no trap site\n", &mut n);
    &buf[..n]
}

/// Hands a signal that is not ours to whoever handled it before, or restores
/// the default action so that returning re-executes the fault and kills the
/// process as it would have without us.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let idx = SIGNALS.iter().position(|&s| s == sig);
    // SAFETY: PREVIOUS is read-only once handlers are installed.
    let prev = idx.and_then(|i| unsafe { (*PREVIOUS.0.get())[i] });
    if let Some(prev) = prev {
        let h = prev.sa_sigaction;
        if h != libc::SIG_DFL && h != libc::SIG_IGN {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous handler was installed with SA_SIGINFO,
                // so it has this signature.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    // SAFETY: installed with SA_SIGINFO, so it has this signature.
                    unsafe { core::mem::transmute(h) };
                f(sig, info, ctx);
            } else {
                // SAFETY: a plain handler takes the signal number only.
                let f: extern "C" fn(libc::c_int) = unsafe { core::mem::transmute(h) };
                f(sig);
            }
            return;
        }
    }
    // SAFETY: resetting to the default action; the faulting instruction runs again when we return and the default action applies.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(sig, &sa, core::ptr::null_mut());
    }
}
