// SPDX-License-Identifier: GPL-2.0

//! WASI conformance: directories. fd_prestat_get/fd_prestat_dir_name on the
//! preopen, path_create_directory, path_remove_directory, fd_readdir (with
//! a large buffer and with one so small that every call returns about one
//! entry, continuing from cookies), paths relative to a directory opened
//! with path_open, renaming directories, and that a directory cannot be
//! read, written or seeked. Proves the listing is complete and that every
//! directory fd confines its paths. Readdir order, cookies, inode numbers
//! and the "." and ".." entries differ between runtimes, so only sorted
//! names and file types are printed.

use std::fmt::Debug;

#[repr(C)]
#[derive(Default)]
struct Prestat {
    tag: u8,
    name_len: u32,
}

#[repr(C)]
#[derive(Default)]
struct Fdstat {
    filetype: u8,
    flags: u16,
    rights_base: u64,
    rights_inheriting: u64,
}

/// An iovec; fd_write only reads through `buf`.
#[repr(C)]
struct Iovec {
    buf: *mut u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_read(fd: u32, iovs: *const Iovec, n: usize, nread: *mut usize) -> i32;
    fn fd_pread(fd: u32, iovs: *const Iovec, n: usize, off: u64, nread: *mut usize) -> i32;
    fn fd_write(fd: u32, iovs: *const Iovec, n: usize, nwritten: *mut usize) -> i32;
    fn fd_seek(fd: u32, delta: i64, whence: u32, newoffset: *mut u64) -> i32;
    fn fd_tell(fd: u32, offset: *mut u64) -> i32;
    fn fd_prestat_get(fd: u32, prestat: *mut Prestat) -> i32;
    fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: usize) -> i32;
    fn fd_fdstat_get(fd: u32, stat: *mut Fdstat) -> i32;
    fn fd_readdir(fd: u32, buf: *mut u8, len: usize, cookie: u64, used: *mut usize) -> i32;
    fn fd_close(fd: u32) -> i32;
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
    fn path_create_directory(fd: u32, path: *const u8, path_len: usize) -> i32;
    fn path_remove_directory(fd: u32, path: *const u8, path_len: usize) -> i32;
    fn path_symlink(
        target: *const u8,
        target_len: usize,
        fd: u32,
        path: *const u8,
        path_len: usize,
    ) -> i32;
    fn path_rename(
        old_fd: u32,
        old: *const u8,
        old_len: usize,
        new_fd: u32,
        new: *const u8,
        new_len: usize,
    ) -> i32;
}

const PREOPEN: u32 = 3;
const BAD_FD: u32 = 1000;
const OFLAGS_DIRECTORY: u32 = 2;
const SEEK_SET: u32 = 0;
const SEEK_CUR: u32 = 1;
const FILETYPE_DIRECTORY: u8 = 3;
const DIRENT_SIZE: usize = 24;
/// Directory rights: fd_read and the path_* and fd_readdir ones; files
/// opened beneath get read-write file rights (see wasi_fd_io.rs).
const RIGHTS_DIR: u64 = (((1 << 27) - (1 << 9)) | 1 << 1) & !(1 << 19 | 1 << 22);
const RIGHTS_FILE: u64 = 0x1ff | 0x7 << 21 | 1 << 27;

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

fn open_in(dir: u32, path: &str, oflags: u32, rights: u64) -> Result<u32, i32> {
    let mut fd = 0;
    // SAFETY: the path and the out-pointer are valid.
    match unsafe {
        path_open(
            dir,
            0,
            path.as_ptr(),
            path.len(),
            oflags,
            rights,
            RIGHTS_DIR | RIGHTS_FILE,
            0,
            &mut fd,
        )
    } {
        0 => Ok(fd),
        e => Err(e),
    }
}

fn open_dir(dir: u32, path: &str) -> u32 {
    open_in(dir, path, OFLAGS_DIRECTORY, RIGHTS_DIR)
        .unwrap_or_else(|e| fail(&format!("path_open({path}, DIRECTORY): errno {e}")))
}

fn mkdir(dir: u32, path: &str) -> i32 {
    // SAFETY: the path is valid.
    unsafe { path_create_directory(dir, path.as_ptr(), path.len()) }
}

