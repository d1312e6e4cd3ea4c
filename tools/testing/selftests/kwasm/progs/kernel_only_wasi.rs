// SPDX-License-Identifier: GPL-2.0

//! WASI behaviour that only kwasm has (wasmtime refuses these calls), so it
//! is checked here instead of against wasmtime. argv[1] picks the case;
//! kwasm_wasi_test.c sets up the descriptors each case expects:
//!
//! - cpu-clocks: process and thread CPU-time clocks work and advance.
//! - allocate: fd_allocate extends a file (preopen "." at fd 3).
//! - link-follow: path_link with SYMLINK_FOLLOW links the symlink's target.
//! - raise: proc_raise(USR1) ends the program with SIGUSR1.
//! - socket: fd 3 is a connected stream socket: send "ping", expect
//!   "pong", shut down writing, expect end of stream.
//! - accept: fd 3 is a listening socket: accept, echo one message.
//! - blocked-read: fd_read on stdin (a pipe) that a stop/continue
//!   interrupts is restarted: it returns the data, never INTR.
//! - rights: WASI rights are enforced (wasmtime does not support
//!   fd_fdstat_set_rights): a dropped right makes its calls NOTCAPABLE and
//!   cannot be added back; truncating beneath a directory needs its
//!   PATH_FILESTAT_SET_SIZE; path_open cannot ask for more than the
//!   directory's inheriting rights (preopen "." at fd 3).
//! - proc-read: /proc/self/cmdline and /proc/self/environ (preopen
//!   /proc/self), files whose ->read takes only user buffers, read with
//!   fd_read into 1-byte, 3-byte and 192 KiB buffers, hold the program's own
//!   arguments and environment (less KWASM_DIRS, which kwasm keeps from
//!   the program); the environment is over 192 KiB, so the
//!   reads take more than one call and more than one 64 KiB chunk each.
//!
//! - iovec-limit: fd_write looks at the first 1024 iovecs only (IOV_MAX,
//!   as wasmtime's writev): of 2048, where only entries 1023 and up are
//!   non-empty, it writes entry 1023 alone; 2^20 empty ones write nothing
//!   (preopen "." at fd 3).
//! - poll-rlimit: poll_oneoff with more fd subscriptions than
//!   RLIMIT_NOFILE (the test sets 64) fails with INVAL, as poll(2) does;
//!   64 of them, and clocks besides, work.
//! - poll-restart: a poll_oneoff with a 1.5 s timeout that the test stops
//!   and continues every 150 ms returns after about 1.5 s: a restart keeps
//!   its deadline, as poll(2)'s does.
//!
//! Prints "ok CASE" and exits 0, or "FAIL: ..." and exits 1.

use std::process::exit;

#[repr(C)]
struct Iovec {
    buf: *mut u8,
    len: usize,
}

#[repr(C)]
#[derive(Default)]
struct Fdstat {
    filetype: u8,
    flags: u16,
    base: u64,
    inheriting: u64,
}

