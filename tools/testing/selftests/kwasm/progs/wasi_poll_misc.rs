// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: poll_oneoff with relative and absolute clock
//! subscriptions and with fd_read/fd_write subscriptions on stdin, a file
//! and stdout; sock_accept/sock_recv/sock_send/sock_shutdown, which must
//! fail on a file (NOTSOCK) and on a closed fd (BADF); sched_yield;
//! proc_raise, which is only called (wasmtime: NOTSUP; Linux: raises); and
//! last proc_exit(7) from a nested call: the exit status must be 7, all
//! output written before must be there, and the call must not return.
//! Events are printed sorted by userdata, without nbytes and flags (which
//! runtimes fill in differently).

use std::fmt::Debug;

/// A subscription: the union at offset 16 is (clock id, timeout,
/// precision, flags) for a clock, (fd) for fd_read/fd_write.
#[repr(C)]
#[derive(Clone, Copy)]
struct Subscription {
    userdata: u64,
    tag: u8,
    u: [u64; 4],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

#[repr(C)]
struct Iovec {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn poll_oneoff(
        subs: *const Subscription,
        events: *mut Event,
        n: usize,
        nevents: *mut usize,
    ) -> i32;
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> i32;
    fn sock_accept(fd: u32, flags: u32, newfd: *mut u32) -> i32;
    fn sock_recv(
        fd: u32,
        iovs: *const Iovec,
        n: usize,
        ri_flags: u32,
        nread: *mut usize,
        ro_flags: *mut u16,
    ) -> i32;
    fn sock_send(fd: u32, iovs: *const Iovec, n: usize, si_flags: u32, nwritten: *mut usize)
        -> i32;
    fn sock_shutdown(fd: u32, how: u32) -> i32;
    fn sched_yield() -> i32;
    fn proc_raise(sig: u32) -> i32;
    fn proc_exit(code: u32) -> !;
}

const EVENT_CLOCK: u8 = 0;
const EVENT_FD_READ: u8 = 1;
const EVENT_FD_WRITE: u8 = 2;
const REALTIME: u32 = 0;
const MONOTONIC: u32 = 1;
const ABSTIME: u64 = 1;
const MS: u64 = 1_000_000;
const BAD_FD: u32 = 1000;
const SHUT_RDWR: u32 = 3;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const ERRNO_NOTSOCK: i32 = 57;
const EXIT_CODE: u32 = 7;

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

fn clock_sub(userdata: u64, id: u32, timeout: u64, flags: u64) -> Subscription {
    Subscription {
        userdata,
        tag: EVENT_CLOCK,
        u: [id.into(), timeout, 0, flags],
    }
}

fn fd_sub(userdata: u64, kind: u8, fd: u32) -> Subscription {
    Subscription {
        userdata,
        tag: kind,
        u: [fd.into(), 0, 0, 0],
    }
}

fn now(id: u32) -> u64 {
    let mut t = 0;
    // SAFETY: valid out-pointer.
    let ret = unsafe { clock_time_get(id, 1, &mut t) };
    check_eq(ret, 0, "clock_time_get");
    t
}

/// Polls once; returns (userdata, type, error) of each event, sorted.
fn poll(subs: &[Subscription]) -> Result<Vec<(u64, u8, u16)>, i32> {
    let mut events = vec![Event::default(); subs.len()];
    let mut n = 0;
    // SAFETY: as many events as subscriptions, as the call requires.
    let e = unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len(), &mut n) };
    if e != 0 {
        return Err(e);
    }
    check(
        n <= subs.len(),
        "poll_oneoff returns at most one event per subscription",
    );
    let mut out: Vec<_> = events[..n]
        .iter()
        .map(|e| (e.userdata, e.kind, e.error))
        .collect();
    out.sort();
    Ok(out)
}

fn must_poll(subs: &[Subscription], what: &str) -> Vec<(u64, u8, u16)> {
    poll(subs).unwrap_or_else(|e| fail(&format!("{what}: errno {e}")))
}

fn print_events(what: &str, events: &[(u64, u8, u16)]) {
    for (userdata, kind, error) in events {
        println!("{what}: event userdata {userdata} type {kind} error {error}");
    }
}

