// SPDX-License-Identifier: GPL-2.0

//! `kwasm_net`: the socket API kwasm adds to WASI preview1 (which can only
//! use sockets it is given), as an import module of its own. The ABI is in
//! Documentation/kwasm/net.rst; in short, every function returns a WASI
//! errno like preview1 does, and results go through pointers:
//!
//! | function | parameters |
//! |---|---|
//! | `socket` | domain, type (with `SOCK_NONBLOCK`/`SOCK_CLOEXEC`), protocol, ret_fd |
//! | `bind`, `connect` | fd, addr, addr_len |
//! | `listen` | fd, backlog |
//! | `accept` | fd, flags, addr (0: none), addr_len (in/out), ret_fd |
//! | `getsockname`, `getpeername` | fd, addr, addr_len (in/out) |
//! | `setsockopt` | fd, level, name, value, value_len |
//! | `getsockopt` | fd, level, name, value, value_len (in/out) |
//! | `sendto` | fd, ciovs, ciovs_len, flags, addr (0: none), addr_len, ret_sent |
//! | `recvfrom` | fd, iovs, iovs_len, flags, addr (0: none), addr_len (in/out), ret_received, ret_msg_flags |
//! | `shutdown` | fd, how (`SHUT_RD`/`SHUT_WR`/`SHUT_RDWR`) |
//! | `epoll_create` | flags (`EPOLL_CLOEXEC` or 0), ret_fd |
//! | `epoll_ctl` | epfd, op, fd, event (0 for `EPOLL_CTL_DEL`) |
//! | `epoll_wait` | epfd, events, max_events, timeout_ms (-1: forever), ret_count |
//!
//! Constants, socket addresses (`struct sockaddr_in`, `sockaddr_in6`,
//! `sockaddr_un`) and `struct epoll_event` (12 bytes, packed) are Linux
//! x86-64's, so a guest library is a thin layer. Sockets are ordinary fds,
//! shared with the WASI `fd_*`/`sock_*` calls, where a new one holds every
//! right that applies to it. These calls do not check WASI rights (preview1
//! has none for them). Sends never raise SIGPIPE.

use kwasm_abi::ValType::{self, I32};

use crate::ctx::Ctx;
use crate::errno::Errno;
use crate::funcs::{os, Args, WasiResult};
use crate::guest::{ptr, Guest, Out};
use crate::os::{OsResult, WasiOs, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL};
use crate::table::WasiFunc;

/// The import module name.
pub const MODULE: &str = "kwasm_net";

/// The largest socket address (`struct sockaddr_storage`).
pub const SOCKADDR_MAX: usize = 128;
/// At most this many events are returned by one `epoll_wait`.
pub const EPOLL_MAX_EVENTS: usize = 1024;
/// Size of `struct epoll_event` on x86-64 (packed).
pub const EPOLL_EVENT_SIZE: u32 = 12;

/// Linux constants of the ABI.
#[allow(missing_docs)]
pub mod linux {
    pub const AF_UNIX: i32 = 1;
    pub const AF_INET: i32 = 2;
    pub const AF_INET6: i32 = 10;
    pub const SOCK_STREAM: i32 = 1;
    pub const SOCK_DGRAM: i32 = 2;
    pub const SOCK_SEQPACKET: i32 = 5;
    pub const SOCK_NONBLOCK: i32 = 0o4000;
    pub const SOCK_CLOEXEC: i32 = 0o2000000;
    pub const MSG_DONTWAIT: i32 = 0x40;
    pub const MSG_MORE: i32 = 0x8000;
    pub const EPOLL_CLOEXEC: i32 = 0o2000000;
    pub const EPOLL_CTL_ADD: i32 = 1;
    pub const EPOLL_CTL_DEL: i32 = 2;
    pub const EPOLL_CTL_MOD: i32 = 3;
    pub const SOL_SOCKET: i32 = 1;
    pub const IPPROTO_IP: i32 = 0;
    pub const IPPROTO_TCP: i32 = 6;
    pub const IPPROTO_IPV6: i32 = 41;
}

use linux::*;