#[repr(C)]
#[derive(Default)]
struct Filestat {
    dev: u64,
    ino: u64,
    filetype: u8,
    nlink: u64,
    size: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> i32;
    fn clock_res_get(id: u32, res: *mut u64) -> i32;
    fn fd_read(fd: u32, iovs: *const Iovec, n: usize, nread: *mut usize) -> i32;
    fn fd_write(fd: u32, iovs: *const Iovec, n: usize, nwritten: *mut usize) -> i32;
    fn fd_seek(fd: u32, delta: i64, whence: u32, newoffset: *mut u64) -> i32;
    fn fd_close(fd: u32) -> i32;
    fn fd_renumber(from: u32, to: u32) -> i32;
    fn fd_fdstat_get(fd: u32, stat: *mut Fdstat) -> i32;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32;
    fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
    fn fd_allocate(fd: u32, offset: u64, len: u64) -> i32;
    fn fd_filestat_get(fd: u32, stat: *mut Filestat) -> i32;
    fn path_open(
        dirfd: u32,
        dirflags: u32,
        path: *const u8,
        path_len: usize,
        oflags: u32,
        base: u64,
        inheriting: u64,
        fdflags: u32,
        fd: *mut u32,
    ) -> i32;
    fn path_filestat_get(
        fd: u32,
        flags: u32,
        path: *const u8,
        path_len: usize,
        stat: *mut Filestat,
    ) -> i32;
    fn path_link(
        old_fd: u32,
        old_flags: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> i32;
    fn path_symlink(old: *const u8, old_len: usize, fd: u32, new: *const u8, new_len: usize)
        -> i32;
    fn proc_raise(sig: u32) -> i32;
    fn sock_accept(fd: u32, flags: u32, newfd: *mut u32) -> i32;
    fn sock_recv(
        fd: u32,
        iovs: *const Iovec,
        n: usize,
        flags: u32,
        nread: *mut usize,
        roflags: *mut u16,
    ) -> i32;
    fn sock_send(fd: u32, iovs: *const Iovec, n: usize, flags: u32, nwritten: *mut usize) -> i32;
    fn sock_shutdown(fd: u32, how: u32) -> i32;
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: usize, nevents: *mut usize) -> i32;
}

const PREOPEN: u32 = 3;
const SYMLINK_FOLLOW: u32 = 1;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const OFLAGS_TRUNC: u32 = 8;
const ERRNO_BADF: i32 = 8;
const ERRNO_NOTCAPABLE: i32 = 76;
const RIGHTS_FD_READ: u64 = 1 << 1;
const RIGHTS_FD_SEEK: u64 = 1 << 2;
const RIGHTS_FD_WRITE: u64 = 1 << 6;
const RIGHTS_PATH_OPEN: u64 = 1 << 13;
const RIGHTS_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
const RIGHTS_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
const SIGNAL_USR1: u32 = 10;
const SDFLAGS_WR: u32 = 2;
/// Every rights bit preview1 defines (undefined bits are INVAL).
const ALL_RIGHTS: u64 = (1 << 30) - 1;

fn fail(what: &str) -> ! {
    println!("FAIL: {what}");
    exit(1);
}

fn check(what: &str, ok: bool) {
    if !ok {
        println!("FAIL: {what}");
        exit(1);
    }
}

fn errno_ok(what: &str, e: i32) {
    check(&format!("{what}: errno {e}"), e == 0);
}

fn errno_is(what: &str, e: i32, want: i32) {
    check(&format!("{what}: errno {e}, expected {want}"), e == want);
}

fn cpu_clocks() {
    for id in [2, 3] {
        let (mut res, mut t0, mut t1) = (0, 0, 0);
        // SAFETY: valid out pointers.
        errno_ok("clock_res_get", unsafe { clock_res_get(id, &mut res) });
        check("resolution > 0", res > 0);
        // SAFETY: valid out pointer.
        errno_ok("clock_time_get", unsafe { clock_time_get(id, 1, &mut t0) });
        // The clock may count in ticks (jiffies-based sched_clock under
        // TCG): work until it moves, for up to ~100 rounds of 2M steps.
        let mut x = 1u64;
        for _ in 0..100 {
            for i in 0..2_000_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            // SAFETY: valid out pointer.
            errno_ok("clock_time_get", unsafe { clock_time_get(id, 1, &mut t1) });
            if t1 != t0 {
                break;
            }
        }
        check("work", x != 0);
        check(
            &format!("CPU clock {id} advances: {t0} -> {t1}"),
            t1 > t0 && t0 > 0,
        );
    }
}

fn open(path: &str, oflags: u32) -> u32 {
    open_in(PREOPEN, path, oflags, ALL_RIGHTS, ALL_RIGHTS)
        .unwrap_or_else(|e| fail(&format!("path_open {path}: errno {e}")))
}

