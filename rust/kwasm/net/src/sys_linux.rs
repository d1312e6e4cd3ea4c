// SPDX-License-Identifier: GPL-2.0

//! The native backend: the same calls as system calls through the C
//! library, so a server built from one source runs natively as the
//! baseline kwasm is compared against. Sends add MSG_NOSIGNAL, as kwasm_net
//! does.

use crate::RawEvent;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::RawFd;
use std::os::raw::{c_int, c_void};

/// struct msghdr on 64-bit Linux.
#[repr(C)]
struct MsgHdr {
    name: *mut c_void,
    namelen: u32,
    iov: *const c_void,
    iovlen: usize,
    control: *mut c_void,
    controllen: usize,
    flags: c_int,
}

extern "C" {
    fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    fn bind(fd: c_int, addr: *const u8, len: u32) -> c_int;
    fn listen(fd: c_int, backlog: c_int) -> c_int;
    fn connect(fd: c_int, addr: *const u8, len: u32) -> c_int;
    fn accept4(fd: c_int, addr: *mut u8, len: *mut u32, flags: c_int) -> c_int;
    fn getsockname(fd: c_int, addr: *mut u8, len: *mut u32) -> c_int;
    fn getpeername(fd: c_int, addr: *mut u8, len: *mut u32) -> c_int;
    fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const u8, len: u32) -> c_int;
    fn getsockopt(fd: c_int, level: c_int, name: c_int, val: *mut u8, len: *mut u32) -> c_int;
    fn sendmsg(fd: c_int, msg: *const MsgHdr, flags: c_int) -> isize;
    fn recvmsg(fd: c_int, msg: *mut MsgHdr, flags: c_int) -> isize;
    fn shutdown(fd: c_int, how: c_int) -> c_int;
    fn epoll_create1(flags: c_int) -> c_int;
    fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, event: *const RawEvent) -> c_int;
    fn epoll_wait(epfd: c_int, events: *mut RawEvent, max: c_int, timeout: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
}

const MSG_NOSIGNAL: c_int = 0x4000;
const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;
const O_NONBLOCK: c_int = 0o4000;

fn check(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn check_size(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

pub fn socket_(domain: i32, ty: i32, protocol: i32) -> io::Result<RawFd> {
    // SAFETY: no pointers.
    check(unsafe { socket(domain, ty, protocol) })
}

pub fn bind_(s: RawFd, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is readable for its length.
    check(unsafe { bind(s, addr.as_ptr(), addr.len() as u32) }).map(drop)
}

pub fn connect_(s: RawFd, addr: &[u8]) -> io::Result<()> {
    // SAFETY: `addr` is readable for its length.
    check(unsafe { connect(s, addr.as_ptr(), addr.len() as u32) }).map(drop)
}

pub fn listen_(s: RawFd, backlog: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    check(unsafe { listen(s, backlog) }).map(drop)
}

pub fn accept_(s: RawFd, flags: i32, addr: &mut [u8]) -> io::Result<(RawFd, usize)> {
    let mut len = addr.len() as u32;
    // SAFETY: `addr` is writable for `len` bytes and `len` is valid.
    let fd = check(unsafe { accept4(s, addr.as_mut_ptr(), &mut len, flags) })?;
    Ok((fd, len as usize))
}

pub fn name_(s: RawFd, peer: bool, addr: &mut [u8]) -> io::Result<usize> {
    let mut len = addr.len() as u32;
    let f = if peer { getpeername } else { getsockname };
    // SAFETY: `addr` is writable for `len` bytes and `len` is valid.
    check(unsafe { f(s, addr.as_mut_ptr(), &mut len) })?;
    Ok(len as usize)
}

pub fn setsockopt_(s: RawFd, level: i32, name: i32, val: &[u8]) -> io::Result<()> {
    // SAFETY: `val` is readable for its length.
    check(unsafe { setsockopt(s, level, name, val.as_ptr(), val.len() as u32) }).map(drop)
}

pub fn getsockopt_(s: RawFd, level: i32, name: i32, val: &mut [u8]) -> io::Result<usize> {
    let mut len = val.len() as u32;
    // SAFETY: `val` is writable for `len` bytes and `len` is valid.
    check(unsafe { getsockopt(s, level, name, val.as_mut_ptr(), &mut len) })?;
    Ok(len as usize)
}

pub fn send_(s: RawFd, bufs: &[IoSlice<'_>], flags: i32, to: Option<&[u8]>) -> io::Result<usize> {
    let (name, namelen) = to.map_or((core::ptr::null_mut(), 0), |a| {
        (a.as_ptr() as *mut c_void, a.len() as u32)
    });
    let msg = MsgHdr {
        name,
        namelen,
        iov: bufs.as_ptr().cast(),
        iovlen: bufs.len(),
        control: core::ptr::null_mut(),
        controllen: 0,
        flags: 0,
    };
    // SAFETY: IoSlice is ABI-compatible with struct iovec on Linux; every pointer in `msg` is readable for its length (sendmsg only reads).
    check_size(unsafe { sendmsg(s, &msg, flags | MSG_NOSIGNAL) })
}

pub fn recv_(
    s: RawFd,
    bufs: &mut [IoSliceMut<'_>],
    flags: i32,
    from: Option<&mut [u8]>,
) -> io::Result<(usize, usize, i32)> {
    let (name, namelen) = match from {
        Some(a) => (a.as_mut_ptr().cast(), a.len() as u32),
        None => (core::ptr::null_mut(), 0),
    };
    let mut msg = MsgHdr {
        name,
        namelen,
        iov: bufs.as_ptr().cast(),
        iovlen: bufs.len(),
        control: core::ptr::null_mut(),
        controllen: 0,
        flags: 0,
    };
    // SAFETY: IoSliceMut is ABI-compatible with struct iovec, each buffer writable for its length; `name` is null or writable for `namelen`.
    let got = check_size(unsafe { recvmsg(s, &mut msg, flags) })?;
    Ok((got, msg.namelen as usize, msg.flags))
}

pub fn shutdown_(s: RawFd, how: i32) -> io::Result<()> {
    // SAFETY: no pointers.
    check(unsafe { shutdown(s, how) }).map(drop)
}

pub fn epoll_create_() -> io::Result<RawFd> {
    // SAFETY: no pointers.
    check(unsafe { epoll_create1(crate::EPOLL_CLOEXEC) })
}

pub fn epoll_ctl_(ep: RawFd, op: i32, s: RawFd, event: &RawEvent) -> io::Result<()> {
    // SAFETY: `event` is a readable struct epoll_event (packed on x86-64).
    check(unsafe { epoll_ctl(ep, op, s, event) }).map(drop)
}

pub fn epoll_wait_(ep: RawFd, events: &mut [RawEvent], timeout_ms: i32) -> io::Result<usize> {
    let max = events.len().min(c_int::MAX as usize) as c_int;
    // SAFETY: `events` is writable for `max` entries.
    check(unsafe { epoll_wait(ep, events.as_mut_ptr(), max, timeout_ms) }).map(|n| n as usize)
}

pub fn set_nonblocking_(s: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFL takes no argument.
    let flags = check(unsafe { fcntl(s, F_GETFL) })?;
    let flags = if on {
        flags | O_NONBLOCK
    } else {
        flags & !O_NONBLOCK
    };
    // SAFETY: F_SETFL takes an int.
    check(unsafe { fcntl(s, F_SETFL, flags) }).map(drop)
}
