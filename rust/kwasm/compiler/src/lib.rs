// SPDX-License-Identifier: GPL-2.0

//! kwasm compiler: WebAssembly 2.0 (without SIMD) to position-independent
//! x86-64 machine code, for running wasm in ring 0.
//!
//! The pipeline is: validate and decode the module (wasmparser, fixed feature
//! set, every [`Limits`] checked) -> translate each function body to CLIF with
//! our own translator -> compile with Cranelift using kernel-safe settings ->
//! lay everything out in one code buffer, resolving calls between functions
//! ourselves so that no relocation is left.
//!
//! Nothing here panics on hostile input: every failure is a [`CompileError`].

#![no_std]

extern crate alloc;

mod config;
mod error;
mod isa;
mod layout;
mod limits;
mod trampolines;
mod translate;
mod validate;

pub use config::{BranchForms, Config, IndirectBranch, IsaFeatures};
pub use error::CompileError;
pub use limits::Limits;

use kwasm_abi::CompiledModule;

/// Compiles a wasm binary into a [`CompiledModule`].
///
/// The module is fully validated and checked against `config.limits` before
/// any code generation starts.
pub fn compile(wasm: &[u8], config: &Config) -> Result<CompiledModule, CompileError> {
    limits::check(
        "module bytes",
        wasm.len() as u64,
        config.limits.max_module_bytes,
    )?;
    // Build the ISA first: a missing required CPU feature is a configuration
    // error we report before doing any work on the module.
    let isa = isa::build(config)?;
    let module = validate::parse_and_validate(wasm, &config.limits)?;
    let mut out = layout::CodeLayout::new(config.branches.ibt);
    let options = translate::FuncOptions {
        jump_tables: config.branches.jump_tables(),
        safepoint_mask: config.safepoint_mask,
    };
    translate::compile_functions(&module, &*isa, options, &mut out)?;
    trampolines::compile_trampolines(&module, &*isa, &mut out)?;
    trampolines::compile_import_adapters(&module, &*isa, &mut out)?;
    trampolines::compile_safepoint_stub(&*isa, &mut out)?;
    let mut compiled = out.finish(module)?;
    compiled.safepoint_mask = config.safepoint_mask;
    Ok(compiled)
}
