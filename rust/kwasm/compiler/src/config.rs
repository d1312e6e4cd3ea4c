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
