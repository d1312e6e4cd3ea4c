// SPDX-License-Identifier: GPL-2.0

//! Linking and instantiation: host imports, traps raised by host code,
//! instantiation traps with partial effects, and shared tables.

mod common;

use std::rc::Rc;

use kwasm_abi::{FuncType, ValType};
use kwasm_host::{run_on_stack, HExtern, InstanceError, Stop, Store, Trap, WASM_STACK};
use kwasm_runtime::{Extern, Func};

fn host_func(params: Vec<ValType>, results: Vec<ValType>, f: kwasm_host::HostFunc) -> HExtern {
    HExtern::Func(Func::Host {
        func: f,
        ty: FuncType { params, results },
    })
}

#[test]
fn host_import_receives_arguments_and_returns_results() {
    let got = run_on_stack(WASM_STACK, || {
        let wat = r#"(module (import "env" "add" (func $add (param i32 i64) (result i64)))
            (func (export "f") (result i64) (call $add (i32.const 40) (i64.const 2))))"#;
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let add = host_func(
            vec![ValType::I32, ValType::I64],
            vec![ValType::I64],
            Rc::new(|_, a| {
                a[0] = (a[0] as u32 as u64).wrapping_add(a[1]);
                Ok(())
            }),
        );
        let inst = store.instantiate(&m, vec![add]).unwrap();
        common::call_export(&store, &inst, "f", vec![]).map(|r| r[0])
    });
    assert_eq!(got, Ok(42), "expected Ok(42), got {got:?}");
}

#[test]
fn trap_returned_by_host_function_unwinds_through_wasm() {
    let got = run_on_stack(WASM_STACK, || {
        let wat = r#"(module (import "env" "fail" (func $fail))
            (func (export "f") (result i32) (call $fail) (i32.const 1)))"#;
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let fail = host_func(
            vec![],
            vec![],
            Rc::new(|_, _| Err(Stop::Trap(Trap::HostError))),
        );
        let inst = store.instantiate(&m, vec![fail]).unwrap();
        let first = common::call_export(&store, &inst, "f", vec![]).map(|r| r[0]);
        let exit = host_func(vec![], vec![], Rc::new(|_, _| Err(Stop::Exit(3))));
        let inst2 = store.instantiate(&m, vec![exit]).unwrap();
        let second = common::call_export(&store, &inst2, "f", vec![]).map(|r| r[0]);
        (first, second)
    });
    let want = (Err(Stop::Trap(Trap::HostError)), Err(Stop::Exit(3)));
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn import_with_wrong_signature_is_unlinkable() {
    let got = run_on_stack(WASM_STACK, || {
        let wat = r#"(module (import "env" "f" (func (param i32))))"#;
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let f = host_func(vec![ValType::I64], vec![], Rc::new(|_, _| Ok(())));
        store.instantiate(&m, vec![f]).err()
    });
    assert!(
        matches!(got, Some(InstanceError::Unlinkable(_))),
        "expected Unlinkable, got {got:?}"
    );
}

#[test]
fn out_of_bounds_data_segment_traps_at_instantiation_after_applying_earlier_segments() {
    let got = run_on_stack(WASM_STACK, || {
        let exporter = r#"(module (memory (export "mem") 1)
            (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
        let importer = r#"(module (import "m" "mem" (memory 1))
            (data (i32.const 0) "\2a")
            (data (i32.const 65536) "\01"))"#;
        let mut store = Store::new();
        let m1 = store.compile(&wat::parse_str(exporter).unwrap()).unwrap();
        let i1 = store.instantiate(&m1, vec![]).unwrap();
        let m2 = store.compile(&wat::parse_str(importer).unwrap()).unwrap();
        let mem = i1.export("mem").unwrap();
        let r = store.instantiate(&m2, vec![mem]).err();
        let byte = common::call_export(&store, &i1, "load8", vec![0]).map(|r| r[0]);
        (r, byte)
    });
    let want = (Some(InstanceError::Trap(Trap::MemoryOutOfBounds)), Ok(42));
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn function_written_to_shared_table_by_failed_instantiation_stays_callable() {
    let got = run_on_stack(WASM_STACK, || {
        let owner = r#"(module (table (export "t") 2 funcref)
            (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))"#;
        let writer = r#"(module (import "o" "t" (table 2 funcref))
            (func $seven (result i32) (i32.const 7))
            (elem (i32.const 1) $seven)
            (memory 1)
            (data (i32.const 65536) "\01"))"#;
        let mut store = Store::new();
        let mo = store.compile(&wat::parse_str(owner).unwrap()).unwrap();
        let io = store.instantiate(&mo, vec![]).unwrap();
        let mw = store.compile(&wat::parse_str(writer).unwrap()).unwrap();
        let Some(t @ Extern::Table(_)) = io.export("t") else {
            panic!("no table")
        };
        let r = store.instantiate(&mw, vec![t]).err();
        let v = common::call_export(&store, &io, "call", vec![1]).map(|r| r[0] as u32);
        (r, v)
    });
    let want = (Some(InstanceError::Trap(Trap::MemoryOutOfBounds)), Ok(7));
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn host_function_can_reenter_wasm_and_catch_a_trap_there() {
    let got = run_on_stack(WASM_STACK, || {
        let wat = r#"(module (import "env" "reenter" (func $re (result i32)))
            (func (export "outer") (result i32) (i32.add (call $re) (i32.const 1)))
            (func (export "boom") (result i32) unreachable)
            (func (export "ok") (result i32) (i32.const 10)))"#;
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let boom = m.compiled().export("boom").unwrap();
        let ok = m.compiled().export("ok").unwrap();
        let (kwasm_abi::ExportKind::Func(boom), kwasm_abi::ExportKind::Func(ok)) = (boom, ok)
        else {
            panic!("exports are functions")
        };
        // The host function calls `boom` (whose trap it catches) and then
        // `ok`, both on the same instance, from inside a wasm call.
        let reenter = host_func(
            vec![],
            vec![ValType::I32],
            Rc::new(move |inst, a| {
                let mut s = [0u64; 1];
                let t = inst.call_target(boom).unwrap();
                let r = kwasm_host::entry::call(&t, &mut s);
                assert_eq!(
                    r,
                    Err(Stop::Trap(Trap::Unreachable)),
                    "inner trap caught by inner entry"
                );
                let t = inst.call_target(ok).unwrap();
                kwasm_host::entry::call(&t, &mut s)?;
                a[0] = s[0];
                Ok(())
            }),
        );
        let inst = store.instantiate(&m, vec![reenter]).unwrap();
        common::call_export(&store, &inst, "outer", vec![]).map(|r| r[0] as u32)
    });
    assert_eq!(
        got,
        Ok(11),
        "expected Ok(11) (10 from the nested call + 1), got {got:?}"
    );
}
