// SPDX-License-Identifier: GPL-2.0

//! kwasm-wasi's socket and epoll interface ([`NetOs`]) on the current task,
//! through the C functions of wasi_net.c.

use core::ffi::{c_int, c_long, c_uint, c_void};

use kwasm_wasi::net::{EpollEvent, NetOs, SockAddr};
use kwasm_wasi::os::OsResult;

use crate::ffi::KwasmRun;
use crate::wasi_os::{with_kvecs_const, with_kvecs_mut, KernelOs, Kvec};
use kernel::bindings as nr;

// `KwasmRun` crosses only by pointer; its kernel-typed plumbing fields (a
// work_struct holds a lockdep key) make the lint reject even that.
#[allow(improper_ctypes)]
extern "C" {
    fn kwasm_net_socket(domain: c_int, ty: c_int, protocol: c_int) -> c_long;
    fn kwasm_net_bind(fd: c_uint, addr: *const u8, len: usize) -> c_long;
    fn kwasm_net_listen(fd: c_uint, backlog: c_int) -> c_long;
    fn kwasm_net_connect(fd: c_uint, addr: *const u8, len: usize) -> c_long;
    fn kwasm_net_name(fd: c_uint, peer: bool, addr: *mut u8) -> c_long;
    fn kwasm_net_accept(fd: c_uint, flags: c_int, addr: *mut u8, len: *mut usize) -> c_long;
    fn kwasm_net_setsockopt(
        fd: c_uint,
        level: c_int,
        name: c_int,
        val: *const u8,
        len: usize,
    ) -> c_long;
    fn kwasm_net_getsockopt(
        run: *mut KwasmRun,
        fd: c_uint,
        level: c_int,
        name: c_int,
        val: *mut u8,
        cap: usize,
    ) -> c_long;
    fn kwasm_net_sendto(
        fd: c_uint,
        vec: *mut Kvec,
        n: usize,
        flags: c_int,
        addr: *const u8,
        addrlen: usize,
    ) -> c_long;
    fn kwasm_net_recvfrom(
        fd: c_uint,
        vec: *mut Kvec,
        n: usize,
        flags: c_int,
        msg_flags: *mut c_int,
        addr: *mut u8,
        addrlen: *mut usize,
    ) -> c_long;
    fn kwasm_net_epoll_create(flags: c_int) -> c_long;
    fn kwasm_net_epoll_ctl(epfd: c_uint, op: c_int, fd: c_uint, events: u32, data: u64) -> c_long;
    fn kwasm_net_epoll_wait(
        run: *mut KwasmRun,
        epfd: c_uint,
        out: *mut c_void,
        max: c_int,
        timeout_ms: c_int,
    ) -> c_long;
}

/// accept and recv with the peer's address optional: kwasm_net asks for
/// it, WASI's sock_accept and sock_recv (wasi_os.rs) do not.
impl KernelOs {
    pub(crate) fn accept_peer(
        &mut self,
        fd: u32,
        flags: i32,
        mut peer: Option<&mut SockAddr>,
    ) -> OsResult<u32> {
        self.syscall(nr::__NR_accept4, &[fd.into(), 0, 0, flags as u64])?;
        let mut len = 0;
        let p = peer
            .as_deref_mut()
            .map_or(core::ptr::null_mut(), |a| a.bytes.as_mut_ptr());
        // SAFETY: `p` is null or `peer.bytes`, room for any address (128 bytes); `len` is a valid out pointer.
        let r = unsafe { kwasm_net_accept(fd, flags, p, &mut len) };
        let fd = self.fd(r)?;
        if let Some(a) = peer {
            a.len = len;
        }
        Ok(fd)
    }

    pub(crate) fn recv_peer(
        &mut self,
        fd: u32,
        bufs: &mut [&mut [u8]],
        flags: i32,
        mut from: Option<&mut SockAddr>,
    ) -> OsResult<(usize, i32)> {
        self.syscall(nr::__NR_recvmsg, &[fd.into(), 0, flags as u64])?;
        let (mut msg_flags, mut len) = (0, 0);
        let p = from
            .as_deref_mut()
            .map_or(core::ptr::null_mut(), |a| a.bytes.as_mut_ptr());
        let r = with_kvecs_mut(bufs, |v, n| {
            // SAFETY: the n kvecs at v are live, exclusively borrowed guest buffers; `p` is null or `from.bytes`, room for any address; valid out pointers.
            unsafe { kwasm_net_recvfrom(fd, v, n, flags, &mut msg_flags, p, &mut len) }
        })?;
        let n = self.sys(r)? as usize;
        if let Some(a) = from {
            a.len = len;
        }
        Ok((n, msg_flags))
    }
}

