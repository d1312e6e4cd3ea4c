// SPDX-License-Identifier: GPL-2.0

//! `proc_exit`, `proc_raise`, `sched_yield`.

use crate::ctx::{Ctx, Exit};
use crate::funcs::{os, Args, Fail, WasiResult};
use crate::os::WasiOs;
use crate::types::decode_signal;

/// `(rval)`: ends the program with this status; the runtime reports it as
/// the process exit status (`rval & 0xff` to wait()). wasmtime rejects
/// values from 126 up with a trap; Linux takes any status.
pub(crate) fn proc_exit<O: ?Sized>(_cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    Err(Fail::Exit(Exit(a.u32(0))))
}

/// `(sig)`: sends the signal to the process itself, like raise(3). A fatal
/// one ends the program at the next safepoint. (wasmtime returns `NOTSUP`;
/// the kernel can do it for real.)
pub(crate) fn proc_raise<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let sig = decode_signal(a.flags(0))?;
    os(cx.os.raise(sig))?;
    Ok(())
}

/// `()`.
pub(crate) fn sched_yield<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, _a: Args<'_>) -> WasiResult {
    cx.os.sched_yield();
    Ok(())
}
