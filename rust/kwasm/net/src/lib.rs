// SPDX-License-Identifier: GPL-2.0

//! kwasm-net: sockets and epoll for Rust programs that kwasm runs in the
//! kernel (wasm32-wasip1, through the `kwasm_net` import module described
//! in Documentation/kwasm/net.rst), with the same API natively on Linux.
//! One server source therefore builds both as a kwasm program and as its
//! native twin.
//!
//! ```no_run
//! use kwasm_net::{Epoll, Events, Interest, Socket};
//! let listener = Socket::listen_tcp("127.0.0.1:8080".parse().unwrap(), 128).unwrap();
//! let (conn, _peer) = listener.accept().unwrap();
//! conn.send(b"hello\n").unwrap();
//! ```
//!
//! Sockets are ordinary descriptors (`OwnedFd`), so WASI's fd calls and
//! std's `AsRawFd` work on them too. Errors are `io::Error`s whose kinds
//! (`WouldBlock`, `ConnectionReset`, ...) mean the same on both targets.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

#[cfg(target_os = "wasi")]
#[path = "sys_wasm.rs"]
mod sys;

#[cfg(target_os = "linux")]
#[path = "sys_linux.rs"]
mod sys;

/// Address families (Linux values, used by both targets).
pub const AF_UNIX: i32 = 1;
pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;
/// Socket types and type flags.
pub const SOCK_STREAM: i32 = 1;
pub const SOCK_DGRAM: i32 = 2;
pub const SOCK_SEQPACKET: i32 = 5;
pub const SOCK_NONBLOCK: i32 = 0o4000;
pub const SOCK_CLOEXEC: i32 = 0o2000000;
/// Option levels and names accepted by [`Socket::set_option`].
pub const SOL_SOCKET: i32 = 1;
pub const SO_REUSEADDR: i32 = 2;
pub const SO_TYPE: i32 = 3;
pub const SO_ERROR: i32 = 4;
pub const SO_SNDBUF: i32 = 7;
pub const SO_RCVBUF: i32 = 8;
pub const SO_KEEPALIVE: i32 = 9;
pub const SO_REUSEPORT: i32 = 15;
pub const IPPROTO_TCP: i32 = 6;
pub const TCP_NODELAY: i32 = 1;
pub const IPPROTO_IPV6: i32 = 41;
pub const IPV6_V6ONLY: i32 = 26;
/// Send and receive flags.
pub const MSG_PEEK: i32 = 2;
pub const MSG_TRUNC: i32 = 0x20;
pub const MSG_DONTWAIT: i32 = 0x40;
pub const MSG_WAITALL: i32 = 0x100;
pub const MSG_MORE: i32 = 0x8000;
const EPOLL_CLOEXEC: i32 = 0o2000000;
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;

/// The longest socket address (struct sockaddr_storage).
const ADDR_MAX: usize = 128;

/// A socket address in Linux's binary form (sockaddr_in, sockaddr_in6 or
/// sockaddr_un), the form both backends pass to the kernel.
#[derive(Clone, Copy)]
pub struct SockAddr {
    bytes: [u8; ADDR_MAX],
    len: usize,
}

