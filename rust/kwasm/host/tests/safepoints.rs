// SPDX-License-Identifier: GPL-2.0

//! Safepoints: compiled loops poll the safepoint word, call the Safepoint
//! builtin when a bit is set, and an interrupt bit stops a runaway loop.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kwasm_host::{
    run_on_stack, Stop, Store, Trap, SAFEPOINT_COUNT, SAFEPOINT_INTERRUPT, WASM_STACK,
};
use kwasm_runtime::Extern;

const LOOP: &str = r#"(module
    (func (export "count") (param i32) (result i32) (local i32)
        (loop $l
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
        (local.get 1))
    (func (export "forever") (loop $l (br $l))))"#;

/// Runs `count(n)` with the given flag bits; returns (result, safepoint calls).
fn count_with_flags(n: u64, flags: u64) -> (Result<u64, Stop>, u64) {
    run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(LOOP).unwrap()).unwrap();
        let inst = store.instantiate(&m, vec![]).unwrap();
        store
            .platform()
            .safepoint_flags()
            .store(flags, Ordering::Relaxed);
        let Some(Extern::Func(f)) = inst.export("count") else {
            panic!("no count")
        };
        let mut args = vec![n];
        let r = store
            .call_func(&f, &mut args)
            .map(|()| args[0] & 0xffff_ffff);
        (r, store.platform().safepoint_calls())
    })
}

#[test]
fn safepoint_builtin_is_not_called_while_flags_are_clear() {
    let (r, calls) = count_with_flags(1000, 0);
    assert_eq!(r, Ok(1000), "expected Ok(1000), got {r:?}");
    assert_eq!(calls, 0, "expected no safepoint calls, got {calls}");
}

#[test]
fn safepoint_builtin_fires_on_every_loop_iteration_when_flag_is_set() {
    let (r, calls) = count_with_flags(1000, SAFEPOINT_COUNT);
    assert_eq!(r, Ok(1000), "expected Ok(1000), got {r:?}");
    assert!(
        calls >= 1000,
        "expected >= 1000 safepoint calls (one per iteration), got {calls}"
    );
}

#[test]
fn interrupt_bit_set_by_another_thread_stops_an_infinite_loop() {
    let r = run_on_stack(WASM_STACK, || {
        let mut store = Store::new();
        let m = store.compile(&wat::parse_str(LOOP).unwrap()).unwrap();
        let inst = store.instantiate(&m, vec![]).unwrap();
        let flags = store.platform().safepoint_flags();
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flags.fetch_or(SAFEPOINT_INTERRUPT, Ordering::Relaxed);
        });
        let Some(Extern::Func(f)) = inst.export("forever") else {
            panic!("no forever")
        };
        let r = store.call_func(&f, &mut []);
        killer.join().unwrap();
        r
    });
    assert_eq!(
        r,
        Err(Stop::Trap(Trap::Interrupted)),
        "expected Interrupted, got {r:?}"
    );
}

/// A loop keeping `n` i64 and `n` f64 values live across its safepoint:
/// more than there are registers, so that every register holds one of
/// them at the poll. Returns the module and the expected result of
/// `mix(iters)` (computed here the same way).
fn many_live_values(n: usize, iters: u64) -> (String, u64) {
    let mut body = String::new();
    let mut ints: Vec<u64> = (0..n as u64).map(|i| i * 0x9e37_79b9 + 1).collect();
    let mut floats: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 + 1.0).collect();
    let mut locals = String::new();
    for i in 0..n {
        locals.push_str(" i64 f64");
        body.push_str(&format!(
            "(local.set {} (i64.const {}))(local.set {} (f64.const {}))",
            2 + 2 * i,
            ints[i] as i64,
            3 + 2 * i,
            floats[i]
        ));
    }
    // Each iteration: x[i] = x[i] * 3 + x[i+1]; y[i] = y[i] * 0.5 + y[i+1].
    let mut step = String::new();
    for i in 0..n {
        let j = (i + 1) % n;
        step.push_str(&format!(
            "(local.set {xi} (i64.add (i64.mul (local.get {xi}) (i64.const 3)) (local.get {xj})))\
             (local.set {yi} (f64.add (f64.mul (local.get {yi}) (f64.const 0.5)) (local.get {yj})))",
            xi = 2 + 2 * i,
            xj = 2 + 2 * j,
            yi = 3 + 2 * i,
            yj = 3 + 2 * j
        ));
    }
    let mut fold = String::from("(i64.const 0)");
    for i in 0..n {
        fold = format!(
            "(i64.add (i64.mul {fold} (i64.const 31)) (i64.xor (local.get {}) \
             (i64.reinterpret_f64 (local.get {}))))",
            2 + 2 * i,
            3 + 2 * i
        );
    }
    let wat = format!(
        r#"(module (func (export "mix") (param i64) (result i64) (local i64{locals})
            {body}
            (loop $l
                {step}
                (local.set 1 (i64.add (local.get 1) (i64.const 1)))
                (br_if $l (i64.lt_u (local.get 1) (local.get 0))))
            {fold}))"#
    );
    for _ in 0..iters.max(1) {
        let (x0, y0) = (ints.clone(), floats.clone());
        for i in 0..n {
            let j = (i + 1) % n;
            // Sequential like the wasm: x[j] may already be updated (j = 0).
            let xj = if j < i { ints[j] } else { x0[j] };
            let yj = if j < i { floats[j] } else { y0[j] };
            ints[i] = ints[i].wrapping_mul(3).wrapping_add(xj);
            floats[i] = floats[i] * 0.5 + yj;
        }
    }
    let want = (0..n).fold(0u64, |acc, i| {
        acc.wrapping_mul(31)
            .wrapping_add(ints[i] ^ floats[i].to_bits())
    });
    (wat, want)
}

#[test]
fn values_live_across_a_taken_safepoint_survive_in_every_register() {
    // 20 + 20 values: more than the 15 allocatable integer and 16 float
    // registers. With SAFEPOINT_COUNT set every poll calls the stub, which
    // must give back every register as it found it.
    let (wat, want) = many_live_values(20, 1000);
    for flags in [0, SAFEPOINT_COUNT] {
        let wat = wat.clone();
        let (r, calls) = run_on_stack(WASM_STACK, move || {
            let mut store = Store::new();
            let m = store.compile(&wat::parse_str(&wat).unwrap()).unwrap();
            let inst = store.instantiate(&m, vec![]).unwrap();
            store
                .platform()
                .safepoint_flags()
                .store(flags, Ordering::Relaxed);
            let Some(Extern::Func(f)) = inst.export("mix") else {
                panic!("no mix")
            };
            let mut args = vec![1000];
            let r = store.call_func(&f, &mut args).map(|()| args[0]);
            (r, store.platform().safepoint_calls())
        });
        assert_eq!(
            r,
            Ok(want),
            "flags {flags:#x} ({calls} safepoint calls): expected {want:#x}, got {r:x?}"
        );
        if flags != 0 {
            assert!(
                calls >= 1000,
                "expected >= 1000 safepoint calls, got {calls}"
            );
        }
    }
}
