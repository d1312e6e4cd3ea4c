// SPDX-License-Identifier: GPL-2.0

//! `CompiledModule`: everything a runtime needs to instantiate and run a
//! module, produced by the compiler and consumed by the kernel and the host
//! runner.

use alloc::string::String;
use alloc::vec::Vec;

use crate::Trap;

/// A wasm value type (no SIMD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    /// `i32`
    I32,
    /// `i64`
    I64,
    /// `f32`
    F32,
    /// `f64`
    F64,
    /// `funcref`
    FuncRef,
    /// `externref`
    ExternRef,
}

/// A reference type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefType {
    /// `funcref`
    FuncRef,
    /// `externref`
    ExternRef,
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<ValType>,
    /// Result types.
    pub results: Vec<ValType>,
}

/// A constant expression (global initialisers, segment offsets and items).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstExpr {
    /// `i32.const`
    I32(i32),
    /// `i64.const`
    I64(i64),
    /// `f32.const`, as bits.
    F32(u32),
    /// `f64.const`, as bits.
    F64(u64),
    /// `ref.null`
    RefNull(RefType),
    /// `ref.func`
    RefFunc(u32),
    /// `global.get` (an imported global in wasm 2.0).
    GlobalGet(u32),
}

/// What an import brings in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportKind {
    /// A function of the given type index; it takes the next function index.
    Func(u32),
    /// A table; it takes the next table index (its description is in `tables`).
    Table,
    /// The memory (described in `memory`).
    Memory,
    /// A global; it takes the next global index (described in `globals`).
    Global,
}

/// One import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What it is.
    pub kind: ImportKind,
}

/// What an export refers to (by index space).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// Function index.
    Func(u32),
    /// Table index.
    Table(u32),
    /// The memory.
    Memory,
    /// Global index.
    Global(u32),
}

/// One export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// What it refers to.
    pub kind: ExportKind,
}

/// Limits of a memory (in pages) or table (in elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, if declared.
    pub max: Option<u64>,
}

/// The linear memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryDesc {
    /// Page limits.
    pub limits: Limits,
    /// Imported rather than defined.
    pub imported: bool,
}

/// A table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDesc {
    /// Element type.
    pub elem: RefType,
    /// Element limits.
    pub limits: Limits,
    /// Imported rather than defined.
    pub imported: bool,
}

/// A global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalDesc {
    /// Value type.
    pub ty: ValType,
    /// Declared mutable.
    pub mutable: bool,
    /// Initialiser; `None` for imported globals.
    pub init: Option<ConstExpr>,
    /// Defined and not exported: nothing outside the instance can reach
    /// it, so its value lives in the instance's `VMContext`
    /// ([`crate::vmctx::global_cell`]) and compiled code accesses it there
    /// directly (the stack pointer of C and Rust programs is such a global).
    pub inline: bool,
}

/// When a data or element segment is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentMode {
    /// Used only by `memory.init` / `table.init`.
    Passive,
    /// Copied at instantiation into memory (data) or the given table (elements).
    Active {
        /// Table index (0 for data segments).
        table: u32,
        /// Start offset.
        offset: ConstExpr,
    },
    /// Element segment that only declares functions for `ref.func`; dropped at start.
    Declared,
}

/// A data segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    /// Mode.
    pub mode: SegmentMode,
    /// Contents.
    pub bytes: Vec<u8>,
}

/// An element segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElemSegment {
    /// Mode.
    pub mode: SegmentMode,
    /// Element type.
    pub ty: RefType,
    /// Items (`RefFunc`, `RefNull` or `GlobalGet`).
    pub items: Vec<ConstExpr>,
}

/// A place in the code that can trap, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrapSite {
    /// Offset of the faulting instruction in `CompiledModule::code`.
    pub offset: u32,
    /// Trap kind.
    pub trap: Trap,
}

/// A runtime symbol that generated code branches to with a rel32 `call` or
/// `jmp` (see [`CodeReloc`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    /// The thunk that branches to the address in the general-purpose
    /// register with this x86 encoding (0 = %rax ... 15 = %r15): a retpoline
    /// or ITS thunk.
    IndirectThunk(u8),
    /// The kernel's return thunk.
    ReturnThunk,
    /// The runtime's host-call entry, `fn(vmctx, index: u32, args: *mut u64)`.
    HostCall,
}

impl Symbol {
    /// `Symbol::ReturnThunk` as a [`Symbol::to_u32`] number.
    pub const RETURN_THUNK: u32 = 16;
    /// `Symbol::HostCall` as a [`Symbol::to_u32`] number.
    pub const HOST_CALL: u32 = 17;

    /// One number per symbol, shared with C (kwasm.h `KWASM_SYM_*`): the
    /// register for an indirect thunk, a constant otherwise.
    pub fn to_u32(self) -> u32 {
        match self {
            Symbol::IndirectThunk(reg) => u32::from(reg),
            Symbol::ReturnThunk => Self::RETURN_THUNK,
            Symbol::HostCall => Self::HOST_CALL,
        }
    }
}

