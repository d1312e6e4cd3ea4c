// SPDX-License-Identifier: GPL-2.0

//! kwasm instance runtime, shared by the Linux kernel driver and the
//! user-space host runner.
//!
//! It builds instances from a [`kwasm_abi::CompiledModule`] (the `VMContext`
//! and what hangs off it), links imports, applies segments with wasm 2.0
//! semantics, and implements the builtins compiled code calls. Everything
//! that differs between the kernel and user space (memory reservations,
//! the host-call entry, safepoints, stack limits) is behind [`Platform`].
//!
//! Guest behaviour never panics here: sizes and indices coming from wasm are
//! checked, and failures become traps or `-1` results.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

extern crate alloc;

mod builtins;
mod call;
mod constexpr;
mod global;
mod imports;
mod instance;
mod memory;
mod platform;
mod table;
mod types;

pub use builtins::{builtin, builtin_slots};
pub use call::{slots_for, trap_at_pc, CallTarget, HostcallTarget};
pub use global::Global;
pub use imports::{Extern, Func, LinkError};
pub use instance::{Instance, InstantiateError};
pub use memory::{Memory, MAX_PAGES};
pub use platform::{MemoryRegion, Platform};
pub use table::{Table, MAX_ELEMS};
pub use types::TypeRegistry;
