// SPDX-License-Identifier: GPL-2.0
// wasm32-wasip1 test program: files, directories, readdir, stat, links,
// escapes. Prints one line per check; the host test compares the output.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn path_symlink(old: *const u8, old_len: u32, fd: u32, new: *const u8, new_len: u32) -> i32;
    fn path_filestat_get(fd: u32, flags: u32, path: *const u8, len: u32, out: *mut u64) -> i32;
}

/// Symlink beneath the preopen (fd 3); `path` is relative to it.
fn symlink(target: &str, path: &str) -> i32 {
    // SAFETY: both strings are valid for their lengths during the call.
    unsafe { path_symlink(target.as_ptr(), target.len() as u32, 3, path.as_ptr(), path.len() as u32) }
}

/// Link count of `path` beneath the preopen.
fn nlink(path: &str) -> u64 {
    let mut st = [0u64; 8];
    // SAFETY: `path` is valid for its length and `st` has room for a filestat.
    let r = unsafe { path_filestat_get(3, 0, path.as_ptr(), path.len() as u32, st.as_mut_ptr()) };
    assert_eq!(r, 0);
    st[3]
}

fn main() {
    // Create, write, read back, seek.
    fs::create_dir("/d").unwrap();
    let mut f = fs::File::create("/d/a.txt").unwrap();
    f.write_all(b"hello world").unwrap();
    drop(f);
    let mut s = String::new();
    fs::File::open("/d/a.txt").unwrap().read_to_string(&mut s).unwrap();
    println!("read: {s}");
    let mut f = fs::OpenOptions::new().read(true).write(true).open("/d/a.txt").unwrap();
    f.seek(SeekFrom::Start(6)).unwrap();
    f.write_all(b"WASI!").unwrap();
    println!("pos: {}", f.stream_position().unwrap());
    f.seek(SeekFrom::End(-5)).unwrap();
    let mut t = String::new();
    f.read_to_string(&mut t).unwrap();
    println!("tail: {t}");
    f.set_len(5).unwrap();
    println!("len after set_len: {}", f.metadata().unwrap().len());
    drop(f);

    // Append mode.
    let mut f = fs::OpenOptions::new().append(true).open("/d/a.txt").unwrap();
    f.write_all(b"+more").unwrap();
    drop(f);
    println!("appended: {}", fs::read_to_string("/d/a.txt").unwrap());

    // Metadata.
    let m = fs::metadata("/d/a.txt").unwrap();
    println!("is_file: {} is_dir: {} len: {}", m.is_file(), m.is_dir(), m.len());
    println!("modified>0: {}", m.modified().unwrap() > std::time::UNIX_EPOCH);
    println!("dir is_dir: {}", fs::metadata("/d").unwrap().is_dir());

    // Rename, hard link, symlink, readlink.
    fs::rename("/d/a.txt", "/d/b.txt").unwrap();
    println!("old exists: {}", fs::metadata("/d/a.txt").is_ok());
    fs::hard_link("/d/b.txt", "/d/c.txt").unwrap();
    println!("nlink: {}", nlink("d/b.txt"));
    println!("symlink: {}", symlink("b.txt", "d/link"));
    println!("readlink: {}", fs::read_link("/d/link").unwrap().display());
    println!("via link: {}", fs::read_to_string("/d/link").unwrap());
    let lm = fs::symlink_metadata("/d/link").unwrap();
    println!("symlink type: {}", lm.file_type().is_symlink());

    // Many entries: several fd_readdir calls, truncated entries resumed
    // by cookie.
    fs::create_dir("/many").unwrap();
    for i in 0..300 {
        let name = format!("/many/entry-with-a-rather-long-name-to-fill-buffers-{i:04}");
        fs::write(&name, [i as u8]).unwrap();
    }
    let mut names: Vec<String> = fs::read_dir("/many")
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names.dedup();
    println!("entries: {} first: {} last: {}", names.len(), names[0], names[names.len() - 1]);
    let types: Vec<bool> = fs::read_dir("/d")
        .unwrap()
        .map(|e| e.unwrap().file_type().unwrap().is_file())
        .collect();
    println!("d files: {}", types.iter().filter(|&&x| x).count());

    // Errors.
    let e = fs::File::open("/nope").unwrap_err();
    println!("missing: {:?}", e.kind());
    let e = fs::create_dir("/d").unwrap_err();
    println!("exists: {:?}", e.kind());
    let e = fs::remove_dir("/d").unwrap_err();
    println!("not empty: {:?}", e.raw_os_error());
    let e = fs::File::open("/../../etc/passwd").unwrap_err();
    println!("escape: {:?}", e.raw_os_error());
    println!("symlink out: {}", symlink("../../../etc", "d/out"));
    println!("symlink abs: {}", symlink("/etc", "d/abs"));
    let e = fs::read_dir("/d/out/").unwrap_err();
    println!("symlink escape: {:?}", e.raw_os_error());

    // Clean up.
    fs::remove_file("/d/out").unwrap();
    fs::remove_file("/d/link").unwrap();
    fs::remove_file("/d/b.txt").unwrap();
    fs::remove_file("/d/c.txt").unwrap();
    fs::remove_dir("/d").unwrap();
    fs::remove_dir_all("/many").unwrap();
    println!("left: {}", fs::read_dir("/").unwrap().count());
}
