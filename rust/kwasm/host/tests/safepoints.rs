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
