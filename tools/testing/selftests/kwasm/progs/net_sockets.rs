// SPDX-License-Identifier: GPL-2.0

//! kwasm_net from a wasm32-wasip1 program: TCP over IPv4 and IPv6, Unix
//! stream sockets, UDP, socket options, names, non-blocking accept with
//! epoll, half-close, and errors. Prints one line per check; the output
//! must equal net_sockets.expected (WASI errnos: 50 NOPROTOOPT, 6 AGAIN,
//! 28 INVAL, 14 CONNREFUSED, 53 NOTCONN, 8 BADF, 57 NOTSOCK). Run by the
//! kwasm-wasi host tests and by kwasm_net_test in the VM.

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
    fn sendto(
        fd: u32,
        iovs: *const Iovec,
        n: u32,
        flags: i32,
        addr: *const u8,
        len: u32,
        sent: *mut u32,
    ) -> u16;
    fn recvfrom(
        fd: u32,
        iovs: *const Iovec,
        n: u32,
        flags: i32,
        addr: *mut u8,
        len: *mut u32,
        got: *mut u32,
        msg_flags: *mut u32,
    ) -> u16;
    fn shutdown(fd: u32, how: i32) -> u16;
    fn epoll_create(flags: i32, fd: *mut u32) -> u16;
    fn epoll_ctl(epfd: u32, op: i32, fd: u32, event: *const u8) -> u16;
    fn epoll_wait(epfd: u32, events: *mut u8, max: i32, timeout_ms: i32, n: *mut u32) -> u16;
}

#[repr(C)]
struct Iovec {
    buf: *const u8,
    len: u32,
}

const AF_UNIX: i32 = 1;
const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const SOCK_STREAM: i32 = 1;
const SOCK_DGRAM: i32 = 2;
const SOCK_NONBLOCK: i32 = 0o4000;
const EPOLLIN: u32 = 1;
const AGAIN: u16 = 6;

fn ok(what: &str, e: u16) {
    assert_eq!(e, 0, "{what}: errno {e}");
}

fn sock(domain: i32, ty: i32) -> u32 {
    let mut fd = 0;
    // SAFETY: valid out pointer.
    ok("socket", unsafe { socket(domain, ty, 0, &mut fd) });
    fd
}

