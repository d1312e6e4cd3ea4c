// SPDX-License-Identifier: GPL-2.0

//! Tables and references: table.get/set/size/grow/fill/copy/init, elem.drop,
//! ref.null/is_null/func.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder};
use kwasm_abi::{vmctx, vmfuncref, vmtable, Builtin};
use wasmparser::Operator;

use super::{Regions, Translator};
use crate::error::{internal, CompileError};

impl Translator<'_, '_> {
    /// Table and reference operators. Returns false if `op` is not one.
    pub(super) fn table_op(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{I32, I64};
        match *op {
            Operator::TableGet { table } => {
                let i = self.pop()?;
                let addr = self.table_elem_addr(table, i)?;
                let v = self
                    .b
                    .ins()
                    .load(I64, Regions::flags(self.regions.tables), addr, 0);
                self.push(v);
            }
            Operator::TableSet { table } => {
                let (i, v) = self.pop2()?;
                let addr = self.table_elem_addr(table, i)?;
                let flags = Regions::flags(self.regions.tables);
                self.b.ins().store(flags, v, addr, 0);
            }
            Operator::TableSize { table } => {
                let t = self.table_ptr(table)?;
                let flags = Regions::flags(self.regions.tables);
                let len = self.b.ins().load(I64, flags, t, vmtable::LEN);
                let len = self.b.ins().ireduce(I32, len);
                self.push(len);
            }
            Operator::TableGrow { table } => {
                let (init, delta) = self.pop2()?;
                let t = self.b.ins().iconst(I32, i64::from(table));
                let r = self.builtin_call_i32(Builtin::TableGrow, &[t, init, delta]);
                self.push(r);
            }
            Operator::TableFill { table } => {
                let (d, v, n) = self.pop3()?;
                let t = self.b.ins().iconst(I32, i64::from(table));
                self.builtin_call(Builtin::TableFill, &[t, d, v, n]);
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (d, s, n) = self.pop3()?;
                let dt = self.b.ins().iconst(I32, i64::from(dst_table));
                let st = self.b.ins().iconst(I32, i64::from(src_table));
                self.builtin_call(Builtin::TableCopy, &[dt, st, d, s, n]);
            }
            Operator::TableInit { elem_index, table } => {
                let (d, s, n) = self.pop3()?;
                let t = self.b.ins().iconst(I32, i64::from(table));
                let e = self.b.ins().iconst(I32, i64::from(elem_index));
                self.builtin_call(Builtin::TableInit, &[t, e, d, s, n]);
            }
            Operator::ElemDrop { elem_index } => {
                let e = self.b.ins().iconst(I32, i64::from(elem_index));
                self.builtin_call(Builtin::ElemDrop, &[e]);
            }
            Operator::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            Operator::RefIsNull => {
                let v = self.pop()?;
                let z = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                let z = self.b.ins().uextend(I32, z);
                self.push(z);
            }
            Operator::RefFunc { function_index } => {
                let funcs = self.vmctx_load(I64, vmctx::FUNCS);
                let off = i64::from(function_index)
                    .checked_mul(i64::from(vmfuncref::SIZE))
                    .ok_or_else(|| internal("funcref offset"))?;
                let v = self.b.ins().iadd_imm_s(funcs, off);
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
