// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: the state of file descriptors. fd_fdstat_get,
//! fd_fdstat_set_flags and path_open with APPEND, fd_fdstat_set_rights,
//! read-only and write-only files, fd_renumber (onto an open fd only),
//! fd_close, BADF from calls on closed fds, and timestamps through
//! fd_filestat_set_times and path_filestat_set_times. Rights bits and
//! timestamp values differ between runtimes: rights are never printed,
//! timestamps only compared.

use std::fmt::Debug;

/// An iovec; fd_write only reads through `buf`.
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
    rights_base: u64,
    rights_inheriting: u64,
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
    fn fd_read(fd: u32, iovs: *const Iovec, n: usize, nread: *mut usize) -> i32;
    fn fd_write(fd: u32, iovs: *const Iovec, n: usize, nwritten: *mut usize) -> i32;
    fn fd_pread(fd: u32, iovs: *const Iovec, n: usize, off: u64, nread: *mut usize) -> i32;
    fn fd_seek(fd: u32, delta: i64, whence: u32, newoffset: *mut u64) -> i32;
    fn fd_tell(fd: u32, offset: *mut u64) -> i32;
    fn fd_sync(fd: u32) -> i32;
    fn fd_close(fd: u32) -> i32;
    fn fd_renumber(from: u32, to: u32) -> i32;
    fn fd_fdstat_get(fd: u32, stat: *mut Fdstat) -> i32;
    fn fd_fdstat_set_flags(fd: u32, flags: u32) -> i32;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> i32;
    fn fd_filestat_get(fd: u32, stat: *mut Filestat) -> i32;
    fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, fst_flags: u32) -> i32;
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
    fn path_filestat_set_times(
        fd: u32,
        flags: u32,
        path: *const u8,
        path_len: usize,
        atim: u64,
        mtim: u64,
        fst_flags: u32,
    ) -> i32;
    fn path_symlink(
        target: *const u8,
        target_len: usize,
        fd: u32,
        path: *const u8,
        path_len: usize,
    ) -> i32;
}

const PREOPEN: u32 = 3;
const BAD_FD: u32 = 1000;
const ERRNO_BADF: i32 = 8;
const ERRNO_INVAL: i32 = 28;
const FILETYPE_REGULAR: u8 = 4;
const FDFLAGS_APPEND: u16 = 1;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_EXCL: u32 = 4;
const SEEK_SET: u32 = 0;
const FOLLOW: u32 = 1;
const NOFOLLOW: u32 = 0;
const ATIM: u32 = 1;
const ATIM_NOW: u32 = 2;
const MTIM: u32 = 4;
const MTIM_NOW: u32 = 8;
/// Whole seconds, so that any filesystem's timestamp granularity keeps them.
const T1: u64 = 1_600_000_000_000_000_000;
const T2: u64 = 1_500_000_000_000_000_000;
const T3: u64 = 1_400_000_000_000_000_000;
// Read-write file rights (see wasi_fd_io.rs); read-only lacks datasync,
// write, allocate and filestat_set_size, write-only lacks read.
const RIGHTS_RW: u64 = 0x1ff | 0x7 << 21 | 1 << 27;
const RIGHTS_RO: u64 = RIGHTS_RW & !(1 << 0 | 1 << 6 | 1 << 8 | 1 << 22);
const RIGHTS_WO: u64 = RIGHTS_RW & !(1 << 1);

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

fn ok(errno: i32, what: &str) {
    check_eq(errno, 0, what);
}

/// Checks that a call failed with `want` and prints it.
fn expect_errno(got: i32, want: i32, name: &str, what: &str) {
    check_eq(got, want, what);
    println!("{what}: errno {want} ({name})");
}

fn open(path: &str, oflags: u32, rights: u64, fdflags: u16) -> u32 {
    let mut fd = 0;
    // SAFETY: the path and the out-pointer are valid.
    let e = unsafe {
        path_open(
            PREOPEN,
            0,
            path.as_ptr(),
            path.len(),
            oflags,
            rights,
            rights,
            fdflags.into(),
            &mut fd,
        )
    };
    ok(e, &format!("path_open({path})"));
    fd
}

/// One fd_read of up to 64 bytes; returns the bytes and the errno.
fn read(fd: u32) -> (Vec<u8>, i32) {
    let mut buf = vec![0u8; 64];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let mut n = 0;
    // SAFETY: the iovec points into `buf`.
    let e = unsafe { fd_read(fd, &iov, 1, &mut n) };
    buf.truncate(n.min(64));
    (buf, e)
}

/// Writes `data` with one fd_write; returns the errno.
fn write(fd: u32, data: &str) -> i32 {
    let iov = Iovec {
        buf: data.as_ptr().cast_mut(),
        len: data.len(),
    };
    let mut n = 0;
    // SAFETY: the iovec points into `data`, which fd_write only reads.
    let e = unsafe { fd_write(fd, &iov, 1, &mut n) };
    check(
        e != 0 || n == data.len(),
        "fd_write writes a small buffer whole",
    );
    e
}

