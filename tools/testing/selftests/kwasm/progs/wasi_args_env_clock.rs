// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: args_sizes_get/args_get, environ_sizes_get/environ_get,
//! clock_res_get/clock_time_get on all four clocks, random_get, sched_yield.
//! Proves that the runtime hands over exactly the argv and environment it
//! was given, in the documented buffer layout, and that the clocks and the
//! random source behave. Expects argv [NAME, "alpha", "beta gamma"] and the
//! environment KWASM_TEST=1, GREETING=hello world. argv[0], clock values and
//! the CPU-time clocks (wasmtime refuses them) are checked, never printed.

use std::fmt::Debug;

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn args_sizes_get(argc: *mut u32, buf_size: *mut u32) -> i32;
    fn args_get(argv: *mut *const u8, buf: *mut u8) -> i32;
    fn environ_sizes_get(count: *mut u32, buf_size: *mut u32) -> i32;
    fn environ_get(environ: *mut *const u8, buf: *mut u8) -> i32;
    fn clock_res_get(id: u32, res: *mut u64) -> i32;
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> i32;
    fn random_get(buf: *mut u8, len: usize) -> i32;
    fn sched_yield() -> i32;
}

const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;
const PROCESS_CPUTIME: u32 = 2;
const THREAD_CPUTIME: u32 = 3;
const SECOND: u64 = 1_000_000_000;

fn fail(what: &str) -> ! {
    println!("FAIL: {what}");
    std::process::exit(1);
}

fn check(ok: bool, what: &str) {
    if !ok {
        fail(what);
    }
}

fn check_eq<A: PartialEq<B> + Debug, B: Debug>(got: A, want: B, what: &str) {
    if got != want {
        fail(&format!("{what}: expected {want:?} / got {got:?}"));
    }
}

/// Reads a string list the way args_get/environ_get hand it over: the sizes
/// call says how many strings and how many bytes, the get call fills an
/// array of pointers into one buffer of NUL-terminated strings.
fn string_list(
    what: &str,
    sizes: unsafe extern "C" fn(*mut u32, *mut u32) -> i32,
    get: unsafe extern "C" fn(*mut *const u8, *mut u8) -> i32,
) -> (Vec<String>, usize) {
    let (mut count, mut size) = (0u32, 0u32);
    // SAFETY: both out-pointers are valid u32s.
    check_eq(unsafe { sizes(&mut count, &mut size) }, 0, what);
    let mut ptrs = vec![std::ptr::null::<u8>(); count as usize];
    let mut buf = vec![0xffu8; size as usize];
    // SAFETY: the arrays have the sizes the runtime asked for.
    check_eq(unsafe { get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) }, 0, what);

    let base = buf.as_ptr() as usize;
    let mut out = Vec::new();
    for p in ptrs {
        // Every pointer points into the buffer at a NUL-terminated string.
        let off = (p as usize).wrapping_sub(base);
        check(
            off < buf.len(),
            &format!("{what}: pointer outside the buffer"),
        );
        let len = buf[off..].iter().position(|&b| b == 0);
        let len = len.unwrap_or_else(|| fail(&format!("{what}: no NUL")));
        out.push(String::from_utf8_lossy(&buf[off..off + len]).into_owned());
    }
    (out, size as usize)
}

fn args_and_environ() {
    let (args, size) = string_list("args", args_sizes_get, args_get);
    check_eq(args.len(), 3, "argc");
    // argv[0] is the program's name, which differs between runtimes.
    let rest = &args[1..];
    check_eq(rest, &["alpha", "beta gamma"][..], "argv[1..]");
    println!("argc: {}", args.len());
    for (i, a) in rest.iter().enumerate() {
        println!("argv[{}]: {a:?}", i + 1);
    }
    // The buffer holds exactly the strings and their NULs.
    let others = size - (args[0].len() + 1);
    check_eq(others, "alpha\0beta gamma\0".len(), "argv buffer size");
    println!("argv buffer size without argv[0]: {others}");
    let std_args: Vec<String> = std::env::args().collect();
    check_eq(&std_args, &args, "std::env::args()");

    let (env, size) = string_list("environ", environ_sizes_get, environ_get);
    check_eq(
        &env[..],
        &["KWASM_TEST=1", "GREETING=hello world"][..],
        "environ",
    );
    for e in &env {
        println!("environ: {e:?}");
    }
    check_eq(size, 34, "environ buffer size");
    println!("environ buffer size: {size}");
    check_eq(
        std::env::var("GREETING").as_deref(),
        Ok("hello world"),
        "std::env::var",
    );
    println!("std::env::var(GREETING): hello world");
}

fn clock_time(id: u32) -> u64 {
    let mut t = 0u64;
    // SAFETY: valid out-pointer.
    let ret = unsafe { clock_time_get(id, 1, &mut t) };
    check_eq(ret, 0, "clock_time_get");
    t
}

fn clocks() {
    for (id, name) in [(REALTIME, "realtime"), (MONOTONIC, "monotonic")] {
        let mut res = 0u64;
        // SAFETY: valid out-pointer.
        check_eq(unsafe { clock_res_get(id, &mut res) }, 0, "clock_res_get");
        check(res > 0 && res <= SECOND, "clock resolution in (0, 1s]");
        println!("clock_res_get({name}): ok, in (0, 1s]");
    }

    // 2020-01-01T00:00:00Z: the realtime clock is set and counts in ns.
    let now = clock_time(REALTIME);
    check(now > 1_577_836_800 * SECOND, "realtime after 2020");
    println!("clock_time_get(realtime): after 2020");

    let t1 = clock_time(MONOTONIC);
    // SAFETY: no arguments.
    check_eq(unsafe { sched_yield() }, 0, "sched_yield");
    let t2 = clock_time(MONOTONIC);
    check(t2 >= t1, "monotonic clock does not go back");
    println!("sched_yield: ok");
    println!("clock_time_get(monotonic): does not go back");

    // Linux has CPU-time clocks, wasmtime says BADF: only call them, and
    // check the values where they succeed.
    for id in [PROCESS_CPUTIME, THREAD_CPUTIME] {
        let (mut res, mut t) = (0u64, 0u64);
        // SAFETY: valid out-pointers.
        if unsafe { clock_res_get(id, &mut res) } == 0 {
            check(res > 0 && res <= SECOND, "CPU clock resolution");
        }
        // SAFETY: valid out-pointer.
        if unsafe { clock_time_get(id, 1, &mut t) } == 0 {
            check(t > 0, "CPU time used so far");
        }
    }
    println!("clock_*_get(process/thread cputime): called");
}

fn random() {
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    // SAFETY: the buffers are 32 bytes long.
    let ret = unsafe { random_get(a.as_mut_ptr(), a.len()) };
    check_eq(ret, 0, "random_get");
    // SAFETY: as above.
    let ret = unsafe { random_get(b.as_mut_ptr(), b.len()) };
    check_eq(ret, 0, "random_get");
    // Each fails with probability 2^-256.
    check(a != [0; 32], "random bytes are not all zero");
    check(a != b, "two random_get calls differ");
    // SAFETY: an empty buffer.
    let ret = unsafe { random_get(a.as_mut_ptr(), 0) };
    check_eq(ret, 0, "random_get of 0 bytes");
    println!("random_get: 2 x 32 bytes, not zero, different; 0 bytes ok");
}

fn main() {
    args_and_environ();
    clocks();
    random();
    eprintln!("wasi_args_env_clock: stderr works");
    println!("wasi_args_env_clock: done");
}