fn rmdir(path: &str) -> i32 {
    // SAFETY: the path is valid.
    unsafe { path_remove_directory(PREOPEN, path.as_ptr(), path.len()) }
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

fn filetype(path: &str) -> u8 {
    let md = std::fs::symlink_metadata(path).unwrap_or_else(|e| fail(&format!("{path}: {e}")));
    match md.file_type() {
        t if t.is_dir() => 3,
        t if t.is_file() => 4,
        t if t.is_symlink() => 7,
        _ => 0,
    }
}

/// Lists a directory with fd_readdir into a `bufsize`-byte buffer. A full
/// buffer may end in a cut-off entry: continue from the last whole entry's
/// d_next cookie. Returns (name, d_type) sorted, without "." and "..".
fn list(fd: u32, bufsize: usize) -> Vec<(String, u8)> {
    let mut buf = vec![0u8; bufsize];
    let (mut out, mut cookie) = (Vec::new(), 0u64);
    loop {
        let mut used = 0;
        // SAFETY: the buffer and the out-pointer are valid.
        let ret = unsafe { fd_readdir(fd, buf.as_mut_ptr(), bufsize, cookie, &mut used) };
        ok(ret, "fd_readdir");
        check(used <= bufsize, "fd_readdir stays in the buffer");
        let mut off = 0;
        while off + DIRENT_SIZE <= used {
            let h = &buf[off..off + DIRENT_SIZE];
            let namlen = u32::from_le_bytes(h[16..20].try_into().unwrap()) as usize;
            if off + DIRENT_SIZE + namlen > used {
                break;
            }
            let name = &buf[off + DIRENT_SIZE..off + DIRENT_SIZE + namlen];
            out.push((String::from_utf8_lossy(name).into_owned(), h[20]));
            cookie = u64::from_le_bytes(h[0..8].try_into().unwrap());
            off += DIRENT_SIZE + namlen;
        }
        if used < bufsize {
            break;
        }
        check(off > 0, "an entry fits in the fd_readdir buffer");
    }
    out.retain(|(n, _)| n != "." && n != "..");
    out.sort();
    let before = out.len();
    out.dedup();
    check_eq(out.len(), before, "fd_readdir returns each entry once");
    out
}

fn preopen() {
    let mut pre = Prestat::default();
    // SAFETY: valid out-pointers and buffer.
    unsafe {
        ok(fd_prestat_get(PREOPEN, &mut pre), "fd_prestat_get(3)");
        check_eq((pre.tag, pre.name_len), (0, 1), "prestat of fd 3");
        let mut name = [0u8; 1];
        ok(
            fd_prestat_dir_name(PREOPEN, name.as_mut_ptr(), 1),
            "fd_prestat_dir_name",
        );
        check_eq(&name, b".", "preopen name");
        println!("fd_prestat_get(3): dir, name_len 1; fd_prestat_dir_name: \".\"");
        let e = fd_prestat_dir_name(PREOPEN, name.as_mut_ptr(), 0);
        expect_errno(e, 37, "nametoolong", "fd_prestat_dir_name into 0 bytes");
        expect_errno(fd_prestat_get(0, &mut pre), 8, "badf", "fd_prestat_get(0)");
        expect_errno(
            fd_prestat_get(BAD_FD, &mut pre),
            8,
            "badf",
            "fd_prestat_get(1000)",
        );
        let mut st = Fdstat::default();
        ok(fd_fdstat_get(PREOPEN, &mut st), "fd_fdstat_get(3)");
        check_eq(
            (st.filetype, st.flags),
            (FILETYPE_DIRECTORY, 0),
            "fdstat of the preopen",
        );
        println!(
            "fd_fdstat_get(3): filetype {}, flags {}",
            st.filetype, st.flags
        );
    }
}

/// The errnos of fd_read, fd_pread, fd_write, fd_seek(0, CUR),
/// fd_seek(0, SET) and fd_tell on `fd`.
fn file_ops(fd: u32) -> [i32; 6] {
    let mut buf = [0u8; 8];
    let iov = Iovec {
        buf: buf.as_mut_ptr(),
        len: buf.len(),
    };
    let (mut n, mut pos) = (0, 0);
    // SAFETY: one iovec over `buf`; valid out-pointers.
    unsafe {
        [
            fd_read(fd, &iov, 1, &mut n),
            fd_pread(fd, &iov, 1, 0, &mut n),
            fd_write(fd, &iov, 1, &mut n),
            fd_seek(fd, 0, SEEK_CUR, &mut pos),
            fd_seek(fd, 0, SEEK_SET, &mut pos),
            fd_tell(fd, &mut pos),
        ]
    }
}

/// A directory has no data and no offset (lseek(2) would succeed).
fn not_a_file() {
    check_eq(file_ops(PREOPEN), [8; 6], "file operations on fd 3");
    let d = open_dir(PREOPEN, ".");
    check_eq(file_ops(d), [8; 6], "file operations on a directory");
    // SAFETY: a plain call.
    ok(unsafe { fd_close(d) }, "fd_close");
    println!("fd_read/fd_pread/fd_write/fd_seek/fd_tell on a directory: errno 8 (badf)");
}

fn create_tree() {
    ok(mkdir(PREOPEN, "d"), "path_create_directory(d)");
    expect_errno(
        mkdir(PREOPEN, "d"),
        20,
        "exist",
        "path_create_directory(d) again",
    );
    ok(mkdir(PREOPEN, "d/e"), "path_create_directory(d/e)");
    ok(mkdir(PREOPEN, "d/e/f"), "path_create_directory(d/e/f)");
    expect_errno(
        mkdir(PREOPEN, "x/y"),
        44,
        "noent",
        "path_create_directory(x/y)",
    );
    std::fs::write("d/one.txt", "one").unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::write("d/two.txt", "two!").unwrap_or_else(|e| fail(&e.to_string()));
    let (target, link) = ("one.txt", "d/link");
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
    check_eq(filetype("d/e/.."), FILETYPE_DIRECTORY, "d/e/..");
    println!("path_create_directory: d, d/e, d/e/f; d/e/.. is a directory");
}

fn listing() {
    let d = open_dir(PREOPEN, "d");
    let entries = list(d, 4096);
    for (name, ty) in &entries {
        println!("fd_readdir(d): {name} type {ty}");
    }
    let want: Vec<(String, u8)> = ["e", "link", "one.txt", "two.txt"]
        .iter()
        .map(|n| (n.to_string(), filetype(&format!("d/{n}"))))
        .collect();
    check_eq(&entries, &want, "fd_readdir(d) entries and types");
    check_eq(
        list(d, 40),
        entries.clone(),
        "fd_readdir(d) with a 40-byte buffer",
    );
    println!(
        "fd_readdir(d) with a 40-byte buffer: the same {} entries",
        entries.len()
    );
    let mut names: Vec<String> = std::fs::read_dir("d")
        .unwrap_or_else(|e| fail(&e.to_string()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    check(
        names.iter().eq(entries.iter().map(|(n, _)| n)),
        "std::fs::read_dir agrees",
    );
    let top = open_dir(PREOPEN, ".");
    check_eq(
        list(top, 4096),
        [("d".to_string(), FILETYPE_DIRECTORY)],
        "fd_readdir(.)",
    );
    check_eq(
        list(PREOPEN, 33),
        [("d".to_string(), FILETYPE_DIRECTORY)],
        "fd_readdir(3)",
    );
    println!("fd_readdir(.) and fd_readdir(3): d type 3");
    // SAFETY: plain calls.
    unsafe {
        ok(fd_close(top), "fd_close");
        ok(fd_close(d), "fd_close");
    }
}

/// Paths relative to a directory fd other than the preopen.
fn relative() {
    let d = open_dir(PREOPEN, "d");
    let f = open_in(d, "one.txt", 0, RIGHTS_FILE).unwrap_or_else(|e| fail(&format!("errno {e}")));
    // SAFETY: plain call.
    ok(unsafe { fd_close(f) }, "fd_close");
    ok(mkdir(d, "g"), "path_create_directory(g) in d");
    check_eq(filetype("d/g"), FILETYPE_DIRECTORY, "d/g");
    println!("path_open and path_create_directory relative to d: ok");
    let e = open_in(d, "../d/two.txt", 0, RIGHTS_FILE)
        .err()
        .unwrap_or(0);
    expect_errno(e, 63, "perm", "path_open(../d/two.txt) relative to d");
    // SAFETY: plain call.
    ok(unsafe { fd_close(d) }, "fd_close");
}

fn removal() {
    expect_errno(rmdir("d"), 55, "notempty", "path_remove_directory(d)");
    expect_errno(
        rmdir("d/one.txt"),
        54,
        "notdir",
        "path_remove_directory(d/one.txt)",
    );
    expect_errno(
        rmdir("missing"),
        44,
        "noent",
        "path_remove_directory(missing)",
    );
    ok(rename("d/g", "h"), "path_rename(d/g, h)");
    check_eq(filetype("h"), FILETYPE_DIRECTORY, "h after the rename");
    expect_errno(
        rename("h", "d"),
        55,
        "notempty",
        "path_rename onto a non-empty directory",
    );
    ok(rename("h", "d/e/f"), "path_rename onto an empty directory");
    check(std::fs::symlink_metadata("h").is_err(), "h is gone");
    println!("path_rename of directories: d/g -> h -> d/e/f (replacing the empty one)");
    ok(rmdir("d/e/f"), "path_remove_directory(d/e/f)");
    ok(rmdir("d/e"), "path_remove_directory(d/e)");
    check(std::fs::symlink_metadata("d/e").is_err(), "d/e is gone");
    println!("path_remove_directory(d/e/f, d/e): ok");
    std::fs::remove_dir_all("d").unwrap_or_else(|e| fail(&e.to_string()));
    check_eq(list(PREOPEN, 4096), [], "fd_readdir(3) at the end");
    println!("std::fs::remove_dir_all(d): the preopen is empty again");
}

fn main() {
    preopen();
    not_a_file();
    create_tree();
    listing();
    relative();
    removal();
    println!("wasi_dirs: done");
}
