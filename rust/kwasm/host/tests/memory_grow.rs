// SPDX-License-Identifier: GPL-2.0

//! memory.grow honours the declared maximum and the platform's cap, and the
//! grown memory is really accessible (and zeroed).

mod common;

use kwasm_host::{run_on_stack, Stop, Store, Trap, WASM_STACK};

const GROW: &str = r#"(module (memory 1 3)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "size") (result i32) (memory.size))
    (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "store") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"#;

/// Runs `steps` (export, args) in order on one instance; returns each
/// result's slot 0 as i32, or the stop.
fn run_steps(
    wat: &'static str,
    cap: Option<u64>,
    steps: Vec<(&'static str, Vec<u64>)>,
) -> Vec<Result<i32, Stop>> {
    run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        if let Some(c) = cap {
            store.platform().set_memory_cap(c);
        }
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        let inst = store.instantiate(&m, vec![]).unwrap();
        steps
            .into_iter()
            .map(|(n, a)| {
                // Functions without results count as 0.
                common::call_export(&store, &inst, n, a)
                    .map(|r| r.first().copied().unwrap_or(0) as u32 as i32)
            })
            .collect()
    })
}

#[test]
fn memory_grow_up_to_declared_max_succeeds_and_past_it_returns_minus_one() {
    let got = run_steps(
        GROW,
        None,
        vec![
            ("grow", vec![0]),
            ("grow", vec![2]),
            ("size", vec![]),
            ("grow", vec![1]),
            ("grow", vec![0x1_0000]),
            ("size", vec![]),
        ],
    );
    let want = vec![Ok(1), Ok(1), Ok(3), Ok(-1), Ok(-1), Ok(3)];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn grown_pages_are_accessible_and_zeroed_and_the_end_still_traps() {
    let top = 3 * 65536 - 4;
    let got = run_steps(
        GROW,
        None,
        vec![
            ("load", vec![65536]),
            ("grow", vec![2]),
            ("load", vec![top]),
            ("store", vec![top, 77]),
            ("load", vec![top]),
            ("load", vec![3 * 65536]),
        ],
    );
    let oob = Err(Stop::Trap(Trap::MemoryOutOfBounds));
    let want = vec![oob, Ok(1), Ok(0), Ok(0), Ok(77), oob];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn memory_grow_refused_by_platform_cap_returns_minus_one() {
    let wat = r#"(module (memory 1)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;
    let got = run_steps(
        wat,
        Some(2 * 65536),
        vec![("grow", vec![1]), ("grow", vec![1]), ("grow", vec![0])],
    );
    let want = vec![Ok(1), Ok(-1), Ok(2)];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn memory_fill_out_of_bounds_traps_before_writing_anything() {
    let wat = r#"(module (memory 1)
        (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0xaa) (local.get 1)))
        (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0))))"#;
    let got = run_steps(
        wat,
        None,
        vec![
            ("fill", vec![65000, 1000]),
            ("load8", vec![65000]),
            ("fill", vec![10, 1]),
            ("load8", vec![10]),
        ],
    );
    let want = vec![
        Err(Stop::Trap(Trap::MemoryOutOfBounds)),
        Ok(0),
        Ok(0),
        Ok(0xaa),
    ];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn memory_copy_with_overlap_moves_bytes_like_memmove() {
    let wat = r#"(module (memory 1) (data (i32.const 0) "\01\02\03\04\05")
        (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
        (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#;
    let got = run_steps(
        wat,
        None,
        vec![
            ("copy", vec![1, 0, 4]),
            ("load", vec![1]),
            ("copy", vec![0, 1, 4]),
            ("load", vec![0]),
        ],
    );
    let want = vec![Ok(0), Ok(0x04030201), Ok(0), Ok(0x04030201)];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn memory_without_max_grows_to_4_gib_and_the_last_byte_is_usable() {
    let wat = r#"(module (memory 0)
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
        (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
        (func (export "load16") (param i32) (result i32) (i32.load16_u (local.get 0))))"#;
    let last = 0xffff_ffff;
    let got = run_steps(
        wat,
        None,
        vec![
            ("grow", vec![0x1_0000]),
            ("grow", vec![1]),
            ("store8", vec![last, 0x5a]),
            ("load8", vec![last]),
            ("load16", vec![last]),
        ],
    );
    let want = vec![
        Ok(0),
        Ok(-1),
        Ok(0),
        Ok(0x5a),
        Err(Stop::Trap(Trap::MemoryOutOfBounds)),
    ];
    assert_eq!(got, want, "expected {want:?}, got {got:?}");
}

#[test]
fn table_larger_than_the_platform_cap_is_refused_at_instantiation() {
    let got = run_on_stack(WASM_STACK, || {
        let wat = r#"(module (table 0xffffffff funcref))"#;
        let mut store = Store::new();
        // The compiler has its own cap; lift it to reach the runtime's.
        store.config_mut().limits.max_table_elems = u64::MAX;
        let m = store.compile(&wat::parse_str(wat).unwrap()).unwrap();
        store.instantiate(&m, vec![]).err()
    });
    assert!(
        matches!(got, Some(kwasm_host::InstanceError::Resource(_))),
        "expected a refused resource, got {got:?}"
    );
}
