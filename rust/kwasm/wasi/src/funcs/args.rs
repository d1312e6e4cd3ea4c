// SPDX-License-Identifier: GPL-2.0

//! `args_*` and `environ_*`.

use crate::ctx::{Ctx, Strings};
use crate::errno::Errno;
use crate::funcs::{Args, WasiResult};
use crate::guest::{ptr, Guest};

/// `(count_ptr, size_ptr)`: number of strings and bytes including NULs.
fn sizes_get(g: &mut Guest<'_>, s: &Strings, a: Args<'_>) -> WasiResult {
    let count = g.out_u32(ptr(a.u64(0)))?;
    let size = g.out_u32(ptr(a.u64(1)))?;
    let bytes = u32::try_from(s.blob().len()).map_err(|_| Errno::OVERFLOW)?;
    g.put_u32(count, s.count());
    g.put_u32(size, bytes);
    Ok(())
}

/// `(ptrs, buf)`: the strings into `buf`, a pointer to each into `ptrs`.
fn strings_get(g: &mut Guest<'_>, s: &Strings, a: Args<'_>) -> WasiResult {
    let (ptrs, buf) = (ptr(a.u64(0)), ptr(a.u64(1)));
    let blob = s.blob();
    let len = u32::try_from(blob.len()).map_err(|_| Errno::OVERFLOW)?;
    let table = g.check_array(ptrs, s.count(), 4, 4)?;
    g.bytes_mut(buf, len)?.copy_from_slice(blob);
    // buf + len is inside a 32-bit memory, so every string address fits.
    let mut at = buf;
    for (i, str) in blob.split_inclusive(|&b| b == 0).enumerate() {
        let out = g.out_u32((table + 4 * i) as u32)?;
        g.put_u32(out, at);
        at = at.wrapping_add(str.len() as u32);
    }
    Ok(())
}

pub(crate) fn args_sizes_get<O: ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    sizes_get(&mut Guest::new(cx.mem), &cx.state.args, a)
}

pub(crate) fn args_get<O: ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    strings_get(&mut Guest::new(cx.mem), &cx.state.args, a)
}

pub(crate) fn environ_sizes_get<O: ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    sizes_get(&mut Guest::new(cx.mem), &cx.state.env, a)
}

pub(crate) fn environ_get<O: ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    strings_get(&mut Guest::new(cx.mem), &cx.state.env, a)
}
