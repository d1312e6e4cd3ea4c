// SPDX-License-Identifier: GPL-2.0

//! A minimal single-threaded HTTP/1.1 server on epoll. The same source
//! builds as a kwasm program (wasm32-wasip1) and as its native twin.
//!
//! usage: http_server [ADDR]   (default 127.0.0.1:8080)
//!
//! `GET /` (or HEAD) answers "Hello from kwasm!\n"; other paths are 404,
//! other methods 405, malformed requests 400. Connections are kept alive
//! (HTTP/1.1 default, or HTTP/1.0 with `Connection: keep-alive`) until the
//! client sends `Connection: close`; pipelined requests are answered in
//! order. Request bodies (Content-Length) are read and ignored.

use kwasm_net::{Epoll, Events, Interest, Socket, SOCK_CLOEXEC, SOCK_NONBLOCK};
use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;

const LISTENER: u64 = u64::MAX;
/// A request head longer than this is refused.
const MAX_HEAD: usize = 16 * 1024;
const BODY: &[u8] = b"Hello from kwasm!\n";

#[derive(Default)]
struct Conn {
    input: Vec<u8>,
    output: Vec<u8>,
    /// Close once `output` is sent.
    closing: bool,
    /// Registered for EPOLLOUT (waiting for room) instead of EPOLLIN.
    writing: bool,
}

struct Request {
    /// Bytes of head and body.
    len: usize,
    keep_alive: bool,
    status: u16,
    head_only: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses the first request in `buf`: None while it is incomplete.
fn parse(buf: &[u8]) -> Option<Result<Request, ()>> {
    let head_end = match find(buf, b"\r\n\r\n") {
        Some(i) => i + 4,
        None if buf.len() > MAX_HEAD => return Some(Err(())),
        None => return None,
    };
    let Ok(head) = std::str::from_utf8(&buf[..head_end - 4]) else {
        return Some(Err(()));
    };
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Some(Err(()));
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Some(Err(())),
    };
    let mut keep_alive = http11;
    let mut body = 0usize;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Some(Err(()));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("connection") {
            if value.eq_ignore_ascii_case("close") {
                keep_alive = false;
            } else if value.eq_ignore_ascii_case("keep-alive") {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            match value.parse() {
                Ok(n) => body = n,
                Err(_) => return Some(Err(())),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Chunked bodies are beyond this sample.
            return Some(Err(()));
        }
    }
    if buf.len() - head_end < body {
        return None;
    }
    let status = match (method, target) {
        ("GET" | "HEAD", "/") => 200,
        ("GET" | "HEAD", _) => 404,
        _ => 405,
    };
    Some(Ok(Request {
        len: head_end + body,
        keep_alive,
        status,
        head_only: method == "HEAD",
    }))
}

fn respond(out: &mut Vec<u8>, status: u16, keep_alive: bool, head_only: bool) {
    let (reason, body): (&str, &[u8]) = match status {
        200 => ("OK", BODY),
        404 => ("Not Found", b"not found\n"),
        405 => ("Method Not Allowed", b"method not allowed\n"),
        _ => ("Bad Request", b"bad request\n"),
    };
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let _ = write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.extend_from_slice(body);
    }
}

impl Conn {
    /// Answers every complete request in `input`.
    fn handle(&mut self) {
        let mut used = 0;
        while !self.closing {
            match parse(&self.input[used..]) {
                None => break,
                Some(Ok(req)) => {
                    used += req.len;
                    respond(&mut self.output, req.status, req.keep_alive, req.head_only);
                    self.closing = !req.keep_alive;
                }
                Some(Err(())) => {
                    respond(&mut self.output, 400, false, false);
                    self.closing = true;
                }
            }
        }
        self.input.drain(..used);
    }
}

struct Server {
    epoll: Epoll,
    listener: Socket,
    conns: Vec<Option<(Socket, Conn)>>,
    free: Vec<usize>,
    buf: Vec<u8>,
}

impl Server {
    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            let sock = match self.listener.accept_with(SOCK_NONBLOCK | SOCK_CLOEXEC) {
                Ok((sock, _)) => sock,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) => {
                    eprintln!("http_server: accept: {e}");
                    return Ok(());
                }
            };
            let _ = sock.set_nodelay(true);
            let slot = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            self.epoll.add(&sock, Interest::READABLE, slot as u64)?;
            self.conns[slot] = Some((sock, Conn::default()));
        }
    }

    fn close(&mut self, slot: usize) {
        if self.conns[slot].take().is_some() {
            self.free.push(slot);
        }
    }

    /// Serves one ready connection: Ok(false) when it is finished.
    fn serve(&mut self, slot: usize) -> io::Result<bool> {
        let Some((sock, conn)) = self.conns[slot].as_mut() else {
            return Ok(true);
        };
        if conn.output.is_empty() {
            match sock.recv(&mut self.buf) {
                Ok(0) => return Ok(false),
                Ok(n) => conn.input.extend_from_slice(&self.buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                Err(e) => return Err(e),
            }
            conn.handle();
        }
        while !conn.output.is_empty() {
            match sock.send(&conn.output) {
                Ok(n) => {
                    conn.output.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    // Wait for room; stop reading until the answer is out.
                    if !conn.writing {
                        self.epoll.modify(sock, Interest::WRITABLE, slot as u64)?;
                        conn.writing = true;
                    }
                    return Ok(true);
                }
                Err(e) => return Err(e),
            }
        }
        if conn.closing {
            return Ok(false);
        }
        if conn.writing {
            self.epoll.modify(sock, Interest::READABLE, slot as u64)?;
            conn.writing = false;
        }
        Ok(true)
    }
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = match std::env::args().nth(1) {
        Some(a) => a
            .parse()
            .map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?,
        None => "127.0.0.1:8080".parse().unwrap(),
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
        buf: vec![0; 16 * 1024],
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
            if !matches!(server.serve(slot), Ok(true)) {
                server.close(slot);
            }
        }
    }
}
