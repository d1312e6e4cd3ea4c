// SPDX-License-Identifier: GPL-2.0

//! The kwasm ABI: what compiled code, the host runner and the kernel agree on.
//!
//! Compiled code reaches everything through one pointer, the `VMContext`
//! (`vmctx`), passed as the first argument of every wasm function. Its header
//! is a fixed block of 8-byte fields at the offsets in [`vmctx`], followed by
//! the value cells of the globals that only the instance itself can reach
//! ([`GlobalDesc::inline`], at [`vmctx::global_cell`]). Everything else of
//! variable size (functions, other globals, tables, type ids) hangs off
//! pointers in the header.
//!
//! Calls out of wasm (imports and runtime builtins) go to a single entry
//! point, a direct `call rel32` that the runtime points at its entry when it
//! places the code ([`Symbol::HostCall`]; [`vmctx::HOSTCALL`] records the
//! same entry for tools), with the "array call" shape
//! `extern "C" fn(vmctx, index: u32, args: *mut u64)`. Arguments are stored one
//! per 8-byte slot (i32/f32 in the low 32 bits, zero-extended; i64/f64 and
//! references as 64 bits); results are written back from slot 0. A runtime
//! implements exactly one entry point and can switch stacks and FPU state
//! there. A host call that must not return (trap, `proc_exit`) unwinds to the
//! runtime's entry point; it never returns an error code into wasm.

#![no_std]

extern crate alloc;

pub mod module;
pub mod nospec;
pub mod trap;

pub use module::*;
pub use trap::Trap;

/// Field offsets in the `VMContext` header. All fields are 8 bytes.
pub mod vmctx {
    /// `*mut VMMemory`: the instance's linear memory (own or imported); null if none.
    pub const MEMORY: i32 = 0;
    /// `u64`: lowest stack pointer a function may reach after its prologue.
    pub const STACK_LIMIT: i32 = 8;
    /// `*const u64`: word polled at safepoints (function entry, loop headers).
    /// The array-call trampolines load it into r15, Cranelift's pinned
    /// register, where compiled code reads it, and restore the caller's r15
    /// on return; a runtime's entry restores r15 when a trap unwinds. So a
    /// call into another instance polls the word of the instance that was
    /// entered (one per task in the kernel).
    pub const SAFEPOINT_FLAGS: i32 = 16;
    /// `u64`: bits of the polled word that make compiled code call
    /// [`super::Builtin::Safepoint`].
    pub const SAFEPOINT_MASK: i32 = 24;
    /// `extern "C" fn(vmctx: *mut u8, index: u32, args: *mut u64)`: the
    /// host-call entry. Compiled code calls it directly
    /// ([`super::Symbol::HostCall`]); the field records it for tools.
    pub const HOSTCALL: i32 = 32;
    /// `*mut VMFuncRef`: one per function index, imported functions first.
    pub const FUNCS: i32 = 40;
    /// `*const *mut u64`: one pointer per global index to its 8-byte value
    /// (for an inline global, to its cell in this `VMContext`).
    pub const GLOBALS: i32 = 48;
    /// `*const *mut VMTable`: one pointer per table index.
    pub const TABLES: i32 = 56;
    /// `*const u32`: canonical signature id per module type index.
    pub const TYPE_IDS: i32 = 64;
    /// Runtime-private data; compiled code never reads it.
    pub const RUNTIME: i32 = 72;
    /// `*mut u8`: the linear memory's base, a copy of `VMMemory.base` (which
    /// never changes), so that a heap access needs one load, not two; null
    /// if there is no memory.
    pub const MEMORY_BASE: i32 = 80;
    /// Size of the header.
    pub const SIZE: usize = 88;

    /// Offset of the 8-byte value cell of global `index` if it is inline
    /// ([`crate::GlobalDesc::inline`]): the cells follow the header, one per
    /// global index (those of other globals are unused), so that reading or
    /// writing such a global is one access, not three. `None` if the offset
    /// does not fit an `i32` (never for a module within the compiler's
    /// limits).
    pub const fn global_cell(index: u32) -> Option<i32> {
        let off = SIZE as u64 + 8 * index as u64;
        if off <= i32::MAX as u64 {
            Some(off as i32)
        } else {
            None
        }
    }

    /// Bytes of the `VMContext` of a module with `globals` globals: the
    /// header and one cell per global.
    pub const fn size(globals: usize) -> usize {
        SIZE + 8 * globals
    }
}

/// Linear memory as compiled code sees it.
///
/// `base` never changes after instantiation: the whole 4 GiB + guard region
/// is reserved up front, and growing only makes more of it accessible.
#[repr(C)]
#[derive(Debug)]
pub struct VMMemory {
    /// Start of the reservation.
    pub base: *mut u8,
    /// Current accessible size in bytes (a multiple of [`WASM_PAGE_SIZE`]).
    pub size: u64,
}

