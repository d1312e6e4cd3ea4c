// SPDX-License-Identifier: GPL-2.0

//! The host runner's `Platform`: mmap'd memories, the host-call entry,
//! counted safepoints and the thread's stack limit.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kwasm_abi::{HostcallFn, Trap, MEMORY_RESERVATION};
use kwasm_runtime::{Instance, Platform};

use crate::memory::HostRegion;
use crate::{entry, hostcall, Stop};

/// Safepoint flag bit: call the Safepoint builtin, which only counts.
pub const SAFEPOINT_COUNT: u64 = 1;
/// Safepoint flag bit: stop the program with [`Trap::Interrupted`].
pub const SAFEPOINT_INTERRUPT: u64 = 2;
/// Every bit the host platform acts on: its safepoint mask, which
/// [`crate::compiler_config`] builds into the code.
pub const SAFEPOINT_MASK: u64 = SAFEPOINT_COUNT | SAFEPOINT_INTERRUPT;

/// A host function bound to an import: receives the calling instance (for
/// its memory) and the argument slots, writes results from slot 0.
pub type HostFunc = Rc<dyn Fn(&Instance<HostPlatform>, &mut [u64]) -> Result<(), Stop>>;

/// The host runner's platform.
#[derive(Debug)]
pub struct HostPlatform {
    /// Word polled by compiled code; other threads may set bits (watchdog).
    flags: Arc<AtomicU64>,
    safepoint_calls: AtomicU64,
    memory_cap: Cell<u64>,
}

impl Default for HostPlatform {
    fn default() -> Self {
        Self::new()
    }
}

impl HostPlatform {
    /// A platform with no safepoint bits set and a 4 GiB memory cap.
    pub fn new() -> Self {
        Self {
            flags: Arc::new(AtomicU64::new(0)),
            safepoint_calls: AtomicU64::new(0),
            memory_cap: Cell::new(MEMORY_RESERVATION),
        }
    }

    /// The safepoint word, for setting bits from any thread.
    pub fn safepoint_flags(&self) -> Arc<AtomicU64> {
        self.flags.clone()
    }

    /// How many times the Safepoint builtin ran.
    pub fn safepoint_calls(&self) -> u64 {
        self.safepoint_calls.load(Ordering::Relaxed)
    }

    /// Caps the size of every linear memory (like RLIMIT_AS in the kernel).
    pub fn set_memory_cap(&self, bytes: u64) {
        self.memory_cap.set(bytes);
    }
}

/// A region that also honours the platform's memory cap.
#[derive(Debug)]
pub struct CappedRegion {
    region: HostRegion,
    cap: u64,
}

impl kwasm_runtime::MemoryRegion for CappedRegion {
    fn base(&self) -> *mut u8 {
        self.region.base()
    }

    fn grow(&mut self, old_bytes: u64, new_bytes: u64) -> bool {
        new_bytes <= self.cap && self.region.grow(old_bytes, new_bytes)
    }
}

impl Platform for HostPlatform {
    type Region = CappedRegion;
    type HostFunc = HostFunc;

    fn reserve_memory(&self, initial_bytes: u64) -> Option<CappedRegion> {
        let cap = self.memory_cap.get();
        if initial_bytes > cap {
            return None;
        }
        Some(CappedRegion {
            region: HostRegion::new(initial_bytes)?,
            cap,
        })
    }

    fn hostcall(&self) -> HostcallFn {
        hostcall::kwasm_hostcall
    }

    fn safepoint_word(&self) -> (*const u64, u64) {
        (self.flags.as_ptr().cast_const(), SAFEPOINT_MASK)
    }

    fn stack_limit(&self) -> u64 {
        entry::current_stack_limit()
    }

    fn safepoint(&self, _instance: &Instance<Self>) -> Result<(), Trap> {
        self.safepoint_calls.fetch_add(1, Ordering::Relaxed);
        if self.flags.load(Ordering::Relaxed) & SAFEPOINT_INTERRUPT != 0 {
            return Err(Trap::Interrupted);
        }
        Ok(())
    }
}
