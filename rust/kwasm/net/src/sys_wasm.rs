// SPDX-License-Identifier: GPL-2.0

//! The backend for wasm32-wasip1 under kwasm: the `kwasm_net` import module
//! (Documentation/kwasm/net.rst). Every call returns a WASI errno, which
//! std's `io::Error` on this target understands as a raw OS error.

use crate::RawEvent;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::RawFd;

#[link(wasm_import_module = "kwasm_net")]
extern "C" {
    fn socket(domain: i32, ty: i32, protocol: i32, fd: *mut u32) -> u16;
    fn bind(fd: u32, addr: *const u8, len: u32) -> u16;
    fn listen(fd: u32, backlog: i32) -> u16;
    fn connect(fd: u32, addr: *const u8, len: u32) -> u16;
    fn accept(fd: u32, flags: i32, addr: *mut u8, len: *mut u32, newfd: *mut u32) -> u16;
    fn getsockname(fd: u32, addr: *mut u8, len: *mut u32) -> u16;
    fn getpeername(fd: u32, addr: *mut u8, len: *mut u32) -> u16;
    fn setsockopt(fd: u32, level: i32, name: i32, val: *const u8, len: u32) -> u16;
    fn getsockopt(fd: u32, level: i32, name: i32, val: *mut u8, len: *mut u32) -> u16;
    #[allow(clippy::too_many_arguments)]
    fn sendto(
        fd: u32,
        iovs: *const IoSlice<'_>,
        n: u32,
        flags: i32,
        addr: *const u8,
        len: u32,
        sent: *mut u32,
    ) -> u16;
    #[allow(clippy::too_many_arguments)]
    fn recvfrom(
        fd: u32,
        iovs: *const IoSliceMut<'_>,
        n: u32,
        flags: i32,
        addr: *mut u8,
        len: *mut u32,
        got: *mut u32,
        msg_flags: *mut u32,
    ) -> u16;
    fn shutdown(fd: u32, how: i32) -> u16;
    fn epoll_create(flags: i32, fd: *mut u32) -> u16;
    fn epoll_ctl(epfd: u32, op: i32, fd: u32, event: *const RawEvent) -> u16;
    fn epoll_wait(epfd: u32, events: *mut RawEvent, max: i32, timeout_ms: i32, n: *mut u32) -> u16;
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_fdstat_get(fd: u32, stat: *mut u8) -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> u16;
}

fn check(errno: u16) -> io::Result<()> {
    match errno {
        0 => Ok(()),
        e => Err(io::Error::from_raw_os_error(e.into())),
    }
}

/// A descriptor as the imports take it (fds are never negative here).
fn fd(fd: RawFd) -> u32 {
    fd as u32
}

pub fn socket_(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    let mut out = 0u32;
    // SAFETY: `out` is a valid place for the new descriptor.
    check(unsafe { socket(domain, ty, protocol, &mut out) })?;
    Ok(out as RawFd)
}

pub fn bind_(s: RawFd, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is readable for its length.
    check(unsafe { bind(fd(s), addr.as_ptr(), addr.len() as u32) })
}

pub fn connect_(s: RawFd, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is readable for its length.
    check(unsafe { connect(fd(s), addr.as_ptr(), addr.len() as u32) })
}

pub fn listen_(s: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    check(unsafe { listen(fd(s), backlog) })
}

pub fn accept_(s: RawFd, flags: i32, addr: &mut [u8]) -> io::Result<(RawFd, usize)> {
    let mut len = addr.len() as u32;
    let mut out = 0u32;
    // SAFETY: `addr` is writable for `len` bytes; `len` and `out` are valid.
    check(unsafe { accept(fd(s), flags, addr.as_mut_ptr(), &mut len, &mut out) })?;
    Ok((out as RawFd, len as usize))
}

pub fn name_(s: RawFd, peer: bool, addr: &mut [u8]) -> io::Result<usize> {
    let mut len = addr.len() as u32;
    let f = if peer { getpeername } else { getsockname };
    // SAFETY: `addr` is writable for `len` bytes and `len` is valid.
    check(unsafe { f(fd(s), addr.as_mut_ptr(), &mut len) })?;
    Ok(len as usize)
}

