// SPDX-License-Identifier: GPL-2.0

//! Differential testing: random valid modules (wasm-smith, WebAssembly 2.0
//! without SIMD, NaNs canonicalised) run in the wasmi interpreter and, compiled
//! by kwasm, in the test runtime (tests/common). Every exported function with
//! numeric parameters is called in order with the same arguments; results,
//! traps, exported globals and the final memory must agree (references are
//! passed as null and compared by null-ness). A fault in
//! generated code that is not at a trap site fails the test outright.
//!
//! KWASM_FUZZ_SCALE multiplies the number of modules (and shifts the seed).

mod common;

use common::{run_plan_in_child, PlannedCall, FAULT_NOT_TRAP_SITE, RUNTIME_PANIC, RUN_END};
use kwasm_abi::{ExportKind, Trap, ValType};
use kwasm_compiler::{compile, CompileError, Config, IsaFeatures};
use wasmi::TrapCode;
use wasmi::{Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Val};

const FUEL: u64 = 5_000_000;
const MEM_CAP_PAGES: u64 = 256;
const TABLE_CAP: u64 = 10_000;

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

fn scale() -> usize {
    std::env::var("KWASM_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn smith_config(disallow_traps: bool) -> wasm_smith::Config {
    wasm_smith::Config {
        disallow_traps,
        canonicalize_nans: true,
        export_everything: true,
        max_imports: 0,
        max_memories: 1,
        max_tables: 3,
        min_types: 2,
        max_types: 10,
        max_globals: 10,
        min_funcs: 2,
        max_funcs: 20,
        max_instructions: 1000,
        max_memory32_bytes: MEM_CAP_PAGES * 65536,
        max_table_elements: 1000,
        ..common::wasm2_smith_config()
    }
}

/// Interesting argument values for a parameter type, as raw bits.
fn arg(rng: &mut Rng, t: ValType) -> u64 {
    let ints: [u64; 8] = [0, 1, 2, 7, 0xffff_ffff, 0x8000_0000, 65536, 100];
    let v = if rng.below(4) == 0 {
        rng.next()
    } else {
        ints[rng.below(ints.len())]
    };
    match t {
        ValType::I32 => v as u32 as u64,
        ValType::F32 => ([0.0f32, -0.0, 1.5, -2.5, 1e30, 3e9][rng.below(6)]).to_bits() as u64,
        ValType::F64 => [0.0f64, -0.0, 1.5, -2.5, 1e300, 1e19][rng.below(6)].to_bits(),
        ValType::I64 => v,
        // References are passed as null.
        ValType::FuncRef | ValType::ExternRef => 0,
    }
}

fn to_val(t: ValType, bits: u64) -> Val {
    match t {
        ValType::I32 => Val::I32(bits as i32),
        ValType::I64 => Val::I64(bits as i64),
        ValType::F32 => Val::F32(wasmi::F32::from_bits(bits as u32)),
        ValType::F64 => Val::F64(wasmi::F64::from_bits(bits)),
        ValType::FuncRef => Val::FuncRef(wasmi::Ref::Null),
        ValType::ExternRef => Val::ExternRef(wasmi::Ref::Null),
    }
}

/// Raw bits of a result as our trampolines return them; references compare
/// by null-ness only.
fn from_val(v: &Val) -> u64 {
    match v {
        Val::I32(x) => *x as u32 as u64,
        Val::I64(x) => *x as u64,
        Val::F32(x) => x.to_bits() as u64,
        Val::F64(x) => x.to_bits(),
        Val::FuncRef(r) => u64::from(!r.is_null()),
        Val::ExternRef(r) => u64::from(!r.is_null()),
        Val::V128(_) => unreachable!(),
    }
}

fn map_trap(t: TrapCode) -> Option<Trap> {
    Some(match t {
        TrapCode::UnreachableCodeReached => Trap::Unreachable,
        TrapCode::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        TrapCode::TableOutOfBounds => Trap::TableOutOfBounds,
        TrapCode::IndirectCallToNull => Trap::IndirectCallNull,
        TrapCode::IntegerDivisionByZero => Trap::IntegerDivideByZero,
        TrapCode::IntegerOverflow => Trap::IntegerOverflow,
        TrapCode::BadConversionToInteger => Trap::BadConversionToInteger,
        TrapCode::BadSignature => Trap::IndirectCallBadSignature,
        _ => return None,
    })
}

enum Expected {
    /// Every call returned; then the final state.
    Done(Vec<Vec<u64>>, Vec<u64>, Option<(u64, u64)>),
    /// The calls before the trapping one returned these.
    Trapped(Vec<Vec<u64>>, Trap),
    /// Only these first calls are comparable (fuel or stack ran out next).
    Prefix(Vec<Vec<u64>>),
}

/// Runs the plan in wasmi. None if the module or the run is out of scope
/// (instantiation failure, fuel, stack exhaustion, resource limits).
fn run_wasmi(
    wasm: &[u8],
    plan: &[(String, Vec<ValType>, Vec<u64>)],
    globals: &[String],
    nresults: &[usize],
) -> Option<Expected> {
    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).ok()?;
    let limits = StoreLimitsBuilder::new()
        .memory_size((MEM_CAP_PAGES * 65536) as usize)
        .table_elements(TABLE_CAP as usize)
        .build();
    let mut store: Store<StoreLimits> = Store::new(&engine, limits);
    store.limiter(|l| l);
    store.set_fuel(FUEL).ok()?;
    let linker = Linker::new(&engine);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => {
            if std::env::var("KWASM_DIFF_DEBUG").is_ok() {
                eprintln!("wasmi instantiation: {e}");
            }
            return None;
        }
    };
    let mut results = Vec::new();
    for ((name, types, args), &n) in plan.iter().zip(nresults) {
        store.set_fuel(FUEL).ok()?;
        let f = instance.get_func(&store, name)?;
        let inputs: Vec<Val> = types
            .iter()
            .zip(args)
            .map(|(t, a)| to_val(*t, *a))
            .collect();
        let ty = f.ty(&store);
        let mut outputs: Vec<Val> = ty.results().iter().map(|t| Val::default(*t)).collect();
        assert_eq!(outputs.len(), n);
        match f.call(&mut store, &inputs, &mut outputs) {
            Ok(()) => results.push(outputs.iter().map(from_val).collect()),
            Err(e) => {
                if std::env::var("KWASM_DIFF_DEBUG").is_ok() {
                    eprintln!("wasmi call: {e}");
                }
                match e.as_trap_code().and_then(map_trap) {
                    Some(t) => return Some(Expected::Trapped(results, t)),
                    // Out of fuel or stack: compare the calls before this one
                    // (the failed call may have changed state: no final state).
                    None => return Some(Expected::Prefix(results)),
                }
            }
        }
    }
    let mut gvals = Vec::new();
    for g in globals {
        gvals.push(from_val(&instance.get_global(&store, g)?.get(&store)));
    }
    let mem = instance
        .get_memory(&store, "m0")
        .or_else(|| instance.exports(&store).find_map(|e| e.into_memory()))
        .map(|m| {
            let d = m.data(&store);
            (common::fnv(d), d.len() as u64)
        });
    Some(Expected::Done(results, gvals, mem))
}

