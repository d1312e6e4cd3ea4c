// SPDX-License-Identifier: GPL-2.0

//! Calls: direct, to imports, `call_indirect`, and host calls (builtins).

use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, ExtFuncData, ExternalName, Inst, InstBuilder, MemFlagsData, StackSlot, StackSlotData,
    StackSlotKind, Type, UserExternalName, Value,
};
use kwasm_abi::{vmctx, vmfuncref, vmtable, Builtin, Trap};
use wasmparser::Operator;

use super::{import_hostcall, invariant, trap_code, trusted, Regions, Translator};
use crate::error::{internal, CompileError};

/// Namespace of user external names that denote wasm function indices.
pub(crate) const FUNC_NAMESPACE: u32 = 0;

/// Most argument slots any builtin takes.
const MAX_BUILTIN_ARGS: u32 = 5;

/// Widens a value to the 64-bit host-call slot representation: integers
/// zero-extended, floats as their bits.
pub(crate) fn to_slot(b: &mut cranelift_frontend::FunctionBuilder<'_>, v: Value) -> Value {
    match b.func.dfg.value_type(v) {
        types::I32 => b.ins().uextend(types::I64, v),
        types::F32 => {
            let bits = b.ins().bitcast(types::I32, MemFlagsData::new(), v);
            b.ins().uextend(types::I64, bits)
        }
        types::F64 => b.ins().bitcast(types::I64, MemFlagsData::new(), v),
        _ => v,
    }
}

/// Byte offset of slot `i` of a u64 array.
pub(crate) fn slot_offset(i: usize) -> Result<i32, CompileError> {
    i.checked_mul(8)
        .and_then(|o| i32::try_from(o).ok())
        .ok_or_else(|| internal("argument slot offset"))
}

impl Translator<'_, '_> {
    /// Call operators. Returns false if `op` is not one.
    pub(super) fn call_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::Call { function_index } => self.call(function_index)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn push_results(&mut self, call: Inst) {
        let results: Vec<Value> = self.b.inst_results(call).to_vec();
        self.stack.extend_from_slice(&results);
    }

    fn call(&mut self, index: u32) -> Result<(), CompileError> {
        let type_index = *self
            .module
            .func_types
            .get(index as usize)
            .ok_or_else(|| internal("function index"))?;
        let nparams = self.module.type_at(type_index)?.params.len();
        let mut args = Vec::with_capacity(nparams + 1);
        if index < self.module.num_imported_funcs {
            // Imports go through their VMFuncRef: the runtime decides whether
            // that is another instance's function or our host adapter.
            let sig = self.sig_ref(type_index)?;
            let funcs = self.vmctx_load(types::I64, vmctx::FUNCS);
            let base = index
                .checked_mul(vmfuncref::SIZE as u32)
                .and_then(|o| i32::try_from(o).ok())
                .ok_or_else(|| internal("funcref offset"))?;
            let code = self
                .b
                .ins()
                .load(types::I64, invariant(), funcs, base + vmfuncref::CODE);
            let callee_vmctx =
                self.b
                    .ins()
                    .load(types::I64, invariant(), funcs, base + vmfuncref::VMCTX);
            args.push(callee_vmctx);
            args.extend(self.popn(nparams)?);
            let call = self.b.ins().call_indirect(sig, code, &args);
            self.push_results(call);
        } else {
            let fref = match self.direct.get(&index) {
                Some(f) => *f,
                None => {
                    let sig = self.sig_ref(type_index)?;
                    let name = self
                        .b
                        .func
                        .declare_imported_user_function(UserExternalName::new(
                            FUNC_NAMESPACE,
                            index,
                        ));
                    let f = self.b.import_function(ExtFuncData {
                        name: ExternalName::User(name),
                        signature: sig,
                        // Same code buffer: rel32 calls, patched by the layout.
                        colocated: true,
                        patchable: false,
                    });
                    self.direct.insert(index, f);
                    f
                }
            };
            args.push(self.vmctx);
            args.extend(self.popn(nparams)?);
            let call = self.b.ins().call(fref, &args);
            self.push_results(call);
        }
        Ok(())
    }

    /// Pointer to `VMTable` number `table`.
    pub(super) fn table_ptr(&mut self, table: u32) -> Result<Value, CompileError> {
        let off = table
            .checked_mul(8)
            .and_then(|o| i32::try_from(o).ok())
            .ok_or_else(|| internal("table offset"))?;
        let tables = self.vmctx_load(types::I64, vmctx::TABLES);
        Ok(self.b.ins().load(types::I64, invariant(), tables, off))
    }

