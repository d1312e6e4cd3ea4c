// SPDX-License-Identifier: GPL-2.0

//! Runs wasm32-wasip1 programs through kwasm-compiler, kwasm-runtime and the
//! host runner, with every WASI import served by kwasm-wasi on `HostOs`.

#![allow(dead_code)]

use std::cell::RefCell;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kwasm_abi::{FuncType, ImportKind};
use kwasm_host::{run_on_stack, HExtern, InstanceError, Stop, Store, WASM_STACK};
use kwasm_runtime::{Extern, Func};
use kwasm_wasi::host::HostOs;
use kwasm_wasi::{lookup, Ctx, Strings, WasiState};

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
/// as "/" at fd 3.
pub fn run(wasm: Vec<u8>, args: &[&str], env: &[&str], stdin: &[u8], dir: &Path) -> Outcome {
    let io = scratch("io");
    let (inp, out, err) = (io.join("in"), io.join("out"), io.join("err"));
    std::fs::write(&inp, stdin).unwrap();
    let mut os = HostOs::new();
    os.insert(0, OwnedFd::from(std::fs::File::open(&inp).unwrap()));
    os.insert(1, OwnedFd::from(std::fs::File::create(&out).unwrap()));
    os.insert(2, OwnedFd::from(std::fs::File::create(&err).unwrap()));
    let pre = os.open_dir(dir).unwrap();
    assert_eq!(pre, 3);
    let mut state = WasiState::new(
        Strings::from_list(args.iter().map(|s| s.as_bytes())).unwrap(),
        Strings::from_list(env.iter().map(|s| s.as_bytes())).unwrap(),
    );
    state.add_preopen(3, b"/").unwrap();
    let status = run_on_stack(WASM_STACK, move || {
        let shared = Rc::new(RefCell::new((os, state)));
        let mut store = Store::new();
        let m = store.compile(&wasm).map_err(|e| format!("compile: {e}"))?;
        let cm = m.compiled().clone();
        let imports = Store::resolve_imports(&m, |module, name, kind| {
            let ImportKind::Func(ty) = kind else {
                return None;
            };
            let f = lookup::<HostOs>(module, name)
                .or_else(|| kwasm_wasi::net::lookup::<HostOs>(module, name))?;
            let want = FuncType {
                params: f.params.to_vec(),
                results: f.results.to_vec(),
            };
            let ty = cm.types.get(*ty as usize)?.clone();
            if ty != want {
                return None;
            }
            let shared = shared.clone();
            let func: kwasm_host::HostFunc = Rc::new(move |inst, slots| {
                let mem: &mut [u8] = match inst.memory() {
                    // SAFETY: the memory's accessible size is mapped and nothing else touches it while wasm waits for this host call; the slice is dropped before returning.
                    Some(m) => unsafe {
                        std::slice::from_raw_parts_mut(m.base(), m.size() as usize)
                    },
                    None => &mut [],
                };
                let mut st = shared.borrow_mut();
                let (os, state) = &mut *st;
                let mut cx = Ctx { os, mem, state };
                let r = f.call(&mut cx, slots);
                if std::env::var_os("KWASM_WASI_TRACE").is_some() {
                    eprintln!("wasi: {}{:x?} -> {r:?}", f.name, &slots[..f.params.len()]);
                }
                match r {
                    Ok(e) => {
                        slots[0] = u64::from(e.0);
                        Ok(())
                    }
                    Err(x) => Err(Stop::Exit(x.0 as i32)),
                }
            });
            Some(HExtern::Func(Func::Host { func, ty }))
        })
        .map_err(|e| e.to_string())?;
        let inst = match store.instantiate(&m, imports) {
            Ok(i) => i,
            Err(InstanceError::Exit(c)) => return Ok(c),
            Err(e) => return Err(e.to_string()),
        };
        let Some(Extern::Func(start)) = inst.export("_start") else {
            return Err("no _start".to_string());
        };
        match store.call_func(&start, &mut []) {
            Ok(()) => Ok(0),
            Err(Stop::Exit(c)) => Ok(c),
            Err(Stop::Trap(t)) => Err(format!("trap: {}", t.name())),
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
