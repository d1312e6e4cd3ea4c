// SPDX-License-Identifier: GPL-2.0

//! Linear memory: loads, stores, memory.size/grow and the bulk operations.
//!
//! The memory is a 4 GiB reservation followed by a 2 GiB guard. An access
//! whose static offset plus size fits in the guard cannot leave reservation +
//! guard, so it needs no bounds check: the unmapped pages fault and the
//! fault is mapped back to `MemoryOutOfBounds` through its trap site. Larger
//! static offsets get an explicit check against the current size, and the
//! address is then guarded against speculation past that check (see
//! `heap_addr`).

use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Type, Value};
use kwasm_abi::{vmctx, vmmemory, Builtin, Trap, MEMORY_GUARD};
use wasmparser::{MemArg, Operator};

use super::{invariant, trap_code, Regions, Translator};
use crate::error::{internal, CompileError};

#[derive(Clone, Copy)]
enum Load {
    Plain(Type),
    S8(Type),
    U8(Type),
    S16(Type),
    U16(Type),
    S32,
    U32,
}

#[derive(Clone, Copy)]
enum Store {
    Plain,
    I8,
    I16,
    I32,
}

impl Translator<'_, '_> {
    /// Flags of a wasm heap access: may fault, and the fault means out of
    /// bounds.
    fn heap(&self) -> MemFlagsData {
        MemFlagsData::new()
            .with_trap_code(Some(trap_code(Trap::MemoryOutOfBounds)))
            .with_alias_region(Some(self.regions.heap))
    }

    /// Pointer to the instance's `VMMemory`.
    fn vmmemory(&mut self) -> Value {
        self.vmctx_load(types::I64, vmctx::MEMORY)
    }

    /// Computes the native address of a `size`-byte access at the popped
    /// wasm address plus `memarg.offset`: (pointer, immediate offset).
    fn heap_addr(&mut self, memarg: &MemArg, size: u64) -> Result<(Value, i32), CompileError> {
        let addr = self.pop()?;
        let mem = self.vmmemory();
        // `base` never changes after instantiation.
        let base = self
            .b
            .ins()
            .load(types::I64, invariant(), mem, vmmemory::BASE);
        let a64 = self.b.ins().uextend(types::I64, addr);
        let end = memarg
            .offset
            .checked_add(size)
            .ok_or_else(|| internal("memarg offset"))?;
        if end <= MEMORY_GUARD {
            let off = i32::try_from(memarg.offset).map_err(|_| internal("memarg offset"))?;
            let ptr = self.b.ins().iadd(base, a64);
            return Ok((ptr, off));
        }
        // Offsets are < 2^32 for a 32-bit memory, so `end` and the sum below
        // fit easily in 64 bits.
        let end_imm = i64::try_from(end).map_err(|_| internal("memarg offset"))?;
        let cur = self.b.ins().load(
            types::I64,
            Regions::flags(self.regions.memsize),
            mem,
            vmmemory::SIZE,
        );
        let last = self.b.ins().iadd_imm_s(a64, end_imm);
        let oob = self.b.ins().icmp(
            cranelift_codegen::ir::condcodes::IntCC::UnsignedGreaterThan,
            last,
            cur,
        );
        self.b.ins().trapnz(oob, trap_code(Trap::MemoryOutOfBounds));
        // Speculation: if the trap branch is predicted wrong, `last` may lie
        // up to 4 GiB past the guard. A cmov on the same comparison replaces
        // it with `size`, the end of the access at wasm address 0, so even
        // speculatively the access stays inside the memory's reservation.
        let size = i32::try_from(size).map_err(|_| internal("access size"))?;
        let size_v = self.b.ins().iconst(types::I64, i64::from(size));
        let last = self.b.ins().select_spectre_guard(oob, size_v, last);
        Ok((self.b.ins().iadd(base, last), -size))
    }

    fn load(&mut self, memarg: &MemArg, kind: Load) -> Result<(), CompileError> {
        let size = match kind {
            Load::Plain(t) => u64::from(t.bytes()),
            Load::S8(_) | Load::U8(_) => 1,
            Load::S16(_) | Load::U16(_) => 2,
            Load::S32 | Load::U32 => 4,
        };
        let (p, off) = self.heap_addr(memarg, size)?;
        let f = self.heap();
        let ins = self.b.ins();
        let v = match kind {
            Load::Plain(t) => ins.load(t, f, p, off),
            Load::S8(t) => ins.sload8(t, f, p, off),
            Load::U8(t) => ins.uload8(t, f, p, off),
            Load::S16(t) => ins.sload16(t, f, p, off),
            Load::U16(t) => ins.uload16(t, f, p, off),
            Load::S32 => ins.sload32(f, p, off),
            Load::U32 => ins.uload32(f, p, off),
        };
        self.push(v);
        Ok(())
    }

