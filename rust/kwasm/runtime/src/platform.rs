// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernel and the host runner.

use kwasm_abi::{HostcallFn, Trap};

use crate::Instance;

/// A reserved linear-memory region of `MEMORY_RESERVATION + MEMORY_GUARD`
/// bytes, of which a prefix is accessible. Dropping it releases the whole
/// reservation.
pub trait MemoryRegion {
    /// Start of the reservation. Must not change for the region's lifetime:
    /// compiled code caches it.
    fn base(&self) -> *mut u8;

    /// Makes `[0, new_bytes)` accessible, with `[old_bytes, new_bytes)` reading
    /// as zero. Returns `false` (changing nothing) if the platform refuses,
    /// e.g. because of a resource limit. `new_bytes` is a multiple of the wasm
    /// page size and at most `MEMORY_RESERVATION`.
    fn grow(&mut self, old_bytes: u64, new_bytes: u64) -> bool;
}

/// Services a runtime needs from its environment.
pub trait Platform: Sized {
    /// Linear-memory reservations.
    type Region: MemoryRegion;

    /// How the platform represents a host function bound to an import.
    type HostFunc;

    /// Reserves a region and makes `[0, initial_bytes)` accessible and zeroed.
    /// `None` if the reservation or the initial size is refused.
    fn reserve_memory(&self, initial_bytes: u64) -> Option<Self::Region>;

    /// Whether a table may grow from `old_len` to `new_len` elements (the
    /// declared maximum has already been checked); also asked, with
    /// `old_len` 0, before a table is created. Lets the platform cap the
    /// memory a guest can pin through tables.
    fn table_growth_allowed(&self, old_len: u64, new_len: u64) -> bool {
        let _ = old_len;
        new_len <= 10_000_000
    }

    /// The single host-call entry point stored in every `VMContext`.
    fn hostcall(&self) -> HostcallFn;

    /// The word compiled code polls at safepoints and the mask of bits that
    /// make it call [`kwasm_abi::Builtin::Safepoint`]. The word must stay
    /// valid for as long as instances created with this platform exist.
    fn safepoint_word(&self) -> (*const u64, u64);

    /// Lowest stack pointer compiled code may use, for instances created now.
    /// Runtimes that run wasm on several stacks update it per entry with
    /// [`Instance::set_stack_limit`].
    fn stack_limit(&self) -> u64;

    /// Called by the Safepoint builtin: reschedule, deliver signals, or
    /// return a trap (e.g. [`Trap::Interrupted`]) to stop the program.
    fn safepoint(&self, instance: &Instance<Self>) -> Result<(), Trap>;
}