/// The whole file, read with fd_pread (file offset unchanged).
fn contents(fd: u32) -> String {
    let mut buf = vec![0u8; 64];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let mut n = 0;
    // SAFETY: the iovec points into `buf`.
    ok(unsafe { fd_pread(fd, &iov, 1, 0, &mut n) }, "fd_pread");
    String::from_utf8_lossy(&buf[..n.min(64)]).into_owned()
}

fn seek0(fd: u32) {
    let mut pos = 0;
    // SAFETY: valid out-pointer.
    ok(unsafe { fd_seek(fd, 0, SEEK_SET, &mut pos) }, "fd_seek");
}

fn fdstat(fd: u32) -> Fdstat {
    let mut st = Fdstat::default();
    // SAFETY: valid out-pointer.
    ok(unsafe { fd_fdstat_get(fd, &mut st) }, "fd_fdstat_get");
    st
}

fn path_stat(path: &str, flags: u32) -> Filestat {
    let mut st = Filestat::default();
    // SAFETY: the path and the out-pointer are valid.
    let ret = unsafe { path_filestat_get(PREOPEN, flags, path.as_ptr(), path.len(), &mut st) };
    ok(ret, "path_filestat_get");
    st
}

/// APPEND through fd_fdstat_set_flags and through path_open.
fn flags(fd: u32) {
    let st = fdstat(fd);
    check_eq(
        (st.filetype, st.flags),
        (FILETYPE_REGULAR, 0),
        "fd_fdstat_get",
    );
    println!(
        "fd_fdstat_get: filetype {}, flags {}",
        st.filetype, st.flags
    );
    // SAFETY: a plain call.
    let ret = unsafe { fd_fdstat_set_flags(fd, FDFLAGS_APPEND.into()) };
    ok(ret, "set APPEND");
    check_eq(
        fdstat(fd).flags,
        FDFLAGS_APPEND,
        "flags after setting APPEND",
    );
    seek0(fd);
    ok(write(fd, "!"), "fd_write");
    let mut pos = 0;
    // SAFETY: valid out-pointer.
    ok(unsafe { fd_tell(fd, &mut pos) }, "fd_tell");
    check_eq(pos, 6, "offset after an APPEND write");
    check_eq(contents(fd), "hello!", "contents after an APPEND write");
    // SAFETY: a plain call.
    ok(unsafe { fd_fdstat_set_flags(fd, 0) }, "clear APPEND");
    check_eq(fdstat(fd).flags, 0, "flags after clearing APPEND");
    seek0(fd);
    ok(write(fd, "J"), "fd_write");
    check_eq(contents(fd), "Jello!", "contents after a write at 0");
    println!("fd_fdstat_set_flags(APPEND): writes at the end; cleared: writes at 0");

    // wasmtime says NOTSUP, kwasm keeps the (same) rights: only call it
    // (kernel_only_wasi.rs checks that dropped rights are enforced).
    // SAFETY: a plain call.
    unsafe { fd_fdstat_set_rights(fd, st.rights_base, st.rights_inheriting) };
    println!("fd_fdstat_set_rights: called");

    let app = open("state.txt", 0, RIGHTS_RW, FDFLAGS_APPEND);
    check_eq(fdstat(app).flags, FDFLAGS_APPEND, "flags of an APPEND open");
    ok(write(app, "?"), "fd_write");
    check_eq(contents(fd), "Jello!?", "contents after an APPEND write");
    // SAFETY: a plain call.
    ok(unsafe { fd_close(app) }, "fd_close");
    println!("path_open(fdflags APPEND): flags {FDFLAGS_APPEND}, writes at the end");
}

