// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: operations on paths beneath preopen "." (fd 3).
//! path_open and its oflags, path_filestat_get (following symlinks or not),
//! path_link, path_symlink, path_readlink, path_rename, path_unlink_file,
//! and that paths cannot leave the preopen (PERM). Proves the POSIX
//! semantics and errnos, where wasmtime and Linux agree. Inode numbers are
//! only compared.

use std::fmt::Debug;

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

#[repr(C)]
struct Iovec {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
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
    fn path_symlink(
        target: *const u8,
        target_len: usize,
        fd: u32,
        path: *const u8,
        path_len: usize,
    ) -> i32;
    fn path_readlink(
        fd: u32,
        path: *const u8,
        path_len: usize,
        buf: *mut u8,
        buf_len: usize,
        used: *mut usize,
    ) -> i32;
    fn path_rename(
        old_fd: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> i32;
    fn path_unlink_file(fd: u32, path: *const u8, path_len: usize) -> i32;
    fn path_create_directory(fd: u32, path: *const u8, path_len: usize) -> i32;
    fn fd_write(fd: u32, iovs: *const Iovec, n: usize, nwritten: *mut usize) -> i32;
    fn fd_close(fd: u32) -> i32;
}

const PREOPEN: u32 = 3;
const FOLLOW: u32 = 1;
const NOFOLLOW: u32 = 0;
const OFLAGS_CREAT: u32 = 1;
const OFLAGS_DIRECTORY: u32 = 2;
const OFLAGS_EXCL: u32 = 4;
const OFLAGS_TRUNC: u32 = 8;
const FILETYPE_REGULAR: u8 = 4;
const FILETYPE_SYMLINK: u8 = 7;
/// Read-write file rights (see wasi_fd_io.rs).
const RIGHTS_RW: u64 = 0x1ff | 0x7 << 21 | 1 << 27;
const ERRNO_EXIST: i32 = 20;
const ERRNO_INVAL: i32 = 28;
const ERRNO_ISDIR: i32 = 31;
const ERRNO_LOOP: i32 = 32;
const ERRNO_NOENT: i32 = 44;
const ERRNO_NOTDIR: i32 = 54;
const ERRNO_PERM: i32 = 63;

fn fail(what: &str) -> ! {
    println!("FAIL: {what}");
    std::process::exit(1);
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
fn expect_errno(got: i32, want: i32, what: &str) {
    check_eq(got, want, what);
    let name = match want {
        ERRNO_EXIST => "exist",
        ERRNO_INVAL => "inval",
        ERRNO_ISDIR => "isdir",
        ERRNO_LOOP => "loop",
        ERRNO_NOENT => "noent",
        ERRNO_NOTDIR => "notdir",
        ERRNO_PERM => "perm",
        _ => "?",
    };
    println!("{what}: errno {want} ({name})");
}

fn open(path: &str, dirflags: u32, oflags: u32) -> Result<u32, i32> {
    let mut fd = 0;
    // SAFETY: the path and the out-pointer are valid.
    match unsafe {
        path_open(
            PREOPEN,
            dirflags,
            path.as_ptr(),
            path.len(),
            oflags,
            RIGHTS_RW,
            RIGHTS_RW,
            0,
            &mut fd,
        )
    } {
        0 => Ok(fd),
        e => Err(e),
    }
}

fn must_open(path: &str, dirflags: u32, oflags: u32) -> u32 {
    open(path, dirflags, oflags).unwrap_or_else(|e| fail(&format!("path_open({path}): errno {e}")))
}

/// The errno of a failed call, 0 for a success (so that a check fails).
fn errno<T>(r: Result<T, i32>) -> i32 {
    r.err().unwrap_or(0)
}

fn close(fd: u32) {
    // SAFETY: plain call.
    ok(unsafe { fd_close(fd) }, "fd_close");
}

/// Creates `path` (which must not exist) holding `data`, all with raw calls.
fn create(path: &str, data: &str) {
    let fd = must_open(path, NOFOLLOW, OFLAGS_CREAT | OFLAGS_EXCL);
    let iov = Iovec {
        buf: data.as_ptr(),
        len: data.len(),
    };
    let mut n = 0;
    // SAFETY: the iovec points into `data`.
    ok(unsafe { fd_write(fd, &iov, 1, &mut n) }, "fd_write");
    check_eq(n, data.len(), "bytes written");
    close(fd);
}

fn stat(path: &str, flags: u32) -> Result<Filestat, i32> {
    let mut st = Filestat::default();
    // SAFETY: the path and the out-pointer are valid.
    match unsafe { path_filestat_get(PREOPEN, flags, path.as_ptr(), path.len(), &mut st) } {
        0 => Ok(st),
        e => Err(e),
    }
}

fn must_stat(path: &str, flags: u32) -> Filestat {
    stat(path, flags).unwrap_or_else(|e| fail(&format!("path_filestat_get({path}): errno {e}")))
}

/// A hard link, without SYMLINK_FOLLOW (runtimes differ on following).
fn link(old: &str, new: &str) -> i32 {
    // SAFETY: the paths are valid.
    unsafe {
        path_link(
            PREOPEN,
            0,
            old.as_ptr(),
            old.len(),
            PREOPEN,
            new.as_ptr(),
            new.len(),
        )
    }
}

fn symlink(target: &str, path: &str) -> i32 {
    // SAFETY: the paths are valid.
    unsafe {
        path_symlink(
            target.as_ptr(),
            target.len(),
            PREOPEN,
            path.as_ptr(),
            path.len(),
        )
    }
}

fn readlink(path: &str, len: usize) -> Result<String, i32> {
    let (mut buf, mut used) = (vec![0u8; len], 0);
    // SAFETY: the path, the buffer and the out-pointer are valid.
    let e = unsafe {
        path_readlink(
            PREOPEN,
            path.as_ptr(),
            path.len(),
            buf.as_mut_ptr(),
            len,
            &mut used,
        )
    };
    match e {
        0 => Ok(String::from_utf8_lossy(&buf[..used.min(len)]).into_owned()),
        e => Err(e),
    }
}

fn rename(old: &str, new: &str) -> i32 {
    // SAFETY: the paths are valid.
    unsafe {
        path_rename(
            PREOPEN,
            old.as_ptr(),
            old.len(),
            PREOPEN,
            new.as_ptr(),
            new.len(),
        )
    }
}

fn unlink(path: &str) -> i32 {
    // SAFETY: the path is valid.
    unsafe { path_unlink_file(PREOPEN, path.as_ptr(), path.len()) }
}

fn mkdir(path: &str) -> i32 {
    // SAFETY: the path is valid.
    unsafe { path_create_directory(PREOPEN, path.as_ptr(), path.len()) }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("read {path}: {e}")))
}