impl NetOs for KernelOs {
    fn socket(&mut self, domain: i32, ty: i32, protocol: i32) -> OsResult<u32> {
        self.syscall(
            nr::__NR_socket,
            &[domain as u64, ty as u64, protocol as u64],
        )?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_net_socket(domain, ty, protocol) };
        self.fd(r)
    }

    fn bind(&mut self, fd: u32, addr: &[u8]) -> OsResult<()> {
        self.syscall(nr::__NR_bind, &[fd.into(), 0, addr.len() as u64])?;
        // SAFETY: `addr` is valid for its length.
        let r = unsafe { kwasm_net_bind(fd, addr.as_ptr(), addr.len()) };
        self.unit(r)
    }

    fn listen(&mut self, fd: u32, backlog: i32) -> OsResult<()> {
        self.syscall(nr::__NR_listen, &[fd.into(), backlog as u64])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_net_listen(fd, backlog) };
        self.unit(r)
    }

    fn connect(&mut self, fd: u32, addr: &[u8]) -> OsResult<()> {
        self.syscall(nr::__NR_connect, &[fd.into(), 0, addr.len() as u64])?;
        // SAFETY: `addr` is valid for its length.
        let r = unsafe { kwasm_net_connect(fd, addr.as_ptr(), addr.len()) };
        self.unit(r)
    }

    fn accept_from(&mut self, fd: u32, flags: i32, peer: &mut SockAddr) -> OsResult<u32> {
        self.accept_peer(fd, flags, Some(peer))
    }

    fn sock_name(&mut self, fd: u32, peer: bool, addr: &mut SockAddr) -> OsResult<()> {
        let call = if peer {
            nr::__NR_getpeername
        } else {
            nr::__NR_getsockname
        };
        self.syscall(call, &[fd.into()])?;
        // SAFETY: `addr.bytes` has room for any address (128 bytes).
        let r = unsafe { kwasm_net_name(fd, peer, addr.bytes.as_mut_ptr()) };
        addr.len = self.sys(r)? as usize;
        Ok(())
    }

    fn set_opt(&mut self, fd: u32, level: i32, name: i32, value: &[u8]) -> OsResult<()> {
        self.syscall(
            nr::__NR_setsockopt,
            &[fd.into(), level as u64, name as u64, 0, value.len() as u64],
        )?;
        // SAFETY: `value` is valid for its length.
        let r = unsafe { kwasm_net_setsockopt(fd, level, name, value.as_ptr(), value.len()) };
        self.unit(r)
    }

    fn get_opt(&mut self, fd: u32, level: i32, name: i32, value: &mut [u8]) -> OsResult<usize> {
        self.syscall(nr::__NR_getsockopt, &[fd.into(), level as u64, name as u64])?;
        let (ptr, len) = (value.as_mut_ptr(), value.len());
        // SAFETY: `value` is writable for its length; `run` is this task's run, which outlives its host calls (as for epoll_wait).
        let r = unsafe { kwasm_net_getsockopt(self.run, fd, level, name, ptr, len) };
        self.sys(r).map(|n| n as usize)
    }

    fn send_to(
        &mut self,
        fd: u32,
        bufs: &[&[u8]],
        flags: i32,
        addr: Option<&[u8]>,
    ) -> OsResult<usize> {
        self.syscall(nr::__NR_sendmsg, &[fd.into(), 0, flags as u64])?;
        let (p, l) = addr.map_or((core::ptr::null(), 0), |a| (a.as_ptr(), a.len()));
        // SAFETY: the n kvecs at v are live guest buffers, only read for a send; the address is valid for its length or null.
        let r = with_kvecs_const(bufs, |v, n| unsafe {
            kwasm_net_sendto(fd, v, n, flags, p, l)
        })?;
        self.sys(r).map(|n| n as usize)
    }

    fn recv_from(
        &mut self,
        fd: u32,
        bufs: &mut [&mut [u8]],
        flags: i32,
        from: &mut SockAddr,
    ) -> OsResult<(usize, i32)> {
        self.recv_peer(fd, bufs, flags, Some(from))
    }

    fn epoll_create(&mut self, flags: i32) -> OsResult<u32> {
        self.syscall(nr::__NR_epoll_create1, &[flags as u64])?;
        // SAFETY: no pointers.
        let r = unsafe { kwasm_net_epoll_create(flags) };
        self.fd(r)
    }

    fn epoll_ctl(
        &mut self,
        epfd: u32,
        op: i32,
        fd: u32,
        event: Option<EpollEvent>,
    ) -> OsResult<()> {
        self.syscall(nr::__NR_epoll_ctl, &[epfd.into(), op as u64, fd.into()])?;
        let e = event.unwrap_or_default();
        // SAFETY: no pointers.
        let r = unsafe { kwasm_net_epoll_ctl(epfd, op, fd, e.events, e.data) };
        self.unit(r)
    }

    fn epoll_wait(&mut self, epfd: u32, out: &mut [u8], timeout_ms: i32) -> OsResult<usize> {
        self.syscall(
            nr::__NR_epoll_wait,
            &[epfd.into(), 0, (out.len() / 12) as u64, timeout_ms as u64],
        )?;
        let max = c_int::try_from(out.len() / 12).unwrap_or(c_int::MAX);
        // SAFETY: `out` has room for `max` packed 12-byte epoll_events (the kernel's x86-64 layout); `run` is this program's run, used only by this task.
        let r = unsafe {
            kwasm_net_epoll_wait(self.run, epfd, out.as_mut_ptr().cast(), max, timeout_ms)
        };
        self.sys(r).map(|n| n as usize)
    }
}
