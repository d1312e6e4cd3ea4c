// SPDX-License-Identifier: GPL-2.0

//! Real programs compiled by rustc for wasm32-wasip1, run end to end through
//! kwasm-compiler, kwasm-runtime and the host runner's WASI (kwasm-wasi).

mod common;

use kwasm_host::wasi::{run_command, Capture, Command, Ended};
use kwasm_host::{run_on_stack, Store, WASM_STACK};

/// Runs a program built from tests/programs with `args`, stdin empty;
/// returns (how it ended, stdout, stderr).
fn run_program(wasm: Vec<u8>, args: &[&str]) -> (Result<Ended, String>, String, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let m = store.compile(&wasm).expect("program compiles");
        let (mut out, mut err) = (Capture::new().unwrap(), Capture::new().unwrap());
        let stdin = std::fs::File::open("/dev/null").unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = Command::new(&args, [stdin.into(), out.fd().unwrap(), err.fd().unwrap()]);
        let status = run_command(&mut store, &m, cmd);
        let out = String::from_utf8_lossy(&out.take()).into_owned();
        let err = String::from_utf8_lossy(&err.take()).into_owned();
        (status, out, err)
    })
}

#[test]
fn rust_program_with_collections_floats_and_recursion_prints_expected_results() {
    let (status, out, err) = run_program(common::build_rust_program("compute"), &["compute"]);
    let want = "primes below 100000: 9592\n\
        words: {\"brown\": 1, \"dog\": 1, \"end\": 1, \"fox\": 1, \"jumps\": 1, \"lazy\": 1, \"over\": 1, \"quick\": 1, \"the\": 3}\n\
        area: 13.568583 sqrt2: 1.4142135624\n\
        median: 506 ackermann(2,3): 9\n";
    assert_eq!(
        out, want,
        "stdout: expected {want:?}, got {out:?} (stderr {err:?})"
    );
    assert_eq!(
        status,
        Ok(Ended::Exit(0)),
        "expected exit 0, got {status:?}"
    );
}

#[test]
fn rust_panic_aborts_with_unreachable_trap_after_printing_message() {
    let (status, _out, err) =
        run_program(common::build_rust_program("compute"), &["compute", "panic"]);
    assert!(
        err.contains("requested panic"),
        "stderr: expected the panic message, got {err:?}"
    );
    assert_eq!(
        status,
        Ok(Ended::Trap(kwasm_host::Trap::Unreachable)),
        "expected an unreachable trap, got {status:?}"
    );
}

#[test]
fn rust_hello_world_prints_greeting_and_exits_with_argc() {
    let wasm = common::build_rust_program("hello");
    let (status, out, err) = run_program(wasm, &["hello.wasm", "kwasm"]);
    assert_eq!(
        out, "Hello, kwasm!\nsum of squares: 385\n",
        "stdout: expected greeting and sum, got {out:?}"
    );
    assert_eq!(err, "to stderr\n", "stderr: expected one line, got {err:?}");
    assert_eq!(
        status,
        Ok(Ended::Exit(2)),
        "exit status: expected argc = 2, got {status:?}"
    );
}

#[test]
fn kwasm_run_cli_runs_a_program_and_returns_its_exit_status() {
    let wasm = common::build_rust_program("hello");
    let dir = std::env::temp_dir().join(format!("kwasm-run-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hello.wasm");
    std::fs::write(&path, wasm).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kwasm-run"))
        .arg(&path)
        .args(["cli", "extra"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout, "Hello, cli!\nsum of squares: 385\n",
        "stdout: expected greeting, got {stdout:?}"
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "exit status: expected argc = 3, got {:?}",
        out.status
    );
}
