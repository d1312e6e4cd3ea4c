// SPDX-License-Identifier: GPL-2.0

//! A global: one 8-byte cell at a stable address.

use core::cell::UnsafeCell;

use kwasm_abi::ValType;

/// A global variable, shared (by `Rc`) between its defining instance and every
/// importer. The value uses the slot encoding of host calls (i32/f32 in the
/// low 32 bits, zero-extended; references as pointers or opaque words).
#[derive(Debug)]
pub struct Global {
    // Compiled code reads and writes the value through a raw pointer.
    value: UnsafeCell<u64>,
    ty: ValType,
    mutable: bool,
}

impl Global {
    /// A global holding `value`.
    pub fn new(ty: ValType, mutable: bool, value: u64) -> Self {
        Self {
            value: UnsafeCell::new(value),
            ty,
            mutable,
        }
    }

    /// Pointer for the `VMContext` GLOBALS array.
    pub fn ptr(&self) -> *mut u64 {
        self.value.get()
    }

    /// Current value.
    pub fn get(&self) -> u64 {
        // SAFETY: single-threaded; compiled code is not running concurrently.
        unsafe { *self.value.get() }
    }

    /// Sets the value (the host may set immutable globals it owns).
    pub fn set(&self, v: u64) {
        // SAFETY: as in `get`.
        unsafe { *self.value.get() = v }
    }

    /// Value type.
    pub fn ty(&self) -> ValType {
        self.ty
    }

    /// Declared mutable.
    pub fn mutable(&self) -> bool {
        self.mutable
    }
}
