// SPDX-License-Identifier: GPL-2.0

//! Every trap kind, raised by real compiled code, comes back from the host
//! runner as the right `Trap`, and the thread stays usable afterwards.

mod common;

use common::call_wat;
use kwasm_host::{Stop, Trap};

fn expect_trap(wat: &'static str, name: &'static str, args: Vec<u64>, want: Trap) {
    let got = call_wat(wat, name, args);
    assert_eq!(
        got.as_ref().err(),
        Some(&Stop::Trap(want)),
        "{name}: expected trap {:?}, got {got:?}",
        want.name()
    );
}

#[test]
fn unreachable_traps_as_unreachable() {
    expect_trap(
        r#"(module (func (export "f") unreachable))"#,
        "f",
        vec![],
        Trap::Unreachable,
    );
}

#[test]
fn load_past_memory_end_traps_as_memory_out_of_bounds() {
    let wat = r#"(module (memory 1)
        (func (export "near") (result i32) (i32.load (i32.const 65533)))
        (func (export "far") (result i64) (i64.load offset=0x7fffffff (i32.const -1))))"#;
    expect_trap(wat, "near", vec![], Trap::MemoryOutOfBounds);
    expect_trap(wat, "far", vec![], Trap::MemoryOutOfBounds);
}

#[test]
fn store_past_memory_end_traps_as_memory_out_of_bounds() {
    let wat = r#"(module (memory 1)
        (func (export "f") (i32.store8 (i32.const 65536) (i32.const 1))))"#;
    expect_trap(wat, "f", vec![], Trap::MemoryOutOfBounds);
}

#[test]
fn integer_division_by_zero_traps_as_divide_by_zero() {
    let wat = r#"(module
        (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
        (func (export "rem") (param i64 i64) (result i64) (i64.rem_u (local.get 0) (local.get 1))))"#;
    expect_trap(wat, "div", vec![7, 0], Trap::IntegerDivideByZero);
    expect_trap(wat, "rem", vec![7, 0], Trap::IntegerDivideByZero);
}

#[test]
fn int_min_divided_by_minus_one_traps_as_integer_overflow() {
    let wat = r#"(module
        (func (export "f") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1))))"#;
    expect_trap(
        wat,
        "f",
        vec![0x8000_0000, 0xffff_ffff],
        Trap::IntegerOverflow,
    );
}

#[test]
fn float_to_int_out_of_range_traps_as_integer_overflow() {
    let wat = r#"(module
        (func (export "f") (param f32) (result i32) (i32.trunc_f32_s (local.get 0))))"#;
    expect_trap(
        wat,
        "f",
        vec![u64::from(3e9f32.to_bits())],
        Trap::IntegerOverflow,
    );
}

#[test]
fn float_to_int_of_nan_traps_as_bad_conversion() {
    let wat = r#"(module
        (func (export "f") (param f64) (result i64) (i64.trunc_f64_u (local.get 0))))"#;
    expect_trap(
        wat,
        "f",
        vec![f64::NAN.to_bits()],
        Trap::BadConversionToInteger,
    );
}

const INDIRECT: &str = r#"(module
    (type $v_i (func (result i32)))
    (type $i_i (func (param i32) (result i32)))
    (table 4 funcref)
    (elem (i32.const 0) $one $ident)
    (func $one (type $v_i) (i32.const 1))
    (func $ident (type $i_i) (local.get 0))
    (func (export "call") (param i32) (result i32)
        (call_indirect (type $v_i) (local.get 0)))
    (func (export "get") (param i32) (result funcref) (table.get (local.get 0))))"#;

#[test]
fn call_indirect_through_matching_entry_returns_normally() {
    let got = call_wat(INDIRECT, "call", vec![0]).map(|r| r[0] as u32);
    assert_eq!(got, Ok(1), "expected Ok(1), got {got:?}");
}

#[test]
fn call_indirect_of_null_entry_traps_as_indirect_call_null() {
    expect_trap(INDIRECT, "call", vec![2], Trap::IndirectCallNull);
}

#[test]
fn call_indirect_with_wrong_signature_traps_as_bad_signature() {
    expect_trap(INDIRECT, "call", vec![1], Trap::IndirectCallBadSignature);
}

#[test]
fn call_indirect_past_table_end_traps_as_table_out_of_bounds() {
    expect_trap(INDIRECT, "call", vec![4], Trap::TableOutOfBounds);
    expect_trap(INDIRECT, "call", vec![0xffff_ffff], Trap::TableOutOfBounds);
}

#[test]
fn table_get_past_end_traps_as_table_out_of_bounds() {
    expect_trap(INDIRECT, "get", vec![4], Trap::TableOutOfBounds);
}

#[test]
fn unbounded_recursion_traps_as_stack_overflow() {
    let wat = r#"(module
        (func $f (export "f") (param i64) (result i64)
            (i64.add (call $f (i64.add (local.get 0) (i64.const 1))) (i64.const 1))))"#;
    expect_trap(wat, "f", vec![0], Trap::StackOverflow);
}

#[test]
fn thread_runs_wasm_again_after_a_stack_overflow_and_a_fault() {
    let got = kwasm_host::run_on_stack(kwasm_host::WASM_STACK, || {
        let wat = r#"(module (memory 1)
            (func $r (export "r") (call $r))
            (func (export "oob") (result i32) (i32.load (i32.const 70000)))
            (func (export "ok") (result i32) (i32.const 42)))"#;
        let mut store = kwasm_host::Store::new();
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let inst = store.instantiate(&m, vec![]).unwrap();
        let mut out = Vec::new();
        for name in ["r", "ok", "oob", "ok", "r", "ok"] {
            out.push(
                common::call_export(&store, &inst, name, vec![])
                    .map(|r| r.first().copied().unwrap_or(0) as u32),
            );
        }
        out
    });
    let so = Err(Stop::Trap(Trap::StackOverflow));
    let oob = Err(Stop::Trap(Trap::MemoryOutOfBounds));
    let want = vec![so, Ok(42), oob, Ok(42), so, Ok(42)];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

/// Child half of the test below: after wasm has run (handlers installed),
/// a wild write in host code must still kill the process with SIGSEGV.
#[test]
fn child_segfaults_in_host_code_when_asked() {
    if std::env::var_os("KWASM_TEST_SEGV_CHILD").is_none() {
        return;
    }
    let r = call_wat(
        r#"(module (func (export "f") (result i32) (i32.const 1)))"#,
        "f",
        vec![],
    );
    assert_eq!(r, Ok(vec![1]));
    // SAFETY: deliberately invalid: this child process is meant to die here.
    unsafe { std::ptr::write_volatile(16 as *mut u64, 1) };
    unreachable!("the write above must fault");
}

#[test]
fn fault_outside_compiled_code_is_not_turned_into_a_trap() {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_segfaults_in_host_code_when_asked",
            "--nocapture",
        ])
        .env("KWASM_TEST_SEGV_CHILD", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(
        status.signal(),
        Some(libc::SIGSEGV),
        "expected the child to die of SIGSEGV, got {status:?}"
    );
}