impl SockAddr {
    /// A Unix socket path; a leading NUL byte makes it an abstract name.
    pub fn unix(path: &[u8]) -> io::Result<SockAddr> {
        if path.len() > 107 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "unix path too long",
            ));
        }
        let mut a = SockAddr::empty();
        a.bytes[..2].copy_from_slice(&(AF_UNIX as u16).to_ne_bytes());
        a.bytes[2..2 + path.len()].copy_from_slice(path);
        // Pathname sockets carry their terminating NUL, abstract ones not.
        let nul = usize::from(path.first().is_some_and(|&b| b != 0));
        a.len = 2 + path.len() + nul;
        Ok(a)
    }

    fn empty() -> SockAddr {
        SockAddr {
            bytes: [0; ADDR_MAX],
            len: ADDR_MAX,
        }
    }

    /// The address family.
    pub fn family(&self) -> i32 {
        i32::from(u16::from_ne_bytes([self.bytes[0], self.bytes[1]]))
    }

    /// The bytes the kernel sees.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The IP address and port, if this is an IPv4 or IPv6 address.
    pub fn as_socket(&self) -> Option<SocketAddr> {
        let b = &self.bytes;
        let port = u16::from_be_bytes([b[2], b[3]]);
        match self.family() {
            AF_INET if self.len >= 16 => {
                let ip = Ipv4Addr::new(b[4], b[5], b[6], b[7]);
                Some(SocketAddr::V4(SocketAddrV4::new(ip, port)))
            }
            AF_INET6 if self.len >= 28 => {
                let flow = u32::from_be_bytes(b[4..8].try_into().ok()?);
                let ip: [u8; 16] = b[8..24].try_into().ok()?;
                let scope = u32::from_ne_bytes(b[24..28].try_into().ok()?);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    Ipv6Addr::from(ip),
                    port,
                    flow,
                    scope,
                )))
            }
            _ => None,
        }
    }

    /// The path (or abstract name, with its leading NUL) of a Unix address.
    pub fn as_unix(&self) -> Option<&[u8]> {
        if self.family() != AF_UNIX || self.len < 2 {
            return None;
        }
        let path = &self.bytes[2..self.len];
        match path.first() {
            Some(0) => Some(path),
            _ => Some(path.split(|&c| c == 0).next().unwrap_or(path)),
        }
    }
}

impl From<SocketAddr> for SockAddr {
    fn from(addr: SocketAddr) -> SockAddr {
        let mut a = SockAddr::empty();
        let b = &mut a.bytes;
        b[2..4].copy_from_slice(&addr.port().to_be_bytes());
        match addr {
            SocketAddr::V4(v4) => {
                b[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
                b[4..8].copy_from_slice(&v4.ip().octets());
                a.len = 16;
            }
            SocketAddr::V6(v6) => {
                b[..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
                b[4..8].copy_from_slice(&v6.flowinfo().to_be_bytes());
                b[8..24].copy_from_slice(&v6.ip().octets());
                b[24..28].copy_from_slice(&v6.scope_id().to_ne_bytes());
                a.len = 28;
            }
        }
        a
    }
}

impl core::fmt::Debug for SockAddr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.as_socket(), self.as_unix()) {
            (Some(s), _) => write!(f, "{s}"),
            (_, Some(p)) => write!(f, "unix:{}", String::from_utf8_lossy(p)),
            _ => write!(f, "family {} ({} bytes)", self.family(), self.len),
        }
    }
}

/// Takes ownership of a descriptor the kernel just returned.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` is new (from socket, accept or epoll_create) and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// A socket: an owned descriptor closed on drop.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
}

impl Socket {
    /// socket(2): `ty` is SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET, or'ed
    /// with SOCK_NONBLOCK and/or SOCK_CLOEXEC.
    pub fn new(domain: i32, ty: i32) -> io::Result<Socket> {
        let fd = sys::socket_(domain, ty, 0)?;
        Ok(Socket::adopt(fd))
    }

    fn adopt(fd: RawFd) -> Socket {
        Socket { fd: owned(fd) }
    }

    /// A TCP socket bound to `addr` (with SO_REUSEADDR) and listening.
    pub fn listen_tcp(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
        let domain = if addr.is_ipv4() { AF_INET } else { AF_INET6 };
        let s = Socket::new(domain, SOCK_STREAM | SOCK_CLOEXEC)?;
        s.set_option(SOL_SOCKET, SO_REUSEADDR, 1)?;
        s.bind(&addr.into())?;
        s.listen(backlog)?;
        Ok(s)
    }

    /// A TCP connection to `addr`.
    pub fn connect_tcp(addr: SocketAddr) -> io::Result<Socket> {
        let domain = if addr.is_ipv4() { AF_INET } else { AF_INET6 };
        let s = Socket::new(domain, SOCK_STREAM | SOCK_CLOEXEC)?;
        s.connect(&addr.into())?;
        Ok(s)
    }

    pub fn bind(&self, addr: &SockAddr) -> io::Result<()> {
        sys::bind_(self.raw(), addr.as_bytes())
    }

    /// connect(2); on a non-blocking socket this is `WouldBlock`-like
    /// EINPROGRESS until the socket becomes writable (see [`Socket::take_error`]).
    pub fn connect(&self, addr: &SockAddr) -> io::Result<()> {
        sys::connect_(self.raw(), addr.as_bytes())
    }

