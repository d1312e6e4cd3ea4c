// SPDX-License-Identifier: GPL-2.0

//! Code layout: concatenates the machine code of every function, trampoline
//! and adapter into one buffer, patches the rel32 calls between functions
//! (so no relocation is left and the code is position independent), and
//! collects trap sites with absolute offsets.

use alloc::format;
use alloc::vec::Vec;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{ExternalName, Function, KnownSymbol, TrapCode};
use cranelift_codegen::{Final, FinalizedRelocTarget, MachBufferFinalized};
use kwasm_abi::{CodeReloc, CompiledModule, Symbol, Trap, TrapSite};

use crate::error::{internal, CompileError};
use crate::translate::{FUNC_NAMESPACE, HOSTCALL_NAMESPACE, STUB_NAMESPACE};
use crate::validate::Module;

/// Every piece starts on a [`kwasm_abi::CODE_ALIGN`] boundary (Cranelift's
/// preferred x86-64 function alignment): constant-pool entries are aligned
/// relative to the function start, and SSE memory operands need 16 bytes.
const ALIGN: usize = kwasm_abi::CODE_ALIGN;
/// Padding between pieces: `int3`.
const PAD: u8 = 0xcc;
/// `endbr64`, the IBT landing pad.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// What a piece of code is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PieceKind {
    /// Defined function (pieces come in function index order).
    Func,
    /// Array-call trampoline (in type index order).
    Trampoline,
    /// Host adapter (in imported function order).
    Adapter,
    /// The shared safepoint slow path.
    SafepointStub,
}

/// What a rel32 call goes to.
#[derive(Clone, Copy)]
enum Target {
    /// A defined function, by function index.
    Func(u32),
    /// The safepoint stub.
    Stub,
}

/// A rel32 call site waiting for its target's offset.
struct CallFixup {
    /// Absolute offset of the 4-byte field.
    at: usize,
    target: Target,
    addend: i64,
}

/// The code buffer being built.
pub(crate) struct CodeLayout {
    /// Enter every piece through an `endbr64` just before its aligned body.
    ibt: bool,
    code: Vec<u8>,
    traps: Vec<TrapSite>,
    relocs: Vec<CodeReloc>,
    calls: Vec<CallFixup>,
    funcs: Vec<(u32, u32)>,
    trampolines: Vec<u32>,
    adapters: Vec<u32>,
    stub: Option<u32>,
}

fn map_trap(code: TrapCode) -> Result<Trap, CompileError> {
    Ok(match code {
        TrapCode::STACK_OVERFLOW => Trap::StackOverflow,
        TrapCode::HEAP_OUT_OF_BOUNDS => Trap::MemoryOutOfBounds,
        TrapCode::INTEGER_OVERFLOW => Trap::IntegerOverflow,
        TrapCode::INTEGER_DIVISION_BY_ZERO => Trap::IntegerDivideByZero,
        TrapCode::BAD_CONVERSION_TO_INTEGER => Trap::BadConversionToInteger,
        other => Trap::from_u8(other.as_raw().get())
            .ok_or_else(|| CompileError::Codegen(format!("unknown trap code {other}")))?,
    })
}

fn offset_u32(v: usize) -> Result<u32, CompileError> {
    u32::try_from(v).map_err(|_| CompileError::Codegen(format!("code too large ({v} bytes)")))
}

impl CodeLayout {
    pub(crate) fn new(ibt: bool) -> Self {
        CodeLayout {
            ibt,
            code: Vec::new(),
            traps: Vec::new(),
            relocs: Vec::new(),
            calls: Vec::new(),
            funcs: Vec::new(),
            trampolines: Vec::new(),
            adapters: Vec::new(),
            stub: None,
        }
    }

