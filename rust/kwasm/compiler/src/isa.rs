// SPDX-License-Identifier: GPL-2.0

//! The Cranelift x86-64 target with the settings kernel code needs.

use alloc::format;
use alloc::string::ToString;
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use target_lexicon::{Architecture, BinaryFormat, Environment, OperatingSystem, Triple, Vendor};

use crate::config::{Config, IndirectBranch};
use crate::error::CompileError;

/// Builds the target ISA from the configuration.
pub(crate) fn build(config: &Config) -> Result<OwnedTargetIsa, CompileError> {
    let f = &config.features;
    if !f.sse41 {
        return Err(CompileError::Unsupported(
            "SSE4.1 is required (floor/ceil/trunc/nearest would become libcalls)".to_string(),
        ));
    }
    let err = |e: settings::SetError| CompileError::Codegen(format!("cranelift setting: {e}"));
    let mut flags = settings::builder();
    let verify = if config.verify { "true" } else { "false" };
    for (name, value) in [
        ("opt_level", "speed"),
        // Kernel stack traces and the unwinder-free trap path rely on frames.
        ("preserve_frame_pointers", "true"),
        // The prologue stack-limit check (vmctx STACK_LIMIT) replaces probes.
        ("enable_probestack", "false"),
        ("unwind_info", "false"),
        ("enable_multi_ret_implicit_sret", "true"),
        ("enable_verifier", verify),
        ("is_pic", "false"),
        // r15 holds the safepoint word's address in all compiled code (set
        // by the trampolines), so a poll loads the word through it and no
        // function keeps that address live in a register of its own.
        ("enable_pinned_reg", "true"),
    ] {
        flags.set(name, value).map_err(err)?;
    }
    let triple = Triple {
        architecture: Architecture::X86_64,
        vendor: Vendor::Unknown,
        operating_system: OperatingSystem::None_,
        environment: Environment::Unknown,
        binary_format: BinaryFormat::Elf,
    };
    let mut builder = isa::lookup(triple)
        .map_err(|e| CompileError::Codegen(format!("cranelift isa lookup: {e}")))?;
    let bool_str = |b: bool| if b { "true" } else { "false" };
    for (name, value) in [
        // SSE4.1 implies SSE3 and SSSE3 on every CPU that has it.
        ("has_sse3", true),
        ("has_ssse3", true),
        ("has_sse41", f.sse41),
        ("has_sse42", f.sse42),
        ("has_popcnt", f.popcnt),
        ("has_lzcnt", f.lzcnt),
        ("has_bmi1", f.bmi1),
        ("has_bmi2", f.bmi2),
        ("has_avx", f.avx),
        ("has_avx2", f.avx2),
        ("has_fma", f.fma),
    ] {
        builder.set(name, bool_str(value)).map_err(err)?;
    }
    // Settings added by rust/kwasm/patches/cranelift-codegen*.
    let b = &config.branches;
    builder
        .set(
            "indirect_branch_lfence",
            bool_str(b.indirect == IndirectBranch::Lfence),
        )
        .map_err(err)?;
    builder
        .set(
            "indirect_branch_thunk",
            bool_str(b.indirect == IndirectBranch::Thunk),
        )
        .map_err(err)?;
    builder
        .set("return_thunk", bool_str(b.return_thunk))
        .map_err(err)?;
    builder.set("harden_sls", bool_str(b.sls)).map_err(err)?;
    builder
        .finish(settings::Flags::new(flags))
        .map_err(|e| CompileError::Codegen(format!("cranelift isa: {e}")))
}
