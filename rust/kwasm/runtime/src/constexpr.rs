// SPDX-License-Identifier: GPL-2.0

//! Evaluation of constant expressions (global initialisers, segment offsets
//! and element items).

use alloc::rc::Rc;

use kwasm_abi::{ConstExpr, VMFuncRef};

use crate::global::Global;

/// What a constant expression may refer to.
pub(crate) struct ConstEnv<'a> {
    /// Globals initialised so far (imports, then defined ones in order).
    pub globals: &'a [Rc<Global>],
    /// The instance's function references.
    pub funcs: &'a [VMFuncRef],
}

/// Evaluates `expr` to a slot value (i32/f32 zero-extended, funcref as a
/// `*const VMFuncRef`, null as 0). `None` if it names something that does not
/// exist (the validator should have rejected that).
pub(crate) fn eval(expr: &ConstExpr, env: &ConstEnv<'_>) -> Option<u64> {
    Some(match *expr {
        ConstExpr::I32(v) => u64::from(v as u32),
        ConstExpr::I64(v) => v as u64,
        ConstExpr::F32(bits) => u64::from(bits),
        ConstExpr::F64(bits) => bits,
        ConstExpr::RefNull(_) => 0,
        ConstExpr::RefFunc(i) => {
            let f = env.funcs.get(usize::try_from(i).ok()?)?;
            f as *const VMFuncRef as u64
        }
        ConstExpr::GlobalGet(i) => env.globals.get(usize::try_from(i).ok()?)?.get(),
    })
}

/// Evaluates a segment offset: an i32 read as unsigned.
pub(crate) fn eval_offset(expr: &ConstExpr, env: &ConstEnv<'_>) -> Option<u64> {
    eval(expr, env).map(|v| u64::from(v as u32))
}