/// A socket address as the kernel fills it in.
#[derive(Debug, Clone, Copy)]
pub struct SockAddr {
    /// `struct sockaddr_*` bytes.
    pub bytes: [u8; SOCKADDR_MAX],
    /// How many of them the kernel reported (may exceed what fits).
    pub len: usize,
}

impl Default for SockAddr {
    fn default() -> Self {
        SockAddr {
            bytes: [0; SOCKADDR_MAX],
            len: 0,
        }
    }
}

/// One `struct epoll_event`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpollEvent {
    /// `EPOLL*` bits.
    pub events: u32,
    /// The guest's data word.
    pub data: u64,
}

/// The socket and epoll operations `kwasm_net` needs, on the current
/// process's fds, with Linux semantics (`Err` = positive errno).
pub trait NetOs {
    /// `socket(2)`; `ty` may carry `SOCK_NONBLOCK`/`SOCK_CLOEXEC`.
    fn socket(&mut self, domain: i32, ty: i32, protocol: i32) -> OsResult<u32>;
    /// `bind(2)`.
    fn bind(&mut self, fd: u32, addr: &[u8]) -> OsResult<()>;
    /// `listen(2)`.
    fn listen(&mut self, fd: u32, backlog: i32) -> OsResult<()>;
    /// `connect(2)`.
    fn connect(&mut self, fd: u32, addr: &[u8]) -> OsResult<()>;
    /// `accept4(2)` with `SOCK_NONBLOCK`/`SOCK_CLOEXEC` flags; fills `peer`.
    fn accept_from(&mut self, fd: u32, flags: i32, peer: &mut SockAddr) -> OsResult<u32>;
    /// `getsockname(2)`, or `getpeername(2)` if `peer`.
    fn sock_name(&mut self, fd: u32, peer: bool, addr: &mut SockAddr) -> OsResult<()>;
    /// `setsockopt(2)`.
    fn set_opt(&mut self, fd: u32, level: i32, name: i32, value: &[u8]) -> OsResult<()>;
    /// `getsockopt(2)`; returns the option's length (may exceed `value`).
    fn get_opt(&mut self, fd: u32, level: i32, name: i32, value: &mut [u8]) -> OsResult<usize>;
    /// `sendmsg(2)` to `addr` (or the connected peer); `flags` always
    /// include `MSG_NOSIGNAL`.
    fn send_to(
        &mut self,
        fd: u32,
        bufs: &[&[u8]],
        flags: i32,
        addr: Option<&[u8]>,
    ) -> OsResult<usize>;
    /// `recvmsg(2)`; fills `from` and returns the bytes and `msg_flags`.
    fn recv_from(
        &mut self,
        fd: u32,
        bufs: &mut [&mut [u8]],
        flags: i32,
        from: &mut SockAddr,
    ) -> OsResult<(usize, i32)>;
    /// `epoll_create1(2)`.
    fn epoll_create(&mut self, flags: i32) -> OsResult<u32>;
    /// `epoll_ctl(2)`; `event` is `None` for `EPOLL_CTL_DEL`.
    fn epoll_ctl(&mut self, epfd: u32, op: i32, fd: u32, event: Option<EpollEvent>)
        -> OsResult<()>;
    /// `epoll_wait(2)` for up to `out.len() / 12` events (at least one),
    /// written straight into `out` (guest memory) in the ABI's layout, which
    /// is x86-64 Linux's packed `struct epoll_event`: `events` (u32 LE), then
    /// `data` (u64 LE). Returns how many were written.
    fn epoll_wait(&mut self, epfd: u32, out: &mut [u8], timeout_ms: i32) -> OsResult<usize>;
}

