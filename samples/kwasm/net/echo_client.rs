// SPDX-License-Identifier: GPL-2.0

//! Load for the echo servers (native only): CONNS connections, each sending
//! SIZE bytes and waiting for them to come back, over and over for SECONDS.
//! Every echoed byte is checked.
//!
//! usage: echo_client ADDR CONNS SIZE SECONDS
//! prints: conns=C size=S seconds=T roundtrips=R bytes=B

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::exit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> T {
    match args.get(i).map(|a| a.parse()) {
        Some(Ok(v)) => v,
        _ => {
            eprintln!("usage: echo_client ADDR CONNS SIZE SECONDS (bad {what})");
            exit(2);
        }
    }
}

fn run(addr: SocketAddr, size: usize, stop: &AtomicBool, id: usize) -> Result<u64, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let payload: Vec<u8> = (0..size).map(|i| (i * 7 + id) as u8).collect();
    let mut back = vec![0u8; size];
    let mut trips = 0u64;
    while !stop.load(Ordering::Relaxed) {
        s.write_all(&payload).map_err(|e| format!("send: {e}"))?;
        s.read_exact(&mut back).map_err(|e| format!("recv: {e}"))?;
        if back != payload {
            return Err("echoed bytes differ from the sent ones".into());
        }
        trips += 1;
    }
    Ok(trips)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr: SocketAddr = arg(&args, 1, "ADDR");
    let conns: usize = arg(&args, 2, "CONNS");
    let size: usize = arg(&args, 3, "SIZE");
    let seconds: f64 = arg(&args, 4, "SECONDS");
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..conns)
        .map(|id| {
            let stop = stop.clone();
            thread::spawn(move || run(addr, size, &stop, id))
        })
        .collect();
    thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut trips = 0;
    for w in workers {
        match w.join().expect("worker panicked") {
            Ok(n) => trips += n,
            Err(e) => {
                eprintln!("echo_client: {e}");
                exit(1);
            }
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "conns={conns} size={size} seconds={t:.3} roundtrips={trips} bytes={}",
        trips * size as u64
    );
}
