// SPDX-License-Identifier: GPL-2.0

//! Global allocator symbols for the `alloc` crate in the kernel.
//!
//! Linux builds no `alloc` crate and links Rust objects with `ld`, so rustc's
//! allocator shim is never generated. kwasm's compiler (Cranelift) needs
//! `alloc`; this crate provides the shim's symbols on top of kwasm's
//! allocator in drivers/kwasm/compile_scope.c, which charges the memory
//! cgroup, and inside a compile records every allocation so that a compile
//! that runs out of memory, exceeds its budget, is killed or panics can be
//! abandoned with everything it allocated freed.
//!
//! Built only by rust/Makefile when `CONFIG_KWASM` is set (kernel-only: it is
//! not part of the cargo workspace).

#![no_std]
#![feature(rustc_attrs)]
#![allow(internal_features)]

extern "C" {
    fn kwasm_alloc(size: usize, align: usize, zero: bool) -> *mut u8;
    fn kwasm_free(ptr: *mut u8);
    fn kwasm_realloc(ptr: *mut u8, align: usize, new_size: usize) -> *mut u8;
}

/// # Safety
///
/// Called by `alloc` only, with a valid size and power-of-two alignment.
#[rustc_std_internal_symbol]
unsafe fn __rust_alloc(size: usize, align: usize) -> *mut u8 {
    // SAFETY: no preconditions beyond a power-of-two `align`, which the C side also checks; returns null on failure.
    unsafe { kwasm_alloc(size, align, false) }
}

/// # Safety
///
/// As `__rust_alloc`.
#[rustc_std_internal_symbol]
unsafe fn __rust_alloc_zeroed(size: usize, align: usize) -> *mut u8 {
    // SAFETY: as in `__rust_alloc`.
    unsafe { kwasm_alloc(size, align, true) }
}

/// # Safety
///
/// `ptr` was returned by `__rust_alloc*` / `__rust_realloc`.
#[rustc_std_internal_symbol]
unsafe fn __rust_dealloc(ptr: *mut u8, _size: usize, _align: usize) {
    // SAFETY: `alloc` passes back a pointer from a successful allocation of ours, which it never uses again; the header below it records its size.
    unsafe { kwasm_free(ptr) };
}

/// # Safety
///
/// `ptr` was returned by `__rust_alloc*` / `__rust_realloc` with `align`;
/// `new_size` is valid for `align`.
#[rustc_std_internal_symbol]
unsafe fn __rust_realloc(ptr: *mut u8, _size: usize, align: usize, new_size: usize) -> *mut u8 {
    // SAFETY: `ptr` is a live allocation of ours made with `align`, as `alloc` guarantees; on success the old pointer is no longer used, on failure it stays valid.
    unsafe { kwasm_realloc(ptr, align, new_size) }
}

/// Out of memory inside `alloc` (e.g. `Vec::push`). Inside a compile the
/// allocator has already abandoned the compile, so this is only reached from
/// infallible allocations outside one; nothing can unwind in the kernel, so
/// the panic ends in `BUG()`. Code outside compiles allocates fallibly
/// (`try_reserve`) wherever a user controls the size.
#[rustc_std_internal_symbol]
fn __rust_alloc_error_handler(size: usize, _align: usize) -> ! {
    panic!("kwasm: out of memory allocating {size} bytes");
}

/// Referenced by `alloc` to ensure a shim exists.
#[rustc_std_internal_symbol]
fn __rust_no_alloc_shim_is_unstable_v2() {}
