// SPDX-License-Identifier: GPL-2.0

//! Containing panics: the kernel's Rust panic handler (patches/0005) calls
//! [`kwasm_panic`] before it reports the panic and calls `BUG()`.
//!
//! A panic inside a compile (a compiler bug that a module triggers)
//! abandons that compile and refuses the module. A panic in kwasm's own
//! code during a host call (a kwasm bug that a program triggers) abandons
//! the host call and ends that program with `SIGSYS`; whatever the
//! abandoned frames owned is leaked, which the log line says. Either way
//! one user's input cannot take the machine down. Panics anywhere else
//! (exec, instantiation) still end in `BUG()`.

use core::fmt::Write;

use crate::compile::ErrBuf;
use crate::ffi;

/// Returns unless the current task is compiling or in a host call, which
/// it abandons.
#[no_mangle]
pub(crate) fn kwasm_panic(info: &core::panic::PanicInfo<'_>) {
    let mut msg = [0u8; 128];
    // SAFETY: `msg` is writable for its whole length, which is >= 1.
    let mut w = unsafe { ErrBuf::new(msg.as_mut_ptr().cast(), msg.len()) };
    let _ = write!(w, "{}", info.message());
    ffi::compile_panicked(w.as_cstr());
    ffi::hostcall_panicked(w.as_cstr());
}