/// The socket options a guest may get and set, with their value sizes:
/// the common ones, none of which carries a pointer.
fn option_size(level: i32, name: i32) -> Option<usize> {
    let size = match (level, name) {
        // SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_BROADCAST, SO_SNDBUF,
        // SO_RCVBUF, SO_KEEPALIVE, SO_REUSEPORT, SO_RCVLOWAT, SO_PROTOCOL,
        // SO_DOMAIN, SO_ACCEPTCONN.
        (SOL_SOCKET, 2 | 3 | 4 | 6 | 7 | 8 | 9 | 15 | 18 | 30 | 38 | 39) => 4,
        // SO_LINGER (struct linger).
        (SOL_SOCKET, 13) => 8,
        // SO_RCVTIMEO, SO_SNDTIMEO (struct timeval).
        (SOL_SOCKET, 20 | 21) => 16,
        // TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL,
        // TCP_KEEPCNT, TCP_QUICKACK.
        (IPPROTO_TCP, 1 | 2 | 4 | 5 | 6 | 12) => 4,
        // IP_TOS, IP_TTL.
        (IPPROTO_IP, 1 | 2) => 4,
        // IPV6_UNICAST_HOPS, IPV6_V6ONLY.
        (IPPROTO_IPV6, 16 | 26) => 4,
        _ => return None,
    };
    Some(size)
}

fn i32_arg(a: &Args<'_>, i: usize) -> i32 {
    a.u32(i) as i32
}

/// Copies a socket address argument out of guest memory.
fn addr_arg(g: &Guest<'_>, p: u32, len: u32) -> Result<([u8; SOCKADDR_MAX], usize), Errno> {
    let len = len as usize;
    if len == 0 || len > SOCKADDR_MAX {
        return Err(Errno::INVAL);
    }
    let mut a = [0u8; SOCKADDR_MAX];
    a[..len].copy_from_slice(g.bytes(p, len as u32)?);
    Ok((a, len))
}

/// An optional (address, in/out length) result pair: `None` if `addr` is 0.
struct AddrOut {
    addr: u32,
    cap: u32,
    len: Out<4>,
}

fn addr_out(g: &Guest<'_>, addr: u32, len_ptr: u32) -> Result<Option<AddrOut>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let len = g.out_u32(len_ptr)?;
    let cap = g.read_u32(len_ptr)?;
    g.bytes(addr, cap)?;
    Ok(Some(AddrOut { addr, cap, len }))
}

/// Writes as much of `a` as fits and its full length, like the kernel.
fn put_addr(g: &mut Guest<'_>, out: Option<AddrOut>, a: &SockAddr) -> Result<(), Errno> {
    let Some(o) = out else {
        return Ok(());
    };
    let n = a.len.min(o.cap as usize).min(SOCKADDR_MAX);
    g.bytes_mut(o.addr, n as u32)?
        .copy_from_slice(&a.bytes[..n]);
    g.put_u32(o.len, a.len as u32);
    Ok(())
}

fn socket<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (domain, ty, proto) = (i32_arg(&a, 0), i32_arg(&a, 1), i32_arg(&a, 2));
    let base = ty & !(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if !matches!(domain, AF_UNIX | AF_INET | AF_INET6)
        || !matches!(base, SOCK_STREAM | SOCK_DGRAM | SOCK_SEQPACKET)
    {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(3)))?;
    let fd = os(cx.os.socket(domain, ty, proto))?;
    cx.state.new_fd(fd);
    g.put_u32(out, fd);
    Ok(())
}

fn bind<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (addr, len) = addr_arg(&Guest::new(cx.mem), ptr(a.u64(1)), a.u32(2))?;
    os(cx.os.bind(a.u32(0), &addr[..len]))?;
    Ok(())
}

fn connect<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (addr, len) = addr_arg(&Guest::new(cx.mem), ptr(a.u64(1)), a.u32(2))?;
    os(cx.os.connect(a.u32(0), &addr[..len]))?;
    Ok(())
}

fn listen<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    os(cx.os.listen(a.u32(0), i32_arg(&a, 1)))?;
    Ok(())
}

fn accept<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let flags = i32_arg(&a, 1);
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let peer_out = addr_out(&g, ptr(a.u64(2)), ptr(a.u64(3)))?;
    let mut peer = SockAddr::default();
    let fd = os(cx.os.accept_from(a.u32(0), flags, &mut peer))?;
    cx.state.new_fd(fd);
    put_addr(&mut g, peer_out, &peer)?;
    g.put_u32(out, fd);
    Ok(())
}

