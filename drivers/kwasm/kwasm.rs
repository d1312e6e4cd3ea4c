// SPDX-License-Identifier: GPL-2.0

//! kwasm: run WebAssembly programs in the kernel.
//!
//! `./app.wasm` is compiled by the kernel (the no_std compiler in
//! rust/kwasm/compiler) and runs in kernel mode in the task that called
//! execve(). This crate is the kernel side of the runtime: compiling on
//! exec, instances and their memory, host calls (WASI), and running the
//! program. Exec, stack switching and the FPU are in the C files next to it.

mod compile;
mod ffi;
mod hostcall;
mod leaf;
mod net_os;
mod panic;
mod platform;
mod program;
mod wasi;
mod wasi_os;

use kernel::prelude::*;

module! {
    type: Kwasm,
    name: "kwasm",
    author: "kwasm developers",
    description: "WebAssembly programs as native executables",
    license: "GPL",
}

struct Kwasm;

impl kernel::Module for Kwasm {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        ffi::stats_init()?;
        ffi::policy_init()?;
        ffi::register_binfmt();
        pr_info!("WebAssembly binary format registered\n");
        Ok(Kwasm)
    }
}