/// path_open beneath `dir`: the new fd, or the errno.
fn open_in(dir: u32, path: &str, oflags: u32, base: u64, inheriting: u64) -> Result<u32, i32> {
    let mut fd = 0;
    // SAFETY: `path` is valid for its length; `fd` is a valid out pointer.
    let e = unsafe {
        path_open(
            dir,
            0,
            path.as_ptr(),
            path.len(),
            oflags,
            base,
            inheriting,
            0,
            &mut fd,
        )
    };
    if e == 0 {
        Ok(fd)
    } else {
        Err(e)
    }
}

fn allocate() {
    let fd = open("allocated", OFLAGS_CREAT);
    // SAFETY: no pointers.
    errno_ok("fd_allocate", unsafe { fd_allocate(fd, 0, 12345) });
    let mut st = Filestat::default();
    // SAFETY: valid out pointer.
    errno_ok("fd_filestat_get", unsafe { fd_filestat_get(fd, &mut st) });
    check(&format!("size 12345, got {}", st.size), st.size == 12345);
}

fn stat(path: &str, flags: u32) -> Filestat {
    let mut st = Filestat::default();
    // SAFETY: `path` is valid for its length; valid out pointer.
    let e = unsafe { path_filestat_get(PREOPEN, flags, path.as_ptr(), path.len(), &mut st) };
    errno_ok(&format!("path_filestat_get {path}"), e);
    st
}

fn link_follow() {
    open("target", OFLAGS_CREAT);
    let (t, l) = ("target", "link");
    // SAFETY: both strings are valid for their lengths.
    errno_ok("path_symlink", unsafe {
        path_symlink(t.as_ptr(), t.len(), PREOPEN, l.as_ptr(), l.len())
    });
    let h = "hard";
    // SAFETY: all strings are valid for their lengths.
    errno_ok("path_link follow", unsafe {
        path_link(
            PREOPEN,
            SYMLINK_FOLLOW,
            l.as_ptr(),
            l.len(),
            PREOPEN,
            h.as_ptr(),
            h.len(),
        )
    });
    let (target, hard) = (stat("target", 0), stat("hard", 0));
    check(
        "hard link is the target",
        target.ino == hard.ino && hard.nlink == 2,
    );
    check("hard link is a regular file", hard.filetype == 4);
}

fn raise() {
    // SAFETY: no pointers.
    errno_ok("proc_raise", unsafe { proc_raise(SIGNAL_USR1) });
    // The signal is fatal: the next safepoint (this loop) ends the program.
    loop {
        std::hint::black_box(0);
    }
}

