// SPDX-License-Identifier: GPL-2.0

//! Helpers shared by the host integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use kwasm_host::{run_on_stack, Stop, Store, WASM_STACK};
use kwasm_runtime::Extern;

/// Compiles a Rust test program from tests/programs to wasm32-wasip1 with
/// the workspace's rustc; returns the .wasm bytes.
pub fn build_rust_program(name: &str) -> Vec<u8> {
    let src = manifest_dir()
        .join("tests/programs")
        .join(format!("{name}.rs"));
    // A directory per build: tests build the same program in parallel.
    static BUILDS: AtomicUsize = AtomicUsize::new(0);
    let n = BUILDS.fetch_add(1, Ordering::Relaxed);
    let out_dir = std::env::temp_dir().join(format!(
        "kwasm-host-tests-{}-{name}-{n}",
        std::process::id()
    ));
    std::fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join(format!("{name}.wasm"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let st = std::process::Command::new(rustc)
        .args(["--target", "wasm32-wasip1", "-O", "--edition", "2021", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("running rustc");
    assert!(st.success(), "rustc failed for {name}");
    let wasm = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&out_dir);
    wasm
}

/// Instantiates a module from WAT with no imports and calls export `name`
/// with `args`; returns the result slots or the stop. Runs on a wasm thread.
pub fn call_wat(wat: &'static str, name: &'static str, args: Vec<u64>) -> Result<Vec<u64>, Stop> {
    run_on_stack(WASM_STACK, move || {
        let bytes = wat::parse_str(wat).expect("valid wat");
        let mut store = Store::new();
        let m = store.compile(&bytes).expect("compiles");
        let inst = store.instantiate(&m, Vec::new()).expect("instantiates");
        call_export(&store, &inst, name, args)
    })
}

/// Calls export `name` of `inst`; returns its results (as many as the
/// function type has), or the stop.
pub fn call_export(
    store: &Store,
    inst: &Rc<kwasm_host::HInstance>,
    name: &str,
    mut args: Vec<u64>,
) -> Result<Vec<u64>, Stop> {
    let Some(f @ Extern::Func(_)) = inst.export(name) else {
        panic!("no exported function {name}");
    };
    let Extern::Func(kwasm_runtime::Func::Wasm { instance, index }) = &f else {
        panic!("{name} is not a wasm function");
    };
    let nresults = instance.func_type(*index).expect("typed").results.len();
    args.resize(args.len().max(8), 0);
    let Extern::Func(f) = f else { unreachable!() };
    store.call_func(&f, &mut args)?;
    args.truncate(nresults);
    Ok(args)
}

/// This crate's directory, as cargo reports it when it runs the test (the
/// compile-time path goes stale when clones at other paths share a target
/// directory).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
