// SPDX-License-Identifier: GPL-2.0

//! Generated glue: one array-call trampoline per function type (how the
//! runtime calls into wasm) and one host adapter per imported function (how
//! wasm calls the host through the single host-call entry).

use alloc::vec::Vec;

use cranelift_codegen::ir::{
    types, AbiParam, ArgumentPurpose, Function, GlobalValueData, InstBuilder, Signature,
    StackSlotData, StackSlotKind, UserFuncName,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use kwasm_abi::{vmctx, Builtin, ImportKind};

use crate::error::{internal, CompileError};
use crate::layout::{CodeLayout, PieceKind};
use crate::translate::{
    clif_type, compile_clif, import_hostcall, readonly, slot_offset, stub_signature, to_slot,
    trusted, wasm_signature, STUB_NAMESPACE,
};
use crate::validate::Module;

/// Namespaces of the generated functions' names (for CLIF dumps only).
const TRAMPOLINE_NAMESPACE: u32 = 1;
const ADAPTER_NAMESPACE: u32 = 2;

/// Makes every prologue check vmctx[STACK_LIMIT], like wasm functions.
fn set_stack_limit(func: &mut Function) -> Result<(), CompileError> {
    let vmctx_gv = func.create_global_value(GlobalValueData::VMContext);
    let flags = func
        .dfg
        .mem_flags
        .insert(readonly())
        .map_err(|_| internal("memflags"))?;
    let limit = func.create_global_value(GlobalValueData::Load {
        base: vmctx_gv,
        offset: vmctx::STACK_LIMIT.into(),
        global_type: types::I64,
        flags,
    });
    func.stack_limit = Some(limit);
    Ok(())
}

/// Array-call trampolines ([`kwasm_abi::TrampolineFn`]), one per type index.
pub(crate) fn compile_trampolines(
    module: &Module<'_>,
    isa: &dyn TargetIsa,
    out: &mut CodeLayout,
) -> Result<(), CompileError> {
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = Context::new();
    for (ti, ty) in module.types.iter().enumerate() {
        let ti = u32::try_from(ti).map_err(|_| internal("type index"))?;
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params
            .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        let mut func =
            Function::with_name_signature(UserFuncName::user(TRAMPOLINE_NAMESPACE, ti), sig);
        set_stack_limit(&mut func)?;
        {
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry).to_vec();
            let (vmctx, code, args) = match p.as_slice() {
                [a, b, c] => (*a, *b, *c),
                _ => return Err(internal("trampoline params")),
            };
            // Compiled code finds the safepoint word through the pinned
            // register (r15). Cranelift does not save it in prologues, and
            // our caller expects it back (SystemV), so restore it on return;
            // a trap unwinds to the runtime's entry, which restores it too.
            let saved = b.ins().get_pinned_reg(types::I64);
            let word = b
                .ins()
                .load(types::I64, readonly(), vmctx, vmctx::SAFEPOINT_FLAGS);
            b.ins().set_pinned_reg(word);
            let mut call_args = Vec::with_capacity(ty.params.len() + 1);
            call_args.push(vmctx);
            for (i, t) in ty.params.iter().enumerate() {
                let v = b
                    .ins()
                    .load(clif_type(*t), trusted(), args, slot_offset(i)?);
                call_args.push(v);
            }
            let callee_sig = b.import_signature(wasm_signature(ty));
            let call = b.ins().call_indirect(callee_sig, code, &call_args);
            let results = b.inst_results(call).to_vec();
            for (i, r) in results.into_iter().enumerate() {
                let v = to_slot(&mut b, r);
                b.ins().store(trusted(), v, args, slot_offset(i)?);
            }
            b.ins().set_pinned_reg(saved);
            b.ins().return_(&[]);
            b.finalize(isa.frontend_config());
        }
        compile_clif(&mut ctx, func, isa, PieceKind::Trampoline, out)?;
    }
    Ok(())
}

/// The safepoint stub: `(vmctx)`, calls the host with `Builtin::Safepoint`.
/// Every safepoint's slow path calls it, so that the slow path needs nothing
/// but `vmctx` in the calling function.
pub(crate) fn compile_safepoint_stub(
    isa: &dyn TargetIsa,
    out: &mut CodeLayout,
) -> Result<(), CompileError> {
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = Context::new();
    // No stack-limit check of its own: Cranelift's check runs in the
    // prologue before the registers are saved and uses r10 as scratch,
    // which `preserve_all` callers expect back unchanged. The caller's own
    // check covered its frame; the stub's (~370 bytes: the registers and
    // the argument slot) fits in the room every runtime keeps free below
    // the stack limit (32 KiB in the kernel, KWASM_STACK_RESERVE).
    let mut func =
        Function::with_name_signature(UserFuncName::user(STUB_NAMESPACE, 0), stub_signature());
    {
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = *b
            .block_params(entry)
            .first()
            .ok_or_else(|| internal("stub params"))?;
        // No arguments, but the host gets a valid array pointer.
        let ss = b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 3));
        let addr = b.ins().stack_addr(types::I64, ss, 0);
        let f = import_hostcall(&mut b);
        let idx = b
            .ins()
            .iconst(types::I32, i64::from(Builtin::Safepoint.index()));
        b.ins().call(f, &[vmctx, idx, addr]);
        b.ins().return_(&[]);
        b.finalize(isa.frontend_config());
    }
    compile_clif(&mut ctx, func, isa, PieceKind::SafepointStub, out)
}

/// Host adapters, one per imported function: wasm signature in, host call out.
pub(crate) fn compile_import_adapters(
    module: &Module<'_>,
    isa: &dyn TargetIsa,
    out: &mut CodeLayout,
) -> Result<(), CompileError> {
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = Context::new();
    let mut func_index: u32 = 0;
    for imp in &module.imports {
        let ImportKind::Func(ti) = imp.kind else {
            continue;
        };
        let ty = module.type_at(ti)?;
        let mut func = Function::with_name_signature(
            UserFuncName::user(ADAPTER_NAMESPACE, func_index),
            wasm_signature(ty),
        );
        set_stack_limit(&mut func)?;
        {
            let mut b = FunctionBuilder::new(&mut func, &mut fctx);
            let entry = b.create_block();
            b.append_block_params_for_function_params(entry);
            b.switch_to_block(entry);
            b.seal_block(entry);
            let p = b.block_params(entry).to_vec();
            let (vmctx, params) = p.split_first().ok_or_else(|| internal("adapter params"))?;
            let slots = ty.params.len().max(ty.results.len()).max(1);
            let bytes = slots
                .checked_mul(8)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| internal("adapter slots"))?;
            let ss = b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                bytes,
                3,
            ));
            for (i, v) in params.iter().enumerate() {
                let v = to_slot(&mut b, *v);
                b.ins().stack_store(types::I64, v, ss, slot_offset(i)?);
            }
            let addr = b.ins().stack_addr(types::I64, ss, 0);
            let f = import_hostcall(&mut b);
            let idx = b.ins().iconst(types::I32, i64::from(func_index));
            b.ins().call(f, &[*vmctx, idx, addr]);
            let mut results = Vec::with_capacity(ty.results.len());
            for (i, t) in ty.results.iter().enumerate() {
                results.push(
                    b.ins()
                        .load(clif_type(*t), trusted(), addr, slot_offset(i)?),
                );
            }
            b.ins().return_(&results);
            b.finalize(isa.frontend_config());
        }
        compile_clif(&mut ctx, func, isa, PieceKind::Adapter, out)?;
        func_index = func_index
            .checked_add(1)
            .ok_or_else(|| internal("import index"))?;
    }
    Ok(())
}
