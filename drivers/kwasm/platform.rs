// SPDX-License-Identifier: GPL-2.0

//! The kernel's [`Platform`] for the shared instance runtime: linear memory
//! in sparse kernel address space, the host-call entry that switches back to
//! the task stack, and safepoints on the task's thread flags.

use core::cell::Cell;

use kwasm_abi::{HostcallFn, Trap};
use kwasm_runtime::{Instance, MemoryRegion, Platform};
use kwasm_wasi::WasiFunc;

use crate::ffi::{self, KwasmRun, KwasmUser, LinearMem};
use crate::leaf::Leaf;
use crate::wasi::WasiCtx;
use crate::wasi_os::KernelOs;

/// A host function bound to an import: a WASI function, and its leaf path
/// if it has one (leaf.rs).
#[derive(Clone, Copy)]
pub(crate) struct HostFn {
    pub(crate) f: &'static WasiFunc<KernelOs>,
    pub(crate) leaf: Option<Leaf>,
}

/// Why a host call ends the program instead of returning to wasm.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stop {
    /// `proc_exit(code)`.
    Exit(u32),
    /// A trap.
    Trap(Trap),
}

/// Table elements one program may hold in all its tables together (8 bytes
/// each, charged to its memory cgroup): 80 MiB.
const MAX_PROGRAM_TABLE_ELEMS: u64 = 10_000_000;

/// Per-program platform state.
pub(crate) struct KernelPlatform {
    /// The C-side run (stacks, FPU state) this program executes on.
    pub(crate) run: *mut KwasmRun,
    /// The program's user record (held by the program, which outlives this).
    pub(crate) user: *mut KwasmUser,
    /// Lowest stack address compiled code may use (its wasm stack's).
    pub(crate) stack_limit: u64,
    /// WASI state: arguments, environment, preopens.
    pub(crate) wasi: WasiCtx,
    /// Exit code requested by `proc_exit`.
    pub(crate) exit_code: Cell<Option<u32>>,
    /// Table elements granted so far, over all tables.
    pub(crate) table_elems: Cell<u64>,
}

impl MemoryRegion for LinearMem {
    fn base(&self) -> *mut u8 {
        LinearMem::base(self)
    }

    fn grow(&mut self, old_bytes: u64, new_bytes: u64) -> bool {
        LinearMem::grow(self, old_bytes, new_bytes)
    }
}

impl Platform for KernelPlatform {
    type Region = LinearMem;
    type HostFunc = HostFn;

    fn reserve_memory(&self, initial_bytes: u64) -> Option<LinearMem> {
        LinearMem::reserve(initial_bytes, self.user)
    }

    fn table_growth_allowed(&self, old_len: u64, new_len: u64) -> bool {
        let Some(total) = (self.table_elems.get() + new_len).checked_sub(old_len) else {
            return false;
        };
        if total > MAX_PROGRAM_TABLE_ELEMS {
            return false;
        }
        self.table_elems.set(total);
        true
    }

    fn hostcall(&self) -> HostcallFn {
        ffi::kwasm_hostcall_entry
    }

    fn safepoint_word(&self) -> (*const u64, u64) {
        ffi::safepoint_word()
    }

    fn stack_limit(&self) -> u64 {
        self.stack_limit
    }

    fn safepoint(&self, _instance: &Instance<Self>) -> Result<(), Trap> {
        if ffi::safepoint() {
            Err(Trap::Interrupted)
        } else {
            Ok(())
        }
    }
}
