// SPDX-License-Identifier: GPL-2.0

//! A linear memory: a platform reservation plus the `VMMemory` compiled code
//! reads.

use core::cell::UnsafeCell;

use kwasm_abi::{Limits, VMMemory, MEMORY_RESERVATION, WASM_PAGE_SIZE};

use crate::platform::{MemoryRegion, Platform};

/// Largest page count of a 32-bit memory.
pub const MAX_PAGES: u64 = MEMORY_RESERVATION / WASM_PAGE_SIZE;

/// A linear memory, shared (by `Rc`) between its defining instance and every
/// importer.
pub struct Memory<R: MemoryRegion> {
    // Compiled code reads `vm` through a raw pointer and the runtime updates
    // `size` on growth, so it lives in an UnsafeCell.
    vm: UnsafeCell<VMMemory>,
    region: UnsafeCell<R>,
    max_pages: Option<u64>,
}

impl<R: MemoryRegion> core::fmt::Debug for Memory<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Memory")
            .field("pages", &self.pages())
            .field("max_pages", &self.max_pages)
            .finish()
    }
}

impl<R: MemoryRegion> Memory<R> {
    /// Reserves a memory with `limits` (in pages). `None` if the platform
    /// refuses or the limits exceed a 32-bit memory.
    pub fn new<P: Platform<Region = R>>(platform: &P, limits: Limits) -> Option<Self> {
        if limits.min > MAX_PAGES || limits.max.is_some_and(|m| m < limits.min) {
            return None;
        }
        let bytes = limits.min.checked_mul(WASM_PAGE_SIZE)?;
        let region = platform.reserve_memory(bytes)?;
        Some(Self {
            vm: UnsafeCell::new(VMMemory {
                base: region.base(),
                size: bytes,
            }),
            region: UnsafeCell::new(region),
            max_pages: limits.max,
        })
    }

    /// Pointer for the `VMContext` (stable for the memory's lifetime).
    pub fn vm_ptr(&self) -> *mut VMMemory {
        self.vm.get()
    }

    /// Start of the linear memory.
    pub fn base(&self) -> *mut u8 {
        // SAFETY: `vm` is only written by `grow`, which does not run concurrently (wasm 2.0 instances are single-threaded).
        unsafe { (*self.vm.get()).base }
    }

    /// Current size in bytes.
    pub fn size(&self) -> u64 {
        // SAFETY: as in `base`.
        unsafe { (*self.vm.get()).size }
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.size() / WASM_PAGE_SIZE
    }

    /// Declared maximum in pages.
    pub fn max_pages(&self) -> Option<u64> {
        self.max_pages
    }

    /// Current limits, as an importer's type check sees them.
    pub fn limits(&self) -> Limits {
        Limits {
            min: self.pages(),
            max: self.max_pages,
        }
    }

    /// Grows by `delta` pages; returns the old page count, or `None` if the
    /// maximum or the platform refuses.
    pub fn grow(&self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages.unwrap_or(MAX_PAGES).min(MAX_PAGES) {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        let old_bytes = self.size();
        let new_bytes = new.checked_mul(WASM_PAGE_SIZE)?;
        // SAFETY: no other reference to the region exists while we grow it: the runtime is single-threaded and only `grow` touches it mutably.
        let region = unsafe { &mut *self.region.get() };
        if !region.grow(old_bytes, new_bytes) {
            return None;
        }
        // SAFETY: as above; compiled code is not running while a builtin runs.
        unsafe { (*self.vm.get()).size = new_bytes };
        Some(old)
    }

    /// Whether `[offset, offset + len)` lies inside the memory.
    pub fn in_bounds(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= self.size())
    }

    /// Copies `bytes` to `offset`; `false` (writing nothing) if out of bounds.
    pub fn write(&self, offset: u64, bytes: &[u8]) -> bool {
        let len = bytes.len() as u64;
        if !self.in_bounds(offset, len) {
            return false;
        }
        // SAFETY: `[offset, offset + len)` is inside the accessible part of the reservation (checked above), and `bytes` cannot overlap linear memory as it is a Rust slice owned elsewhere.
        unsafe {
            core::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                self.base().add(offset as usize),
                bytes.len(),
            )
        };
        true
    }

    /// Copies out of linear memory; `false` (reading nothing) if out of bounds.
    pub fn read(&self, offset: u64, out: &mut [u8]) -> bool {
        let len = out.len() as u64;
        if !self.in_bounds(offset, len) {
            return false;
        }
        // SAFETY: the source range is accessible (checked above) and `out` is a separate Rust buffer.
        unsafe {
            core::ptr::copy_nonoverlapping(
                self.base().add(offset as usize),
                out.as_mut_ptr(),
                out.len(),
            )
        };
        true
    }

    /// `memory.fill`: bounds-checked before any write.
    pub fn fill(&self, dst: u64, val: u8, len: u64) -> bool {
        if !self.in_bounds(dst, len) {
            return false;
        }
        // SAFETY: the destination range is accessible (checked above).
        unsafe { core::ptr::write_bytes(self.base().add(dst as usize), val, len as usize) };
        true
    }

    /// `memory.copy`: bounds-checked before any write, overlap-safe.
    pub fn copy_within(&self, dst: u64, src: u64, len: u64) -> bool {
        if !self.in_bounds(dst, len) || !self.in_bounds(src, len) {
            return false;
        }
        // SAFETY: both ranges are accessible (checked above); `ptr::copy` has memmove semantics, so overlap is fine.
        unsafe {
            core::ptr::copy(
                self.base().add(src as usize),
                self.base().add(dst as usize),
                len as usize,
            )
        };
        true
    }
}
