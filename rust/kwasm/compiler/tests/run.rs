// SPDX-License-Identifier: GPL-2.0

//! Runs generated code in the test runtime (tests/common) and checks wasm
//! semantics: arithmetic, control flow, memory, calls, tables, traps.

mod common;

use common::{wat_module, Instance};
use kwasm_abi::Trap;

fn inst(src: &str) -> Box<Instance> {
    Instance::new(wat_module(src))
}

fn f32b(v: f32) -> u64 {
    v.to_bits() as u64
}
fn f64b(v: f64) -> u64 {
    v.to_bits()
}

#[test]
fn hello_world_runs() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("hello-run");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("hello.rs");
    std::fs::write(
        &src,
        "fn main() {\n    let arg = std::env::args().nth(1).unwrap_or_else(|| \"world\".to_string());\n    println!(\"Hello, {}!\", arg);\n}\n",
    )
    .unwrap();
    let out = dir.join("hello.wasm");
    let ok = std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--target", "wasm32-wasip1", "-O"])
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("wasm32-wasip1 unavailable; skipping");
        return;
    }
    let wasm = std::fs::read(&out).unwrap();
    let m = kwasm_compiler::compile(&wasm, &common::config()).unwrap();
    let mut i = Instance::new(m.clone());
    i.args = vec!["hello.wasm".into(), "kernel".into()];
    let r = i.call_trapping("_start", &[]);
    assert!(r.is_ok(), "{r:?}");
    // stdout was written in the child; run again in-process, in a fresh
    // instance (the child's memory writes are shared), to see it.
    let mut i = Instance::new(m);
    i.args = vec!["hello.wasm".into(), "kernel".into()];
    i.call("_start", &[]);
    assert_eq!(
        String::from_utf8_lossy(&i.stdout.borrow()),
        "Hello, kernel!\n"
    );
}

