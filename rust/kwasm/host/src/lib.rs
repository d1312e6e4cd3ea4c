// SPDX-License-Identifier: GPL-2.0

//! kwasm user-space runner (Linux x86-64): loads modules compiled by
//! kwasm-compiler into executable memory, instantiates them with
//! kwasm-runtime, and runs them with traps caught through signals.
//!
//! Used for tests, the spec suite (`kwasm-spec`), fuzzing and benchmarks;
//! the kernel driver implements the same runtime `Platform` in ring 0.

#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
compile_error!("kwasm-host supports Linux x86-64 only");

pub mod code;
pub mod entry;
mod hostcall;
pub mod memory;
pub mod platform;
mod signals;
pub mod spectest;
pub mod store;
pub mod wasi;
pub mod wast_runner;

pub use kwasm_abi::Trap;
pub use platform::{HostFunc, HostPlatform, SAFEPOINT_COUNT, SAFEPOINT_INTERRUPT};
pub use store::{compiler_config, HExtern, HFunc, HInstance, InstanceError, Module, Store};

/// Why a wasm call ended abnormally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A wasm trap (from compiled code, a builtin or a host function).
    Trap(Trap),
    /// The program called `proc_exit` with this status.
    Exit(i32),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Trap(t) => write!(f, "trap: {}", t.name()),
            Stop::Exit(c) => write!(f, "exit({c})"),
        }
    }
}

/// Runs `f` on a new thread with a stack of `stack_bytes` and returns its
/// result. Wasm gets this stack minus a reserve for host calls; running on
/// a thread of known size is what makes deep recursion end in a clean
/// StackOverflow trap.
pub fn run_on_stack<T: Send + 'static>(
    stack_bytes: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let h = std::thread::Builder::new()
        .name("kwasm".into())
        .stack_size(stack_bytes)
        .spawn(f)
        .expect("spawning the wasm thread");
    match h.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Default wasm thread stack: 8 MiB.
pub const WASM_STACK: usize = 8 << 20;
