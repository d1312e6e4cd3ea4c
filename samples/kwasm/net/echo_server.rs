// SPDX-License-Identifier: GPL-2.0

//! A single-threaded epoll echo server. The same source builds as a kwasm
//! program (wasm32-wasip1) and as its native twin (Linux); both use the
//! kwasm-net crate, so the only difference is how a call reaches the kernel.
//!
//! usage: echo_server [ADDR]   (default 127.0.0.1:7000; [::1]:P for IPv6)
//!
//! Prints "listening on ADDR" once it accepts connections, then serves
//! until killed. Level-triggered: a connection is read only when the
//! previous echo has been sent in full, which bounds its memory.

use kwasm_net::{Epoll, Events, Interest, Socket, SOCK_CLOEXEC, SOCK_NONBLOCK};
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;

const LISTENER: u64 = u64::MAX;
const BUF: usize = 64 * 1024;

struct Conn {
    sock: Socket,
    /// Bytes read but not yet echoed back.
    pending: Vec<u8>,
}

struct Server {
    epoll: Epoll,
    listener: Socket,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    buf: Vec<u8>,
}

impl Server {
    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            let sock = match self.listener.accept_with(SOCK_NONBLOCK | SOCK_CLOEXEC) {
                Ok((sock, _)) => sock,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // A connection that died in the queue, or no fds left for
                // now: say so and keep serving the others.
                Err(e) => {
                    eprintln!("echo_server: accept: {e}");
                    return Ok(());
                }
            };
            // Unix sockets refuse TCP options; that is fine.
            let _ = sock.set_nodelay(true);
            let slot = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            self.epoll.add(&sock, Interest::READABLE, slot as u64)?;
            self.conns[slot] = Some(Conn {
                sock,
                pending: Vec::new(),
            });
        }
    }

    fn close(&mut self, slot: usize) {
        if let Some(conn) = self.conns[slot].take() {
            // Closing the fd removes it from the epoll set.
            drop(conn);
            self.free.push(slot);
        }
    }

    /// Serves one ready connection; an error closes it.
    fn serve(&mut self, slot: usize) -> io::Result<()> {
        let Some(conn) = self.conns[slot].as_mut() else {
            return Ok(());
        };
        if !conn.pending.is_empty() {
            match conn.sock.send(&conn.pending) {
                Ok(n) => {
                    conn.pending.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
            if conn.pending.is_empty() {
                self.epoll
                    .modify(&conn.sock, Interest::READABLE, slot as u64)?;
            }
            return Ok(());
        }
        let n = match conn.sock.recv(&mut self.buf) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e),
        };
        let sent = match conn.sock.send(&self.buf[..n]) {
            Ok(sent) => sent,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        if sent < n {
            conn.pending.extend_from_slice(&self.buf[sent..n]);
            self.epoll
                .modify(&conn.sock, Interest::WRITABLE, slot as u64)?;
        }
        Ok(())
    }
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(a) => a
            .parse()
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?,
        None => "127.0.0.1:7000".parse().unwrap(),
    };
    let listener = Socket::listen_tcp(addr, 1024)?;
    listener.set_nonblocking(true)?;
    let epoll = Epoll::new()?;
    epoll.add(&listener, Interest::READABLE, LISTENER)?;
    let mut out = io::stdout();
    writeln!(out, "listening on {:?}", listener.local_addr()?)?;
    out.flush()?;
    let mut server = Server {
        epoll,
        listener,
        conns: Vec::new(),
        free: Vec::new(),
        buf: vec![0; BUF],
    };
    let mut events = Events::with_capacity(256);
    loop {
        match server.epoll.wait(&mut events, None) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        for ev in events.iter() {
            if ev.token == LISTENER {
                server.accept_all()?;
                continue;
            }
            let slot = ev.token as usize;
            if server.serve(slot).is_err() {
                server.close(slot);
            }
        }
    }
}
