// SPDX-License-Identifier: GPL-2.0

//! The native backend over loopback: what the samples' native twins rely
//! on. (The wasm backend runs the same calls in the VM, see
//! tools/testing/selftests/kwasm/kwasm_net_test.c.)

use kwasm_net::*;
use std::io::{ErrorKind, IoSlice, IoSliceMut, Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddr};
use std::time::Duration;

fn any_port_v4() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

#[test]
fn tcp_echo_and_half_close_over_ipv4_and_ipv6() {
    for addr in [
        any_port_v4(),
        SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 0),
    ] {
        let l = Socket::listen_tcp(addr, 8).unwrap();
        let at = l.local_addr().unwrap().as_socket().unwrap();
        assert_ne!(at.port(), 0, "bound to a real port");
        let mut c = Socket::connect_tcp(at).unwrap();
        let (mut s, peer) = l.accept().unwrap();
        assert_eq!(peer.as_socket(), c.local_addr().unwrap().as_socket());
        c.set_nodelay(true).unwrap();
        assert_eq!(c.option(IPPROTO_TCP, TCP_NODELAY).unwrap(), 1);
        let n = c
            .write_vectored(&[IoSlice::new(b"he"), IoSlice::new(b"llo")])
            .unwrap();
        assert_eq!(n, 5);
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        c.shutdown(Shutdown::Write).unwrap();
        assert_eq!(
            s.read(&mut buf).unwrap(),
            0,
            "EOF after the peer's half-close"
        );
        s.write_all(b"still").unwrap();
        let (mut a, mut b) = ([0u8; 2], [0u8; 3]);
        let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
        let (n, _) = c.recv_vectored_with(&mut bufs, MSG_WAITALL).unwrap();
        assert_eq!((n, &a, &b), (5, b"st", b"ill"));
    }
}

#[test]
fn unix_stream_and_udp_datagrams() {
    let name = format!("\0kwasm-net-test-{}", std::process::id());
    let addr = SockAddr::unix(name.as_bytes()).unwrap();
    let l = Socket::new(AF_UNIX, SOCK_STREAM).unwrap();
    l.bind(&addr).unwrap();
    l.listen(1).unwrap();
    assert_eq!(l.local_addr().unwrap().as_unix(), Some(name.as_bytes()));
    let c = Socket::new(AF_UNIX, SOCK_STREAM).unwrap();
    c.connect(&addr).unwrap();
    let (s, _) = l.accept().unwrap();
    c.send(b"unix").unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.recv(&mut buf).unwrap(), 4);

    let a = Socket::new(AF_INET, SOCK_DGRAM).unwrap();
    a.bind(&any_port_v4().into()).unwrap();
    let b = Socket::new(AF_INET, SOCK_DGRAM).unwrap();
    b.bind(&any_port_v4().into()).unwrap();
    b.send_to(b"datagram", &a.local_addr().unwrap()).unwrap();
    let (n, from) = a.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"datagram");
    assert_eq!(from.as_socket(), b.local_addr().unwrap().as_socket());
}

#[test]
fn nonblocking_accept_waits_with_epoll() {
    let l = Socket::listen_tcp(any_port_v4(), 8).unwrap();
    l.set_nonblocking(true).unwrap();
    let err = l.accept().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock, "got {err}");
    let ep = Epoll::new().unwrap();
    ep.add(&l, Interest::READABLE, 7).unwrap();
    let mut events = Events::with_capacity(4);
    assert_eq!(
        ep.wait(&mut events, Some(Duration::from_millis(10)))
            .unwrap(),
        0
    );
    let _c = Socket::connect_tcp(l.local_addr().unwrap().as_socket().unwrap()).unwrap();
    assert_eq!(ep.wait(&mut events, None).unwrap(), 1);
    let ev = events.iter().next().unwrap();
    assert_eq!(ev.token, 7);
    assert!(ev.is_readable());
    let (s, _) = l.accept_with(SOCK_NONBLOCK).unwrap();
    assert_eq!(
        s.recv(&mut [0u8; 1]).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    ep.delete(&l).unwrap();
}

#[test]
fn errors_are_io_errors() {
    assert_eq!(
        Socket::new(12345, SOCK_STREAM).unwrap_err().raw_os_error(),
        Some(97)
    );
    let l = Socket::listen_tcp(any_port_v4(), 1).unwrap();
    let at = l.local_addr().unwrap().as_socket().unwrap();
    drop(l);
    let e = Socket::connect_tcp(at).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "got {e}");
    assert!(SockAddr::unix(&[b'x'; 200]).is_err());
}
