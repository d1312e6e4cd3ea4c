// SPDX-License-Identifier: GPL-2.0

//! Linear memory for the host runner: a 6 GiB PROT_NONE reservation whose
//! accessible prefix grows with mprotect.

use kwasm_abi::{MEMORY_GUARD, MEMORY_RESERVATION};
use kwasm_runtime::MemoryRegion;

/// Size of one reservation: 4 GiB of addressable memory plus the guard that
/// lets compiled code skip bounds checks for small static offsets.
const RESERVATION: usize = (MEMORY_RESERVATION + MEMORY_GUARD) as usize;

/// A reservation made with mmap; unmapped on drop.
#[derive(Debug)]
pub struct HostRegion {
    base: *mut u8,
}

impl HostRegion {
    /// Reserves the region and makes `[0, initial)` read-write.
    pub fn new(initial: u64) -> Option<Self> {
        // SAFETY: an anonymous PROT_NONE mapping at a kernel-chosen address touches no existing memory. MAP_NORESERVE: only accessible pages ever count against overcommit.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let mut r = Self { base: p.cast() };
        if !r.grow(0, initial) {
            return None;
        }
        Some(r)
    }
}

impl MemoryRegion for HostRegion {
    fn base(&self) -> *mut u8 {
        self.base
    }

    fn grow(&mut self, old_bytes: u64, new_bytes: u64) -> bool {
        if new_bytes > MEMORY_RESERVATION || new_bytes < old_bytes {
            return false;
        }
        if new_bytes == old_bytes {
            return true;
        }
        // Both are page multiples (wasm pages are 64 KiB) and inside the
        // reservation (checked above).
        // SAFETY: the range lies inside our own mapping; fresh anonymous pages read as zero, and memories never shrink, so the newly accessible part is zeroed as required.
        let rc = unsafe {
            libc::mprotect(
                self.base.add(old_bytes as usize).cast(),
                (new_bytes - old_bytes) as usize,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        rc == 0
    }
}

impl Drop for HostRegion {
    fn drop(&mut self) {
        // SAFETY: we own the whole mapping; no instance can use it any more (the Memory holding this region is being dropped).
        unsafe { libc::munmap(self.base.cast(), RESERVATION) };
    }
}
