// SPDX-License-Identifier: GPL-2.0

//! A table: a growable array of 8-byte references plus the `VMTable` compiled
//! code reads.

use alloc::vec::Vec;
use core::cell::UnsafeCell;

use kwasm_abi::{Limits, RefType, VMTable};

use kwasm_abi::nospec;

/// Table elements are `u32`-indexed.
pub const MAX_ELEMS: u64 = u32::MAX as u64;

/// A table, shared (by `Rc`) between its defining instance and every importer.
pub struct Table {
    // Compiled code reads `vm` (base, len) through a raw pointer; growth
    // replaces `elems`' buffer and updates `vm`.
    vm: UnsafeCell<VMTable>,
    elems: UnsafeCell<Vec<u64>>,
    ty: RefType,
    max: Option<u64>,
}

impl core::fmt::Debug for Table {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Table")
            .field("ty", &self.ty)
            .field("len", &self.len())
            .field("max", &self.max)
            .finish()
    }
}

impl Table {
    /// A table of `limits.min` elements set to `init`. `None` if the
    /// allocation fails or the limits are impossible.
    pub fn new(ty: RefType, limits: Limits, init: u64) -> Option<Self> {
        if limits.min > MAX_ELEMS || limits.max.is_some_and(|m| m < limits.min) {
            return None;
        }
        let n = usize::try_from(limits.min).ok()?;
        let mut elems = Vec::new();
        elems.try_reserve_exact(n).ok()?;
        elems.resize(n, init);
        let t = Self {
            vm: UnsafeCell::new(VMTable {
                base: core::ptr::null_mut(),
                len: 0,
            }),
            elems: UnsafeCell::new(elems),
            ty,
            max: limits.max,
        };
        t.sync_vm();
        Some(t)
    }

    /// Publishes the element buffer to compiled code.
    fn sync_vm(&self) {
        // SAFETY: single-threaded; no references into `elems` or `vm` are live across this call.
        unsafe {
            let elems = &mut *self.elems.get();
            let vm = &mut *self.vm.get();
            vm.base = elems.as_mut_ptr();
            vm.len = elems.len() as u64;
        }
    }

    /// Pointer for the `VMContext` TABLES array (stable for the table's lifetime).
    pub fn vm_ptr(&self) -> *mut VMTable {
        self.vm.get()
    }

    /// Element type.
    pub fn ty(&self) -> RefType {
        self.ty
    }

    /// Declared maximum.
    pub fn max(&self) -> Option<u64> {
        self.max
    }

    /// Current length.
    pub fn len(&self) -> u64 {
        // SAFETY: single-threaded read of a plain field.
        unsafe { (*self.vm.get()).len }
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Current limits, as an importer's type check sees them.
    pub fn limits(&self) -> Limits {
        Limits {
            min: self.len(),
            max: self.max,
        }
    }

    /// Runs `f` on the element vector. Callers never nest two calls on the
    /// same table, so the borrow is unique.
    fn with_elems<R>(&self, f: impl FnOnce(&mut Vec<u64>) -> R) -> R {
        // SAFETY: single-threaded, and no caller re-enters `with_elems` on the same table inside `f`, so this is the only reference.
        f(unsafe { &mut *self.elems.get() })
    }

    /// Element `i`, or `None` if out of bounds.
    pub fn get(&self, i: u64) -> Option<u64> {
        let i = usize::try_from(i).ok()?;
        self.with_elems(|e| e.get(i).copied())
    }

    /// Sets element `i`; `false` if out of bounds.
    pub fn set(&self, i: u64, v: u64) -> bool {
        let Ok(i) = usize::try_from(i) else {
            return false;
        };
        self.with_elems(|e| match e.get_mut(i) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        })
    }

    /// Grows by `delta` elements set to `init`; returns the old length, or
    /// `None` if the maximum, `allowed` or the allocator refuses.
    pub fn grow(
        &self,
        delta: u64,
        init: u64,
        allowed: impl FnOnce(u64, u64) -> bool,
    ) -> Option<u64> {
        let old = self.len();
        let new = old.checked_add(delta)?;
        if new > self.max.unwrap_or(MAX_ELEMS).min(MAX_ELEMS) {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        if !allowed(old, new) {
            return None;
        }
        let new_usize = usize::try_from(new).ok()?;
        let delta = usize::try_from(delta).ok()?;
        self.with_elems(|e| {
            e.try_reserve_exact(delta).ok()?;
            e.resize(new_usize, init);
            Some(())
        })?;
        self.sync_vm();
        Some(old)
    }

    /// Whether `[start, start + len)` is inside the table.
    pub fn in_bounds(&self, start: u64, len: u64) -> bool {
        start.checked_add(len).is_some_and(|end| end <= self.len())
    }

    /// `table.fill`: bounds-checked before any write.
    pub fn fill(&self, dst: u64, val: u64, len: u64) -> bool {
        if !self.in_bounds(dst, len) {
            return false;
        }
        let (d, n) = nospec::range(dst, len, self.len());
        self.with_elems(|e| {
            if let Some(s) = e.get_mut(d..d + n) {
                s.fill(val);
            }
        });
        true
    }

    /// Writes `items` at `dst`: bounds-checked before any write.
    pub fn write(&self, dst: u64, items: &[u64]) -> bool {
        if !self.in_bounds(dst, items.len() as u64) {
            return false;
        }
        let (d, n) = nospec::range(dst, items.len() as u64, self.len());
        self.with_elems(|e| {
            if let (Some(s), Some(from)) = (e.get_mut(d..d + n), items.get(..n)) {
                s.copy_from_slice(from);
            }
        });
        true
    }

    /// `table.copy` from `src_table` (possibly the same table): bounds-checked
    /// before any write, overlap-safe.
    pub fn copy_from(&self, src_table: &Table, dst: u64, src: u64, len: u64) -> bool {
        if !self.in_bounds(dst, len) || !src_table.in_bounds(src, len) {
            return false;
        }
        // Both ranges, or under speculation past a failed check an empty
        // copy from 0 to 0.
        let m = nospec::range_mask(dst, len, self.len())
            & nospec::range_mask(src, len, src_table.len());
        let (d, s, n) = ((dst & m) as usize, (src & m) as usize, (len & m) as usize);
        if core::ptr::eq(self, src_table) {
            self.with_elems(|e| e.copy_within(s..s + n, d));
        } else {
            src_table.with_elems(|from| {
                self.with_elems(|to| {
                    if let (Some(f), Some(t)) = (from.get(s..s + n), to.get_mut(d..d + n)) {
                        t.copy_from_slice(f);
                    }
                })
            });
        }
        true
    }
}
