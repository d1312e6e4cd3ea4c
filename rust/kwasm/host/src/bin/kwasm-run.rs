// SPDX-License-Identifier: GPL-2.0

//! Runs a WASI command module on the host as the kernel runs it:
//! `kwasm-run prog.wasm [args...]`, with the same compiler, runtime and WASI
//! (kwasm-wasi over its host backend), preopens from `KWASM_DIRS` (default:
//! the current directory as `.`), and the same ending: the program's exit
//! status, or the signal the kernel ends a trapping program with, with
//! nothing added to its output (the kernel names the trap in its log; here
//! `KWASM_WASI_TRACE` names it on stderr, with every WASI call). A module
//! that cannot be loaded or started exits with 126, as a shell's "cannot
//! execute".

use std::ffi::OsString;
use std::process::ExitCode;

use kwasm_host::wasi::{run_command, Command, Ended};
use kwasm_host::{run_on_stack, Store, WASM_STACK};

const CANNOT_EXECUTE: u8 = 126;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(path) = args.first().cloned() else {
        eprintln!("usage: kwasm-run prog.wasm [args...]");
        return ExitCode::from(2);
    };
    let wasm = match std::fs::read(&path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("kwasm-run: {}: {e}", path.to_string_lossy());
            return ExitCode::from(CANNOT_EXECUTE);
        }
    };
    let cmd = match Command::from_process(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kwasm-run: stdio: {e}");
            return ExitCode::from(CANNOT_EXECUTE);
        }
    };
    let ended = run_on_stack(WASM_STACK, move || {
        let mut store = Store::new();
        let module = store.compile(&wasm).map_err(|e| format!("compile: {e}"))?;
        run_command(&mut store, &module, cmd)
    });
    match ended {
        Ok(Ended::Exit(c)) => ExitCode::from(c as u8),
        Ok(Ended::Trap(t)) => {
            if std::env::var_os("KWASM_WASI_TRACE").is_some() {
                eprintln!("kwasm-run: {}: trap: {}", path.to_string_lossy(), t.name());
            }
            die_by_signal(t.signal())
        }
        Err(e) => {
            eprintln!("kwasm-run: {}: {e}", path.to_string_lossy());
            ExitCode::from(CANNOT_EXECUTE)
        }
    }
}

/// Ends this process with `sig`, the default action, as the kernel ends a
/// trapping program (no core dump is asked for).
fn die_by_signal(sig: i32) -> ExitCode {
    // SAFETY: plain libc calls on a local signal set; restoring the default action and raising the signal at this thread ends the process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    // Not reached unless the signal is ignored by force.
    ExitCode::from(128 + sig as u8)
}
