// SPDX-License-Identifier: GPL-2.0

//! Resource caps. Cranelift turns allocation failure into a panic, and a
//! panic in the kernel is a BUG(), so everything that scales compile-time
//! memory is bounded here before code generation starts.

use crate::error::CompileError;

/// Resource caps, all checked before any Cranelift work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Size of the wasm binary in bytes.
    pub max_module_bytes: u64,
    /// Functions (imported + defined).
    pub max_funcs: u64,
    /// Size of one function body in bytes.
    pub max_body_bytes: u64,
    /// Locals of one function, parameters included.
    pub max_locals: u64,
    /// Parameters or results of one function type or block type.
    pub max_params_results: u64,
    /// Initial and maximum elements of a table.
    pub max_table_elems: u64,
    /// Initial and maximum pages of the memory.
    pub max_memory_pages: u64,
    /// Control-flow nesting depth inside a function.
    pub max_nesting: u64,
    /// Type section entries.
    pub max_types: u64,
    /// Globals (imported + defined).
    pub max_globals: u64,
    /// Data segments.
    pub max_data_segments: u64,
    /// Element segments.
    pub max_elem_segments: u64,
    /// Items of all element segments together.
    pub max_elem_items: u64,
    /// Imports.
    pub max_imports: u64,
    /// Exports.
    pub max_exports: u64,
    /// Tables (imported + defined).
    pub max_tables: u64,
    /// Targets of one `br_table`.
    pub max_br_table_targets: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_module_bytes: 64 << 20,
            max_funcs: 100_000,
            max_body_bytes: 1 << 20,
            max_locals: 50_000,
            max_params_results: 1_000,
            max_table_elems: 10_000_000,
            max_memory_pages: 65_536,
            max_nesting: 10_000,
            max_types: 100_000,
            max_globals: 100_000,
            max_data_segments: 100_000,
            max_elem_segments: 100_000,
            max_elem_items: 10_000_000,
            max_imports: 100_000,
            max_exports: 100_000,
            max_tables: 100,
            max_br_table_targets: 100_000,
        }
    }
}

/// Fails with [`CompileError::Limit`] if `value > max`.
pub(crate) fn check(what: &'static str, value: u64, max: u64) -> Result<(), CompileError> {
    if value > max {
        Err(CompileError::Limit(what, value, max))
    } else {
        Ok(())
    }
}
