// SPDX-License-Identifier: GPL-2.0

//! Differential testing: random wasm 2.0 modules from wasm-smith run through
//! kwasm (compiler + runtime + host runner) and through the wasmi
//! interpreter; every exported function is called and results, traps,
//! exported memories and exported globals must agree.
//!
//! `KWASM_DIFF_SEEDS=N` runs N modules (default 150); `KWASM_DIFF_FIRST=S`
//! starts at seed S. A mismatch prints the seed, so it can be reproduced.
//! `KWASM_DIFF_DUMP=dir` writes each module to dir/SEED.wasm and
//! `KWASM_DIFF_TRACE=1` prints progress (to find a seed that crashes).

use std::rc::Rc;

use kwasm_abi::{ExportKind, Trap, ValType};
use kwasm_host::{run_on_stack, HInstance, Stop, Store};
use kwasm_runtime::Extern;
use wasm_smith::{Config, Module};

/// Stack of the thread running both engines.
const STACK: usize = 1 << 30;

/// A value as both engines can produce it, compared with NaNs equal.
#[derive(Debug, Clone, Copy)]
enum V {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    Ref(bool),
}

impl PartialEq for V {
    fn eq(&self, o: &Self) -> bool {
        match (*self, *o) {
            (V::I32(a), V::I32(b)) => a == b,
            (V::I64(a), V::I64(b)) => a == b,
            (V::F32(a), V::F32(b)) => {
                a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
            }
            (V::F64(a), V::F64(b)) => {
                a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
            }
            (V::Ref(a), V::Ref(b)) => a == b,
            _ => false,
        }
    }
}

/// What one call produced.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Values(Vec<V>),
    Trap(Trap),
    /// Stack exhaustion: limits differ between engines, so not compared.
    Exhausted,
}

fn smith_config(seed: u64) -> Config {
    Config {
        // Every third module avoids trapping instructions, so more calls
        // run to completion and return values.
        disallow_traps: seed.is_multiple_of(3),
        // The compiler's feature set: wasm 2.0 without SIMD.
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        tail_call_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_page_sizes_enabled: false,
        max_memories: 1,
        max_tables: 3,
        max_imports: 0,
        export_everything: true,
        canonicalize_nans: true,
        memory_max_size_required: true,
        max_memory32_bytes: 8 << 16,
        max_table_elements: 1000,
        min_funcs: 3,
        max_funcs: 30,
        max_instructions: 1000,
        ..Config::default()
    }
}

/// Deterministic bytes for wasm-smith from a seed.
fn seed_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// Arguments for a call: small, varied values per parameter.
fn arg_bits(seed: u64, i: usize) -> u64 {
    let choices = [0u64, 1, 7, 0xffff_ffff, 0x8000_0000, 42, 65536, 3];
    choices[((seed as usize) + i * 3) % choices.len()]
}

fn from_wasmi_trap(c: wasmi::TrapCode) -> Option<Trap> {
    use wasmi::TrapCode as C;
    Some(match c {
        C::UnreachableCodeReached => Trap::Unreachable,
        C::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        C::TableOutOfBounds => Trap::TableOutOfBounds,
        C::IndirectCallToNull => Trap::IndirectCallNull,
        C::IntegerDivisionByZero => Trap::IntegerDivideByZero,
        C::IntegerOverflow => Trap::IntegerOverflow,
        C::BadConversionToInteger => Trap::BadConversionToInteger,
        C::StackOverflow => Trap::StackOverflow,
        C::BadSignature => Trap::IndirectCallBadSignature,
        _ => return None,
    })
}

