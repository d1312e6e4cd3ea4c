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
//!
//! A runtime built on this crate (the kernel driver, `kwasm-host`):
//!
//! 1. implements [`Platform`] (memory reservations, its `HOSTCALL` entry,
//!    the safepoint word, the stack limit, what a safepoint does);
//! 2. copies `CompiledModule::code` to executable memory aligned to
//!    [`kwasm_abi::CODE_ALIGN`], and keeps it mapped while instances live;
//! 3. resolves imports to [`Extern`]s and calls [`Instance::new`] with one
//!    [`TypeRegistry`] per group of instances that can call each other; an
//!    [`InstantiateError::Trap`] still hands back the instance, which must be
//!    kept alive (shared tables may point into it);
//! 4. calls functions through [`Instance::call_target`] inside its own
//!    trap-catching entry (the start function first, if any);
//! 5. in its `HOSTCALL` entry, decodes the index with
//!    [`Instance::hostcall_target`] and runs [`builtin`] or the import,
//!    unwinding to the entry on a trap instead of returning into wasm;
//! 6. on a fault in compiled code, maps the pc to a trap with
//!    [`Instance::trap_at_pc`] / [`trap_at_pc`] and unwinds.

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