#[test]
fn integer_arithmetic() {
    let mut i = inst(
        r#"(module
        (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
        (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
        (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
        (func (export "div_u64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_u)
        (func (export "rem_s64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)
        (func (export "shl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.shl)
        (func (export "rotr64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rotr)
        (func (export "clz") (param i32) (result i32) local.get 0 i32.clz)
        (func (export "ctz64") (param i64) (result i64) local.get 0 i64.ctz)
        (func (export "popcnt") (param i32) (result i32) local.get 0 i32.popcnt)
        (func (export "eqz64") (param i64) (result i32) local.get 0 i64.eqz)
        (func (export "lt_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.lt_u)
        (func (export "ext8") (param i32) (result i32) local.get 0 i32.extend8_s)
        (func (export "ext32") (param i64) (result i64) local.get 0 i64.extend32_s)
        (func (export "wrap") (param i64) (result i32) local.get 0 i32.wrap_i64)
        (func (export "extend_u") (param i32) (result i64) local.get 0 i64.extend_i32_u)
    )"#,
    );
    assert_eq!(i.call("add", &[u32::MAX as u64, 2]), [1]);
    assert_eq!(
        i.call("div_s", &[(-7i32) as u32 as u64, 2]),
        [(-3i32) as u32 as u64]
    );
    assert_eq!(
        i.call("rem_s", &[i32::MIN as u32 as u64, u32::MAX as u64]),
        [0]
    );
    assert_eq!(i.call("rem_s64", &[i64::MIN as u64, u64::MAX]), [0]);
    assert_eq!(i.call("div_u64", &[u64::MAX, 2]), [u64::MAX / 2]);
    assert_eq!(i.call("shl", &[1, 33]), [2]);
    assert_eq!(i.call("rotr64", &[1, 65]), [1 << 63]);
    assert_eq!(i.call("clz", &[0]), [32]);
    assert_eq!(i.call("ctz64", &[0]), [64]);
    assert_eq!(i.call("popcnt", &[0xff00ff]), [16]);
    assert_eq!(i.call("eqz64", &[0]), [1]);
    assert_eq!(i.call("lt_u", &[1, u32::MAX as u64]), [1]);
    assert_eq!(i.call("ext8", &[0x80]), [0xffff_ff80]);
    assert_eq!(i.call("ext32", &[0x8000_0000]), [0xffff_ffff_8000_0000]);
    assert_eq!(i.call("wrap", &[0x1_2345_6789]), [0x2345_6789]);
    assert_eq!(i.call("extend_u", &[0xffff_ffff]), [0xffff_ffff]);
    assert_eq!(
        i.call_trapping("div_s", &[1, 0]),
        Err(Trap::IntegerDivideByZero)
    );
    assert_eq!(
        i.call_trapping("div_s", &[i32::MIN as u32 as u64, u32::MAX as u64]),
        Err(Trap::IntegerOverflow)
    );
    assert_eq!(
        i.call_trapping("rem_s", &[5, 0]),
        Err(Trap::IntegerDivideByZero)
    );
}

#[test]
fn float_semantics() {
    let mut i = inst(
        r#"(module
        (func (export "min") (param f32 f32) (result f32) local.get 0 local.get 1 f32.min)
        (func (export "max64") (param f64 f64) (result f64) local.get 0 local.get 1 f64.max)
        (func (export "nearest") (param f64) (result f64) local.get 0 f64.nearest)
        (func (export "floor") (param f32) (result f32) local.get 0 f32.floor)
        (func (export "copysign") (param f32 f32) (result f32) local.get 0 local.get 1 f32.copysign)
        (func (export "trunc_s") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
        (func (export "trunc_u64") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
        (func (export "sat_s") (param f32) (result i32) local.get 0 i32.trunc_sat_f32_s)
        (func (export "sat_u64") (param f64) (result i64) local.get 0 i64.trunc_sat_f64_u)
        (func (export "conv_u64") (param i64) (result f64) local.get 0 f64.convert_i64_u)
        (func (export "conv_u32") (param i32) (result f32) local.get 0 f32.convert_i32_u)
        (func (export "ne") (param f64 f64) (result i32) local.get 0 local.get 1 f64.ne)
        (func (export "demote") (param f64) (result f32) local.get 0 f32.demote_f64)
        (func (export "reinterp") (param f32) (result i32) local.get 0 i32.reinterpret_f32)
    )"#,
    );
    assert_eq!(i.call("min", &[f32b(0.0), f32b(-0.0)]), [f32b(-0.0)]);
    let nan = i.call("min", &[f32b(f32::NAN), f32b(1.0)])[0];
    assert!(f32::from_bits(nan as u32).is_nan());
    assert_eq!(i.call("max64", &[f64b(-0.0), f64b(0.0)]), [f64b(0.0)]);
    assert_eq!(i.call("nearest", &[f64b(2.5)]), [f64b(2.0)]);
    assert_eq!(i.call("nearest", &[f64b(-3.5)]), [f64b(-4.0)]);
    assert_eq!(i.call("floor", &[f32b(-1.5)]), [f32b(-2.0)]);
    assert_eq!(i.call("copysign", &[f32b(1.0), f32b(-0.0)]), [f32b(-1.0)]);
    assert_eq!(i.call("trunc_s", &[f32b(-3.9)]), [(-3i32) as u32 as u64]);
    assert_eq!(
        i.call("trunc_u64", &[f64b(1e19)]),
        [10_000_000_000_000_000_000]
    );
    assert_eq!(i.call("sat_s", &[f32b(f32::NAN)]), [0]);
    assert_eq!(i.call("sat_s", &[f32b(1e10)]), [i32::MAX as u64]);
    assert_eq!(i.call("sat_u64", &[f64b(-5.0)]), [0]);
    assert_eq!(
        i.call("conv_u64", &[u64::MAX]),
        [f64b(18446744073709551616.0)]
    );
    assert_eq!(i.call("conv_u32", &[u32::MAX as u64]), [f32b(4294967296.0)]);
    assert_eq!(i.call("ne", &[f64b(f64::NAN), f64b(f64::NAN)]), [1]);
    assert_eq!(i.call("demote", &[f64b(1.5)]), [f32b(1.5)]);
    assert_eq!(i.call("reinterp", &[f32b(-0.0)]), [0x8000_0000]);
    assert_eq!(
        i.call_trapping("trunc_s", &[f32b(f32::NAN)]),
        Err(Trap::BadConversionToInteger)
    );
    assert_eq!(
        i.call_trapping("trunc_s", &[f32b(3e9)]),
        Err(Trap::IntegerOverflow)
    );
    assert_eq!(
        i.call_trapping("trunc_u64", &[f64b(-1.0)]),
        Err(Trap::IntegerOverflow)
    );
}

#[test]
fn control_flow_and_multi_value() {
    let mut i = inst(
        r#"(module
        (func $fib (export "fib") (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_u
            if (result i32) local.get 0
            else local.get 0 i32.const 1 i32.sub call $fib
                 local.get 0 i32.const 2 i32.sub call $fib i32.add end)
        (func (export "loop_sum") (param i32) (result i32) (local i32)
            block loop
                local.get 0 i32.eqz br_if 1
                local.get 1 local.get 0 i32.add local.set 1
                local.get 0 i32.const 1 i32.sub local.set 0
                br 0
            end end
            local.get 1)
        (func $swap (param i32 i32) (result i32 i32) local.get 1 local.get 0)
        (func (export "swap_sub") (param i32 i32) (result i32)
            local.get 0 local.get 1 call $swap i32.sub)
        (func (export "block_params") (param i32) (result i32)
            local.get 0 i32.const 10
            block (param i32 i32) (result i32) i32.add end)
        (func (export "loop_params") (result i32) (local i32)
            i32.const 0
            loop (param i32) (result i32)
                i32.const 1 i32.add
                local.tee 0 local.get 0 i32.const 5 i32.lt_u br_if 0
            end)
        (func (export "br_table") (param i32) (result i32)
            block (result i32) block (result i32) block (result i32)
                i32.const 100 local.get 0 br_table 0 1 2
            end i32.const 1 i32.add return
            end i32.const 2 i32.add return
            end i32.const 3 i32.add)
        (func (export "if_no_else") (param i32) (result i32)
            i32.const 7 local.get 0 if (param i32) (result i32) i32.const 1 i32.add end)
        (func (export "dead_code") (param i32) (result i32)
            block (result i32)
                local.get 0 br 0
                i32.const 1 i32.add
                block (result f32) unreachable end drop
                if i32.const 5 drop else nop end
            end)
        (func (export "unreachable") unreachable)
        (func (export "select") (param i32) (result i64)
            i64.const 1 i64.const 2 local.get 0 select)
        (func (export "multi") (result i32 i64 f32 f64)
            i32.const 1 i64.const 2 f32.const 3 f64.const 4)
        (func (export "many") (result i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
            i64.const 1 i64.const 2 i64.const 3 i64.const 4 i64.const 5
            i64.const 6 i64.const 7 i64.const 8 i64.const 9 i64.const 10)
    )"#,
    );
    assert_eq!(i.call("fib", &[20]), [6765]);
    assert_eq!(i.call("loop_sum", &[100]), [5050]);
    assert_eq!(i.call("swap_sub", &[3, 10]), [7]);
    assert_eq!(i.call("block_params", &[5]), [15]);
    assert_eq!(i.call("loop_params", &[]), [5]);
    assert_eq!(i.call("br_table", &[0]), [101]);
    assert_eq!(i.call("br_table", &[1]), [102]);
    assert_eq!(i.call("br_table", &[2]), [103]);
    assert_eq!(i.call("br_table", &[99]), [103]);
    assert_eq!(i.call("if_no_else", &[0]), [7]);
    assert_eq!(i.call("if_no_else", &[1]), [8]);
    assert_eq!(i.call("dead_code", &[41]), [41]);
    assert_eq!(i.call("select", &[0]), [2]);
    assert_eq!(i.call("select", &[1]), [1]);
    assert_eq!(i.call("multi", &[]), [1, 2, f32b(3.0), f64b(4.0)]);
    assert_eq!(i.call("many", &[]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(i.call_trapping("unreachable", &[]), Err(Trap::Unreachable));
}

#[test]
fn memory_and_globals() {
    let mut i = inst(
        r#"(module
        (memory 1 3)
        (data (i32.const 16) "\01\02\03\04\05\06\07\08")
        (global $g (mut i64) (i64.const 42))
        (global $c f64 (f64.const 1.5))
        (func (export "load") (param i32) (result i64) local.get 0 i64.load offset=16)
        (func (export "load8_s") (param i32) (result i32) local.get 0 i32.load8_s)
        (func (export "load16_u") (param i32) (result i64) local.get 0 i64.load16_u offset=17)
        (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store16)
        (func (export "big_offset") (param i32) (result i32) local.get 0 i32.load offset=0xfffffff0)
        (func (export "size") (result i32) memory.size)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
        (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
        (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
        (func (export "gget") (result i64) global.get $g)
        (func (export "ginc") global.get $g i64.const 1 i64.add global.set $g)
        (func (export "cget") (result f64) global.get $c)
    )"#,
    );
    assert_eq!(i.call("load", &[0]), [0x0807060504030201]);
    assert_eq!(i.call("load16_u", &[0]), [0x0302]);
    i.call("store", &[100, 0xffff_8081]);
    assert_eq!(i.call("load8_s", &[100]), [0xffff_ff81]);
    assert_eq!(i.memory()[101], 0x80);
    assert_eq!(i.call("size", &[]), [1]);
    assert_eq!(i.call("grow", &[1]), [1]);
    assert_eq!(i.call("size", &[]), [2]);
    assert_eq!(i.call("grow", &[5]), [u32::MAX as u64]);
    i.call("fill", &[200, 0xab, 4]);
    assert_eq!(&i.memory()[199..205], &[0, 0xab, 0xab, 0xab, 0xab, 0]);
    i.call("copy", &[300, 16, 8]);
    assert_eq!(&i.memory()[300..308], &[1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(i.call("gget", &[]), [42]);
    i.call("ginc", &[]);
    assert_eq!(i.call("gget", &[]), [43]);
    assert_eq!(i.global(0), 43);
    assert_eq!(i.call("cget", &[]), [f64b(1.5)]);
    // Out of bounds: guard-page fault and explicit check.
    assert_eq!(
        i.call_trapping("load", &[2 * 65536 - 16 - 4]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        i.call_trapping("load8_s", &[u32::MAX as u64]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        i.call_trapping("big_offset", &[0]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(
        i.call_trapping("big_offset", &[0x100]),
        Err(Trap::MemoryOutOfBounds)
    );
    assert_eq!(i.call_trapping("load", &[0]), Ok(vec![0x0807060504030201]));
}

/// `memory.copy` and `memory.fill` of every length around the inline
/// limit (64 bytes), forward and backward overlapping, checked against a
/// model of the memory; a range ending exactly at the memory's end works,
/// and every range crossing it (each length up to 66, each amount past)
/// traps before writing anything, as do zero-length ones past the end.
#[test]
fn bulk_memory_every_short_length() {
    let mut i = inst(
        r#"(module
        (memory 1 1)
        (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
        (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
    )"#,
    );
    let mut model = vec![0u8; 65536];
    let mut seed = 0x1234_5678_u32;
    for b in model.iter_mut().take(4096) {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        *b = (seed >> 24) as u8;
    }
    // Fill the real memory with the model's bytes, 64 at a time.
    for (at, chunk) in model.chunks(64).enumerate().take(64) {
        for (j, &b) in chunk.iter().enumerate() {
            i.call("fill", &[(at * 64 + j) as u64, u64::from(b), 1]);
        }
    }
    assert_eq!(i.memory(), &model[..]);
    for n in 0..=80usize {
        for (d, s) in [(1000, 1003), (1003, 1000), (2000, 3001), (5, 5), (64, 0)] {
            i.call("copy", &[d as u64, s as u64, n as u64]);
            model.copy_within(s..s + n, d);
            assert_eq!(i.memory(), &model[..], "copy d={d} s={s} n={n}");
        }
        let d = 7000 + n;
        i.call("fill", &[d as u64, 0x1_00 | n as u64, n as u64]);
        model[d..d + n].fill(n as u8);
        assert_eq!(i.memory(), &model[..], "fill d={d} n={n}");
    }
    for n in [1u64, 8, 40, 64, 65, 1000] {
        let end = 65536 - n;
        i.call("copy", &[end, 0, n]);
        i.call("fill", &[end, 0xee, n]);
    }
    // The inline operations have no bounds check of their own: a range
    // crossing the memory's end must fault at the first access that
    // writes, whatever the length class and wherever the end falls in it.
    let before = i.memory().to_vec();
    for n in (1u64..=66).chain([100, 1000]) {
        for past in 1..=n.min(66) {
            let at = 65536 - n + past;
            let cases = [
                ("copy", [at, 0, n]),
                ("copy", [0, at, n]),
                ("copy", [at, at, n]),
                ("fill", [at, 0x11, n]),
            ];
            for (f, args) in cases {
                assert_eq!(
                    i.call_trapping(f, &args),
                    Err(Trap::MemoryOutOfBounds),
                    "{f}{args:?} crosses the end by {past}: expected a trap"
                );
                if i.memory() != &before[..] {
                    let first = (0..before.len()).find(|&k| i.memory()[k] != before[k]);
                    panic!("{f}{args:?} trapped after writing (first changed byte {first:?})");
                }
            }
        }
    }
    // Zero bytes at the end are in bounds; zero bytes past it are not.
    i.call("copy", &[65536, 65536, 0]);
    i.call("fill", &[65536, 0, 0]);
    for (f, args) in [
        ("copy", [65537, 0, 0]),
        ("copy", [0, 65537, 0]),
        ("copy", [u64::from(u32::MAX), 0, 0]),
        ("fill", [65537, 0, 0]),
    ] {
        assert_eq!(
            i.call_trapping(f, &args),
            Err(Trap::MemoryOutOfBounds),
            "{f}{args:?}: zero length past the end must trap"
        );
    }
    // Addresses near 4 GiB with a short length: far past the end, inside
    // the guard, trap without writing.
    for n in [1u64, 7, 33, 64] {
        let at = u64::from(u32::MAX) - 2;
        for (f, args) in [
            ("copy", [at, 0, n]),
            ("copy", [0, at, n]),
            ("fill", [at, 1, n]),
        ] {
            assert_eq!(
                i.call_trapping(f, &args),
                Err(Trap::MemoryOutOfBounds),
                "{f}{args:?}"
            );
        }
    }
    assert_eq!(i.memory(), &before[..], "a trapping operation wrote");
}

#[test]
fn calls_tables_and_imports() {
    let mut i = inst(
        r#"(module
        (import "env" "add" (func $add (param i32 i32) (result i32)))
        (type $ii (func (param i32) (result i32)))
        (type $v (func))
        (table $t 4 10 funcref)
        (table $e 2 externref)
        (elem (table $t) (i32.const 0) func $double $inc $add_imp)
        (func $double (type $ii) local.get 0 i32.const 2 i32.mul)
        (func $inc (type $ii) local.get 0 i32.const 1 i32.add)
        (func $add_imp (param i32) (result i32) local.get 0 i32.const 100 call $add)
        (func (export "call_add") (param i32 i32) (result i32) local.get 0 local.get 1 call $add)
        (func (export "indirect") (param i32 i32) (result i32)
            local.get 1 local.get 0 call_indirect $t (type $ii))
        (func (export "indirect_v") (param i32) local.get 0 call_indirect $t (type $v))
        (func (export "tsize") (result i32) table.size $t)
        (func (export "tgrow") (param i32) (result i32) ref.null func local.get 0 table.grow $t)
        (func (export "is_null") (param i32) (result i32) local.get 0 table.get $t ref.is_null)
        (func (export "set_inc") (param i32) local.get 0 ref.func $inc table.set $t)
        (func (export "ext_roundtrip") (param externref) (result externref)
            i32.const 1 local.get 0 table.set $e i32.const 1 table.get $e)
    )"#,
    );
    assert_eq!(i.call("call_add", &[40, 2]), [42]);
    assert_eq!(i.call("indirect", &[0, 21]), [42]);
    assert_eq!(i.call("indirect", &[1, 41]), [42]);
    assert_eq!(i.call("indirect", &[2, 5]), [105]);
    assert_eq!(i.call("tsize", &[]), [4]);
    assert_eq!(i.call("is_null", &[3]), [1]);
    assert_eq!(i.call("is_null", &[0]), [0]);
    assert_eq!(
        i.call_trapping("indirect", &[3, 0]),
        Err(Trap::IndirectCallNull)
    );
    assert_eq!(
        i.call_trapping("indirect", &[4, 0]),
        Err(Trap::TableOutOfBounds)
    );
    assert_eq!(
        i.call_trapping("indirect_v", &[0]),
        Err(Trap::IndirectCallBadSignature)
    );
    assert_eq!(i.call("tgrow", &[2]), [4]);
    assert_eq!(i.call("tsize", &[]), [6]);
    i.call("set_inc", &[5]);
    assert_eq!(i.call("indirect", &[5, 1]), [2]);
    assert_eq!(i.call("ext_roundtrip", &[0xdead_beef]), [0xdead_beef]);
}

/// Compiled code keeps the safepoint word's address in r15, which the
/// SystemV caller of a trampoline owns: the trampoline must give it, and
/// every other callee-saved register, back unchanged.
#[test]
fn trampolines_return_the_callers_callee_saved_registers() {
    let mut i = inst(
        r#"(module
        (func $sum (param i32) (result i32) (local i32)
            (loop $l
                local.get 1 local.get 0 i32.add local.set 1
                local.get 0 i32.const 1 i32.sub local.tee 0
                br_if $l)
            local.get 1)
        (func (export "run") (param i32) (result i32) local.get 0 call $sum)
    )"#,
    );
    let (tramp, vmctx, code) = i.entry("run");
    let mut args = [100u64];
    let magic = [
        0x1212_3434_5656_7878u64,
        0x1313_3535_5757_7979,
        0x1414_3636_5858_7a7a,
        0x1515_3737_5959_7b7b,
    ];
    let (mut r12, mut r13, mut r14, mut r15) = (magic[0], magic[1], magic[2], magic[3]);
    // The trampoline has the TrampolineFn ABI and gets its instance's vmctx,
    // a function of its type and an argument array large enough for the
    // results; the asm block may call (no `nostack`).
    // SAFETY: as above, a well-formed call of compiled code.
    unsafe {
        std::arch::asm!(
            "call {f}",
            f = in(reg) tramp,
            in("rdi") vmctx,
            in("rsi") code,
            in("rdx") args.as_mut_ptr(),
            inout("r12") r12,
            inout("r13") r13,
            inout("r14") r14,
            inout("r15") r15,
            clobber_abi("C"),
        );
    }
    assert_eq!(args[0], 5050, "the call's result");
    assert_eq!(
        [r12, r13, r14, r15],
        magic,
        "r12-r15 after the trampoline returned (expected them unchanged)"
    );
}

/// Returning through many frames passes no function entry and no loop
/// header: a function that runs more than a few hundred operators after a
/// call polls before it returns, so the way back up from a deep recursion
/// still sees a request made at the bottom.
#[test]
fn functions_with_long_tails_after_a_call_poll_before_returning() {
    let tail = "local.get 0 local.set 1 ".repeat(200);
    let src = format!(
        r#"(module
        (import "env" "request_safepoint" (func $req))
        (func $long (export "long") (param i32) (local i32)
            local.get 0
            if local.get 0 i32.const 1 i32.sub call $long else call $req end
            {tail})
        (func $short (export "short") (param i32) (local i32)
            local.get 0
            if local.get 0 i32.const 1 i32.sub call $short else call $req end
            local.get 0 local.set 1)
    )"#
    );
    let mut i = inst(&src);
    i.call("short", &[50]);
    assert_eq!(
        i.safepoints, 0,
        "short tails: expected no poll between the request and the return to the host"
    );
    i.set_safepoint_word(0);
    i.call("long", &[50]);
    assert_eq!(
        i.safepoints, 1,
        "long tails: expected the request seen once on the way back up"
    );
}

#[test]
fn safepoints_and_stack_limit() {
    let mut i = inst(
        r#"(module
        (func (export "spin") (param i32) (result i32)
            loop local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0 end local.get 0)
        (func $rec (export "rec") (param i32) (result i32)
            local.get 0 i32.eqz if (result i32) i32.const 0
            else local.get 0 i32.const 1 i32.sub call $rec i32.const 1 i32.add end)
    )"#,
    );
    assert_eq!(i.call("spin", &[10]), [0]);
    assert_eq!(i.safepoints, 0);
    i.set_safepoint_word(1);
    assert_eq!(i.call("spin", &[10]), [0]);
    assert_eq!(i.safepoints, 1);
    assert_eq!(i.call("rec", &[1000]), [1000]);
    // A limit above the current stack pointer makes the first prologue trap.
    // (Not u64::MAX: the prologue adds the frame size to the limit.)
    i.set_stack_limit(0xffff_0000_0000_0000);
    assert_eq!(i.call_trapping("rec", &[10]), Err(Trap::StackOverflow));
}