fn sock_name<O: WasiOs + NetOs + ?Sized>(
    cx: &mut Ctx<'_, O>,
    a: Args<'_>,
    peer: bool,
) -> WasiResult {
    let mut g = Guest::new(cx.mem);
    let out = addr_out(&g, ptr(a.u64(1)), ptr(a.u64(2)))?.ok_or(Errno::FAULT)?;
    let mut addr = SockAddr::default();
    os(cx.os.sock_name(a.u32(0), peer, &mut addr))?;
    put_addr(&mut g, Some(out), &addr)?;
    Ok(())
}

fn getsockname<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    sock_name(cx, a, false)
}

fn getpeername<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    sock_name(cx, a, true)
}

fn setsockopt<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (level, name) = (i32_arg(&a, 1), i32_arg(&a, 2));
    let size = option_size(level, name).ok_or(Errno::NOPROTOOPT)?;
    let len = a.u32(4) as usize;
    if len < size.min(4) || len > size {
        return Err(Errno::INVAL.into());
    }
    let g = Guest::new(cx.mem);
    let mut v = [0u8; 16];
    v[..len].copy_from_slice(g.bytes(ptr(a.u64(3)), len as u32)?);
    os(cx.os.set_opt(a.u32(0), level, name, &v[..len]))?;
    Ok(())
}

fn getsockopt<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let (level, name) = (i32_arg(&a, 1), i32_arg(&a, 2));
    let size = option_size(level, name).ok_or(Errno::NOPROTOOPT)?;
    let mut g = Guest::new(cx.mem);
    let (val, len_ptr) = (ptr(a.u64(3)), ptr(a.u64(4)));
    let len_out = g.out_u32(len_ptr)?;
    let cap = (g.read_u32(len_ptr)? as usize).min(size);
    g.bytes(val, cap as u32)?;
    let mut v = [0u8; 16];
    let n = os(cx.os.get_opt(a.u32(0), level, name, &mut v[..size]))?.min(size);
    let n = n.min(cap);
    g.bytes_mut(val, n as u32)?.copy_from_slice(&v[..n]);
    g.put_u32(len_out, n as u32);
    Ok(())
}

fn sendto<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let flags = i32_arg(&a, 3);
    if flags & !(MSG_DONTWAIT | MSG_MORE) != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(6)))?;
    let addr = match ptr(a.u64(4)) {
        0 => None,
        p => Some(addr_arg(&g, p, a.u32(5))?),
    };
    let to = addr.as_ref().map(|(b, n)| &b[..*n]);
    let fd = a.u32(0);
    let n = g.with_ciovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        os(cx.os.send_to(fd, bufs, flags | MSG_NOSIGNAL, to))
    })??;
    g.put_u32(out, n as u32);
    Ok(())
}

fn recvfrom<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let flags = i32_arg(&a, 3);
    if flags & !(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_TRUNC) != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let n_out = g.out_u32(ptr(a.u64(6)))?;
    let flags_out = g.out_u32(ptr(a.u64(7)))?;
    let from_out = addr_out(&g, ptr(a.u64(4)), ptr(a.u64(5)))?;
    let mut from = SockAddr::default();
    let fd = a.u32(0);
    let (n, msg_flags) = g.with_iovecs(ptr(a.u64(1)), a.u32(2), |bufs| {
        os(cx.os.recv_from(fd, bufs, flags, &mut from))
    })??;
    put_addr(&mut g, from_out, &from)?;
    g.put_u32(n_out, n as u32);
    g.put_u32(flags_out, msg_flags as u32);
    Ok(())
}

fn shutdown<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let how = i32_arg(&a, 1);
    if !(0..=2).contains(&how) {
        return Err(Errno::INVAL.into());
    }
    os(cx.os.shutdown(a.u32(0), how))?;
    Ok(())
}

fn epoll_create<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let flags = i32_arg(&a, 0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::INVAL.into());
    }
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(1)))?;
    let fd = os(cx.os.epoll_create(flags))?;
    cx.state.new_fd(fd);
    g.put_u32(out, fd);
    Ok(())
}

