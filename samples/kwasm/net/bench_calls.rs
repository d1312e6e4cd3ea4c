// SPDX-License-Identifier: GPL-2.0

//! Microbenchmark of single host calls: CALLS repetitions of one operation,
//! built from this source for wasm32-wasip1 (each operation is one WASI or
//! kwasm_net host call) and natively (each is one system call through the C
//! library, the baseline). `scripts/kwasm bench-calls` runs it with CALLS
//! and 2*CALLS between instruction-count markers: the difference is the
//! cost of CALLS operations, free of start-up and exit.
//!
//! usage: bench_calls OP CALLS </dev/zero >/dev/null
//!   clock     clock_time_get (natively the clock_gettime system call, not
//!             the vDSO)
//!   write     a 1-byte write to stdout
//!   read      a 1-byte read from stdin
//!   sendrecv  a 1-byte send and a 1-byte recv on a connected TCP pair
//!   epoll     epoll_wait, zero timeout, one ready socket
//!   poll      poll_oneoff (poll), zero timeout, stdin ready
//! prints on stderr: OP_ns=NS, the wall time per call (best of 3 rounds).
//! clock, write, read and poll use no kwasm_net call, so they also run
//! under other WASI runtimes.

use kwasm_net::{Epoll, Events, Interest, Socket};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The raw calls, so that each operation is exactly one call.
mod sys {
    #[cfg(target_os = "wasi")]
    mod imp {
        #[repr(C)]
        struct Iovec {
            buf: *const u8,
            len: usize,
        }

        /// WASI subscription, tag fd_read (wasi_snapshot_preview1).
        #[repr(C)]
        struct Subscription {
            userdata: u64,
            tag: u8,
            _pad0: [u8; 7],
            fd: u32,
            _pad1: [u32; 7],
        }

        const _: () = assert!(core::mem::size_of::<Subscription>() == 48);
        const _: () = assert!(core::mem::size_of::<Event>() == 32);

        #[repr(C)]
        struct Event {
            userdata: u64,
            error: u16,
            ty: u8,
            nbytes: u64,
            flags: u16,
        }

        #[link(wasm_import_module = "wasi_snapshot_preview1")]
        extern "C" {
            fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
            fn fd_write(fd: u32, iovs: *const Iovec, n: usize, written: *mut usize) -> u16;
            fn fd_read(fd: u32, iovs: *const Iovec, n: usize, read: *mut usize) -> u16;
            fn poll_oneoff(
                subs: *const Subscription,
                events: *mut Event,
                n: usize,
                nevents: *mut usize,
            ) -> u16;
        }

        pub fn clock() -> bool {
            let mut t = 0u64;
            // SAFETY: t is a valid u64 for the call to write.
            unsafe { clock_time_get(1, 1, &mut t) == 0 }
        }

        pub fn write1(fd: i32, b: &[u8; 1]) -> bool {
            let iov = Iovec {
                buf: b.as_ptr(),
                len: 1,
            };
            let mut n = 0;
            // SAFETY: iov describes b, which outlives the call; n is writable.
            unsafe { fd_write(fd as u32, &iov, 1, &mut n) == 0 && n == 1 }
        }

        pub fn read1(fd: i32, b: &mut [u8; 1]) -> bool {
            let iov = Iovec {
                buf: b.as_mut_ptr(),
                len: 1,
            };
            let mut n = 0;
            // SAFETY: iov describes b, which outlives the call; n is writable.
            unsafe { fd_read(fd as u32, &iov, 1, &mut n) == 0 && n == 1 }
        }

        pub fn poll_readable(fd: i32) -> bool {
            let sub = Subscription {
                userdata: 7,
                tag: 1,
                _pad0: [0; 7],
                fd: fd as u32,
                _pad1: [0; 7],
            };
            let mut ev = Event {
                userdata: 0,
                error: 0,
                ty: 0,
                nbytes: 0,
                flags: 0,
            };
            let mut n = 0;
            // SAFETY: one subscription in, room for one event out, n writable.
            unsafe { poll_oneoff(&sub, &mut ev, 1, &mut n) == 0 && n == 1 && ev.userdata == 7 }
        }
    }