    /// Appends the compiled code of `func`.
    pub(crate) fn add_piece(
        &mut self,
        kind: PieceKind,
        buffer: &MachBufferFinalized<Final>,
        func: &Function,
    ) -> Result<(), CompileError> {
        // The body stays ALIGN-aligned (its constants are aligned relative to
        // its start); the landing pad goes just before it and is the entry.
        let pad = if self.ibt { ENDBR64.len() } else { 0 };
        while !(self.code.len() + pad).is_multiple_of(ALIGN) {
            self.code.push(PAD);
        }
        let entry = offset_u32(self.code.len())?;
        if self.ibt {
            self.code.extend_from_slice(&ENDBR64);
        }
        let start = self.code.len();
        let data = buffer.data();
        self.code.extend_from_slice(data);
        offset_u32(self.code.len())?;
        let start32 = offset_u32(start)?;
        let len32 = offset_u32(self.code.len() - entry as usize)?;
        for t in buffer.traps() {
            let offset = start32
                .checked_add(t.offset)
                .ok_or_else(|| internal("trap offset"))?;
            self.traps.push(TrapSite {
                offset,
                trap: map_trap(t.code)?,
            });
        }
        for r in buffer.relocs() {
            let at = start
                .checked_add(r.offset as usize)
                .ok_or_else(|| internal("reloc offset"))?;
            let symbol = match (&r.kind, &r.target) {
                (
                    Reloc::X86CallPCRel4,
                    FinalizedRelocTarget::ExternalName(ExternalName::KnownSymbol(s)),
                ) => match s {
                    KnownSymbol::X86IndirectThunk(reg) if *reg < 16 => {
                        Some(Symbol::IndirectThunk(*reg))
                    }
                    KnownSymbol::X86ReturnThunk => Some(Symbol::ReturnThunk),
                    _ => None,
                },
                (
                    Reloc::X86CallPCRel4,
                    FinalizedRelocTarget::ExternalName(ExternalName::User(n)),
                ) => func
                    .params
                    .user_named_funcs()
                    .get(*n)
                    .filter(|name| name.namespace == HOSTCALL_NAMESPACE)
                    .map(|_| Symbol::HostCall),
                _ => None,
            };
            if let Some(symbol) = symbol {
                // The runtime stores S - (P + 4), the form of a rel32 branch.
                if r.addend != -4 {
                    return Err(internal("thunk relocation addend"));
                }
                self.relocs.push(CodeReloc {
                    offset: offset_u32(at)?,
                    symbol,
                });
                continue;
            }
            let target = match (&r.kind, &r.target) {
                (
                    Reloc::X86CallPCRel4,
                    FinalizedRelocTarget::ExternalName(ExternalName::User(n)),
                ) => {
                    let name = func
                        .params
                        .user_named_funcs()
                        .get(*n)
                        .ok_or_else(|| internal("unknown external name"))?;
                    match name.namespace {
                        FUNC_NAMESPACE => Target::Func(name.index),
                        STUB_NAMESPACE => Target::Stub,
                        _ => return Err(internal("external name namespace")),
                    }
                }
                (kind, target) => {
                    return Err(CompileError::Codegen(format!(
                        "unexpected relocation {kind:?} to {target:?}"
                    )))
                }
            };
            self.calls.push(CallFixup {
                at,
                target,
                addend: r.addend,
            });
        }
        match kind {
            PieceKind::Func => self.funcs.push((entry, len32)),
            PieceKind::Trampoline => self.trampolines.push(entry),
            PieceKind::Adapter => self.adapters.push(entry),
            PieceKind::SafepointStub => self.stub = Some(entry),
        }
        Ok(())
    }

    /// Resolves calls and produces the module.
    pub(crate) fn finish(mut self, m: Module<'_>) -> Result<CompiledModule, CompileError> {
        for c in &self.calls {
            let target = match c.target {
                Target::Func(index) => {
                    let defined = index
                        .checked_sub(m.num_imported_funcs)
                        .ok_or_else(|| internal("direct call to an import"))?;
                    self.funcs
                        .get(defined as usize)
                        .ok_or_else(|| internal("call target"))?
                        .0
                }
                Target::Stub => self.stub.ok_or_else(|| internal("no safepoint stub"))?,
            };
            // x86 rel32: S + A - P, with P the address of the field.
            let rel = i64::from(target)
                .checked_add(c.addend)
                .and_then(|v| v.checked_sub(i64::try_from(c.at).ok()?))
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| internal("call displacement"))?;
            let end = c.at.checked_add(4).ok_or_else(|| internal("reloc"))?;
            let field = self
                .code
                .get_mut(c.at..end)
                .ok_or_else(|| internal("reloc outside code"))?;
            field.copy_from_slice(&rel.to_le_bytes());
        }
        self.traps.sort_by_key(|t| t.offset);
        self.traps.dedup_by_key(|t| t.offset);
        self.relocs.sort_by_key(|r| r.offset);
        Ok(CompiledModule {
            code: self.code,
            trap_sites: self.traps,
            relocs: self.relocs,
            types: m.types,
            func_types: m.func_types,
            funcs: self.funcs,
            trampolines: self.trampolines,
            import_adapters: self.adapters,
            safepoint_stub: self.stub.ok_or_else(|| internal("no safepoint stub"))?,
            // Set by `compile` from its config.
            safepoint_mask: None,
            num_imported_funcs: m.num_imported_funcs,
            imports: m.imports,
            exports: m.exports,
            memory: m.memory,
            tables: m.tables,
            globals: m.globals,
            data: m.data,
            elements: m.elements,
            start: m.start,
        })
    }
}
