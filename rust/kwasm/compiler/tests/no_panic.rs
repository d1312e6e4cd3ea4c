// SPDX-License-Identifier: GPL-2.0

//! The compiler must never panic, whatever the input: the kernel BUG()s on
//! panic. Deterministic (seeded) generators only, so failures reproduce.
//!
//! - random valid modules from wasm-smith (restricted to WebAssembly 2.0
//!   without SIMD) must compile, or fail only on a limit;
//! - truncated, bit-flipped and byte-mutated modules must return Ok or Err.

use std::panic::{catch_unwind, AssertUnwindSafe};

use kwasm_compiler::{compile, CompileError, Config, IsaFeatures};

mod common;

/// xorshift64*: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Iterations scale with KWASM_FUZZ_SCALE (default 1) for longer runs.
fn scale() -> usize {
    std::env::var("KWASM_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn config() -> Config {
    Config {
        features: IsaFeatures::baseline(),
        verify: true,
        ..Config::default()
    }
}

fn compile_no_panic(wasm: &[u8], what: &str) -> Result<(), CompileError> {
    compile_no_panic_with(wasm, what, &config())
}

/// The kernel compiles without the verifier: mutated inputs use that setting.
fn compile_no_panic_unverified(wasm: &[u8], what: &str) -> Result<(), CompileError> {
    let config = Config {
        verify: false,
        ..config()
    };
    compile_no_panic_with(wasm, what, &config)
}

fn compile_no_panic_with(wasm: &[u8], what: &str, config: &Config) -> Result<(), CompileError> {
    match catch_unwind(AssertUnwindSafe(|| compile(wasm, config))) {
        Ok(r) => r.map(|_| ()),
        Err(_) => {
            let path = std::env::temp_dir().join("kwasm-panic.wasm");
            let _ = std::fs::write(&path, wasm);
            panic!(
                "compile panicked on {what}; input saved to {}",
                path.display()
            );
        }
    }
}

fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        max_memories: 1,
        max_tables: 3,
        max_funcs: 30,
        max_imports: 10,
        min_funcs: 1,
        ..common::wasm2_smith_config()
    }
}

fn smith_module(rng: &mut Rng) -> Option<Vec<u8>> {
    let len = 8 * 1024 + rng.below(64 * 1024);
    let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let mut u = arbitrary::Unstructured::new(&bytes);
    wasm_smith::Module::new(smith_config(), &mut u)
        .ok()
        .map(|m| m.to_bytes())
}

#[test]
fn random_valid_modules_compile() {
    let mut rng = Rng(0x5eed_0001 + scale() as u64 - 1);
    let mut compiled = 0;
    let mut bytes = 0;
    for i in 0..300 * scale() {
        let Some(wasm) = smith_module(&mut rng) else {
            continue;
        };
        bytes += wasm.len();
        match compile_no_panic(&wasm, &format!("wasm-smith module #{i}")) {
            Ok(()) | Err(CompileError::Limit(..)) => compiled += 1,
            Err(e) => {
                let path = std::env::temp_dir().join(format!("kwasm-smith-{i}.wasm"));
                let _ = std::fs::write(&path, &wasm);
                panic!("module #{i} ({}): {e}", path.display());
            }
        }
    }
    eprintln!("{compiled} modules, {bytes} bytes of wasm");
    assert!(
        compiled > 200 * scale(),
        "only {compiled} modules generated"
    );
}

const SEEDS: &[&str] = &[
    r#"(module
        (import "env" "f" (func $f (param i32 i64) (result f32)))
        (memory 1 2)
        (table 4 funcref)
        (global $g (mut i32) (i32.const 0))
        (func $a (param i32) (result i32)
            local.get 0 i32.const 3 i32.div_s
            block (result i32) local.get 0 local.get 0 br_if 0 drop i32.const 7 end i32.add)
        (func (export "b") (param i64 f64) (result i64)
            block loop local.get 0 i64.const 1 i64.sub local.tee 0 i64.eqz br_if 1 br 0 end end
            local.get 0 i32.wrap_i64 i64.load offset=8 local.get 1 i64.trunc_sat_f64_s i64.add)
        (func (param i32) (result f32)
            local.get 0 local.get 0 i64.extend_i32_u call $f
            local.get 0 local.get 0 call_indirect (param i32) (result i32) f32.convert_i32_s f32.add)
        (elem (i32.const 0) $a)
        (data (i32.const 0) "abc"))"#,
    r#"(module
        (type $t (func (param i32 i32) (result i32 i32)))
        (table $t0 2 10 externref)
        (memory 1)
        (func (type $t) local.get 1 local.get 0)
        (func (param i32) (result i32)
            local.get 0
            if (result i32) i32.const 1 else
              local.get 0 i32.const 2 block (param i32 i32) (result i32) i32.sub end
            end
            local.get 0 memory.grow drop
            i32.const 0 i32.const 0 i32.const 10 memory.fill
            ref.null extern i32.const 1 table.grow $t0 i32.add
            local.get 0 br_table 0 0 0)
        (func (result f64) f64.const 1.5 f64.nearest f64.const -0 f64.copysign))"#,
];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut w = base.to_vec();
    match rng.below(5) {
        0 => w.truncate(rng.below(w.len() + 1)),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(w.len());
                if let Some(b) = w.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        2 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(w.len());
                if let Some(b) = w.get_mut(i) {
                    *b = rng.next() as u8;
                }
            }
        }
        3 => {
            let i = rng.below(w.len() + 1);
            w.insert(i, rng.next() as u8);
        }
        _ => {
            if !w.is_empty() {
                let i = rng.below(w.len());
                w.remove(i);
            }
        }
    }
    w
}

#[test]
fn mutated_modules_never_panic() {
    let mut rng = Rng(0x5eed_0002);
    let mut corpus: Vec<Vec<u8>> = SEEDS.iter().map(|s| wat::parse_str(s).unwrap()).collect();
    for _ in 0..20 {
        if let Some(m) = smith_module(&mut rng) {
            corpus.push(m);
        }
    }
    for c in &corpus[..SEEDS.len()] {
        compile_no_panic(c, "seed").expect("seed modules compile");
    }
    let mut accepted = 0;
    for i in 0..3000 * scale() {
        let base = &corpus[rng.below(corpus.len())];
        let w = mutate(&mut rng, base);
        if compile_no_panic_unverified(&w, &format!("mutation #{i}")).is_ok() {
            accepted += 1;
        }
    }
    // Some mutations (e.g. in data bytes or constants) stay valid.
    assert!(accepted > 0);
}

#[test]
fn every_truncation_of_a_module_is_handled() {
    let wasm = wat::parse_str(SEEDS[0]).unwrap();
    // A cut at a section boundary leaves a valid module; anything else fails.
    let mut valid = 0;
    for len in 0..wasm.len() {
        if compile_no_panic(&wasm[..len], "truncation").is_ok() {
            valid += 1;
        }
    }
    assert!(valid < 10, "{valid} truncations accepted");
}
