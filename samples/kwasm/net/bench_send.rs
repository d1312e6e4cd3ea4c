// SPDX-License-Identifier: GPL-2.0

//! Microbenchmark: a 1-byte send on a connected loopback TCP socket. Under
//! kwasm that is one kwasm_net sendto host call, natively one sendmsg(2);
//! the peer drains the bytes with one recv per 512 sends (included, the
//! same for both). Same source for both, over kwasm-net.
//!
//! usage: bench_send [CALLS]
//! prints on stderr: send_ns=NS (the best of 5 rounds)

use kwasm_net::{Socket, MSG_WAITALL};
use std::time::Instant;

const BATCH: u32 = 512;

fn main() -> std::io::Result<()> {
    let calls: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let calls = calls.div_ceil(BATCH) * BATCH;
    let listener = Socket::listen_tcp("127.0.0.1:0".parse().unwrap(), 1)?;
    let at = listener.local_addr()?.as_socket().expect("an IPv4 address");
    let client = Socket::connect_tcp(at)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    let mut sink = [0u8; BATCH as usize];
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..calls / BATCH {
            for _ in 0..BATCH {
                if client.send(b"x")? != 1 {
                    eprintln!("bench_send: a short send");
                    std::process::exit(1);
                }
            }
            if server.recv_with(&mut sink, MSG_WAITALL)? != sink.len() {
                eprintln!("bench_send: a short receive");
                std::process::exit(1);
            }
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(calls));
    }
    eprintln!("send_ns={best:.1}");
    Ok(())
}