/// Everything observable after a call: memory hash and exported global
/// values by export name (sorted: the engines list exports differently).
type State = (Option<u64>, Vec<(String, V)>);

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Runs every exported function in kwasm; returns per call outcome + state.
fn run_kwasm(wasm: &[u8], seed: u64) -> Result<Vec<(String, Outcome, State)>, String> {
    let mut store = Store::new();
    // Odd seeds compile for SSE4.1 only, to cover the fallback paths too.
    if seed % 2 == 1 {
        store.config_mut().features = kwasm_compiler::IsaFeatures::baseline();
    }
    let module = store
        .compile(wasm)
        .map_err(|e| format!("kwasm compile: {e}"))?;
    let cm = module.compiled().clone();
    let inst: Rc<HInstance> = match store.instantiate(&module, vec![]) {
        Ok(i) => i,
        Err(kwasm_host::InstanceError::Trap(t)) => return Ok(vec![start_outcome(t)]),
        Err(e) => return Err(format!("kwasm instantiate: {e}")),
    };
    let state = |inst: &Rc<HInstance>| -> State {
        let mut mem = None;
        let mut globals = Vec::new();
        for e in &cm.exports {
            match e.kind {
                ExportKind::Memory => {
                    let m = inst.memory().unwrap();
                    let mut buf = vec![0u8; m.size() as usize];
                    m.read(0, &mut buf);
                    mem = Some(fnv(&buf));
                }
                ExportKind::Global(i) => {
                    let g = inst.global(i).unwrap();
                    globals.push((e.name.clone(), val(g.ty(), g.get())));
                }
                _ => {}
            }
        }
        globals.sort_by(|a, b| a.0.cmp(&b.0));
        (mem, globals)
    };
    let mut out = Vec::new();
    for e in &cm.exports {
        let ExportKind::Func(idx) = e.kind else {
            continue;
        };
        let ty = inst.func_type(idx).unwrap().clone();
        if ty
            .params
            .iter()
            .any(|t| matches!(t, ValType::FuncRef | ValType::ExternRef))
        {
            continue;
        }
        let mut args: Vec<u64> = (0..ty.params.len()).map(|i| arg_bits(seed, i)).collect();
        args.resize(ty.params.len().max(ty.results.len()), 0);
        trace(&format!("kwasm call {:?}", e.name));
        let Some(Extern::Func(f)) = inst.export(&e.name) else {
            continue;
        };
        let outcome = match store.call_func(&f, &mut args) {
            Ok(()) => Outcome::Values(
                ty.results
                    .iter()
                    .zip(&args)
                    .map(|(&t, &v)| val(t, v))
                    .collect(),
            ),
            Err(Stop::Trap(Trap::StackOverflow)) => Outcome::Exhausted,
            Err(Stop::Trap(t)) => Outcome::Trap(t),
            Err(Stop::Exit(c)) => return Err(format!("unexpected exit {c}")),
        };
        let exhausted = outcome == Outcome::Exhausted;
        out.push((e.name.clone(), outcome, state(&inst)));
        if exhausted {
            break;
        }
    }
    Ok(out)
}

fn val(t: ValType, v: u64) -> V {
    match t {
        ValType::I32 => V::I32(v as u32),
        ValType::I64 => V::I64(v),
        ValType::F32 => V::F32(v as u32),
        ValType::F64 => V::F64(v),
        ValType::FuncRef | ValType::ExternRef => V::Ref(v != 0),
    }
}

fn wasmi_val(v: &wasmi::Val) -> V {
    match v {
        wasmi::Val::I32(x) => V::I32(*x as u32),
        wasmi::Val::I64(x) => V::I64(*x as u64),
        wasmi::Val::F32(x) => V::F32(x.to_bits()),
        wasmi::Val::F64(x) => V::F64(x.to_bits()),
        wasmi::Val::FuncRef(r) => V::Ref(!r.is_null()),
        wasmi::Val::ExternRef(r) => V::Ref(!r.is_null()),
        wasmi::Val::V128(_) => V::Ref(false),
    }
}

fn wasmi_arg(t: &wasmi::ValType, bits: u64) -> wasmi::Val {
    match t {
        wasmi::ValType::I32 => wasmi::Val::I32(bits as u32 as i32),
        wasmi::ValType::I64 => wasmi::Val::I64(bits as i64),
        wasmi::ValType::F32 => wasmi::Val::F32(wasmi::F32::from_bits(bits as u32)),
        wasmi::ValType::F64 => wasmi::Val::F64(wasmi::F64::from_bits(bits)),
        other => wasmi::Val::default_for_ty(*other),
    }
}

/// Instantiation (segments or start function) trapped.
fn start_outcome(t: Trap) -> (String, Outcome, State) {
    let o = if t == Trap::StackOverflow {
        Outcome::Exhausted
    } else {
        Outcome::Trap(t)
    };
    ("<start>".into(), o, (None, vec![]))
}

/// The same in wasmi. `Err` if wasmi rejects the module.
fn run_wasmi(
    wasm: &[u8],
    seed: u64,
    names: &[String],
) -> Result<Vec<(String, Outcome, State)>, String> {
    let engine = wasmi::Engine::default();
    let module = wasmi::Module::new(&engine, wasm).map_err(|e| e.to_string())?;
    let mut store = wasmi::Store::new(&engine, ());
    let linker = wasmi::Linker::<()>::new(&engine);
    let inst = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => {
            // wasmi reports segment bounds errors at instantiation as
            // errors without a trap code.
            let msg = e.to_string();
            let t = match e.as_trap_code().and_then(from_wasmi_trap) {
                Some(t) => t,
                None if msg.contains("out of bounds table access") => Trap::TableOutOfBounds,
                None if msg.contains("out of bounds memory access") => Trap::MemoryOutOfBounds,
                None => return Err(msg),
            };
            return Ok(vec![start_outcome(t)]);
        }
    };
    let state = |store: &wasmi::Store<()>| -> State {
        let mut mem = None;
        let mut globals = Vec::new();
        for e in module.exports() {
            match inst.get_export(store, e.name()) {
                Some(wasmi::Extern::Memory(m)) => mem = Some(fnv(m.data(store))),
                Some(wasmi::Extern::Global(g)) => {
                    globals.push((e.name().to_string(), wasmi_val(&g.get(store))))
                }
                _ => {}
            }
        }
        globals.sort_by(|a, b| a.0.cmp(&b.0));
        (mem, globals)
    };
    let mut out = Vec::new();
    for name in names {
        let Some(wasmi::Extern::Func(f)) = inst.get_export(&store, name) else {
            continue;
        };
        let ty = f.ty(&store);
        if ty
            .params()
            .iter()
            .any(|t| matches!(t, wasmi::ValType::FuncRef | wasmi::ValType::ExternRef))
        {
            continue;
        }
        let args: Vec<wasmi::Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| wasmi_arg(t, arg_bits(seed, i)))
            .collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|t| wasmi::Val::default_for_ty(*t))
            .collect();
        let outcome = match f.call(&mut store, &args, &mut results) {
            Ok(()) => Outcome::Values(results.iter().map(wasmi_val).collect()),
            Err(e) => match e.as_trap_code().and_then(from_wasmi_trap) {
                Some(Trap::StackOverflow) => Outcome::Exhausted,
                Some(t) => Outcome::Trap(t),
                None => Outcome::Exhausted,
            },
        };
        let exhausted = outcome == Outcome::Exhausted;
        out.push((name.clone(), outcome, state(&store)));
        if exhausted {
            break;
        }
    }
    Ok(out)
}