fn opening() {
    create("a.txt", "apple\n");
    println!("path_open(a.txt, CREAT|EXCL): ok, 6 bytes written");
    expect_errno(
        errno(open("a.txt", NOFOLLOW, OFLAGS_CREAT | OFLAGS_EXCL)),
        ERRNO_EXIST,
        "path_open(a.txt, CREAT|EXCL) again",
    );
    expect_errno(
        errno(open("missing.txt", NOFOLLOW, 0)),
        ERRNO_NOENT,
        "path_open(missing.txt)",
    );
    expect_errno(
        errno(open("a.txt", NOFOLLOW, OFLAGS_DIRECTORY)),
        ERRNO_NOTDIR,
        "path_open(a.txt, DIRECTORY)",
    );
    expect_errno(
        errno(open("a.txt/", FOLLOW, 0)),
        ERRNO_NOTDIR,
        "path_open(a.txt/)",
    );
    create("t.txt", "temporary");
    close(must_open("t.txt", NOFOLLOW, OFLAGS_TRUNC));
    check_eq(must_stat("t.txt", NOFOLLOW).size, 0, "size after TRUNC");
    println!("path_open(t.txt, TRUNC): size 0");
    let st = must_stat("a.txt", NOFOLLOW);
    check_eq(
        (st.filetype, st.size, st.nlink),
        (FILETYPE_REGULAR, 6, 1),
        "path_filestat_get",
    );
    let (ty, size, nlink) = (st.filetype, st.size, st.nlink);
    println!("path_filestat_get(a.txt): filetype {ty}, size {size}, nlink {nlink}");
}