fn v4(port: u16) -> Vec<u8> {
    let mut a = vec![0u8; 16];
    a[..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
    a[2..4].copy_from_slice(&port.to_be_bytes());
    a[4..8].copy_from_slice(&[127, 0, 0, 1]);
    a
}

fn v6(port: u16) -> Vec<u8> {
    let mut a = vec![0u8; 28];
    a[..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
    a[2..4].copy_from_slice(&port.to_be_bytes());
    a[23] = 1;
    a
}

fn unix(name: &str) -> Vec<u8> {
    // Abstract address: a leading NUL, nothing in the file system.
    let mut a = (AF_UNIX as u16).to_le_bytes().to_vec();
    a.push(0);
    a.extend_from_slice(name.as_bytes());
    a
}

fn name(fd: u32, peer: bool) -> Vec<u8> {
    let mut a = vec![0u8; 128];
    let mut len = 128;
    // SAFETY: `a` holds `len` bytes.
    let e = unsafe {
        if peer {
            getpeername(fd, a.as_mut_ptr(), &mut len)
        } else {
            getsockname(fd, a.as_mut_ptr(), &mut len)
        }
    };
    ok("getsockname", e);
    a.truncate(len as usize);
    a
}

fn send(fd: u32, data: &[u8], to: Option<&[u8]>) -> u32 {
    let iov = Iovec {
        buf: data.as_ptr(),
        len: data.len() as u32,
    };
    let (p, l) = to.map_or((std::ptr::null(), 0), |a| (a.as_ptr(), a.len() as u32));
    let mut n = 0;
    // SAFETY: one iovec over `data`; the address is valid for its length.
    ok("sendto", unsafe { sendto(fd, &iov, 1, 0, p, l, &mut n) });
    n
}

/// Receives into a 64-byte buffer; returns the data and the sender.
fn recv(fd: u32, flags: i32) -> Result<(Vec<u8>, Vec<u8>), u16> {
    let mut buf = vec![0u8; 64];
    let mut from = vec![0u8; 128];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: 64,
    };
    let (mut len, mut n, mut mf) = (128, 0, 0);
    // SAFETY: one iovec over `buf`; `from` holds `len` bytes; valid out pointers.
    let e = unsafe {
        recvfrom(
            fd,
            &iov,
            1,
            flags,
            from.as_mut_ptr(),
            &mut len,
            &mut n,
            &mut mf,
        )
    };
    if e != 0 {
        return Err(e);
    }
    buf.truncate(n as usize);
    from.truncate(len as usize);
    Ok((buf, from))
}

fn accept_peer(fd: u32) -> (u32, Vec<u8>) {
    let mut a = vec![0u8; 128];
    let (mut len, mut c) = (128, 0);
    // SAFETY: `a` holds `len` bytes; valid out pointers.
    ok("accept", unsafe {
        accept(fd, 0, a.as_mut_ptr(), &mut len, &mut c)
    });
    a.truncate(len as usize);
    (c, a)
}

/// A stream round trip over `domain` with listener address `addr`.
fn stream(label: &str, domain: i32, addr: &[u8]) {
    let l = sock(domain, SOCK_STREAM);
    // SAFETY: `addr` is valid for its length.
    ok("bind", unsafe { bind(l, addr.as_ptr(), addr.len() as u32) });
    // SAFETY: plain call.
    ok("listen", unsafe { listen(l, 8) });
    let bound = name(l, false);
    let c = sock(domain, SOCK_STREAM);
    // SAFETY: `bound` is valid for its length.
    ok("connect", unsafe {
        connect(c, bound.as_ptr(), bound.len() as u32)
    });
    let (s, peer) = accept_peer(l);
    let same_peer = domain == AF_UNIX || peer == name(c, false);
    println!("{label}: accepted, peer address matches: {same_peer}");
    send(c, b"hello", None);
    let (got, _) = recv(s, 0).unwrap();
    send(s, &got, None);
    let (echo, _) = recv(c, 0).unwrap();
    println!("{label}: echoed {:?}", String::from_utf8_lossy(&echo));
    // SAFETY: plain call.
    ok("shutdown", unsafe { shutdown(c, 1) });
    println!(
        "{label}: after half-close the server reads {:?}",
        recv(s, 0).map(|r| r.0.len())
    );
    send(s, b"still open", None);
    println!(
        "{label}: client still reads {:?}",
        recv(c, 0).map(|r| r.0.len())
    );
}

fn udp() {
    let a = sock(AF_INET, SOCK_DGRAM);
    let b = sock(AF_INET, SOCK_DGRAM);
    let any = v4(0);
    // SAFETY: addresses are valid for their lengths.
    unsafe {
        ok("bind a", bind(a, any.as_ptr(), any.len() as u32));
        ok("bind b", bind(b, any.as_ptr(), any.len() as u32));
    }
    let (na, nb) = (name(a, false), name(b, false));
    send(a, b"datagram", Some(&nb));
    let (got, from) = recv(b, 0).unwrap();
    println!(
        "udp: got {:?} from a: {}",
        String::from_utf8_lossy(&got),
        from == na
    );
}

fn options() {
    let s = sock(AF_INET, SOCK_STREAM);
    let one = 1i32.to_le_bytes();
    let mut v = [0u8; 4];
    let mut len = 4;
    // SAFETY: buffers are valid for the lengths given.
    unsafe {
        ok("SO_REUSEADDR", setsockopt(s, 1, 2, one.as_ptr(), 4));
        ok(
            "get SO_REUSEADDR",
            getsockopt(s, 1, 2, v.as_mut_ptr(), &mut len),
        );
        println!("SO_REUSEADDR: {}", i32::from_le_bytes(v));
        ok("TCP_NODELAY", setsockopt(s, 6, 1, one.as_ptr(), 4));
        // IPPROTO_TCP and IPPROTO_IP options are read through the protocol's
        // own getsockopt, not the socket layer's.
        len = 4;
        v = [0; 4];
        ok(
            "get TCP_NODELAY",
            getsockopt(s, 6, 1, v.as_mut_ptr(), &mut len),
        );
        println!("TCP_NODELAY: {} ({len} bytes)", i32::from_le_bytes(v));
        len = 4;
        ok("get IP_TTL", getsockopt(s, 0, 2, v.as_mut_ptr(), &mut len));
        println!("IP_TTL: {} ({len} bytes)", i32::from_le_bytes(v));
        len = 4;
        ok("SO_TYPE", getsockopt(s, 1, 3, v.as_mut_ptr(), &mut len));
        println!("SO_TYPE: {}", i32::from_le_bytes(v));
        // SO_ATTACH_FILTER carries a pointer: not offered.
        println!(
            "SO_ATTACH_FILTER: errno {}",
            setsockopt(s, 1, 26, one.as_ptr(), 4)
        );
    }
}

fn epoll_accept() {
    let l = sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    let any = v4(0);
    let mut ep = 0;
    // SAFETY: valid pointers for the lengths given.
    unsafe {
        ok("bind", bind(l, any.as_ptr(), any.len() as u32));
        ok("listen", listen(l, 8));
        let (mut c, mut len) = (0, 0);
        let e = accept(l, 0, std::ptr::null_mut(), &mut len, &mut c);
        println!("nonblocking accept with nobody waiting: errno {e} (AGAIN {AGAIN})");
        ok("epoll_create", epoll_create(0, &mut ep));
        let mut ev = EPOLLIN.to_le_bytes().to_vec();
        ev.extend_from_slice(&42u64.to_le_bytes());
        ok("epoll_ctl", epoll_ctl(ep, 1, l, ev.as_ptr()));
    }
    let c = sock(AF_INET, SOCK_STREAM);
    let bound = name(l, false);
    // SAFETY: `bound` is valid for its length.
    ok("connect", unsafe {
        connect(c, bound.as_ptr(), bound.len() as u32)
    });
    let mut events = [0u8; 24];
    let mut n = 0;
    // SAFETY: `events` holds 2 events.
    ok("epoll_wait", unsafe {
        epoll_wait(ep, events.as_mut_ptr(), 2, 5000, &mut n)
    });
    let data = u64::from_le_bytes(events[4..12].try_into().unwrap());
    println!(
        "epoll: {n} ready, data {data}, readable: {}",
        events[0] & 1 == 1
    );
    let (s, _) = accept_peer(l);
    println!("accepted after epoll: {}", s > 0);
}

fn errors() {
    let mut fd = 0;
    let refused = v4(1);
    // SAFETY: valid pointers for the lengths given.
    unsafe {
        println!("bad domain: errno {}", socket(99, SOCK_STREAM, 0, &mut fd));
        let s = sock(AF_INET, SOCK_STREAM);
        println!(
            "address too long: errno {}",
            bind(s, refused.as_ptr(), 4096)
        );
        println!(
            "connection refused: errno {}",
            connect(s, refused.as_ptr(), 16)
        );
        let t = sock(AF_INET, SOCK_STREAM);
        let (mut a, mut len) = ([0u8; 16], 16);
        println!(
            "getpeername unconnected: errno {}",
            getpeername(t, a.as_mut_ptr(), &mut len)
        );
        println!("bad fd: errno {}", listen(999, 1));
        println!("not a socket: errno {}", listen(1, 1));
        // Pointers beyond linear memory, bad lengths, counts and ops: errnos.
        let far = 0xffff_fff0usize as *mut u8;
        println!("address out of memory: errno {}", bind(t, far, 16));
        println!(
            "result out of memory: errno {}",
            socket(AF_INET, SOCK_STREAM, 0, far.cast())
        );
        let big = Iovec { buf: far, len: 64 };
        let mut n = 0;
        let far_iov = &big as *const Iovec;
        println!(
            "iovec out of memory: errno {}",
            sendto(s, far_iov, 1, 0, core::ptr::null(), 0, &mut n)
        );
        println!(
            "iovec array out of memory: errno {}",
            sendto(s, far.cast(), 1000, 0, core::ptr::null(), 0, &mut n)
        );
        let mut buf = [0u8; 8];
        let iov = Iovec {
            buf: buf.as_mut_ptr(),
            len: 8,
        };
        let (mut got, mut mf, mut alen) = (0, 0, 0);
        println!(
            "recv unconnected: errno {}",
            recvfrom(
                t,
                &iov,
                1,
                0,
                core::ptr::null_mut(),
                &mut alen,
                &mut got,
                &mut mf
            )
        );
        println!(
            "accept not listening: errno {}",
            accept(t, 0, a.as_mut_ptr(), &mut len, &mut fd)
        );
        println!(
            "accept bad flags: errno {}",
            accept(t, 0x7fff_ffff, a.as_mut_ptr(), &mut len, &mut fd)
        );
        println!("shutdown bad how: errno {}", shutdown(s, 7));
        println!(
            "setsockopt short value: errno {}",
            setsockopt(s, 1, 2, buf.as_ptr(), 1)
        );
        let mut ep = 0;
        epoll_create(0, &mut ep);
        let ev = [1u8; 12];
        println!(
            "epoll_ctl bad op: errno {}",
            epoll_ctl(ep, 99, s, ev.as_ptr())
        );
        println!(
            "epoll_ctl on itself: errno {}",
            epoll_ctl(ep, 1, ep, ev.as_ptr())
        );
        println!(
            "epoll_wait zero events: errno {}",
            epoll_wait(ep, buf.as_mut_ptr(), 0, 0, &mut n)
        );
        println!(
            "epoll_wait events out of memory: errno {}",
            epoll_wait(ep, far, 8, 0, &mut n)
        );
        println!(
            "epoll_wait on a socket: errno {}",
            epoll_wait(s, buf.as_mut_ptr(), 1, 0, &mut n)
        );
        println!("epoll_create bad flags: errno {}", epoll_create(1, &mut ep));
    }
}

fn main() {
    stream("tcp4", AF_INET, &v4(0));
    stream("tcp6", AF_INET6, &v6(0));
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    stream("unix", AF_UNIX, &unix(&format!("kwasm-net-test-{t}")));
    udp();
    options();
    epoll_accept();
    errors();
}
