// SPDX-License-Identifier: GPL-2.0

//! Real programs compiled by rustc for wasm32-wasip1, run end to end through
//! kwasm-compiler, kwasm-runtime and the host runner's minimal WASI.

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use kwasm_host::wasi_min::{run_command, Output, WasiCtx};
use kwasm_host::{run_on_stack, Store, WASM_STACK};

#[test]
fn rust_hello_world_prints_greeting_and_exits_with_argc() {
    let wasm = common::build_rust_program("hello");
    let (status, out, err) = run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let m = store.compile(&wasm).expect("hello.wasm compiles");
        let out = Rc::new(RefCell::new(Vec::new()));
        let err = Rc::new(RefCell::new(Vec::new()));
        let ctx = WasiCtx {
            args: vec!["hello.wasm".into(), "kwasm".into()],
            stdout: Output::Capture(out.clone()),
            stderr: Output::Capture(err.clone()),
        };
        let status = run_command(&mut store, &m, ctx);
        let out = String::from_utf8_lossy(&out.borrow()).into_owned();
        let err = String::from_utf8_lossy(&err.borrow()).into_owned();
        (status, out, err)
    });
    assert_eq!(
        out, "Hello, kwasm!\nsum of squares: 385\n",
        "stdout: expected greeting and sum, got {out:?}"
    );
    assert_eq!(err, "to stderr\n", "stderr: expected one line, got {err:?}");
    assert_eq!(
        status,
        Ok(2),
        "exit status: expected argc = 2, got {status:?}"
    );
}
