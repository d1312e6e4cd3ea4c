// SPDX-License-Identifier: GPL-2.0

//! Microbenchmark: one 1-byte write to stdout, which the caller points at
//! /dev/null. Under kwasm that is one WASI fd_write host call, natively one
//! write(2), under wasmtime one fd_write through its WASI layer. Same
//! source for all three.
//!
//! usage: bench_fd_write [CALLS] >/dev/null
//! prints on stderr: fd_write_ns=NS (the best of 5 rounds)

use std::fs::File;
use std::io::Write;
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::time::Instant;

fn main() {
    let calls: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    // SAFETY: fd 1 is open for the whole run and is never closed here (ManuallyDrop), so this File only borrows it.
    let mut out = ManuallyDrop::new(unsafe { File::from_raw_fd(1) });
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for _ in 0..calls {
            if out.write(b"x").unwrap_or(0) != 1 {
                eprintln!("bench_fd_write: a write failed");
                std::process::exit(1);
            }
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / f64::from(calls));
    }
    eprintln!("fd_write_ns={best:.1}");
}
