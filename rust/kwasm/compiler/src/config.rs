// SPDX-License-Identifier: GPL-2.0

//! Compiler configuration.

use crate::limits::Limits;

/// Compiler configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// CPU features the generated code may use.
    pub features: IsaFeatures,
    /// Resource caps checked before any code generation.
    pub limits: Limits,
    /// Run the Cranelift IR verifier (slower; for tests and debugging).
    pub verify: bool,
    /// How indirect branches, returns and branch targets look.
    pub branches: BranchForms,
    /// The platform's safepoint mask ([`kwasm_abi::vmctx::SAFEPOINT_MASK`]),
    /// if it is known when compiling: polls then test it as an immediate
    /// instead of keeping the VMContext's copy in a register, one register
    /// more for every loop. The module records it and the runtime refuses
    /// to instantiate it on a platform with another mask.
    pub safepoint_mask: Option<u64>,
}

/// The shape of indirect branches, returns and their targets in generated
/// code, chosen to match what the running kernel does for its own code
/// (see Documentation/kwasm/design.rst, "Indirect branches").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BranchForms {
    /// Indirect calls and jumps.
    pub indirect: IndirectBranch,
    /// Return through a thunk (`jmp rel32` to [`kwasm_abi::Symbol::ReturnThunk`])
    /// instead of `ret`.
    pub return_thunk: bool,
    /// `int3` after every `ret` and indirect `jmp` (straight-line speculation).
    pub sls: bool,
    /// `endbr64` at every function, trampoline and adapter entry (IBT).
    pub ibt: bool,
}

/// How an indirect call or jump is emitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IndirectBranch {
    /// `call *reg` / `jmp *reg`.
    #[default]
    Native,
    /// `lfence` first (the kernel's `RETPOLINE_LFENCE` form).
    Lfence,
    /// `call rel32` / `jmp rel32` to [`kwasm_abi::Symbol::IndirectThunk`] for
    /// the register (a retpoline or ITS thunk).
    Thunk,
}

impl BranchForms {
    /// Whether `br_table` may become a jump table (an indirect `jmp`). Under
    /// IBT every target would need a landing pad, and under any other form a
    /// compare tree is cheaper than a mitigated indirect jump; the kernel
    /// builds its own C with -fno-jump-tables for the same reasons.
    pub fn jump_tables(&self) -> bool {
        self.indirect == IndirectBranch::Native && !self.ibt
    }

    /// Every hardening on, returns and indirect branches through thunks.
    pub fn hardened() -> Self {
        BranchForms {
            indirect: IndirectBranch::Thunk,
            return_thunk: true,
            sls: true,
            ibt: true,
        }
    }
}

/// x86-64 CPU features the generated code may use. SSE4.1 is required: without
/// it Cranelift would turn floor/ceil/trunc/nearest into libcalls, which do
/// not exist in the kernel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IsaFeatures {
    /// SSE4.1 (required).
    pub sse41: bool,
    /// SSE4.2.
    pub sse42: bool,
    /// POPCNT.
    pub popcnt: bool,
    /// LZCNT.
    pub lzcnt: bool,
    /// BMI1.
    pub bmi1: bool,
    /// BMI2.
    pub bmi2: bool,
    /// AVX.
    pub avx: bool,
    /// AVX2.
    pub avx2: bool,
    /// FMA.
    pub fma: bool,
}

impl IsaFeatures {
    /// Every feature on: for hosts known to be recent (tests, benchmarks).
    pub fn all() -> Self {
        IsaFeatures {
            sse41: true,
            sse42: true,
            popcnt: true,
            lzcnt: true,
            bmi1: true,
            bmi2: true,
            avx: true,
            avx2: true,
            fma: true,
        }
    }

    /// The minimum the compiler accepts: SSE4.1 only.
    pub fn baseline() -> Self {
        IsaFeatures {
            sse41: true,
            ..IsaFeatures::default()
        }
    }
}