fn read_event(b: &[u8]) -> EpollEvent {
    let mut e = [0u8; 4];
    let mut d = [0u8; 8];
    e.copy_from_slice(&b[..4]);
    d.copy_from_slice(&b[4..12]);
    EpollEvent {
        events: u32::from_le_bytes(e),
        data: u64::from_le_bytes(d),
    }
}

fn epoll_ctl<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let op = i32_arg(&a, 1);
    let g = Guest::new(cx.mem);
    let event = match op {
        EPOLL_CTL_DEL => None,
        EPOLL_CTL_ADD | EPOLL_CTL_MOD => {
            let p = ptr(a.u64(3));
            g.check_array(p, 1, EPOLL_EVENT_SIZE, 4)?;
            Some(read_event(g.bytes(p, EPOLL_EVENT_SIZE)?))
        }
        _ => return Err(Errno::INVAL.into()),
    };
    os(cx.os.epoll_ctl(a.u32(0), op, a.u32(2), event))?;
    Ok(())
}

fn epoll_wait<O: WasiOs + NetOs + ?Sized>(cx: &mut Ctx<'_, O>, a: Args<'_>) -> WasiResult {
    let max = i32_arg(&a, 2);
    if max <= 0 {
        return Err(Errno::INVAL.into());
    }
    // Returning fewer events than asked for is always allowed.
    let max = (max as usize).min(EPOLL_MAX_EVENTS);
    let mut g = Guest::new(cx.mem);
    let out = g.out_u32(ptr(a.u64(4)))?;
    let events = ptr(a.u64(1));
    g.check_array(events, max as u32, EPOLL_EVENT_SIZE, 4)?;
    // The guest's array has the kernel's layout: events land there directly.
    let dst = g.bytes_mut(events, max as u32 * EPOLL_EVENT_SIZE)?;
    let n = os(cx.os.epoll_wait(a.u32(0), dst, i32_arg(&a, 3)))?.min(max);
    g.put_u32(out, n as u32);
    Ok(())
}

const fn f<O: WasiOs + NetOs + ?Sized>(
    name: &'static str,
    params: &'static [ValType],
    imp: fn(&mut Ctx<'_, O>, Args<'_>) -> WasiResult,
) -> WasiFunc<O> {
    WasiFunc::new(name, params, imp)
}

struct Table<O: ?Sized>(core::marker::PhantomData<O>);

impl<O: WasiOs + NetOs + ?Sized + 'static> Table<O> {
    const ALL: &'static [WasiFunc<O>] = &[
        f("socket", &[I32, I32, I32, I32], socket),
        f("bind", &[I32, I32, I32], bind),
        f("listen", &[I32, I32], listen),
        f("connect", &[I32, I32, I32], connect),
        f("accept", &[I32, I32, I32, I32, I32], accept),
        f("getsockname", &[I32, I32, I32], getsockname),
        f("getpeername", &[I32, I32, I32], getpeername),
        f("setsockopt", &[I32, I32, I32, I32, I32], setsockopt),
        f("getsockopt", &[I32, I32, I32, I32, I32], getsockopt),
        f("sendto", &[I32, I32, I32, I32, I32, I32, I32], sendto),
        f(
            "recvfrom",
            &[I32, I32, I32, I32, I32, I32, I32, I32],
            recvfrom,
        ),
        f("shutdown", &[I32, I32], shutdown),
        f("epoll_create", &[I32, I32], epoll_create),
        f("epoll_ctl", &[I32, I32, I32, I32], epoll_ctl),
        f("epoll_wait", &[I32, I32, I32, I32, I32], epoll_wait),
    ];
}

/// All `kwasm_net` functions.
pub fn functions<O: WasiOs + NetOs + ?Sized + 'static>() -> &'static [WasiFunc<O>] {
    Table::<O>::ALL
}

/// The `kwasm_net` function imported as `module`.`name`, if there is one.
pub fn lookup<O: WasiOs + NetOs + ?Sized + 'static>(
    module: &str,
    name: &str,
) -> Option<&'static WasiFunc<O>> {
    if module != MODULE {
        return None;
    }
    functions::<O>().iter().find(|f| f.name == name)
}
