// SPDX-License-Identifier: GPL-2.0

//! Numeric operators: constants, integer and float arithmetic, comparisons,
//! conversions, reinterpretations, sign extension, saturating truncation.
//!
//! CLIF already has the wasm semantics for these: division traps on zero and
//! on `INT_MIN / -1` (but `srem` yields 0 there), shifts are modulo the width,
//! `fmin`/`fmax` propagate NaN and order -0.0 below +0.0, `fcvt_to_*int`
//! traps with BAD_CONVERSION_TO_INTEGER on NaN and INTEGER_OVERFLOW out of
//! range, and the `_sat` forms saturate.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{
    types, InstBuilder, InstructionData, MemFlagsData, Opcode, Type, Value,
};
use kwasm_abi::Trap;
use wasmparser::Operator;

use super::{trap_code, Translator};
use crate::error::CompileError;

#[derive(Clone, Copy)]
enum Bin {
    Add,
    Sub,
    Mul,
    DivS,
    DivU,
    RemS,
    RemU,
    And,
    Or,
    Xor,
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
    FAdd,
    FSub,
    FMul,
    FDiv,
    FMin,
    FMax,
    FCopysign,
}

#[derive(Clone, Copy)]
enum Un {
    Clz,
    Ctz,
    Popcnt,
    FAbs,
    FNeg,
    FCeil,
    FFloor,
    FTrunc,
    FNearest,
    FSqrt,
}

#[derive(Clone, Copy)]
enum Conv {
    Wrap,
    ExtendS,
    ExtendU,
    TruncS,
    TruncU,
    TruncSatS,
    TruncSatU,
    ConvertS,
    ConvertU,
    Demote,
    Promote,
    Reinterpret,
    /// Sign-extend the low bits of the given narrow type in place.
    SignExt(Type),
}

impl Translator<'_, '_> {
    /// The value of `v` if it is an integer constant.
    fn const_of(&self, v: Value) -> Option<i64> {
        let inst = self.b.func.dfg.value_def(v).inst()?;
        match self.b.func.dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    /// Explicit division checks, so that the hardware divide error (#DE) is
    /// never raised and a runtime only has to handle `ud2` and page faults.
    fn div_checks(&mut self, op: Bin, x: Value, y: Value) {
        let ty = self.b.func.dfg.value_type(y);
        let divisor = self.const_of(y);
        if divisor.is_none() || divisor == Some(0) {
            self.b.ins().trapz(y, trap_code(Trap::IntegerDivideByZero));
        }
        if matches!(op, Bin::DivS) {
            // Narrow constants are stored zero-extended: compare masked bits.
            let minus_one = if ty == types::I32 { 0xffff_ffff } else { -1 };
            if divisor.is_none() || divisor == Some(minus_one) {
                let min = if ty == types::I32 {
                    i64::from(i32::MIN as u32)
                } else {
                    i64::MIN
                };
                let is_min = self.b.ins().icmp_imm_s(IntCC::Equal, x, min);
                let is_m1 = self.b.ins().icmp_imm_s(IntCC::Equal, y, -1);
                let both = self.b.ins().band(is_min, is_m1);
                self.b.ins().trapnz(both, trap_code(Trap::IntegerOverflow));
            }
        }
    }

    fn bin(&mut self, op: Bin) -> Result<(), CompileError> {
        let (x, y) = self.pop2()?;
        if matches!(op, Bin::DivS | Bin::DivU | Bin::RemS | Bin::RemU) {
            self.div_checks(op, x, y);
        }
        let i = self.b.ins();
        let v = match op {
            Bin::Add => i.iadd(x, y),
            Bin::Sub => i.isub(x, y),
            Bin::Mul => i.imul(x, y),
            Bin::DivS => i.sdiv(x, y),
            Bin::DivU => i.udiv(x, y),
            Bin::RemS => i.srem(x, y),
            Bin::RemU => i.urem(x, y),
            Bin::And => i.band(x, y),
            Bin::Or => i.bor(x, y),
            Bin::Xor => i.bxor(x, y),
            Bin::Shl => i.ishl(x, y),
            Bin::ShrS => i.sshr(x, y),
            Bin::ShrU => i.ushr(x, y),
            Bin::Rotl => i.rotl(x, y),
            Bin::Rotr => i.rotr(x, y),
            Bin::FAdd => i.fadd(x, y),
            Bin::FSub => i.fsub(x, y),
            Bin::FMul => i.fmul(x, y),
            Bin::FDiv => i.fdiv(x, y),
            Bin::FMin => i.fmin(x, y),
            Bin::FMax => i.fmax(x, y),
            Bin::FCopysign => i.fcopysign(x, y),
        };
        self.push(v);
        Ok(())
    }

    fn un(&mut self, op: Un) -> Result<(), CompileError> {
        let x = self.pop()?;
        let i = self.b.ins();
        let v = match op {
            Un::Clz => i.clz(x),
            Un::Ctz => i.ctz(x),
            Un::Popcnt => i.popcnt(x),
            Un::FAbs => i.fabs(x),
            Un::FNeg => i.fneg(x),
            Un::FCeil => i.ceil(x),
            Un::FFloor => i.floor(x),
            Un::FTrunc => i.trunc(x),
            Un::FNearest => i.nearest(x),
            Un::FSqrt => i.sqrt(x),
        };
        self.push(v);
        Ok(())
    }

    fn icmp(&mut self, cc: IntCC) -> Result<(), CompileError> {
        let (x, y) = self.pop2()?;
        let c = self.b.ins().icmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
        Ok(())
    }

    fn fcmp(&mut self, cc: FloatCC) -> Result<(), CompileError> {
        let (x, y) = self.pop2()?;
        let c = self.b.ins().fcmp(cc, x, y);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
        Ok(())
    }

    fn eqz(&mut self) -> Result<(), CompileError> {
        let x = self.pop()?;
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, x, 0);
        let v = self.b.ins().uextend(types::I32, c);
        self.push(v);
        Ok(())
    }