    fn store(&mut self, memarg: &MemArg, kind: Store) -> Result<(), CompileError> {
        let v = self.pop()?;
        let size = match kind {
            Store::Plain => u64::from(self.b.func.dfg.value_type(v).bytes()),
            Store::I8 => 1,
            Store::I16 => 2,
            Store::I32 => 4,
        };
        let (p, off) = self.heap_addr(memarg, size)?;
        let f = self.heap();
        let ins = self.b.ins();
        match kind {
            Store::Plain => ins.store(f, v, p, off),
            Store::I8 => ins.istore8(f, v, p, off),
            Store::I16 => ins.istore16(f, v, p, off),
            Store::I32 => ins.istore32(f, v, p, off),
        };
        Ok(())
    }

    /// Memory operators. Returns false if `op` is not one.
    pub(super) fn memory_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{F32, F64, I32, I64};
        match op {
            Operator::I32Load { memarg } => self.load(memarg, Load::Plain(I32))?,
            Operator::I64Load { memarg } => self.load(memarg, Load::Plain(I64))?,
            Operator::F32Load { memarg } => self.load(memarg, Load::Plain(F32))?,
            Operator::F64Load { memarg } => self.load(memarg, Load::Plain(F64))?,
            Operator::I32Load8S { memarg } => self.load(memarg, Load::S8(I32))?,
            Operator::I32Load8U { memarg } => self.load(memarg, Load::U8(I32))?,
            Operator::I32Load16S { memarg } => self.load(memarg, Load::S16(I32))?,
            Operator::I32Load16U { memarg } => self.load(memarg, Load::U16(I32))?,
            Operator::I64Load8S { memarg } => self.load(memarg, Load::S8(I64))?,
            Operator::I64Load8U { memarg } => self.load(memarg, Load::U8(I64))?,
            Operator::I64Load16S { memarg } => self.load(memarg, Load::S16(I64))?,
            Operator::I64Load16U { memarg } => self.load(memarg, Load::U16(I64))?,
            Operator::I64Load32S { memarg } => self.load(memarg, Load::S32)?,
            Operator::I64Load32U { memarg } => self.load(memarg, Load::U32)?,
            Operator::I32Store { memarg }
            | Operator::I64Store { memarg }
            | Operator::F32Store { memarg }
            | Operator::F64Store { memarg } => self.store(memarg, Store::Plain)?,
            Operator::I32Store8 { memarg } | Operator::I64Store8 { memarg } => {
                self.store(memarg, Store::I8)?
            }
            Operator::I32Store16 { memarg } | Operator::I64Store16 { memarg } => {
                self.store(memarg, Store::I16)?
            }
            Operator::I64Store32 { memarg } => self.store(memarg, Store::I32)?,
            Operator::MemorySize { .. } => {
                let mem = self.vmmemory();
                let flags = Regions::flags(self.regions.memsize);
                let bytes = self.b.ins().load(I64, flags, mem, vmmemory::SIZE);
                let pages = self.b.ins().ushr_imm_u(bytes, 16);
                let pages = self.b.ins().ireduce(I32, pages);
                self.push(pages);
            }
            Operator::MemoryGrow { .. } => {
                let delta = self.pop()?;
                let r = self.builtin_call_i32(Builtin::MemoryGrow, &[delta]);
                self.push(r);
            }
            Operator::MemoryFill { .. } => {
                let (d, v, n) = self.pop3()?;
                self.builtin_call(Builtin::MemoryFill, &[d, v, n]);
            }
            Operator::MemoryCopy { .. } => {
                let (d, s, n) = self.pop3()?;
                self.builtin_call(Builtin::MemoryCopy, &[d, s, n]);
            }
            Operator::MemoryInit { data_index, .. } => {
                let (d, s, n) = self.pop3()?;
                let seg = self.b.ins().iconst(I32, i64::from(*data_index));
                self.builtin_call(Builtin::MemoryInit, &[seg, d, s, n]);
            }
            Operator::DataDrop { data_index } => {
                let seg = self.b.ins().iconst(I32, i64::from(*data_index));
                self.builtin_call(Builtin::DataDrop, &[seg]);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
