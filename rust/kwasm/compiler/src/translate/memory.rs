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

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, Block, InstBuilder, MemFlagsData, Type, Value};
use kwasm_abi::{vmctx, vmmemory, Builtin, Trap, MEMORY_GUARD};
use wasmparser::{MemArg, Operator};

use super::{trap_code, Regions, Translator};
use crate::error::{internal, CompileError};

/// Longest `memory.copy` / `memory.fill` done inline; longer ones call the
/// runtime. Compiled Rust and C use these operators for every small
/// `memcpy`/`memset` (serde_json: 11 million copies of 2 to 127 bytes in
/// one run), where a host call costs far more than the copy.
const INLINE_BULK_MAX: i64 = 64;

/// Access widths of the inline bulk operations, widest first: a length
/// of at least `w` (and below the next wider class) is covered by accesses
/// of `w` bytes at the start and end of the range, which may overlap (for
/// 32, two 16-byte accesses at each end).
const BULK_CLASSES: [(i64, Type); 5] = [
    (32, types::I8X16),
    (16, types::I8X16),
    (8, types::I64),
    (4, types::I32),
    (2, types::I16),
];

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

    /// The linear memory's base (an instance constant).
    fn heap_base(&mut self) -> Value {
        self.vmctx_load(types::I64, vmctx::MEMORY_BASE)
    }

    /// Computes the native address of a `size`-byte access at the popped
    /// wasm address plus `memarg.offset`: (pointer, immediate offset).
    fn heap_addr(&mut self, memarg: &MemArg, size: u64) -> Result<(Value, i32), CompileError> {
        let addr = self.pop()?;
        let base = self.heap_base();
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
        let mem = self.vmmemory();
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
                self.memory_fill(d, v, n);
            }
            Operator::MemoryCopy { .. } => {
                let (d, s, n) = self.pop3()?;
                self.memory_copy(d, s, n);
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

impl Translator<'_, '_> {
    /// Splits on the length `n` (i32): returns the block taken when `n` <=
    /// [`INLINE_BULK_MAX`], with the current block switched to the cold one
    /// for longer lengths (which the runtime checks and does), the join
    /// block, and `n` as i64 for the inline code.
    ///
    /// The inline code has no bounds check: every access lies within
    /// [`INLINE_BULK_MAX`] bytes of a 32-bit address, inside the
    /// reservation and its guard, so a byte outside the memory faults
    /// like any heap access. The length it uses is masked to 7 bits (the
    /// same value when the branch is right), so that a mispredicted branch
    /// with a long length stays inside them too.
    fn bulk_split(&mut self, n: Value) -> (Block, Block, Value) {
        let join = self.b.create_block();
        let n64 = self.b.ins().uextend(types::I64, n);
        let n_c = self.b.ins().band_imm_s(n64, 2 * INLINE_BULK_MAX - 1);
        let fits = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThanOrEqual, n, INLINE_BULK_MAX);
        let (small, large) = self.branch_on(fits);
        self.b.set_cold_block(large);
        self.b.switch_to_block(large);
        (small, join, n_c)
    }

    /// Ends the current block with a branch on `cond` to two new, sealed
    /// blocks (taken, not taken); the current block stays unchanged.
    fn branch_on(&mut self, cond: Value) -> (Block, Block) {
        let yes = self.b.create_block();
        let no = self.b.create_block();
        self.b.ins().brif(cond, yes, &[], no, &[]);
        self.b.seal_block(yes);
        self.b.seal_block(no);
        (yes, no)
    }

    /// The zero-length case of an inline bulk operation, which touches no
    /// byte: traps if `d` or `s` lies beyond the memory's end, as the spec
    /// asks (an offset equal to the size is in bounds).
    fn bulk_zero_check(&mut self, d: Value, s: Option<Value>) {
        let mem = self.vmmemory();
        let flags = Regions::flags(self.regions.memsize);
        let size = self.b.ins().load(types::I64, flags, mem, vmmemory::SIZE);
        let d64 = self.b.ins().uextend(types::I64, d);
        let mut oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, d64, size);
        if let Some(s) = s {
            let s64 = self.b.ins().uextend(types::I64, s);
            let s_oob = self.b.ins().icmp(IntCC::UnsignedGreaterThan, s64, size);
            oob = self.b.ins().bor(oob, s_oob);
        }
        self.b.ins().trapnz(oob, trap_code(Trap::MemoryOutOfBounds));
    }

    /// Emits, in the current block, one branch per width class of the
    /// inline bulk operations: `each(ty, pieces)` is called in the block for
    /// `n` in `[w, next wider)` with the `w`-byte accesses (`ty`) that cover
    /// the range, as (offset value, immediate) pairs from the lowest
    /// address up: the first and last `w` bytes, which may overlap (two
    /// 16-byte pieces at each end for 32..=64). The offset of the last `w`
    /// bytes never lies below 0, even when the class branch is
    /// mispredicted. Every class jumps to `join`; `n` = 0 goes to
    /// `zero(self)` first.
    fn bulk_classes(
        &mut self,
        n: Value,
        join: Block,
        mut each: impl FnMut(&mut Self, Type, &[(Value, i32)]),
        zero: impl FnOnce(&mut Self),
    ) {
        for (w, ty) in BULK_CLASSES {
            let hit = self
                .b
                .ins()
                .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, n, w);
            let (this, next) = self.branch_on(hit);
            self.b.switch_to_block(this);
            let wv = self.b.ins().iconst(types::I64, w);
            let at_least = self.b.ins().umax(n, wv);
            let tail = self.b.ins().iadd_imm_s(at_least, -w);
            let start = self.b.ins().iconst(types::I64, 0);
            if w == 32 {
                each(self, ty, &[(start, 0), (start, 16), (tail, 0), (tail, 16)]);
            } else {
                each(self, ty, &[(start, 0), (tail, 0)]);
            }
            self.b.ins().jump(join, &[]);
            self.b.switch_to_block(next);
        }
        let hit = self.b.ins().icmp_imm_u(IntCC::NotEqual, n, 0);
        let (one, none) = self.branch_on(hit);
        self.b.switch_to_block(one);
        let start = self.b.ins().iconst(types::I64, 0);
        each(self, types::I8, &[(start, 0)]);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(none);
        zero(self);
        self.b.ins().jump(join, &[]);
    }

    /// The native address of wasm address `a` (i32) plus the i64 `off`.
    fn bulk_ptr(&mut self, a: Value, off: Value) -> Value {
        let base = self.heap_base();
        let a64 = self.b.ins().uextend(types::I64, a);
        let p = self.b.ins().iadd(base, a64);
        self.b.ins().iadd(p, off)
    }

    /// `memory.copy`: short copies inline, longer ones in the runtime.
    ///
    /// Every load comes before any store, so overlapping ranges copy
    /// correctly and a source beyond the memory traps before anything is
    /// written; the stores go from the highest address down, so that a
    /// destination crossing the memory's end traps at the first store.
    fn memory_copy(&mut self, d: Value, s: Value, n: Value) {
        let (small, join, n_c) = self.bulk_split(n);
        self.builtin_call(Builtin::MemoryCopy, &[d, s, n]);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(small);
        let f = self.heap();
        let each = |t: &mut Self, ty: Type, offs: &[(Value, i32)]| {
            let mut vals = alloc::vec::Vec::with_capacity(offs.len());
            for &(o, imm) in offs {
                let p = t.bulk_ptr(s, o);
                vals.push(t.b.ins().load(ty, f, p, imm));
            }
            for (&(o, imm), v) in offs.iter().zip(vals).rev() {
                let p = t.bulk_ptr(d, o);
                t.b.ins().store(f, v, p, imm);
            }
        };
        self.bulk_classes(n_c, join, each, |t| t.bulk_zero_check(d, Some(s)));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
    }

    /// `memory.fill`: short fills inline (stores from the highest address
    /// down, as in [`Self::memory_copy`]), longer ones in the runtime.
    fn memory_fill(&mut self, d: Value, v: Value, n: Value) {
        let (small, join, n_c) = self.bulk_split(n);
        self.builtin_call(Builtin::MemoryFill, &[d, v, n]);
        self.b.ins().jump(join, &[]);
        self.b.switch_to_block(small);
        let f = self.heap();
        let byte = self.b.ins().ireduce(types::I8, v);
        let splat = self.b.ins().splat(types::I8X16, byte);
        let b64 = self.b.ins().uextend(types::I64, byte);
        let word = self.b.ins().imul_imm_u(b64, 0x0101_0101_0101_0101);
        let each = |t: &mut Self, ty: Type, offs: &[(Value, i32)]| {
            let val = match ty {
                types::I8X16 => splat,
                types::I64 => word,
                _ => t.b.ins().ireduce(ty, word),
            };
            for &(o, imm) in offs.iter().rev() {
                let p = t.bulk_ptr(d, o);
                t.b.ins().store(f, val, p, imm);
            }
        };
        self.bulk_classes(n_c, join, each, |t| t.bulk_zero_check(d, None));
        self.b.switch_to_block(join);
        self.b.seal_block(join);
    }
}