fn clocks() {
    let t0 = now(MONOTONIC);
    let ev = must_poll(&[clock_sub(16, MONOTONIC, MS, 0)], "poll_oneoff(clock)");
    check(
        now(MONOTONIC) - t0 >= MS,
        "poll_oneoff waits for a relative timeout",
    );
    check_eq(&ev, &[(16, EVENT_CLOCK, 0)], "events of a relative clock");
    print_events("poll_oneoff(monotonic, 1 ms)", &ev);

    let deadline = now(MONOTONIC) + 2 * MS;
    let ev = must_poll(
        &[clock_sub(17, MONOTONIC, deadline, ABSTIME)],
        "poll_oneoff(abstime)",
    );
    check(
        now(MONOTONIC) >= deadline,
        "poll_oneoff waits for an absolute deadline",
    );
    check_eq(&ev, &[(17, EVENT_CLOCK, 0)], "events of an absolute clock");
    print_events("poll_oneoff(monotonic, now + 2 ms, ABSTIME)", &ev);

    let ev = must_poll(&[clock_sub(18, REALTIME, MS, 0)], "poll_oneoff(realtime)");
    check_eq(&ev, &[(18, EVENT_CLOCK, 0)], "events of a realtime clock");
    print_events("poll_oneoff(realtime, 1 ms)", &ev);
    println!("poll_oneoff: returned after each timeout");
}

/// Regular files and stdio are always ready; the 10 s clock is not due.
/// One poll may report only some of the ready fds (wasmtime often leaves
/// out the file), so poll again for the rest, as an event loop would.
fn fds(file: u32) {
    let mut pending = vec![
        fd_sub(2, EVENT_FD_READ, 0),
        fd_sub(3, EVENT_FD_READ, file),
        fd_sub(4, EVENT_FD_WRITE, file),
    ];
    let mut seen = Vec::new();
    for _ in 0..100 {
        if pending.is_empty() {
            break;
        }
        let mut subs = vec![clock_sub(1, MONOTONIC, 10_000 * MS, 0)];
        subs.extend(&pending);
        let ev = must_poll(&subs, "poll_oneoff(fds)");
        check(!ev.is_empty(), "poll_oneoff returns an event");
        for e in ev {
            check(e.0 != 1, "the 10 s clock is not due");
            pending.retain(|s| s.userdata != e.0);
            seen.push(e);
        }
    }
    seen.sort();
    let want = [
        (2, EVENT_FD_READ, 0),
        (3, EVENT_FD_READ, 0),
        (4, EVENT_FD_WRITE, 0),
    ];
    check_eq(&seen, &want, "events of ready fds");
    print_events(
        "poll_oneoff(clock 10 s, read stdin, read file, write file)",
        &seen,
    );
    let ev = must_poll(&[fd_sub(5, EVENT_FD_WRITE, 1)], "poll_oneoff(write stdout)");
    check_eq(&ev, &[(5, EVENT_FD_WRITE, 0)], "events of stdout");
    print_events("poll_oneoff(write stdout)", &ev);
    let e = poll(&[]).err().unwrap_or(0);
    check_eq(e, ERRNO_INVAL, "poll_oneoff of nothing");
    println!("poll_oneoff of nothing: errno {e} (inval)");
}

/// The errnos of the four sock_* calls on `fd`.
fn sock_errnos(fd: u32) -> [i32; 4] {
    let mut buf = [0u8; 8];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let (mut newfd, mut n, mut roflags) = (0u32, 0usize, 0u16);
    // SAFETY: all pointers are valid.
    unsafe {
        [
            sock_accept(fd, 0, &mut newfd),
            sock_recv(fd, &iov, 1, 0, &mut n, &mut roflags),
            sock_send(fd, &iov, 1, 0, &mut n),
            sock_shutdown(fd, SHUT_RDWR),
        ]
    }
}

fn sockets(file: u32) {
    check_eq(sock_errnos(file), [ERRNO_NOTSOCK; 4], "sock_* on a file");
    println!("sock_accept/recv/send/shutdown on a file: errno {ERRNO_NOTSOCK} (notsock)");
    check_eq(sock_errnos(BAD_FD), [ERRNO_BADF; 4], "sock_* on a bad fd");
    println!("sock_accept/recv/send/shutdown on a bad fd: errno {ERRNO_BADF} (badf)");
}

/// Calls proc_exit `depth` calls deep; nothing after it may run.
#[inline(never)]
fn exit_from(depth: u32) {
    if depth > 0 {
        exit_from(depth - 1);
        fail("proc_exit returned");
    }
    println!("calling proc_exit({EXIT_CODE}) 3 calls deep");
    eprintln!("wasi_poll_misc: stderr before proc_exit");
    // SAFETY: proc_exit takes a plain integer and does not return.
    unsafe { proc_exit(EXIT_CODE) }
}

fn main() {
    clocks();
    std::fs::write("poll.txt", "data\n").unwrap_or_else(|e| fail(&e.to_string()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("poll.txt");
    let file = file.unwrap_or_else(|e| fail(&e.to_string()));
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file) as u32;
    fds(fd);
    sockets(fd);
    // SAFETY: no arguments.
    check_eq(unsafe { sched_yield() }, 0, "sched_yield");
    println!("sched_yield: ok");
    // Signal 0 ("none"): harmless where it is implemented.
    // SAFETY: a plain call.
    unsafe { proc_raise(0) };
    println!("proc_raise(0): called");
    exit_from(3);
}
