// SPDX-License-Identifier: GPL-2.0

//! Compilation errors.

use alloc::string::String;
use core::fmt;

/// Why a module could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// A configured limit was exceeded: (what, value, max).
    Limit(&'static str, u64, u64),
    /// The module is not valid WebAssembly (wasmparser message and offset).
    Invalid(String),
    /// The module uses something this compiler does not support.
    Unsupported(String),
    /// Code generation failed (Cranelift error, layout overflow).
    Codegen(String),
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Limit(what, value, max) => {
                write!(f, "limit exceeded: {what} = {value} (max {max})")
            }
            CompileError::Invalid(msg) => write!(f, "invalid module: {msg}"),
            CompileError::Unsupported(msg) => write!(f, "unsupported: {msg}"),
            CompileError::Codegen(msg) => write!(f, "code generation failed: {msg}"),
        }
    }
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileError::Invalid(alloc::format!(
            "{} (at offset {:#x})",
            e.message(),
            e.offset()
        ))
    }
}

/// Shorthand for an internal inconsistency that validation should have ruled
/// out; reported as an error rather than a panic.
pub(crate) fn internal(what: &str) -> CompileError {
    CompileError::Codegen(alloc::format!("internal error: {what}"))
}