/// Read-only and write-only files, fd_renumber, fd_close, bad descriptors.
fn descriptors(fd: u32) {
    let ro = open("state.txt", 0, RIGHTS_RO, 0);
    expect_errno(
        write(ro, "x"),
        ERRNO_BADF,
        "badf",
        "fd_write on a read-only file",
    );
    let wo = open("state.txt", 0, RIGHTS_WO, 0);
    expect_errno(
        read(wo).1,
        ERRNO_BADF,
        "badf",
        "fd_read on a write-only file",
    );

    // Onto an open fd: WASI refuses (BADF) a `to` that is not open.
    // SAFETY: plain calls.
    ok(unsafe { fd_renumber(ro, fd) }, "fd_renumber");
    check_eq(read(ro).1, ERRNO_BADF, "fd_read on the renumbered-from fd");
    check_eq(
        read(fd),
        (b"Jello!?".to_vec(), 0),
        "fd_read after fd_renumber",
    );
    check_eq(
        write(fd, "x"),
        ERRNO_BADF,
        "fd_write on the renumbered (read-only) fd",
    );
    println!("fd_renumber: old fd gone (badf), new fd reads \"Jello!?\" and is read-only");
    // SAFETY: a plain call.
    let e = unsafe { fd_renumber(fd, BAD_FD) };
    expect_errno(e, ERRNO_BADF, "badf", "fd_renumber onto a closed fd");
    check_eq(
        read(fd),
        (Vec::new(), 0),
        "fd_read after a failed fd_renumber",
    );

    // SAFETY: plain calls.
    unsafe {
        ok(fd_close(fd), "fd_close");
        expect_errno(fd_close(fd), ERRNO_BADF, "badf", "fd_close again");
        expect_errno(read(fd).1, ERRNO_BADF, "badf", "fd_read after fd_close");
        ok(fd_close(wo), "fd_close");
    }

    let (mut st, mut pos) = (Filestat::default(), 0);
    // SAFETY: valid out-pointers; the fd is not open.
    let errnos = unsafe {
        [
            write(BAD_FD, "x"),
            read(BAD_FD).1,
            fd_seek(BAD_FD, 0, SEEK_SET, &mut pos),
            fd_sync(BAD_FD),
            fd_filestat_get(BAD_FD, &mut st),
            fd_filestat_set_size(BAD_FD, 0),
            fd_fdstat_set_flags(BAD_FD, 0),
            fd_renumber(BAD_FD, 0),
        ]
    };
    check_eq(errnos, [ERRNO_BADF; 8], "calls on a bad fd");
    println!("fd_write/read/seek/sync/filestat_get/set_size/set_flags/renumber on a bad fd: badf");
}

fn times() {
    let fd = open("state.txt", 0, RIGHTS_RW, 0);
    let mut st = Filestat::default();
    // SAFETY: valid out-pointers.
    unsafe {
        ok(
            fd_filestat_set_times(fd, T1, T2, ATIM | MTIM),
            "fd_filestat_set_times",
        );
        ok(fd_filestat_get(fd, &mut st), "fd_filestat_get");
        check_eq(
            (st.atim, st.mtim),
            (T1, T2),
            "times after fd_filestat_set_times",
        );
        ok(
            fd_filestat_set_times(fd, 0, 0, MTIM_NOW),
            "fd_filestat_set_times(MTIM_NOW)",
        );
        ok(fd_filestat_get(fd, &mut st), "fd_filestat_get");
        check(
            st.mtim > T1 && st.atim == T1,
            "MTIM_NOW sets mtim only, to now",
        );
        println!("fd_filestat_set_times: atim/mtim as given; MTIM_NOW: mtim now, atim kept");
        let e = fd_filestat_set_times(fd, 0, 0, ATIM | ATIM_NOW);
        expect_errno(
            e,
            ERRNO_INVAL,
            "inval",
            "fd_filestat_set_times(ATIM|ATIM_NOW)",
        );
        ok(fd_close(fd), "fd_close");
    }

    let set = |path: &str, flags: u32, t: u64| {
        let (p, len) = (path.as_ptr(), path.len());
        // SAFETY: the path is valid.
        unsafe { path_filestat_set_times(PREOPEN, flags, p, len, t, t, ATIM | MTIM) }
    };
    ok(set("state.txt", NOFOLLOW, T3), "path_filestat_set_times");
    check_eq(
        path_stat("state.txt", NOFOLLOW).mtim,
        T3,
        "mtim after path_filestat_set_times",
    );
    let (target, link) = ("state.txt", "link");
    // SAFETY: the paths are valid.
    let ret = unsafe {
        path_symlink(
            target.as_ptr(),
            target.len(),
            PREOPEN,
            link.as_ptr(),
            link.len(),
        )
    };
    ok(ret, "path_symlink");
    ok(
        set("link", NOFOLLOW, T1),
        "path_filestat_set_times of a symlink",
    );
    check_eq(path_stat("link", NOFOLLOW).mtim, T1, "mtim of the symlink");
    check_eq(path_stat("link", FOLLOW).mtim, T3, "mtim of its target");
    ok(
        set("link", FOLLOW, T2),
        "path_filestat_set_times through a symlink",
    );
    check_eq(
        path_stat("state.txt", NOFOLLOW).mtim,
        T2,
        "mtim of the target",
    );
    println!("path_filestat_set_times: sets a file, a symlink itself, or its target");
}

fn main() {
    let fd = open("state.txt", OFLAGS_CREAT | OFLAGS_EXCL, RIGHTS_RW, 0);
    ok(write(fd, "hello"), "fd_write");
    flags(fd);
    descriptors(fd);
    times();
    println!("wasi_fd_state: done");
}