    /// Bounds-checks `index` (i32) against the table's current length and
    /// returns the address of the element. Base and length are reloaded every
    /// time: any call may have grown the table.
    ///
    /// Speculation: the trap is a branch the CPU may predict as not taken,
    /// so the address is formed from `index` clamped to 0 by a cmov on the
    /// same comparison (`select_spectre_guard`). Even speculatively, the
    /// element read or written is one of this table's (element 0), never
    /// memory up to 32 GiB past it.
    pub(super) fn table_elem_addr(
        &mut self,
        table: u32,
        index: Value,
    ) -> Result<Value, CompileError> {
        let t = self.table_ptr(table)?;
        let tables = Regions::flags(self.regions.tables);
        let len = self.b.ins().load(types::I64, tables, t, vmtable::LEN);
        let i64v = self.b.ins().uextend(types::I64, index);
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, i64v, len);
        self.b.ins().trapnz(oob, trap_code(Trap::TableOutOfBounds));
        let clamped = self.spectre_zero_if(oob, i64v);
        let base = self.b.ins().load(types::I64, tables, t, vmtable::BASE);
        let off = self.b.ins().ishl_imm_u(clamped, 3);
        Ok(self.b.ins().iadd(base, off))
    }

    fn call_indirect(&mut self, type_index: u32, table: u32) -> Result<(), CompileError> {
        let nparams = self.module.type_at(type_index)?.params.len();
        let sig = self.sig_ref(type_index)?;
        let index = self.pop()?;
        let params = self.popn(nparams)?;
        let addr = self.table_elem_addr(table, index)?;
        // Loads that depend on the checks stay plain (not readonly) so that
        // Cranelift cannot hoist them above the trap.
        let elem = self
            .b
            .ins()
            .load(types::I64, Regions::flags(self.regions.tables), addr, 0);
        let funcrefs = Regions::flags(self.regions.funcrefs);
        self.b.ins().trapz(elem, trap_code(Trap::IndirectCallNull));
        let actual = self
            .b
            .ins()
            .load(types::I64, funcrefs, elem, vmfuncref::TYPE_ID);
        let ids = self.vmctx_load(types::I64, vmctx::TYPE_IDS);
        let off = type_index
            .checked_mul(4)
            .and_then(|o| i32::try_from(o).ok())
            .ok_or_else(|| internal("type id offset"))?;
        let expected = self.b.ins().uload32(invariant(), ids, off);
        let bad = self.b.ins().icmp(IntCC::NotEqual, actual, expected);
        self.b
            .ins()
            .trapnz(bad, trap_code(Trap::IndirectCallBadSignature));
        // Speculation past a failed signature check would call a function of
        // another type, which may then take an i64 argument for a funcref.
        // The callee is read through a funcref that is null (page 0, never
        // mapped) unless the types match.
        let elem = self.spectre_zero_if(bad, elem);
        let code = self
            .b
            .ins()
            .load(types::I64, funcrefs, elem, vmfuncref::CODE);
        let callee_vmctx = self
            .b
            .ins()
            .load(types::I64, funcrefs, elem, vmfuncref::VMCTX);
        let mut args = Vec::with_capacity(nparams + 1);
        args.push(callee_vmctx);
        args.extend(params);
        let call = self.b.ins().call_indirect(sig, code, &args);
        self.push_results(call);
        Ok(())
    }

    fn args_slot(&mut self) -> StackSlot {
        if let Some(s) = self.args_slot {
            return s;
        }
        let s = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            MAX_BUILTIN_ARGS * 8,
            3,
        ));
        self.args_slot = Some(s);
        s
    }

    /// Calls `builtin` through the host-call entry with `args` in the u64
    /// argument array; returns the array's address (results are in slot 0).
    pub fn builtin_call(&mut self, builtin: Builtin, args: &[Value]) -> Value {
        let slot = self.args_slot();
        for (i, a) in args.iter().enumerate().take(MAX_BUILTIN_ARGS as usize) {
            let v = to_slot(&mut self.b, *a);
            self.b
                .ins()
                .stack_store(types::I64, v, slot, (i as i32) * 8);
        }
        let addr = self.b.ins().stack_addr(types::I64, slot, 0);
        let f = match self.hostcall {
            Some(f) => f,
            None => {
                let f = import_hostcall(&mut self.b);
                self.hostcall = Some(f);
                f
            }
        };
        let idx = self.b.ins().iconst(types::I32, i64::from(builtin.index()));
        self.b.ins().call(f, &[self.vmctx, idx, addr]);
        addr
    }

    /// A builtin returning an i32 in slot 0.
    pub fn builtin_call_i32(&mut self, builtin: Builtin, args: &[Value]) -> Value {
        self.builtin_call_ty(builtin, args, types::I32)
    }

    /// A builtin returning a value of type `ty` in slot 0.
    pub fn builtin_call_ty(&mut self, builtin: Builtin, args: &[Value], ty: Type) -> Value {
        let addr = self.builtin_call(builtin, args);
        self.b.ins().load(ty, trusted(), addr, 0)
    }
}
