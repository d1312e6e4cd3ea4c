// SPDX-License-Identifier: GPL-2.0

//! Runs a WASI command module with the host runner's minimal WASI subset:
//! `kwasm-run prog.wasm [args...]`. Exits with the program's status, or 134
//! if it trapped or could not be loaded.

use std::process::ExitCode;

use kwasm_host::wasi_min::{run_command, Output, WasiCtx};
use kwasm_host::{run_on_stack, Store, WASM_STACK};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first().cloned() else {
        eprintln!("usage: kwasm-run prog.wasm [args...]");
        return ExitCode::from(2);
    };
    let wasm = match std::fs::read(&path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("kwasm-run: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let status = run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let module = store.compile(&wasm).map_err(|e| format!("compile: {e}"))?;
        let ctx = WasiCtx {
            args,
            stdout: Output::Inherit,
            stderr: Output::Inherit,
        };
        run_command(&mut store, &module, ctx)
    });
    match status {
        Ok(c) => ExitCode::from(c as u8),
        Err(e) => {
            eprintln!("kwasm-run: {e}");
            ExitCode::from(134)
        }
    }
}