/// Offsets in [`VMMemory`].
pub mod vmmemory {
    /// `base` field.
    pub const BASE: i32 = 0;
    /// `size` field.
    pub const SIZE: i32 = 8;
}

/// A function reference: what `ref.func` yields and tables hold (by pointer).
///
/// Calling it means calling `code(vmctx, args...)` with the wasm signature
/// (SystemV, `vmctx` first). For a host import, `code` is the module's own
/// import adapter and `vmctx` the importing instance.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct VMFuncRef {
    /// Native entry with the wasm signature.
    pub code: *const u8,
    /// Context passed as the first argument.
    pub vmctx: *mut u8,
    /// Canonical signature id (see [`vmctx::TYPE_IDS`]).
    pub type_id: u64,
}

/// Offsets in [`VMFuncRef`].
pub mod vmfuncref {
    /// `code` field.
    pub const CODE: i32 = 0;
    /// `vmctx` field.
    pub const VMCTX: i32 = 8;
    /// `type_id` field.
    pub const TYPE_ID: i32 = 16;
    /// Size of one entry.
    pub const SIZE: i32 = 24;
}

/// A table as compiled code sees it. Elements are 8 bytes: a funcref is a
/// `*const VMFuncRef` (0 = null), an externref an opaque non-zero `u64`
/// (0 = null).
#[repr(C)]
#[derive(Debug)]
pub struct VMTable {
    /// Element array; may move when the table grows.
    pub base: *mut u64,
    /// Current number of elements.
    pub len: u64,
}

/// Offsets in [`VMTable`].
pub mod vmtable {
    /// `base` field.
    pub const BASE: i32 = 0;
    /// `len` field.
    pub const LEN: i32 = 8;
}

/// Size of a wasm page.
pub const WASM_PAGE_SIZE: u64 = 65536;
/// Bytes of address space reserved for a 32-bit linear memory.
pub const MEMORY_RESERVATION: u64 = 4 << 30;
/// Unmapped guard after the reservation. A static offset below this needs no
/// bounds check: `base + u32 address + offset + access size` stays inside
/// reservation + guard, and everything past the current size faults.
pub const MEMORY_GUARD: u64 = 2 << 30;

/// Required alignment of the address `CompiledModule::code` is loaded at.
/// Every function starts at a multiple of this in `code`, and constant-pool
/// data inside a function is aligned relative to the function start (SSE
/// memory operands need 16 bytes).
pub const CODE_ALIGN: usize = 32;

/// Host-call indices at or above this value are [`Builtin`]s; below it they
/// are imported function indices.
pub const BUILTIN_BASE: u32 = 0x8000_0000;

/// Runtime services that compiled code calls through the host-call entry
/// with index `BUILTIN_BASE + builtin as u32`. Argument slots in order;
/// the result (if any) is written to slot 0.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// (delta_pages: u32) -> old_pages: i32, or -1 if refused.
    MemoryGrow = 0,
    /// (dst: u32, val: u32, len: u32); traps if out of bounds.
    MemoryFill = 1,
    /// (dst: u32, src: u32, len: u32); traps if out of bounds.
    MemoryCopy = 2,
    /// (data_index: u32, dst: u32, src: u32, len: u32).
    MemoryInit = 3,
    /// (data_index: u32).
    DataDrop = 4,
    /// (table: u32, init: u64, delta: u32) -> old_len: i32, or -1.
    TableGrow = 5,
    /// (table: u32, dst: u32, val: u64, len: u32).
    TableFill = 6,
    /// (dst_table: u32, src_table: u32, dst: u32, src: u32, len: u32).
    TableCopy = 7,
    /// (table: u32, elem_index: u32, dst: u32, src: u32, len: u32).
    TableInit = 8,
    /// (elem_index: u32).
    ElemDrop = 9,
    /// () : reschedule / deliver signals / check for kill; may unwind.
    Safepoint = 10,
}

impl Builtin {
    /// Decodes a builtin from its host-call index.
    pub fn from_index(index: u32) -> Option<Self> {
        use Builtin::*;
        Some(match index.checked_sub(BUILTIN_BASE)? {
            0 => MemoryGrow,
            1 => MemoryFill,
            2 => MemoryCopy,
            3 => MemoryInit,
            4 => DataDrop,
            5 => TableGrow,
            6 => TableFill,
            7 => TableCopy,
            8 => TableInit,
            9 => ElemDrop,
            10 => Safepoint,
            _ => return None,
        })
    }

    /// The host-call index of this builtin.
    pub fn index(self) -> u32 {
        BUILTIN_BASE + self as u32
    }
}

/// Signature of the single host-call entry point.
pub type HostcallFn = unsafe extern "C" fn(vmctx: *mut u8, index: u32, args: *mut u64);

/// Signature of an array-call trampoline (see [`CompiledModule::trampolines`]):
/// calls `code(vmctx, args[0..n])` and writes the results to `args[0..m]`.
pub type TrampolineFn = unsafe extern "C" fn(vmctx: *mut u8, code: *const u8, args: *mut u64);