pub fn setsockopt_(s: RawFd, level: i32, name: i32, val: &[u8]) -> io::Result<()> {
    // SAFETY: `val` is readable for its length.
    check(unsafe { setsockopt(fd(s), level, name, val.as_ptr(), val.len() as u32) })
}

pub fn getsockopt_(s: RawFd, level: i32, name: i32, val: &mut [u8]) -> io::Result<usize> {
    let mut len = val.len() as u32;
    // SAFETY: `val` is writable for `len` bytes and `len` is valid.
    check(unsafe { getsockopt(fd(s), level, name, val.as_mut_ptr(), &mut len) })?;
    Ok(len as usize)
}

pub fn send_(s: RawFd, bufs: &[IoSlice<'_>], flags: i32, to: Option<&[u8]>) -> io::Result<usize> {
    let (addr, len) = to.map_or((core::ptr::null(), 0), |a| (a.as_ptr(), a.len() as u32));
    let mut sent = 0u32;
    // SAFETY: on this target IoSlice is a WASI ciovec (pointer, length), the layout kwasm_net reads; `addr` is null or readable for `len`.
    check(unsafe {
        sendto(
            fd(s),
            bufs.as_ptr(),
            bufs.len() as u32,
            flags,
            addr,
            len,
            &mut sent,
        )
    })?;
    Ok(sent as usize)
}

pub fn recv_(
    s: RawFd,
    bufs: &mut [IoSliceMut<'_>],
    flags: i32,
    from: Option<&mut [u8]>,
) -> io::Result<(usize, usize, i32)> {
    let (addr, mut len) = match from {
        Some(a) => (a.as_mut_ptr(), a.len() as u32),
        None => (core::ptr::null_mut(), 0),
    };
    let (mut got, mut msg_flags) = (0u32, 0u32);
    // SAFETY: IoSliceMut is a WASI iovec here, each writable for its length; `addr` is null or writable for `len`; the outputs are valid.
    check(unsafe {
        recvfrom(
            fd(s),
            bufs.as_ptr(),
            bufs.len() as u32,
            flags,
            addr,
            &mut len,
            &mut got,
            &mut msg_flags,
        )
    })?;
    Ok((got as usize, len as usize, msg_flags as i32))
}

pub fn shutdown_(s: RawFd, how: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    check(unsafe { shutdown(fd(s), how) })
}

pub fn epoll_create_() -> io::Result<RawFd> {
    let mut out = 0u32;
    // SAFETY: `out` is a valid place for the new descriptor.
    check(unsafe { epoll_create(crate::EPOLL_CLOEXEC, &mut out) })?;
    Ok(out as RawFd)
}

pub fn epoll_ctl_(ep: RawFd, op: i32, s: RawFd, event: &RawEvent) -> io::Result<()> {
    // SAFETY: `event` is a readable 12-byte epoll_event.
    check(unsafe { epoll_ctl(fd(ep), op, fd(s), event) })
}

pub fn epoll_wait_(ep: RawFd, events: &mut [RawEvent], timeout_ms: i32) -> io::Result<usize> {
    let max = events.len().min(i32::MAX as usize) as i32;
    let mut n = 0u32;
    // SAFETY: `events` is writable for `max` entries; `n` is valid.
    check(unsafe { epoll_wait(fd(ep), events.as_mut_ptr(), max, timeout_ms, &mut n) })?;
    Ok(n as usize)
}

/// O_NONBLOCK through WASI's fd flags (FDFLAGS_NONBLOCK is bit 2).
pub fn set_nonblocking_(s: RawFd, on: bool) -> io::Result<()> {
    // struct fdstat (24 bytes, 8-aligned): filetype u8, pad, fs_flags u16
    // at offset 2, then the rights.
    let mut stat = [0u64; 3];
    // SAFETY: `stat` is an 8-aligned, writable 24-byte WASI fdstat.
    check(unsafe { fd_fdstat_get(fd(s), stat.as_mut_ptr().cast()) })?;
    let flags = (stat[0] >> 16) as u16;
    let flags = if on { flags | 4 } else { flags & !4 };
    // SAFETY: no pointers.
    check(unsafe { fd_fdstat_set_flags(fd(s), flags.into()) })
}