#[test]
fn kwasm_agrees_with_wasmi() {
    // Deep recursion must reach wasmi's limit before ours: give the forked
    // child (a copy of this thread) plenty of stack.
    std::thread::Builder::new()
        .stack_size(2 * common::CHILD_STACK_BUDGET as usize)
        .spawn(differential)
        .unwrap()
        .join()
        .unwrap();
}

fn differential() {
    let mut rng = Rng(0xd1ff_0000 + scale() as u64);
    let mut compared = 0;
    let mut calls = 0;
    let mut trapped = 0;
    let mut skipped_wasmi = 0;
    let mut wasmi_bugs = 0;
    for i in 0..150 * scale() {
        let len = 4 * 1024 + rng.below(32 * 1024);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let mut u = arbitrary::Unstructured::new(&bytes);
        // Half of the modules are generated trap-free (wasm-smith guards
        // divisions, conversions and accesses).
        let trap_free = i % 2 == 0;
        let Ok(m) = wasm_smith::Module::new(smith_config(trap_free), &mut u) else {
            continue;
        };
        let wasm = m.to_bytes();
        let config = Config {
            features: IsaFeatures::baseline(),
            verify: true,
            ..Config::default()
        };
        let cm = match compile(&wasm, &config) {
            Ok(cm) => cm,
            Err(CompileError::Limit(..)) => continue,
            Err(e) => panic!("module #{i}: {e}"),
        };
        // The plan: every exported function, in export order, with the same
        // arguments on both sides.
        let mut plan = Vec::new();
        let mut ours = Vec::new();
        let mut nresults = Vec::new();
        for e in &cm.exports {
            let ExportKind::Func(f) = e.kind else {
                continue;
            };
            let ty = &cm.types[cm.func_types[f as usize] as usize];
            let args: Vec<u64> = ty.params.iter().map(|t| arg(&mut rng, *t)).collect();
            plan.push((e.name.clone(), ty.params.clone(), args.clone()));
            ours.push(PlannedCall { func: f, args });
            nresults.push(ty.results.len());
        }
        let mut globals = Vec::new();
        let mut global_idx = Vec::new();
        for e in &cm.exports {
            if let ExportKind::Global(g) = e.kind {
                globals.push(e.name.clone());
                global_idx.push(g);
            }
        }
        if let Ok(only) = std::env::var("KWASM_DIFF_ONLY") {
            if only.parse::<usize>().ok() != Some(i) {
                continue;
            }
            eprintln!("module #{i}: plan {:?}", plan);
        }
        let Some(expected) = run_wasmi(&wasm, &plan, &globals, &nresults) else {
            skipped_wasmi += 1;
            continue;
        };
        if trap_free && matches!(expected, Expected::Trapped(..)) {
            // wasmi 2.0.0 sometimes traps IntegerDivisionByZero on a division
            // whose divisor is guarded by `select(1, x, x == 0)` (found by
            // this test): a trap in a trap-free module is not ours to judge.
            wasmi_bugs += 1;
            continue;
        }
        if let Expected::Prefix(r) = &expected {
            if r.is_empty() {
                skipped_wasmi += 1;
                continue;
            }
            ours.truncate(r.len());
        }
        let report = run_plan_in_child(&cm, &ours, &global_idx, MEM_CAP_PAGES, TABLE_CAP, 10);
        if std::env::var("KWASM_DIFF_DEBUG").is_ok() {
            eprintln!(
                "#{i}: plan {} results {} end {:?}",
                ours.len(),
                report.results.len(),
                report.end
            );
        }
        let save = || {
            let path = std::env::temp_dir().join(format!("kwasm-diff-{i}.wasm"));
            let _ = std::fs::write(&path, &wasm);
            path
        };
        if report.end == Some(RUNTIME_PANIC) {
            continue;
        }
        if trap_free {
            if let Some(t) = report.end.and_then(Trap::from_u8) {
                assert_eq!(
                    t,
                    Trap::StackOverflow,
                    "module #{i} ({}): trap in a trap-free module",
                    save().display()
                );
            }
        }
        if report.end == Some(Trap::StackOverflow as u8) {
            // Recursion depth limits differ between the two engines.
            skipped_wasmi += 1;
            continue;
        }
        assert_ne!(
            report.end,
            Some(FAULT_NOT_TRAP_SITE),
            "module #{i} ({}): fault in generated code outside any trap site",
            save().display()
        );
        // Reference results are compared without the nullness of funcrefs
        // mapping: our raw pointers become 0/1.
        let ours_results: Vec<Vec<u64>> = report
            .results
            .iter()
            .zip(&ours)
            .map(|(r, c)| {
                let ty = &cm.types[cm.func_types[c.func as usize] as usize];
                r.iter()
                    .zip(&ty.results)
                    .map(|(v, t)| match t {
                        ValType::FuncRef | ValType::ExternRef => u64::from(*v != 0),
                        _ => *v,
                    })
                    .collect()
            })
            .collect();
        match expected {
            Expected::Done(results, gvals, mem) => {
                assert_eq!(
                    report.end,
                    Some(RUN_END),
                    "module #{i} ({})",
                    save().display()
                );
                assert_eq!(ours_results, results, "module #{i} ({})", save().display());
                let gtypes: Vec<ValType> = global_idx
                    .iter()
                    .map(|g| cm.globals[*g as usize].ty)
                    .collect();
                let ours_g: Vec<u64> = report
                    .globals
                    .iter()
                    .zip(&gtypes)
                    .map(|(v, t)| match t {
                        ValType::FuncRef | ValType::ExternRef => u64::from(*v != 0),
                        _ => *v,
                    })
                    .collect();
                assert_eq!(ours_g, gvals, "globals, module #{i} ({})", save().display());
                if let Some((hash, size)) = mem {
                    assert_eq!(
                        (report.memory_hash, report.memory_size),
                        (hash, size),
                        "memory, module #{i} ({})",
                        save().display()
                    );
                }
            }
            Expected::Prefix(results) => {
                assert_eq!(
                    report.end,
                    Some(RUN_END),
                    "module #{i} ({})",
                    save().display()
                );
                assert_eq!(ours_results, results, "module #{i} ({})", save().display());
            }
            Expected::Trapped(results, trap) => {
                trapped += 1;
                assert_eq!(ours_results, results, "module #{i} ({})", save().display());
                assert_eq!(
                    report.end,
                    Some(trap as u8),
                    "module #{i} ({}): expected trap {trap:?}",
                    save().display()
                );
            }
        }
        compared += 1;
        calls += report.results.len();
    }
    eprintln!(
        "{compared} modules compared ({trapped} ended in a trap), {calls} calls returned, \
         {skipped_wasmi} out of scope for wasmi, {wasmi_bugs} wasmi traps in trap-free modules"
    );
    if std::env::var("KWASM_DIFF_ONLY").is_err() {
        assert!(compared > 30 * scale(), "only {compared} modules compared");
    }
}
