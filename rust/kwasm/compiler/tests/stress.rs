// SPDX-License-Identifier: GPL-2.0

//! Pathological but valid inputs: deep nesting, many locals, huge br_table,
//! many functions, long straight-line code. In a release build they compile
//! on a thread with a 256 KiB stack, the size the kernel gives the compiler,
//! to catch deep recursion (unoptimised builds have huge frames in Cranelift's
//! generated lowering code, so debug builds get more). Set
//! KWASM_STRESS_SCALE (e.g. 10, in a release build) for bigger inputs.

use std::fmt::Write;
use std::time::Instant;

use kwasm_compiler::{compile, CompileError, Config, IsaFeatures};

const STACK: usize = if cfg!(debug_assertions) {
    64 << 20
} else {
    256 << 10
};

fn scale() -> usize {
    std::env::var("KWASM_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn compile_small_stack(name: &str, wat: String) -> Result<(), CompileError> {
    let wasm = wat::parse_str(&wat).expect("wat");
    let name = name.to_string();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let config = Config {
                features: IsaFeatures::baseline(),
                ..Config::default()
            };
            let t = Instant::now();
            let r = compile(&wasm, &config).map(|m| m.code.len());
            eprintln!(
                "{name}: {} bytes of wasm -> {:?} in {:?}",
                wasm.len(),
                r,
                t.elapsed()
            );
            r.map(|_| ())
        })
        .unwrap()
        .join()
        .expect("compile thread panicked")
}

#[test]
fn deep_nesting() {
    let n = 1000 * scale();
    let mut w = String::from("(module (func (param i32) (result i32)\n");
    for i in 0..n {
        let kind = ["block", "loop", "if"][i % 3];
        if kind == "if" {
            w.push_str("local.get 0\n");
        }
        w.push_str(kind);
        w.push('\n');
    }
    w.push_str("local.get 0 br_if 0\n");
    for _ in 0..n {
        w.push_str("end\n");
    }
    w.push_str("local.get 0))");
    compile_small_stack("deep_nesting", w).unwrap();
}

#[test]
fn many_locals_in_a_loop() {
    let n = (5000 * scale()).min(49_000); // default locals limit
    let mut w = format!(
        "(module (func (param i32) (result i64) (local {})\n",
        "i64 ".repeat(n)
    );
    w.push_str("loop\n");
    for i in 1..=n {
        let _ = writeln!(
            w,
            "local.get {} i64.const 1 i64.add local.set {}",
            i,
            i % n + 1
        );
    }
    w.push_str("local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 1))");
    compile_small_stack("many_locals", w).unwrap();
}

#[test]
fn huge_br_table() {
    let n = (20_000 * scale()).min(100_000); // default br_table limit
    let mut w = String::from("(module (func (param i32) (result i32)\nblock block block\n");
    w.push_str("i32.const 1 local.get 0 br_table ");
    for i in 0..n {
        let _ = write!(w, "{} ", i % 3);
    }
    w.push_str("0 end end end local.get 0))");
    // The table targets carry no values here; with values see multi_value_br_table.
    let w = w.replace("i32.const 1 local.get 0", "local.get 0");
    compile_small_stack("huge_br_table", w).unwrap();
}

#[test]
fn multi_value_br_table() {
    let n = 2_000 * scale();
    let mut w = String::from(
        "(module (func (param i32) (result i32 i64)\nblock (result i32 i64) block (result i32 i64)\n",
    );
    w.push_str("i32.const 1 i64.const 2 local.get 0 br_table ");
    for i in 0..n {
        let _ = write!(w, "{} ", i % 2);
    }
    w.push_str("0 end end))");
    compile_small_stack("multi_value_br_table", w).unwrap();
}

#[test]
fn many_functions() {
    let n = 2_000 * scale();
    let mut w = String::from("(module (table 1 funcref)\n");
    for i in 0..n {
        let _ = writeln!(
            w,
            "(func $f{i} (param i32) (result i32) local.get 0 i32.const {i} i32.add call $f{})",
            (i + 1) % n
        );
    }
    w.push(')');
    compile_small_stack("many_functions", w).unwrap();
}

#[test]
fn long_straight_line() {
    let n = (20_000 * scale()).min(50_000); // ~18 bytes each, 1 MiB body limit
    let mut w = String::from("(module (memory 1) (func (param i32) (result i32)\n");
    for i in 0..n {
        let _ = writeln!(
            w,
            "local.get 0 local.get 0 i32.load offset={} i32.const {} i32.mul i32.store offset={} ",
            (i * 4) % 60000,
            i,
            (i * 8) % 60000
        );
    }
    w.push_str("local.get 0))");
    compile_small_stack("long_straight_line", w).unwrap();
}

#[test]
fn deep_value_stack() {
    let n = 5_000 * scale();
    let mut w = String::from("(module (func (result i32)\n");
    for i in 0..n {
        let _ = write!(w, "i32.const {i} ");
    }
    for _ in 1..n {
        w.push_str("i32.add ");
    }
    w.push_str("))");
    compile_small_stack("deep_value_stack", w).unwrap();
}