fn send(fd: u32, data: &[u8]) {
    let iov = Iovec {
        buf: data.as_ptr().cast_mut(),
        len: data.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec over `data`, only read; valid out pointer.
    errno_ok("sock_send", unsafe { sock_send(fd, &iov, 1, 0, &mut n) });
    check("sent everything", n == data.len());
}

fn recv(fd: u32) -> Vec<u8> {
    let mut buf = vec![0u8; 64];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let (mut n, mut flags) = (0, 0);
    // SAFETY: one iovec over `buf`; valid out pointers.
    errno_ok("sock_recv", unsafe {
        sock_recv(fd, &iov, 1, 0, &mut n, &mut flags)
    });
    buf.truncate(n);
    buf
}

fn socket() {
    send(3, b"ping");
    check("received pong", recv(3) == b"pong");
    // SAFETY: no pointers.
    errno_ok("sock_shutdown", unsafe { sock_shutdown(3, SDFLAGS_WR) });
    check("end of stream", recv(3).is_empty());
}

fn accept() {
    let mut fd = 0;
    // SAFETY: valid out pointer.
    errno_ok("sock_accept", unsafe { sock_accept(3, 0, &mut fd) });
    let msg = recv(fd);
    send(fd, &msg);
}

fn blocked_read() {
    let mut buf = [0u8; 16];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let mut n = 0;
    // SAFETY: one iovec over `buf`; valid out pointer.
    let e = unsafe { fd_read(0, &iov, 1, &mut n) };
    errno_ok("fd_read across stop/continue", e);
    check("read the data", &buf[..n] == b"data");
}

/// (base, inheriting) rights of `fd`.
fn rights_of(fd: u32) -> (u64, u64) {
    let mut st = Fdstat::default();
    // SAFETY: valid out pointer.
    errno_ok("fd_fdstat_get", unsafe { fd_fdstat_get(fd, &mut st) });
    (st.base, st.inheriting)
}

fn set_rights(fd: u32, base: u64, inheriting: u64) -> i32 {
    // SAFETY: no pointers.
    unsafe { fd_fdstat_set_rights(fd, base, inheriting) }
}

fn close(fd: u32) {
    // SAFETY: no pointers.
    errno_ok("fd_close", unsafe { fd_close(fd) });
}

fn rights() {
    let mut buf = *b"data";
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let (mut n, mut pos) = (0, 0);
    let read = |fd: u32, n: &mut usize| {
        // SAFETY: one iovec over `buf`; valid out pointer.
        unsafe { fd_read(fd, &iov, 1, n) }
    };
    let fd = open("rights.txt", OFLAGS_CREAT);
    // SAFETY: one iovec over `buf`, which fd_write only reads; valid out pointer.
    errno_ok("fd_write", unsafe { fd_write(fd, &iov, 1, &mut n) });
    let (base, inh) = rights_of(fd);
    check("a read-write file has FD_READ", base & RIGHTS_FD_READ != 0);

    // Dropped rights: their calls are refused, fdstat says so, they stay
    // dropped, and they move with the fd.
    let drop = RIGHTS_FD_READ | RIGHTS_FD_FILESTAT_SET_SIZE;
    errno_ok("drop FD_READ", set_rights(fd, base & !drop, inh));
    check(
        "fdstat without FD_READ",
        rights_of(fd) == (base & !drop, inh),
    );
    // SAFETY: valid out pointer.
    errno_ok("fd_seek", unsafe { fd_seek(fd, 0, 0, &mut pos) });
    errno_is(
        "fd_read without FD_READ",
        read(fd, &mut n),
        ERRNO_NOTCAPABLE,
    );
    // SAFETY: no pointers.
    let e = unsafe { fd_filestat_set_size(fd, 0) };
    errno_is(
        "fd_filestat_set_size without its right",
        e,
        ERRNO_NOTCAPABLE,
    );
    let e = set_rights(fd, base, inh);
    errno_is("adding FD_READ back", e, ERRNO_NOTCAPABLE);
    // SAFETY: as above.
    let e = unsafe { fd_write(fd, &iov, 1, &mut n) };
    errno_ok("fd_write keeps its right", e);
    // SAFETY: no pointers.
    let e = unsafe { fd_renumber(fd, 100) };
    errno_is("fd_renumber onto a closed fd", e, ERRNO_BADF);
    let other = open("other.txt", OFLAGS_CREAT);
    // SAFETY: no pointers.
    errno_ok("fd_renumber", unsafe { fd_renumber(fd, other) });
    let e = read(other, &mut n);
    errno_is("fd_read on the renumbered fd", e, ERRNO_NOTCAPABLE);
    close(other);

    // Truncating beneath a directory needs its PATH_FILESTAT_SET_SIZE.
    let (dbase, dinh) = rights_of(PREOPEN);
    let d = open_in(PREOPEN, ".", OFLAGS_DIRECTORY, dbase, dinh)
        .unwrap_or_else(|e| fail(&format!("path_open(.): errno {e}")));
    let file = RIGHTS_FD_READ | RIGHTS_FD_WRITE | RIGHTS_FD_SEEK;
    let f = open_in(d, "rights.txt", OFLAGS_TRUNC, file, 0)
        .unwrap_or_else(|e| fail(&format!("path_open(TRUNC): errno {e}")));
    close(f);
    let dbase2 = dbase & !RIGHTS_PATH_FILESTAT_SET_SIZE;
    errno_ok("drop PATH_FILESTAT_SET_SIZE", set_rights(d, dbase2, dinh));
    let e = open_in(d, "rights.txt", OFLAGS_TRUNC, file, 0).err();
    errno_is(
        "path_open(TRUNC) without the right",
        e.unwrap_or(0),
        ERRNO_NOTCAPABLE,
    );

    // path_open asks at most for the directory's inheriting rights.
    let dinh2 = dinh & !RIGHTS_FD_WRITE;
    errno_ok("drop inheriting FD_WRITE", set_rights(d, dbase2, dinh2));
    let e = open_in(d, "rights.txt", 0, file, 0).err();
    errno_is(
        "path_open beyond inheriting",
        e.unwrap_or(0),
        ERRNO_NOTCAPABLE,
    );
    let f = open_in(d, "other.txt", 0, RIGHTS_FD_READ, 0)
        .unwrap_or_else(|e| fail(&format!("path_open(read): errno {e}")));
    check("only FD_READ", rights_of(f) == (RIGHTS_FD_READ, 0));
    errno_ok("fd_read", read(f, &mut n));
    close(f);
    let e = set_rights(d, dbase, dinh);
    errno_is("adding directory rights back", e, ERRNO_NOTCAPABLE);

    // Without PATH_OPEN, nothing opens.
    errno_ok(
        "drop PATH_OPEN",
        set_rights(d, dbase2 & !RIGHTS_PATH_OPEN, 0),
    );
    let e = open_in(d, "other.txt", 0, 0, 0).err();
    errno_is(
        "path_open without PATH_OPEN",
        e.unwrap_or(0),
        ERRNO_NOTCAPABLE,
    );
    close(d);
}

/// The whole of `path`, read with `fd_read` into three buffers at a time.
fn read_vectored_all(path: &str) -> Vec<u8> {
    use std::io::{IoSliceMut, Read};

    let mut f = std::fs::File::open(path).unwrap_or_else(|e| {
        check(&format!("open {path}: {e}"), false);
        unreachable!()
    });
    let mut out = Vec::new();
    loop {
        let (mut a, mut b, mut c) = ([0u8; 1], [0u8; 3], vec![0u8; 192 << 10]);
        let mut bufs = [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ];
        let n = f.read_vectored(&mut bufs).unwrap_or_else(|e| {
            check(&format!("read {path}: {e}"), false);
            unreachable!()
        });
        if n == 0 {
            return out;
        }
        out.extend(a.iter().chain(&b).chain(&c).take(n));
    }
}

fn proc_read() {
    let nul_joined = |v: Vec<String>| -> Vec<u8> {
        v.into_iter()
            .flat_map(|s| s.into_bytes().into_iter().chain([0]))
            .collect()
    };
    let args = nul_joined(std::env::args().collect());
    let cmdline = read_vectored_all("/proc/self/cmdline");
    check(
        &format!("/proc/self/cmdline {cmdline:?}, expected {args:?}"),
        cmdline == args,
    );
    let env = nul_joined(std::env::vars().map(|(k, v)| format!("{k}={v}")).collect());
    // The exec's environment, less KWASM_DIRS (kwasm's, not the program's).
    let environ: Vec<u8> = read_vectored_all("/proc/self/environ")
        .split_inclusive(|&b| b == 0)
        .filter(|v| !v.starts_with(b"KWASM_DIRS="))
        .flatten()
        .copied()
        .collect();
    check(
        &format!(
            "/proc/self/environ: {} bytes, expected the {} of the environment",
            environ.len(),
            env.len()
        ),
        environ == env,
    );
    check(
        &format!("environment of {} bytes, expected over 192 KiB", env.len()),
        env.len() > 192 << 10,
    );
}

fn iovec_limit() {
    let fd = open("iov.txt", OFLAGS_CREAT | OFLAGS_TRUNC);
    let (a, b) = (*b"A", *b"B");
    let iov = |i: usize| Iovec {
        buf: if i == 1023 { a.as_ptr() } else { b.as_ptr() }.cast_mut(),
        len: usize::from(i >= 1023),
    };
    let list: Vec<Iovec> = (0..2048).map(iov).collect();
    let mut n = usize::MAX;
    // SAFETY: `list` holds 2048 iovecs over live bytes; valid out pointer.
    errno_ok("fd_write of 2048 iovecs", unsafe {
        fd_write(fd, list.as_ptr(), list.len(), &mut n)
    });
    check(&format!("wrote {n} bytes, expected 1"), n == 1);
    let empty: Vec<Iovec> = (0..1 << 20)
        .map(|_| Iovec {
            buf: a.as_ptr().cast_mut(),
            len: 0,
        })
        .collect();
    // SAFETY: as above.
    errno_ok("fd_write of 2^20 empty iovecs", unsafe {
        fd_write(fd, empty.as_ptr(), empty.len(), &mut n)
    });
    check(&format!("wrote {n} bytes, expected 0"), n == 0);
    close(fd);
    let got = std::fs::read("iov.txt").unwrap_or_default();
    check(&format!("file holds {got:?}, expected \"A\""), got == b"A");
}

/// A poll_oneoff subscription (48 bytes): a clock (`fd` None: relative
/// `timeout` ns on the monotonic clock) or FD_WRITE on `fd`.
fn subscription(userdata: u64, fd: Option<u32>, timeout: u64) -> [u8; 48] {
    let mut s = [0u8; 48];
    s[..8].copy_from_slice(&userdata.to_le_bytes());
    match fd {
        Some(fd) => {
            s[8] = 2; // FD_WRITE
            s[16..20].copy_from_slice(&fd.to_le_bytes());
        }
        None => {
            s[8] = 0; // CLOCK
            s[16..20].copy_from_slice(&1u32.to_le_bytes()); // MONOTONIC
            s[24..32].copy_from_slice(&timeout.to_le_bytes());
        }
    }
    s
}

/// poll_oneoff of `subs`: its errno and the number of events.
fn poll(subs: &[[u8; 48]]) -> (i32, usize) {
    let mut events = vec![0u8; 32 * subs.len()];
    let mut n = usize::MAX;
    // SAFETY: `subs` and `events` hold `subs.len()` subscriptions and events.
    let e = unsafe {
        poll_oneoff(
            subs.as_ptr().cast(),
            events.as_mut_ptr(),
            subs.len(),
            &mut n,
        )
    };
    (e, n)
}

fn poll_rlimit() {
    const ERRNO_INVAL: i32 = 28;
    let stdout = |n: u64| (0..n).map(|i| subscription(i, Some(1), 0));
    let (e, _) = poll(&stdout(65).collect::<Vec<_>>());
    errno_is(
        "poll_oneoff of 65 fds under RLIMIT_NOFILE 64",
        e,
        ERRNO_INVAL,
    );
    let (e, n) = poll(&stdout(64).collect::<Vec<_>>());
    errno_ok("poll_oneoff of 64 fds", e);
    check(&format!("{n} events for 64 writable fds"), n == 64);
    let clocks = (100..110).map(|i| subscription(i, None, 1 << 40));
    let (e, n) = poll(&stdout(64).chain(clocks).collect::<Vec<_>>());
    errno_ok("poll_oneoff of 64 fds and 10 clocks", e);
    check(
        &format!("{n} events for 64 writable fds and 10 clocks"),
        n == 64,
    );
}

fn poll_restart() {
    let start = std::time::Instant::now();
    let (e, n) = poll(&[subscription(7, None, 1_500_000_000)]);
    errno_ok("poll_oneoff of a 1.5 s clock", e);
    check(&format!("{n} events for one clock"), n == 1);
    let t = start.elapsed();
    check(&format!("returned after {t:?}"), t.as_millis() >= 1500);
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "cpu-clocks" => cpu_clocks(),
        "allocate" => allocate(),
        "link-follow" => link_follow(),
        "raise" => raise(),
        "socket" => socket(),
        "accept" => accept(),
        "blocked-read" => blocked_read(),
        "rights" => rights(),
        "proc-read" => proc_read(),
        "iovec-limit" => iovec_limit(),
        "poll-rlimit" => poll_rlimit(),
        "poll-restart" => poll_restart(),
        _ => check(&format!("unknown case {case:?}"), false),
    }
    println!("ok {case}");
}