    #[cfg(not(target_os = "wasi"))]
    mod imp {
        #[repr(C)]
        struct PollFd {
            fd: i32,
            events: i16,
            revents: i16,
        }

        extern "C" {
            fn syscall(n: i64, ...) -> i64;
            fn write(fd: i32, buf: *const u8, n: usize) -> isize;
            fn read(fd: i32, buf: *mut u8, n: usize) -> isize;
            fn poll(fds: *mut PollFd, n: u64, timeout: i32) -> i32;
        }

        const SYS_CLOCK_GETTIME: i64 = 228;

        /// The system call itself, not the vDSO: a host call is compared
        /// with a kernel entry.
        pub fn clock() -> bool {
            let mut ts = [0i64; 2];
            // SAFETY: ts is a writable struct timespec.
            unsafe { syscall(SYS_CLOCK_GETTIME, 1i64, ts.as_mut_ptr()) == 0 }
        }

        pub fn write1(fd: i32, b: &[u8; 1]) -> bool {
            // SAFETY: b is readable for 1 byte.
            unsafe { write(fd, b.as_ptr(), 1) == 1 }
        }

        pub fn read1(fd: i32, b: &mut [u8; 1]) -> bool {
            // SAFETY: b is writable for 1 byte.
            unsafe { read(fd, b.as_mut_ptr(), 1) == 1 }
        }

        pub fn poll_readable(fd: i32) -> bool {
            let mut p = PollFd {
                fd,
                events: 1,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { poll(&mut p, 1, 0) == 1 && p.revents & 1 != 0 }
        }
    }

    pub use imp::*;
}

/// A connected TCP pair on loopback: (client, server side).
fn tcp_pair() -> (Socket, Socket) {
    let listener = Socket::listen_tcp("127.0.0.1:0".parse().unwrap(), 1).expect("listen");
    let addr: SocketAddr = listener
        .local_addr()
        .expect("local_addr")
        .as_socket()
        .expect("inet");
    let client = Socket::connect_tcp(addr).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.set_nodelay(true).expect("nodelay");
    (client, server)
}

fn fail(op: &str) -> ! {
    eprintln!("bench_calls: {op} failed");
    std::process::exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (op, calls) = match (args.get(1), args.get(2).and_then(|c| c.parse::<u32>().ok())) {
        (Some(op), Some(calls)) => (op.as_str(), calls),
        _ => {
            eprintln!("usage: bench_calls clock|write|read|sendrecv|epoll|poll CALLS");
            std::process::exit(2);
        }
    };
    let (client, server) = if matches!(op, "sendrecv" | "epoll") {
        let (c, s) = tcp_pair();
        (Some(c), Some(s))
    } else {
        (None, None)
    };
    // epoll: one byte waits unread on the server side, so it is always
    // ready.
    let epoll = match (op, &client, &server) {
        ("epoll", Some(c), Some(s)) => {
            let epoll = Epoll::new().expect("epoll");
            c.send(b"r").expect("send");
            epoll.add(s, Interest::READABLE, 1).expect("epoll add");
            Some(epoll)
        }
        _ => None,
    };
    let mut events = Events::with_capacity(4);
    let mut best = f64::MAX;
    let byte = [b'x'];
    let mut buf = [0u8];
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..calls {
            let ok = match op {
                "clock" => sys::clock(),
                "write" => sys::write1(1, &byte),
                "read" => sys::read1(0, &mut buf),
                "sendrecv" => {
                    let (c, s) = (client.as_ref().unwrap(), server.as_ref().unwrap());
                    c.send(&byte).ok() == Some(1) && s.recv(&mut buf).ok() == Some(1)
                }
                "epoll" => {
                    let e = epoll.as_ref().unwrap();
                    e.wait(&mut events, Some(Duration::ZERO)).ok() == Some(1)
                }
                "poll" => sys::poll_readable(0),
                _ => fail("an unknown operation"),
            };
            if !ok {
                fail(op);
            }
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(calls));
    }
    eprintln!("{op}_ns={best:.1}");
}
