// SPDX-License-Identifier: GPL-2.0

//! `random_get`: straight into guest memory.

use crate::ctx::Ctx;
use crate::funcs::{os, Args, WasiResult};
use crate::guest::{ptr, Guest};
use crate::os::WasiOs;

/// `(buf, buf_len)`.
pub(crate) fn random_get<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let buf = g.bytes_mut(ptr(a.u64(0)), a.u32(1))?;
    os(cx.os.random(buf))?;
    Ok(())
}