/// Progress on stderr with KWASM_DIFF_TRACE set, to find a seed that crashes.
fn trace(what: &str) {
    if std::env::var_os("KWASM_DIFF_TRACE").is_some() {
        eprintln!("{what}");
    }
}

/// Compares one module; `Err` describes the first disagreement.
/// `Ok(None)` if the seed gave no module; else the number of calls that
/// returned values and that trapped, identically in both engines.
fn compare(seed: u64) -> Result<Option<(usize, usize)>, String> {
    let data = seed_bytes(seed, 16384);
    let mut u = arbitrary::Unstructured::new(&data);
    let Ok(mut m) = Module::new(smith_config(seed), &mut u) else {
        return Ok(None);
    };
    // Bounded loops and recursion, so every call finishes; running out of
    // fuel is an `unreachable` trap in both engines.
    if m.ensure_termination(10_000).is_err() {
        return Ok(None);
    }
    let wasm = m.to_bytes();
    if let Some(dir) = std::env::var_os("KWASM_DIFF_DUMP") {
        let _ = std::fs::write(
            std::path::Path::new(&dir).join(format!("{seed}.wasm")),
            &wasm,
        );
    }
    trace("kwasm");
    let kw = run_kwasm(&wasm, seed)?;
    let names: Vec<String> = kw.iter().map(|(n, _, _)| n.clone()).collect();
    trace("wasmi");
    let wi = run_wasmi(&wasm, seed, &names)
        .map_err(|e| format!("wasmi failed on a module kwasm accepted: {e}"))?;
    let (mut values, mut traps) = (0, 0);
    for (k, w) in kw.iter().zip(&wi) {
        if k.1 == Outcome::Exhausted || w.1 == Outcome::Exhausted {
            break;
        }
        match k.1 {
            Outcome::Values(_) => values += 1,
            _ => traps += 1,
        }
        if k != w {
            return Err(format!(
                "call {:?}: kwasm {:?}, wasmi {:?}",
                k.0,
                (&k.1, &k.2),
                (&w.1, &w.2)
            ));
        }
    }
    let stopped = |v: &Vec<(String, Outcome, State)>| v.iter().any(|c| c.1 == Outcome::Exhausted);
    if kw.len() != wi.len() && !stopped(&kw) && !stopped(&wi) {
        return Err(format!("kwasm made {} calls, wasmi {}", kw.len(), wi.len()));
    }
    Ok(Some((values, traps)))
}

#[test]
fn random_modules_behave_like_the_wasmi_interpreter() {
    let n: u64 = std::env::var("KWASM_DIFF_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(150);
    let first: u64 = std::env::var("KWASM_DIFF_FIRST")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // One big stack for both engines (wasmi and wasm-smith recurse deeply
    // in debug builds); kwasm's stack limit follows this thread.
    let (compared, failures) = run_on_stack(STACK, move || {
        let (mut compared, mut values, mut traps) = (0, 0, 0);
        let mut failures = Vec::new();
        for seed in first..first + n {
            trace(&format!("seed {seed}"));
            match compare(seed) {
                Ok(Some((v, t))) => {
                    compared += 1;
                    values += v;
                    traps += t;
                }
                Ok(None) => {}
                Err(e) => failures.push(format!("seed {seed}: {e}")),
            }
        }
        println!("compared {compared} modules: {values} calls returned, {traps} trapped alike");
        (compared, failures)
    });
    assert!(
        failures.is_empty(),
        "kwasm and wasmi disagree:\n{}",
        failures.join("\n")
    );
    assert!(
        compared > n / 2,
        "expected most seeds to give a module, compared {compared} of {n}"
    );
}
