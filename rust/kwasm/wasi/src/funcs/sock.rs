// SPDX-License-Identifier: GPL-2.0

//! `sock_*` on sockets the process already has (preview1 cannot create or
//! connect sockets). wasmtime returns `NOTSOCK` for all of these; on real
//! fds they work. Anything known not to be a socket is `NOTSOCK`; then the
//! rights are checked: `SOCK_ACCEPT`, `FD_READ`, `FD_WRITE`,
//! `SOCK_SHUTDOWN`.

use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::funcs::{os, Args, WasiResult};
use crate::guest::{ptr, Guest};
use crate::os::{WasiOs, MSG_NOSIGNAL, MSG_TRUNC};
use crate::rights::{self as fdrights, need_socket};
use crate::types::{
    decode_fdflags, decode_riflags, decode_sdflags, fdflags, rights, RECV_DATA_TRUNCATED,
};

/// `(fd, flags, ret)`: only `NONBLOCK` may be asked for the new socket,
/// which gets the listener's inheriting rights (less those that do not
/// apply to it).
pub(crate) fn sock_accept<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let f = decode_fdflags(a.flags(1))?;
    if f & !fdflags::NONBLOCK != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(2)))?;
    let l = need_socket(cx.os, cx.state, a.u32(0), rights::SOCK_ACCEPT)?;
    // Before the accept: the new fd's rights must be recorded.
    cx.state.fds.reserve()?;
    let fd = os(cx.os.accept(a.u32(0), f & fdflags::NONBLOCK != 0))?;
    fdrights::opened(cx.os, cx.state, fd, None, l.inheriting, l.inheriting);
    g.put_u32(out, fd);
    Ok(())
}

/// `(fd, ri_data, ri_data_len, ri_flags, ret_size, ret_roflags)`.
pub(crate) fn sock_recv<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let flags = decode_riflags(a.flags(3))?;
    let mut g = Guest::new(cx.mem);
    let size = g.out_u32(ptr(a.u64(4)))?;
    let roflags = g.out::<2>(ptr(a.u64(5)), 2)?;
    let fd = a.u32(0);
    let (n, msg_flags) = g.with_iovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need_socket(cx.os, cx.state, fd, rights::FD_READ)?;
        os(cx.os.recv(fd, bufs, flags))
    })??;
    let ro = if msg_flags & MSG_TRUNC != 0 {
        RECV_DATA_TRUNCATED
    } else {
        0
    };
    g.put_u32(size, n as u32);
    g.put(roflags, ro.to_le_bytes());
    Ok(())
}

/// `(fd, si_data, si_data_len, si_flags, ret)`: no flags are defined. A
/// peer that has gone away is `PIPE`, never SIGPIPE.
pub(crate) fn sock_send<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    if a.u32(3) != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let fd = a.u32(0);
    let n = g.with_ciovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        need_socket(cx.os, cx.state, fd, rights::FD_WRITE)?;
        os(cx.os.send(fd, bufs, MSG_NOSIGNAL))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

/// `(fd, how)`.
pub(crate) fn sock_shutdown<O: WasiOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let how = decode_sdflags(a.flags(1))?;
    need_socket(cx.os, cx.state, a.u32(0), rights::SOCK_SHUTDOWN)?;
    os(cx.os.shutdown(a.u32(0), how))?;
    Ok(())
}
