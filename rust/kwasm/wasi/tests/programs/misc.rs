// SPDX-License-Identifier: GPL-2.0
// wasm32-wasip1 test program: args, env, clocks, sleep (poll_oneoff),
// random, stdin, raw calls with bad pointers, and proc_exit.

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> i32;
    fn clock_res_get(id: u32, out: *mut u64) -> i32;
    fn random_get(buf: *mut u8, len: u32) -> i32;
    fn fd_write(fd: u32, iovs: *const u32, n: u32, out: *mut u32) -> i32;
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: u32, out: *mut u32) -> i32;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> i32;
    fn fd_prestat_get(fd: u32, out: *mut u32) -> i32;
    fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: u32) -> i32;
    fn sched_yield() -> i32;
    fn proc_raise(sig: u32) -> i32;
    fn proc_exit(code: u32) -> !;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("args: {args:?}");
    println!("env FOO: {:?}", std::env::var("FOO").ok());
    println!("env count: {}", std::env::vars().count());

    let wall = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap();
    println!("wall after 2020: {}", wall.as_secs() > 1_577_836_800);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let slept = t0.elapsed();
    println!("slept enough: {}", slept >= Duration::from_millis(20));

    let mut out = 0u64;
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        println!("cputime: {}", clock_time_get(2, 1, &mut out));
        println!("cputime>0: {}", out > 0);
        println!("thread cputime: {}", clock_time_get(3, 1, &mut out));
        println!("res: {} {}", clock_res_get(1, &mut out), out > 0 && out < 1_000_000);
        println!("bad clock: {}", clock_time_get(9, 1, &mut out));
        println!("bad out ptr: {}", clock_time_get(1, 1, 0xffff_fff0 as *mut u64));
        println!("misaligned out: {}", clock_time_get(1, 1, (&mut out as *mut u64 as *mut u8).add(1) as *mut u64));
    }

    let mut a = [0u8; 64];
    let mut b = [0u8; 64];
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        random_get(a.as_mut_ptr(), 64);
        random_get(b.as_mut_ptr(), 64);
        println!("random differs: {}", a != b && a != [0; 64]);
        println!("random oob: {}", random_get(0xffff_0000 as *mut u8, 0x20000));
    }

    // Bad iovec pointer: FAULT, nothing written.
    let iov = [0xffff_fff0u32, 100];
    let mut n = 0u32;
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        println!("write fault: {}", fd_write(1, iov.as_ptr(), 1, &mut n));
    }

    // poll_oneoff: a relative monotonic clock plus stdin readable.
    let mut subs = [0u8; 96];
    subs[0..8].copy_from_slice(&11u64.to_le_bytes());
    subs[8] = 0; // clock
    subs[16..20].copy_from_slice(&1u32.to_le_bytes());
    subs[24..32].copy_from_slice(&5_000_000_000u64.to_le_bytes());
    subs[48..56].copy_from_slice(&22u64.to_le_bytes());
    subs[56] = 1; // fd_read
    subs[64..68].copy_from_slice(&0u32.to_le_bytes());
    let mut events = [0u8; 64];
    let mut nev = 0u32;
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        let r = poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2, &mut nev);
        let ud = u64::from_le_bytes(events[0..8].try_into().unwrap());
        let nbytes = u64::from_le_bytes(events[16..24].try_into().unwrap());
        println!("poll: {r} n={nev} userdata={ud} type={} nbytes={nbytes}", events[10]);
        println!("poll none: {}", poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 0, &mut nev));
    }
    // A bad fd is an event with BADF, not a failed call.
    subs[64..68].copy_from_slice(&77u32.to_le_bytes());
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        let r = poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2, &mut nev);
        let err = u16::from_le_bytes(events[8..10].try_into().unwrap());
        println!("poll badf: {r} n={nev} error={err}");
    }

    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    println!("stdin: {s}");

    let mut st = [0u64; 3];
    // SAFETY: WASI imports called with pointers to live locals of the right size.
    unsafe {
        println!("fdstat stdin: {}", fd_fdstat_get(0, st.as_mut_ptr() as *mut u8));
        let bytes = st[0].to_le_bytes();
        println!("stdin type: {} rights has read: {}", bytes[0], st[1] & 2 != 0);
        println!("fdstat bad: {}", fd_fdstat_get(99, st.as_mut_ptr() as *mut u8));
        let mut pre = [0u32; 2];
        println!("prestat 3: {} len {}", fd_prestat_get(3, pre.as_mut_ptr()), pre[1]);
        println!("prestat 4: {}", fd_prestat_get(4, pre.as_mut_ptr()));
        let mut name = [0u8; 1];
        println!("dir name: {} {:?}", fd_prestat_dir_name(3, name.as_mut_ptr(), 1), name[0] as char);
        println!("dir name short: {}", fd_prestat_dir_name(3, name.as_mut_ptr(), 0));
        println!("yield: {}", sched_yield());
        println!("raise 0: {} bad: {}", proc_raise(0), proc_raise(99));
        proc_exit(7);
    }
}
