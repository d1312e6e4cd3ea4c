// SPDX-License-Identifier: GPL-2.0

//! Global allocator symbols for the `alloc` crate in the kernel.
//!
//! Linux builds no `alloc` crate and links Rust objects with `ld`, so rustc's
//! allocator shim is never generated. kwasm's compiler (Cranelift) needs
//! `alloc`; this crate provides the shim's symbols on top of `KVmalloc`,
//! since single compiler allocations reach several MiB.
//!
//! Built only by rust/Makefile when `CONFIG_KWASM` is set (kernel-only: it is
//! not part of the cargo workspace).

#![no_std]
#![feature(rustc_attrs)]
#![allow(internal_features)]

use core::alloc::Layout;
use core::ptr::{self, NonNull};
use kernel::alloc::{allocator::KVmalloc, flags, Allocator};

/// Allocations are not charged to a memory cgroup: the compiler's memory is
/// bounded by kwasm's module limits, and a failed allocation here cannot be
/// reported back to the compiler (it would end in `BUG()`).
const FLAGS: kernel::alloc::Flags = flags::GFP_KERNEL;

fn layout(size: usize, align: usize) -> Option<Layout> {
    Layout::from_size_align(size, align).ok()
}

/// # Safety
///
/// Called by `alloc` only, with a valid size and power-of-two alignment.
#[rustc_std_internal_symbol]
unsafe fn __rust_alloc(size: usize, align: usize) -> *mut u8 {
    let Some(l) = layout(size, align) else {
        return ptr::null_mut();
    };
    match KVmalloc::alloc(l, FLAGS) {
        Ok(p) => p.as_ptr().cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// # Safety
///
/// As `__rust_alloc`.
#[rustc_std_internal_symbol]
unsafe fn __rust_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    let Some(l) = layout(size, align) else {
        return ptr::null_mut();
    };
    match KVmalloc::alloc(l, FLAGS | flags::__GFP_ZERO) {
        Ok(p) => p.as_ptr().cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// # Safety
///
/// `ptr` was returned by `__rust_alloc*` / `__rust_realloc` with this layout.
#[rustc_std_internal_symbol]
unsafe fn __rust_dealloc(ptr: *mut u8, size: usize, align: usize) {
    let (Some(p), Some(l)) = (NonNull::new(ptr), layout(size, align)) else {
        return;
    };
    // SAFETY: `alloc` passes back a pointer and layout from a successful allocation of ours, which it never uses again.
    unsafe { KVmalloc::free(p, l) };
}

/// # Safety
///
/// `ptr` was returned by `__rust_alloc*` / `__rust_realloc` with `size` and
/// `align`; `new_size` is valid for `align`.
#[rustc_std_internal_symbol]
unsafe fn __rust_realloc(ptr: *mut u8, size: usize, align: usize, new_size: usize) -> *mut u8 {
    let (Some(old), Some(new)) = (layout(size, align), layout(new_size, align)) else {
        return ptr::null_mut();
    };
    // SAFETY: `ptr` is null or a live allocation of ours with layout `old`, as `alloc` guarantees; on success the old pointer is no longer used.
    match unsafe { KVmalloc::realloc(NonNull::new(ptr), new, old, FLAGS) } {
        Ok(p) => p.as_ptr().cast(),
        Err(_) => ptr::null_mut(),
    }
}

/// Out of memory inside `alloc` (e.g. `Vec::push`): nothing can unwind in the
/// kernel, so this is fatal. kwasm bounds every input before compiling so that
/// allocation sizes stay small.
#[rustc_std_internal_symbol]
fn __rust_alloc_error_handler(size: usize, _align: usize) -> ! {
    panic!("kwasm: out of memory allocating {size} bytes");
}

/// Referenced by `alloc` to ensure a shim exists.
#[rustc_std_internal_symbol]
fn __rust_no_alloc_shim_is_unstable_v2() {}