fn links() {
    ok(link("a.txt", "b.txt"), "path_link");
    let (a, b) = (must_stat("a.txt", NOFOLLOW), must_stat("b.txt", NOFOLLOW));
    check_eq((a.nlink, b.nlink), (2, 2), "nlink of hard links");
    check_eq(a.ino, b.ino, "ino of hard links");
    check_eq(read("b.txt"), "apple\n", "contents of the link");
    println!("path_link(a.txt, b.txt): nlink 2 and 2, same ino, same contents");
    expect_errno(
        link("a.txt", "t.txt"),
        ERRNO_EXIST,
        "path_link onto an existing file",
    );
    ok(mkdir("dir"), "path_create_directory");
    expect_errno(link("dir", "dir2"), ERRNO_PERM, "path_link of a directory");

    ok(symlink("a.txt", "s.txt"), "path_symlink");
    check_eq(
        readlink("s.txt", 64),
        Ok("a.txt".to_string()),
        "path_readlink",
    );
    check_eq(
        readlink("s.txt", 2),
        Ok("a.".to_string()),
        "path_readlink into 2 bytes",
    );
    let (l, f) = (must_stat("s.txt", NOFOLLOW), must_stat("s.txt", FOLLOW));
    check_eq(
        (l.filetype, l.size),
        (FILETYPE_SYMLINK, 5),
        "lstat of the symlink",
    );
    check_eq(
        (f.filetype, f.size, f.ino),
        (FILETYPE_REGULAR, 6, a.ino),
        "stat through it",
    );
    println!("path_symlink(a.txt, s.txt): readlink \"a.txt\" (into 2 bytes: \"a.\")");
    println!(
        "path_filestat_get(s.txt): filetype {} size {}",
        l.filetype, l.size
    );
    println!(
        "... following: filetype {} size {}, ino of a.txt",
        f.filetype, f.size
    );
    close(must_open("s.txt", FOLLOW, 0));
    check_eq(read("s.txt"), "apple\n", "reading through the symlink");
    println!("path_open(s.txt, SYMLINK_FOLLOW): ok");
    expect_errno(
        errno(open("s.txt", NOFOLLOW, 0)),
        ERRNO_LOOP,
        "path_open(s.txt), no FOLLOW",
    );
    expect_errno(
        errno(readlink("a.txt", 64)),
        ERRNO_INVAL,
        "path_readlink(a.txt)",
    );
    expect_errno(
        symlink("a.txt", "t.txt"),
        ERRNO_EXIST,
        "path_symlink onto an existing file",
    );
    ok(symlink("nowhere", "dangling"), "path_symlink");
    check_eq(
        must_stat("dangling", NOFOLLOW).filetype,
        FILETYPE_SYMLINK,
        "lstat(dangling)",
    );
    let e = errno(stat("dangling", FOLLOW));
    expect_errno(e, ERRNO_NOENT, "path_filestat_get(dangling, FOLLOW)");
    ok(symlink("loop", "loop"), "path_symlink");
    expect_errno(
        errno(open("loop", FOLLOW, 0)),
        ERRNO_LOOP,
        "path_open(loop -> loop)",
    );
}

fn renames() {
    ok(rename("b.txt", "c.txt"), "path_rename");
    check_eq(
        errno(stat("b.txt", NOFOLLOW)),
        ERRNO_NOENT,
        "old name after path_rename",
    );
    check_eq(read("c.txt"), "apple\n", "new name after path_rename");
    println!("path_rename(b.txt, c.txt): old name gone, new name has the contents");
    create("x.txt", "xx");
    ok(rename("x.txt", "c.txt"), "path_rename onto a file");
    check_eq(read("c.txt"), "xx", "contents after replacing");
    check_eq(
        must_stat("a.txt", NOFOLLOW).nlink,
        1,
        "nlink of a.txt after its link was replaced",
    );
    println!("path_rename(x.txt, c.txt): replaces c.txt; a.txt back to nlink 1");
    expect_errno(rename("missing", "m2"), ERRNO_NOENT, "path_rename(missing)");
    expect_errno(
        rename("c.txt", "dir"),
        ERRNO_ISDIR,
        "path_rename(file, directory)",
    );
    expect_errno(
        rename("dir", "c.txt"),
        ERRNO_NOTDIR,
        "path_rename(directory, file)",
    );

    ok(unlink("c.txt"), "path_unlink_file");
    expect_errno(
        unlink("c.txt"),
        ERRNO_NOENT,
        "path_unlink_file(c.txt) again",
    );
    expect_errno(unlink("dir"), ERRNO_ISDIR, "path_unlink_file(dir)");
    ok(unlink("s.txt"), "path_unlink_file of a symlink");
    check_eq(
        read("a.txt"),
        "apple\n",
        "the target after unlinking the symlink",
    );
    println!("path_unlink_file(c.txt, s.txt): ok, the symlink's target stays");
}

/// Every way out of the preopen is refused (wasmtime and kwasm: PERM).
fn escapes() {
    expect_errno(
        errno(open("../escape.txt", NOFOLLOW, OFLAGS_CREAT)),
        ERRNO_PERM,
        "path_open(../escape.txt, CREAT)",
    );
    expect_errno(
        errno(open("/etc/passwd", FOLLOW, 0)),
        ERRNO_PERM,
        "path_open(/etc/passwd)",
    );
    expect_errno(mkdir("../out"), ERRNO_PERM, "path_create_directory(../out)");
    expect_errno(
        symlink("/etc/passwd", "abs"),
        ERRNO_PERM,
        "path_symlink to an absolute path",
    );
    ok(symlink("..", "up"), "path_symlink(.., up)");
    expect_errno(
        errno(open("up/escape.txt", FOLLOW, 0)),
        ERRNO_PERM,
        "path_open(up/escape.txt)",
    );
}

fn main() {
    opening();
    links();
    renames();
    escapes();
    println!("wasi_paths: done");
}