/// A rel32 field in the code that the runtime fills when it places the code:
/// `symbol`'s address minus the address just past the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeReloc {
    /// Offset of the 4-byte field in `CompiledModule::code`.
    pub offset: u32,
    /// What the field points to.
    pub symbol: Symbol,
}

/// The output of the compiler.
///
/// `code` is position independent: calls between functions are resolved
/// and everything else is reached through the `VMContext`, except the
/// direct calls and jumps to runtime symbols (host-call entry, kernel
/// thunks) in `relocs`. A runtime copies it to executable memory and fills
/// those.
#[derive(Debug, Clone, Default)]
pub struct CompiledModule {
    /// Machine code of all functions, trampolines and adapters.
    pub code: Vec<u8>,
    /// Trap sites, sorted by offset.
    pub trap_sites: Vec<TrapSite>,
    /// Branches to kernel symbols, sorted by offset.
    pub relocs: Vec<CodeReloc>,
    /// Types, by type index.
    pub types: Vec<FuncType>,
    /// Type index of every function, imported functions first.
    pub func_types: Vec<u32>,
    /// Code offset of every defined function (function index minus the number
    /// of imported functions), and its length in bytes.
    pub funcs: Vec<(u32, u32)>,
    /// Per type index: code offset of its array-call trampoline
    /// ([`crate::TrampolineFn`]).
    pub trampolines: Vec<u32>,
    /// Per imported function: code offset of its host adapter, a function with
    /// the import's wasm signature that forwards to the host call.
    pub import_adapters: Vec<u32>,
    /// Code offset of the safepoint slow path, called directly from every
    /// function.
    pub safepoint_stub: u32,
    /// The safepoint mask built into the code, if it was known at compile
    /// time (else the code reads `vmctx::SAFEPOINT_MASK`).
    pub safepoint_mask: Option<u64>,
    /// Number of imported functions (a prefix of the function index space).
    pub num_imported_funcs: u32,
    /// Imports in declaration order.
    pub imports: Vec<Import>,
    /// Exports in declaration order.
    pub exports: Vec<Export>,
    /// The memory, if any.
    pub memory: Option<MemoryDesc>,
    /// Tables, imported first.
    pub tables: Vec<TableDesc>,
    /// Globals, imported first.
    pub globals: Vec<GlobalDesc>,
    /// Data segments.
    pub data: Vec<DataSegment>,
    /// Element segments.
    pub elements: Vec<ElemSegment>,
    /// Start function index.
    pub start: Option<u32>,
}

/// Why [`CompiledModule::relocate`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocError {
    /// The runtime has no such symbol (e.g. thunks outside the kernel).
    Unresolved(Symbol),
    /// The symbol is beyond rel32 reach of the code, or the field is
    /// outside it.
    OutOfRange(Symbol),
}

impl CompiledModule {
    /// Fills the rel32 field of every relocation in `code`, a copy of
    /// `self.code` that will run at address `base`, with the address
    /// `resolve` gives for its symbol.
    pub fn relocate(
        &self,
        code: &mut [u8],
        base: usize,
        mut resolve: impl FnMut(Symbol) -> Option<usize>,
    ) -> Result<(), RelocError> {
        for r in &self.relocs {
            let target = resolve(r.symbol).ok_or(RelocError::Unresolved(r.symbol))?;
            let at = r.offset as usize;
            let range = RelocError::OutOfRange(r.symbol);
            let field = at
                .checked_add(4)
                .and_then(|end| code.get_mut(at..end))
                .ok_or(range)?;
            // x86 rel32: the target minus the end of the field.
            let end = (base as i64).wrapping_add(at as i64 + 4);
            let rel = i32::try_from((target as i64).wrapping_sub(end)).map_err(|_| range)?;
            field.copy_from_slice(&rel.to_le_bytes());
        }
        Ok(())
    }

    /// Finds the trap kind of the instruction at `offset`, if it is a trap site.
    pub fn trap_at(&self, offset: u32) -> Option<Trap> {
        self.trap_sites
            .binary_search_by_key(&offset, |s| s.offset)
            .ok()
            .map(|i| self.trap_sites[i].trap)
    }

    /// Finds the defined function containing `offset`: (function index, offset in it).
    pub fn func_at(&self, offset: u32) -> Option<(u32, u32)> {
        self.funcs
            .iter()
            .position(|&(start, len)| offset >= start && offset - start < len)
            .map(|i| (i as u32 + self.num_imported_funcs, offset - self.funcs[i].0))
    }

    /// Finds an export by name.
    pub fn export(&self, name: &str) -> Option<ExportKind> {
        self.exports.iter().find(|e| e.name == name).map(|e| e.kind)
    }
}