    fn conv(&mut self, op: Conv, to: Type) -> Result<(), CompileError> {
        let x = self.pop()?;
        let i = self.b.ins();
        let v = match op {
            Conv::Wrap => i.ireduce(to, x),
            Conv::ExtendS => i.sextend(to, x),
            Conv::ExtendU => i.uextend(to, x),
            Conv::TruncS => i.fcvt_to_sint(to, x),
            Conv::TruncU => i.fcvt_to_uint(to, x),
            Conv::TruncSatS => i.fcvt_to_sint_sat(to, x),
            Conv::TruncSatU => i.fcvt_to_uint_sat(to, x),
            Conv::ConvertS => i.fcvt_from_sint(to, x),
            Conv::ConvertU => i.fcvt_from_uint(to, x),
            Conv::Demote => i.fdemote(to, x),
            Conv::Promote => i.fpromote(to, x),
            Conv::Reinterpret => i.bitcast(to, MemFlagsData::new(), x),
            Conv::SignExt(narrow) => {
                let n = i.ireduce(narrow, x);
                self.b.ins().sextend(to, n)
            }
        };
        self.push(v);
        Ok(())
    }

    fn iconst32(&mut self, v: i32) -> Value {
        // Narrow iconst immediates are kept zero-extended (canonical form).
        self.b.ins().iconst(types::I32, i64::from(v as u32))
    }

