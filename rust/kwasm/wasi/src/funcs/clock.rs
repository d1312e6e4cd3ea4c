// SPDX-License-Identifier: GPL-2.0

//! `clock_res_get` and `clock_time_get`: all four preview1 clocks, including
//! the CPU-time ones (wasmtime refuses those with `BADF`; Linux has them).

use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::funcs::{os, Args, WasiResult};
use crate::guest::{ptr, Guest};
use crate::os::WasiOs;
use crate::types::decode_clockid;

/// `(id, ret)`.
pub(crate) fn clock_res_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let clock = decode_clockid(a.flags(0))?;
    let out = g.out_u64(ptr(a.u64(1)))?;
    let res = os(cx.os.clock_res(clock))?;
    g.put_u64(out, res.to_nanos().ok_or(Errno::OVERFLOW)?);
    Ok(())
}

/// `(id, precision, ret)`: the precision is a hint and is ignored.
pub(crate) fn clock_time_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let clock = decode_clockid(a.flags(0))?;
    let out = g.out_u64(ptr(a.u64(2)))?;
    let now = os(cx.os.clock_time(clock))?;
    // A realtime clock set before 1970 has no WASI timestamp.
    g.put_u64(out, now.to_nanos().ok_or(Errno::OVERFLOW)?);
    Ok(())
}