    pub fn listen(&self, backlog: i32) -> io::Result<()> {
        sys::listen_(self.raw(), backlog)
    }

    /// accept(2): a blocking, close-on-exec connection and its peer.
    pub fn accept(&self) -> io::Result<(Socket, SockAddr)> {
        self.accept_with(SOCK_CLOEXEC)
    }

    /// accept4(2): `flags` is SOCK_NONBLOCK and/or SOCK_CLOEXEC.
    pub fn accept_with(&self, flags: i32) -> io::Result<(Socket, SockAddr)> {
        let mut peer = SockAddr::empty();
        let (fd, len) = sys::accept_(self.raw(), flags, &mut peer.bytes)?;
        peer.len = len.min(ADDR_MAX);
        Ok((Socket::adopt(fd), peer))
    }

    pub fn local_addr(&self) -> io::Result<SockAddr> {
        self.name(false)
    }

    pub fn peer_addr(&self) -> io::Result<SockAddr> {
        self.name(true)
    }

    fn name(&self, peer: bool) -> io::Result<SockAddr> {
        let mut a = SockAddr::empty();
        a.len = sys::name_(self.raw(), peer, &mut a.bytes)?.min(ADDR_MAX);
        Ok(a)
    }

    /// setsockopt(2) for an integer option (TCP_NODELAY, SO_REUSEADDR, ...).
    pub fn set_option(&self, level: i32, name: i32, value: i32) -> io::Result<()> {
        sys::setsockopt_(self.raw(), level, name, &value.to_ne_bytes())
    }

    /// getsockopt(2) for an integer option.
    pub fn option(&self, level: i32, name: i32) -> io::Result<i32> {
        let mut v = [0u8; 4];
        sys::getsockopt_(self.raw(), level, name, &mut v)?;
        Ok(i32::from_ne_bytes(v))
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.set_option(IPPROTO_TCP, TCP_NODELAY, on.into())
    }

    /// The pending error (SO_ERROR), e.g. the outcome of a non-blocking
    /// connect.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(match self.option(SOL_SOCKET, SO_ERROR)? {
            0 => None,
            e => Some(io::Error::from_raw_os_error(e)),
        })
    }

    /// O_NONBLOCK on or off.
    pub fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        sys::set_nonblocking_(self.raw(), on)
    }

    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.send_vectored_with(&[IoSlice::new(buf)], 0)
    }

    /// sendmsg(2) of several buffers; `flags` is MSG_DONTWAIT and/or MSG_MORE.
    /// A closed peer is `BrokenPipe`, never SIGPIPE.
    pub fn send_vectored_with(&self, bufs: &[IoSlice<'_>], flags: i32) -> io::Result<usize> {
        sys::send_(self.raw(), bufs, flags, None)
    }

    /// A datagram to `to`.
    pub fn send_to(&self, buf: &[u8], to: &SockAddr) -> io::Result<usize> {
        sys::send_(self.raw(), &[IoSlice::new(buf)], 0, Some(to.as_bytes()))
    }

    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_with(buf, 0)
    }

    /// recv(2) with MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT or MSG_TRUNC.
    pub fn recv_with(&self, buf: &mut [u8], flags: i32) -> io::Result<usize> {
        Ok(sys::recv_(self.raw(), &mut [IoSliceMut::new(buf)], flags, None)?.0)
    }

    /// recvmsg(2) into several buffers; returns the byte count and the
    /// message flags (MSG_TRUNC for a cut datagram).
    pub fn recv_vectored_with(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        flags: i32,
    ) -> io::Result<(usize, i32)> {
        let (n, _, msg_flags) = sys::recv_(self.raw(), bufs, flags, None)?;
        Ok((n, msg_flags))
    }

    /// A datagram and its sender.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SockAddr)> {
        let mut from = SockAddr::empty();
        let (n, len, _) = sys::recv_(
            self.raw(),
            &mut [IoSliceMut::new(buf)],
            0,
            Some(&mut from.bytes),
        )?;
        from.len = len.min(ADDR_MAX);
        Ok((n, from))
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let how = match how {
            Shutdown::Read => 0,
            Shutdown::Write => 1,
            Shutdown::Both => 2,
        };
        sys::shutdown_(self.raw(), how)
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        Ok(self.recv_vectored_with(bufs, 0)?.0)
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.send_vectored_with(bufs, 0)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }

    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        (&*self).read_vectored(bufs)
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&*self).write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsRawFd for Socket {
    fn as_raw_fd(&self) -> RawFd {
        self.raw()
    }
}

