// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: I/O on file descriptors. fd_read/fd_write on stdio and
//! on a file with several iovecs, fd_pread/fd_pwrite, fd_seek/fd_tell,
//! fd_sync/fd_datasync/fd_advise/fd_allocate, fd_filestat_get and
//! fd_filestat_set_size. Proves that offsets and sizes behave as in POSIX.
//! Expects stdin to be "line one\nline two\n" and fd 3 to be preopen ".".
//! Short reads and writes are allowed (wasmtime uses the first iovec only),
//! so the program loops as a libc would and prints only totals.

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
    fn fd_pwrite(fd: u32, iovs: *const Iovec, n: usize, off: u64, nw: *mut usize) -> i32;
    fn fd_seek(fd: u32, delta: i64, whence: u32, newoffset: *mut u64) -> i32;
    fn fd_tell(fd: u32, offset: *mut u64) -> i32;
    fn fd_sync(fd: u32) -> i32;
    fn fd_datasync(fd: u32) -> i32;
    fn fd_advise(fd: u32, offset: u64, len: u64, advice: u32) -> i32;
    fn fd_allocate(fd: u32, offset: u64, len: u64) -> i32;
    fn fd_fdstat_get(fd: u32, stat: *mut Fdstat) -> i32;
    fn fd_filestat_get(fd: u32, stat: *mut Filestat) -> i32;
    fn fd_filestat_set_size(fd: u32, size: u64) -> i32;
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
}

const PREOPEN: u32 = 3;
const ERRNO_INVAL: i32 = 28;
const FILETYPE_REGULAR: u8 = 4;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_EXCL: u32 = 4;
const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;
const SEEK_END: u32 = 2;
const ADVICE_SEQUENTIAL: u32 = 1;
const ADVICE_WILLNEED: u32 = 3;
const ADVICE_DONTNEED: u32 = 4;
// The rights of a read-write file: datasync, read, seek, fdstat_set_flags,
// sync, tell, write, advise, allocate, filestat_get/set_size/set_times,
// poll_fd_readwrite.
const RIGHTS_RW: u64 = 0x1ff | 0x7 << 21 | 1 << 27;

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

fn open(path: &str, oflags: u32, rights: u64) -> u32 {
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
            0,
            &mut fd,
        )
    };
    check_eq(e, 0, &format!("path_open({path})"));
    fd
}

/// One fd_read (or fd_pread at `at`) of up to `len` bytes into three
/// iovecs (2 bytes, 2 bytes, then the rest: more buffers than the kernel
/// keeps on its stack); returns the bytes and the errno.
fn read_once(fd: u32, len: usize, at: Option<u64>) -> (Vec<u8>, i32) {
    let mut buf = vec![0u8; len];
    let (a, rest) = buf.split_at_mut(len.min(2));
    let (b, c) = rest.split_at_mut(rest.len().min(2));
    let iovs = [a, b, c].map(|p| Iovec {
        buf: p.as_mut_ptr(),
        len: p.len(),
    });
    let mut n = 0;
    // SAFETY: the iovecs point into `buf`.
    let e = unsafe {
        match at {
            None => fd_read(fd, iovs.as_ptr(), iovs.len(), &mut n),
            Some(off) => fd_pread(fd, iovs.as_ptr(), iovs.len(), off, &mut n),
        }
    };
    check(n <= len, "fd_read stays in its buffers");
    buf.truncate(n);
    (buf, e)
}

/// Reads until end of file (or `limit` bytes), as libc's read loops do.
fn read_all(fd: u32, mut at: Option<u64>, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        let (chunk, e) = read_once(fd, (limit - out.len()).min(64), at);
        check_eq(e, 0, "fd_read");
        if chunk.is_empty() {
            break;
        }
        at = at.map(|off| off + chunk.len() as u64);
        out.extend(chunk);
    }
    out
}

/// Writes all of `parts`, each as an iovec, with fd_write (or fd_pwrite at
/// `at`), continuing after short writes; returns the total written.
fn write_all(fd: u32, parts: &[&[u8]], mut at: Option<u64>) -> usize {
    let mut left: Vec<&[u8]> = parts.to_vec();
    let mut total = 0;
    while left.iter().any(|p| !p.is_empty()) {
        let iovs: Vec<Iovec> = left
            .iter()
            .map(|p| Iovec {
                buf: p.as_ptr().cast_mut(),
                len: p.len(),
            })
            .collect();
        let mut n = 0;
        // SAFETY: the iovecs point into live slices.
        let e = unsafe {
            match at {
                None => fd_write(fd, iovs.as_ptr(), iovs.len(), &mut n),
                Some(off) => fd_pwrite(fd, iovs.as_ptr(), iovs.len(), off, &mut n),
            }
        };
        check_eq(e, 0, "fd_write");
        check(n > 0, "fd_write makes progress");
        total += n;
        at = at.map(|off| off + n as u64);
        let mut skip = n;
        for p in left.iter_mut() {
            let k = skip.min(p.len());
            *p = &p[k..];
            skip -= k;
        }
    }
    total
}

fn seek(fd: u32, delta: i64, whence: u32) -> Result<u64, i32> {
    let mut pos = 0;
    // SAFETY: valid out-pointer.
    match unsafe { fd_seek(fd, delta, whence, &mut pos) } {
        0 => Ok(pos),
        e => Err(e),
    }
}

fn tell(fd: u32) -> u64 {
    let mut pos = 0;
    // SAFETY: valid out-pointer.
    check_eq(unsafe { fd_tell(fd, &mut pos) }, 0, "fd_tell");
    pos
}

