// SPDX-License-Identifier: GPL-2.0

//! Runs wasm32-wasip1 programs through kwasm-compiler, kwasm-runtime and the
//! host runner, with every WASI import served by kwasm-wasi on `HostOs`
//! (kwasm_host::wasi).

#![allow(dead_code)]

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kwasm_host::wasi::{run_command, Command, Ended};
use kwasm_host::{run_on_stack, Store, WASM_STACK};

/// A fresh scratch directory.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("kwasm-wasi-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles tests/programs/NAME.rs for wasm32-wasip1.
pub fn build(name: &str) -> Vec<u8> {
    build_path(
        &manifest_dir()
            .join("tests/programs")
            .join(format!("{name}.rs")),
    )
}

/// Compiles the Rust program at `src` for wasm32-wasip1.
pub fn build_path(src: &Path) -> Vec<u8> {
    let name = src.file_stem().unwrap().to_string_lossy();
    let out_dir = scratch(&format!("build-{name}"));
    let out = out_dir.join(format!("{name}.wasm"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let st = std::process::Command::new(rustc)
        .args(["--target", "wasm32-wasip1", "-O", "--edition", "2021", "-o"])
        .arg(&out)
        .arg(src)
        .status()
        .expect("running rustc");
    assert!(st.success(), "rustc failed for {name}");
    let wasm = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
    wasm
}

/// What a program did.
#[derive(Debug)]
pub struct Outcome {
    /// Exit status, or the trap / instantiation error.
    pub status: Result<i32, String>,
    /// fd 1.
    pub stdout: String,
    /// fd 2.
    pub stderr: String,
}

/// Runs `wasm` with `args`, `env`, stdin from `stdin`, and `dir` preopened
/// as "/" at fd 3, through the host runner's WASI binding (kwasm-wasi on
/// `HostOs`).
pub fn run(wasm: Vec<u8>, args: &[&str], env: &[&str], stdin: &[u8], dir: &Path) -> Outcome {
    let io = scratch("io");
    let (inp, out, err) = (io.join("in"), io.join("out"), io.join("err"));
    std::fs::write(&inp, stdin).unwrap();
    let mut cmd = Command::new(
        args,
        [
            OwnedFd::from(std::fs::File::open(&inp).unwrap()),
            OwnedFd::from(std::fs::File::create(&out).unwrap()),
            OwnedFd::from(std::fs::File::create(&err).unwrap()),
        ],
    );
    cmd.env = env.iter().map(|s| s.as_bytes().to_vec()).collect();
    cmd.dirs = vec![(dir.to_path_buf(), b"/".to_vec())];
    let status = run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let m = store.compile(&wasm).map_err(|e| format!("compile: {e}"))?;
        match run_command(&mut store, &m, cmd)? {
            Ended::Exit(c) => Ok(c),
            Ended::Trap(t) => Err(format!("trap: {}", t.name())),
        }
    });
    let o = Outcome {
        status,
        stdout: String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&std::fs::read(&err).unwrap()).into_owned(),
    };
    let _ = std::fs::remove_dir_all(&io);
    o
}

/// This crate's directory, as cargo reports it when it runs the test (the
/// compile-time path goes stale when clones at other paths share a target
/// directory).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