impl AsFd for Socket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl IntoRawFd for Socket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for Socket {
    fn from(fd: OwnedFd) -> Socket {
        Socket { fd }
    }
}

/// struct epoll_event as x86-64 Linux (and kwasm_net) lays it out: 12
/// bytes, packed.
#[repr(C, packed)]
#[derive(Clone, Copy)]
pub struct RawEvent {
    events: u32,
    data: u64,
}

/// Readiness to wait for (bits of epoll's `events`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest(pub u32);

impl Interest {
    pub const READABLE: Interest = Interest(0x001);
    pub const WRITABLE: Interest = Interest(0x004);
    /// The peer shut down its writing side (EPOLLRDHUP).
    pub const READ_CLOSED: Interest = Interest(0x2000);
    /// Edge-triggered (EPOLLET).
    pub const EDGE: Interest = Interest(1 << 31);
    /// Disarmed after one event until modified (EPOLLONESHOT).
    pub const ONESHOT: Interest = Interest(1 << 30);

    pub fn contains(self, other: Interest) -> bool {
        self.0 & other.0 == other.0
    }
}

impl core::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

/// One ready descriptor: the token it was registered with and its readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub token: u64,
    pub events: u32,
}

impl Event {
    pub fn is_readable(&self) -> bool {
        self.events & 0x001 != 0
    }
    pub fn is_writable(&self) -> bool {
        self.events & 0x004 != 0
    }
    /// An error (EPOLLERR) or a hang-up (EPOLLHUP).
    pub fn is_error_or_hangup(&self) -> bool {
        self.events & (0x008 | 0x010) != 0
    }
    pub fn is_read_closed(&self) -> bool {
        self.events & 0x2000 != 0
    }
}

/// The buffer [`Epoll::wait`] fills.
pub struct Events {
    buf: Vec<RawEvent>,
    len: usize,
}

impl Events {
    /// Room for `capacity` events per wait (at least 1).
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            buf: vec![RawEvent { events: 0, data: 0 }; capacity.max(1)],
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buf[..self.len].iter().map(|e| Event {
            token: e.data,
            events: e.events,
        })
    }
}

/// An epoll instance: the process's real epoll on both targets.
#[derive(Debug)]
pub struct Epoll {
    fd: OwnedFd,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        Ok(Epoll {
            fd: owned(sys::epoll_create_()?),
        })
    }

    /// Watch `fd` for `interest`; events carry `token`.
    pub fn add(&self, fd: &impl AsRawFd, interest: Interest, token: u64) -> io::Result<()> {
        self.ctl(EPOLL_CTL_ADD, fd.as_raw_fd(), interest, token)
    }

    pub fn modify(&self, fd: &impl AsRawFd, interest: Interest, token: u64) -> io::Result<()> {
        self.ctl(EPOLL_CTL_MOD, fd.as_raw_fd(), interest, token)
    }

    pub fn delete(&self, fd: &impl AsRawFd) -> io::Result<()> {
        self.ctl(EPOLL_CTL_DEL, fd.as_raw_fd(), Interest(0), 0)
    }

    fn ctl(&self, op: i32, fd: RawFd, interest: Interest, token: u64) -> io::Result<()> {
        let ev = RawEvent {
            events: interest.0,
            data: token,
        };
        sys::epoll_ctl_(self.fd.as_raw_fd(), op, fd, &ev)
    }

    /// Waits until something is ready or `timeout` passes (None: forever);
    /// returns how many events `events` now holds. A signal interrupts
    /// the wait with `Interrupted`, as epoll_wait(2) does.
    pub fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<usize> {
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        events.len = 0;
        events.len = sys::epoll_wait_(self.fd.as_raw_fd(), &mut events.buf, ms)?;
        Ok(events.len)
    }
}

impl AsRawFd for Epoll {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