fn fdstat(fd: u32) -> Fdstat {
    let mut st = Fdstat::default();
    // SAFETY: valid out-pointer.
    check_eq(unsafe { fd_fdstat_get(fd, &mut st) }, 0, "fd_fdstat_get");
    st
}

fn filestat(fd: u32) -> Filestat {
    let mut st = Filestat::default();
    // SAFETY: valid out-pointer.
    let ret = unsafe { fd_filestat_get(fd, &mut st) };
    check_eq(ret, 0, "fd_filestat_get");
    st
}

fn contents(fd: u32) -> String {
    String::from_utf8_lossy(&read_all(fd, Some(0), usize::MAX)).into_owned()
}

fn stdio() {
    let input = read_all(0, None, usize::MAX);
    check_eq(&input[..], b"line one\nline two\n", "stdin");
    println!(
        "stdin: {} bytes {:?}, then EOF",
        input.len(),
        String::from_utf8_lossy(&input)
    );
    let n = write_all(1, &[b"fd_write: three ", b"iovecs to ", b"stdout\n"], None);
    check_eq(n, 33, "bytes written to stdout");
    write_all(2, &[b"fd_write: two iovecs ", b"to stderr\n"], None);
    // Their file types differ (wasmtime: unknown; Linux: what they are).
    for fd in 0..3 {
        fdstat(fd);
    }
    println!("fd_fdstat_get(0, 1, 2): ok");
}

/// Offsets: fd_write/fd_read move them, fd_pwrite/fd_pread do not.
fn offsets(fd: u32) {
    check_eq(
        write_all(fd, &[b"hello, ", b"world\n"], None),
        13,
        "fd_write",
    );
    check_eq(tell(fd), 13, "fd_tell after fd_write");
    println!("fd_write: 13 bytes, fd_tell: 13");
    check_eq(seek(fd, 0, SEEK_SET), Ok(0), "fd_seek(0, SET)");
    check_eq(read_all(fd, None, usize::MAX), b"hello, world\n", "fd_read");
    println!("fd_seek(0, SET): 0, fd_read: \"hello, world\\n\"");
    check_eq(seek(fd, -6, SEEK_END), Ok(7), "fd_seek(-6, END)");
    check_eq(
        read_all(fd, None, 5),
        b"world",
        "fd_read after fd_seek(END)",
    );
    check_eq(seek(fd, -5, SEEK_CUR), Ok(7), "fd_seek(-5, CUR)");
    println!("fd_seek(-6, END): 7, fd_read(5): \"world\", fd_seek(-5, CUR): 7");
    check_eq(read_all(fd, Some(7), 4), b"worl", "fd_pread at 7");
    check_eq(write_all(fd, &[b"W"], Some(7)), 1, "fd_pwrite at 7");
    check_eq(tell(fd), 7, "fd_tell after fd_pread/fd_pwrite");
    check_eq(contents(fd), "hello, World\n", "contents after fd_pwrite");
    println!("fd_pread(4 at 7): \"worl\", fd_pwrite(\"W\" at 7): 1, fd_tell: still 7");
    check_eq(seek(fd, -1, SEEK_SET), Err(ERRNO_INVAL), "fd_seek(-1, SET)");
    check_eq(
        seek(fd, -100, SEEK_CUR),
        Err(ERRNO_INVAL),
        "fd_seek(-100, CUR)",
    );
    println!("fd_seek before the start: errno {ERRNO_INVAL} (inval), twice");
}

/// Sizes, and the calls that only have to succeed.
fn sizes(fd: u32) {
    // SAFETY: plain calls on an open file.
    unsafe {
        check_eq(fd_sync(fd), 0, "fd_sync");
        check_eq(fd_datasync(fd), 0, "fd_datasync");
        for advice in [ADVICE_SEQUENTIAL, ADVICE_WILLNEED, ADVICE_DONTNEED] {
            check_eq(fd_advise(fd, 0, 13, advice), 0, "fd_advise");
        }
        // wasmtime says NOTSUP, Linux allocates: check only a success.
        if fd_allocate(fd, 0, 64) == 0 {
            check(filestat(fd).size >= 64, "size after fd_allocate");
            check_eq(fd_filestat_set_size(fd, 13), 0, "fd_filestat_set_size");
        }
    }
    println!("fd_sync, fd_datasync, fd_advise: ok; fd_allocate: called");
    let st = filestat(fd);
    check_eq(
        (st.filetype, st.size, st.nlink),
        (FILETYPE_REGULAR, 13, 1),
        "fd_filestat_get",
    );
    println!(
        "fd_filestat_get: filetype {}, size {}, nlink {}",
        st.filetype, st.size, st.nlink
    );
    // SAFETY: plain call on an open file.
    check_eq(unsafe { fd_filestat_set_size(fd, 20) }, 0, "grow");
    check_eq(filestat(fd).size, 20, "size after growing");
    check_eq(
        read_all(fd, Some(13), 7),
        [0u8; 7],
        "the grown part reads as zeros",
    );
    // SAFETY: as above.
    check_eq(unsafe { fd_filestat_set_size(fd, 5) }, 0, "shrink");
    check_eq(contents(fd), "hello", "contents after shrinking");
    println!("fd_filestat_set_size: 20 (zeros), then 5: \"hello\"");
}

fn main() {
    stdio();
    let fd = open("data.txt", OFLAGS_CREAT | OFLAGS_EXCL, RIGHTS_RW);
    offsets(fd);
    sizes(fd);
    println!("wasi_fd_io: done");
}
