// SPDX-License-Identifier: GPL-2.0

//! Real wasm32-wasip1 programs (Rust std, which uses wasi-libc) run end to
//! end: kwasm-compiler, kwasm-runtime, the host runner, and every WASI call
//! through kwasm-wasi on the std-backed `HostOs`.

mod common;

#[test]
fn files_directories_links_readdir_and_escapes_behave_like_wasi() {
    let dir = common::scratch("files");
    let o = common::run(common::build("files"), &["files"], &[], b"", &dir);
    let want = "\
read: hello world
pos: 11
tail: WASI!
len after set_len: 5
appended: hello+more
is_file: true is_dir: false len: 10
modified>0: true
dir is_dir: true
old exists: false
nlink: 2
symlink: 0
readlink: b.txt
via link: hello+more
symlink type: true
entries: 300 first: entry-with-a-rather-long-name-to-fill-buffers-0000 last: entry-with-a-rather-long-name-to-fill-buffers-0299
d files: 2
missing: NotFound
exists: AlreadyExists
not empty: Some(55)
escape: Some(63)
symlink out: 0
symlink abs: 63
symlink escape: Some(63)
left: 0
";
    assert_eq!(o.stdout, want, "stderr: {} status {:?}", o.stderr, o.status);
    assert_eq!(o.status, Ok(0));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn args_env_clocks_poll_random_stdin_and_exit_status() {
    let dir = common::scratch("misc");
    let o = common::run(
        common::build("misc"),
        &["misc", "one", "two words"],
        &["FOO=bar", "X=y"],
        b"input data",
        &dir,
    );
    let want = "\
args: [\"misc\", \"one\", \"two words\"]
env FOO: Some(\"bar\")
env count: 2
wall after 2020: true
slept enough: true
cputime: 0
cputime>0: true
thread cputime: 0
res: 0 true
bad clock: 28
bad out ptr: 21
misaligned out: 28
random differs: true
random oob: 21
write fault: 21
poll: 0 n=1 userdata=22 type=1 nbytes=10
poll none: 28
poll badf: 0 n=1 error=8
stdin: input data
fdstat stdin: 0
stdin type: 4 rights has read: true
fdstat bad: 8
prestat 3: 0 len 1
prestat 4: 8
dir name: 0 '/'
dir name short: 37
yield: 0
raise 0: 0 bad: 28
";
    assert_eq!(o.stdout, want, "stderr: {} status {:?}", o.stderr, o.status);
    assert_eq!(o.status, Ok(7));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The kselftest program for kwasm_net, shared with the kernel's tests.
const NET_PROG: &str = "../../../tools/testing/selftests/kwasm/progs/net_sockets";

#[test]
fn kwasm_net_sockets_epoll_and_errors_work_from_wasm() {
    let dir = common::scratch("net");
    let src = common::manifest_dir().join(NET_PROG);
    let o = common::run(
        common::build_path(&src.with_extension("rs")),
        &["net"],
        &[],
        b"",
        &dir,
    );
    let want = std::fs::read_to_string(src.with_extension("expected")).unwrap();
    assert_eq!(o.stdout, want, "stderr: {} status {:?}", o.stderr, o.status);
    assert_eq!(o.status, Ok(0));
    let _ = std::fs::remove_dir_all(&dir);
}