    /// Numeric operators. Returns false if `op` is not one.
    pub(super) fn numeric(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        use types::{F32, F64, I16, I32, I64, I8};
        use Operator as O;
        match *op {
            O::I32Const { value } => {
                let v = self.iconst32(value);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            O::I32Eqz | O::I64Eqz => self.eqz()?,
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal)?,
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual)?,
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan)?,
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan)?,
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan)?,
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan)?,
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual)?,
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual)?,
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual)?,
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual)?,

            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal)?,
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual)?,
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan)?,
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan)?,
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual)?,
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual)?,

            O::I32Clz | O::I64Clz => self.un(Un::Clz)?,
            O::I32Ctz | O::I64Ctz => self.un(Un::Ctz)?,
            O::I32Popcnt | O::I64Popcnt => self.un(Un::Popcnt)?,
            O::I32Add | O::I64Add => self.bin(Bin::Add)?,
            O::I32Sub | O::I64Sub => self.bin(Bin::Sub)?,
            O::I32Mul | O::I64Mul => self.bin(Bin::Mul)?,
            O::I32DivS | O::I64DivS => self.bin(Bin::DivS)?,
            O::I32DivU | O::I64DivU => self.bin(Bin::DivU)?,
            O::I32RemS | O::I64RemS => self.bin(Bin::RemS)?,
            O::I32RemU | O::I64RemU => self.bin(Bin::RemU)?,
            O::I32And | O::I64And => self.bin(Bin::And)?,
            O::I32Or | O::I64Or => self.bin(Bin::Or)?,
            O::I32Xor | O::I64Xor => self.bin(Bin::Xor)?,
            O::I32Shl | O::I64Shl => self.bin(Bin::Shl)?,
            O::I32ShrS | O::I64ShrS => self.bin(Bin::ShrS)?,
            O::I32ShrU | O::I64ShrU => self.bin(Bin::ShrU)?,
            O::I32Rotl | O::I64Rotl => self.bin(Bin::Rotl)?,
            O::I32Rotr | O::I64Rotr => self.bin(Bin::Rotr)?,

            O::F32Abs | O::F64Abs => self.un(Un::FAbs)?,
            O::F32Neg | O::F64Neg => self.un(Un::FNeg)?,
            O::F32Ceil | O::F64Ceil => self.un(Un::FCeil)?,
            O::F32Floor | O::F64Floor => self.un(Un::FFloor)?,
            O::F32Trunc | O::F64Trunc => self.un(Un::FTrunc)?,
            O::F32Nearest | O::F64Nearest => self.un(Un::FNearest)?,
            O::F32Sqrt | O::F64Sqrt => self.un(Un::FSqrt)?,
            O::F32Add | O::F64Add => self.bin(Bin::FAdd)?,
            O::F32Sub | O::F64Sub => self.bin(Bin::FSub)?,
            O::F32Mul | O::F64Mul => self.bin(Bin::FMul)?,
            O::F32Div | O::F64Div => self.bin(Bin::FDiv)?,
            O::F32Min | O::F64Min => self.bin(Bin::FMin)?,
            O::F32Max | O::F64Max => self.bin(Bin::FMax)?,
            O::F32Copysign | O::F64Copysign => self.bin(Bin::FCopysign)?,

            O::I32WrapI64 => self.conv(Conv::Wrap, I32)?,
            O::I64ExtendI32S => self.conv(Conv::ExtendS, I64)?,
            O::I64ExtendI32U => self.conv(Conv::ExtendU, I64)?,
            O::I32TruncF32S => self.conv(Conv::TruncS, I32)?,
            O::I32TruncF32U => self.conv(Conv::TruncU, I32)?,
            O::I32TruncF64S => self.conv(Conv::TruncS, I32)?,
            O::I32TruncF64U => self.conv(Conv::TruncU, I32)?,
            O::I64TruncF32S => self.conv(Conv::TruncS, I64)?,
            O::I64TruncF32U => self.conv(Conv::TruncU, I64)?,
            O::I64TruncF64S => self.conv(Conv::TruncS, I64)?,
            O::I64TruncF64U => self.conv(Conv::TruncU, I64)?,
            O::I32TruncSatF32S => self.conv(Conv::TruncSatS, I32)?,
            O::I32TruncSatF32U => self.conv(Conv::TruncSatU, I32)?,
            O::I32TruncSatF64S => self.conv(Conv::TruncSatS, I32)?,
            O::I32TruncSatF64U => self.conv(Conv::TruncSatU, I32)?,
            O::I64TruncSatF32S => self.conv(Conv::TruncSatS, I64)?,
            O::I64TruncSatF32U => self.conv(Conv::TruncSatU, I64)?,
            O::I64TruncSatF64S => self.conv(Conv::TruncSatS, I64)?,
            O::I64TruncSatF64U => self.conv(Conv::TruncSatU, I64)?,
            O::F32ConvertI32S | O::F32ConvertI64S => self.conv(Conv::ConvertS, F32)?,
            O::F32ConvertI32U | O::F32ConvertI64U => self.conv(Conv::ConvertU, F32)?,
            O::F64ConvertI32S | O::F64ConvertI64S => self.conv(Conv::ConvertS, F64)?,
            O::F64ConvertI32U | O::F64ConvertI64U => self.conv(Conv::ConvertU, F64)?,
            O::F32DemoteF64 => self.conv(Conv::Demote, F32)?,
            O::F64PromoteF32 => self.conv(Conv::Promote, F64)?,
            O::I32ReinterpretF32 => self.conv(Conv::Reinterpret, I32)?,
            O::I64ReinterpretF64 => self.conv(Conv::Reinterpret, I64)?,
            O::F32ReinterpretI32 => self.conv(Conv::Reinterpret, F32)?,
            O::F64ReinterpretI64 => self.conv(Conv::Reinterpret, F64)?,
            O::I32Extend8S => self.conv(Conv::SignExt(I8), I32)?,
            O::I32Extend16S => self.conv(Conv::SignExt(I16), I32)?,
            O::I64Extend8S => self.conv(Conv::SignExt(I8), I64)?,
            O::I64Extend16S => self.conv(Conv::SignExt(I16), I64)?,
            O::I64Extend32S => self.conv(Conv::SignExt(I32), I64)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
