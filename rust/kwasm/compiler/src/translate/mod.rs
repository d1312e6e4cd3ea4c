// SPDX-License-Identifier: GPL-2.0

//! wasm -> CLIF translation, one function at a time, on cranelift-frontend.
//!
//! The translator walks the operators of an already validated body with an
//! explicit value stack (CLIF values) and control stack (frames). Code that
//! the validator accepts but that can never run (after `br`, `return`,
//! `unreachable`) is skipped: only the nesting of blocks is tracked there.
//!
//! Each concern lives in its own file: control flow, memory, numeric ops,
//! tables, calls and host calls.

mod call;
mod control;
mod memory;
mod numeric;
mod table;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec::Vec;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    types, AbiParam, AliasRegion, AliasRegionData, ArgumentPurpose, ExtFuncData, ExternalName,
    FuncRef, Function, GlobalValueData, InstBuilder, MemFlagsData, SigRef, Signature, StackSlot,
    TrapCode, Type, UserExternalName, UserFuncName, Value,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use kwasm_abi::{vmctx, FuncType, Trap, ValType};
use wasmparser::Operator;

use crate::error::{internal, CompileError};
use crate::layout::{CodeLayout, PieceKind};
use crate::validate::Module;

pub(crate) use call::{slot_offset, to_slot, FUNC_NAMESPACE};
pub(crate) use control::Frame;

/// CLIF type of a wasm value type. References are pointers (0 = null).
pub(crate) fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The native signature of a wasm function: `vmctx` first, SystemV.
pub(crate) fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    for p in &ty.params {
        sig.params.push(AbiParam::new(clif_type(*p)));
    }
    for r in &ty.results {
        sig.returns.push(AbiParam::new(clif_type(*r)));
    }
    sig
}

/// Namespace of the user external name of the safepoint stub.
pub(crate) const STUB_NAMESPACE: u32 = 3;
/// External-name namespace of the host-call entry: a direct `call rel32`
/// that the runtime points at its entry ([`kwasm_abi::Symbol::HostCall`]),
/// in the kernel `kwasm_hostcall_entry`, so no host call is an indirect
/// branch.
pub(crate) const HOSTCALL_NAMESPACE: u32 = 4;

/// Declares the host-call entry in `b`'s function.
pub(crate) fn import_hostcall(b: &mut FunctionBuilder<'_>) -> FuncRef {
    let signature = b.import_signature(hostcall_signature());
    let name = b
        .func
        .declare_imported_user_function(UserExternalName::new(HOSTCALL_NAMESPACE, 0));
    b.import_function(ExtFuncData {
        name: ExternalName::User(name),
        signature,
        // Resolved with the code's relocations: a rel32 call.
        colocated: true,
        patchable: false,
    })
}

/// Signature of the safepoint stub: `(vmctx)`, preserving every register.
///
/// The stub is called from the cold side of every loop header's poll. With
/// the System V convention that call clobbers the caller-saved registers,
/// so every value live across a loop had to sit in one of five callee-saved
/// registers or on the stack, and the register allocator spilled and
/// reloaded them on the hot path of the loop (sieve's inner loop: 14
/// instructions, 5 of them stack accesses, for one byte store). Under
/// `preserve_all` the call clobbers nothing: the stub saves and restores
/// what the host call may change (GPRs and full XMM registers, on the wasm
/// stack, below its stack-limit check) and only the slow path pays.
pub(crate) fn stub_signature() -> Signature {
    let mut sig = Signature::new(CallConv::PreserveAll);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig
}

/// Signature of the host-call entry `(vmctx, index, args)`.
pub(crate) fn hostcall_signature() -> Signature {
    let mut sig = Signature::new(CallConv::SystemV);
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(types::I64));
    sig
}

/// Cranelift trap code for a kwasm trap.
pub(crate) fn trap_code(t: Trap) -> TrapCode {
    // Trap discriminants are 1..=11, far below Cranelift's reserved range.
    TrapCode::user(t as u8).unwrap_or(TrapCode::HEAP_OUT_OF_BOUNDS)
}

/// Flags for loads of VMContext data that never changes while code runs.
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

/// Flags for loads of instance constants at addresses that are valid
/// whenever code of the instance runs (VMContext header fields, the heap
/// base, GLOBALS/TABLES/TYPE_IDS entries): Cranelift may hoist them out of
/// loops and merge them freely.
pub(crate) fn invariant() -> MemFlagsData {
    readonly().with_can_move()
}

/// Flags for loads and stores of runtime data that may change (sizes, values).
pub(crate) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Compiles `func` with `isa` and hands the machine code to `out`. `ctx` is
/// reused across functions so that Cranelift's allocations are recycled.
pub(crate) fn compile_clif(
    ctx: &mut Context,
    func: Function,
    isa: &dyn TargetIsa,
    kind: PieceKind,
    out: &mut CodeLayout,
) -> Result<(), CompileError> {
    ctx.clear();
    ctx.func = func;
    let mut ctrl = ControlPlane::default();
    ctx.compile(isa, &mut ctrl)
        .map_err(|e| CompileError::Codegen(format!("{:?}", e.inner)))?;
    let code = ctx
        .compiled_code()
        .ok_or_else(|| internal("no compiled code"))?;
    out.add_piece(kind, &code.buffer, &ctx.func)
}

/// Translates and compiles every defined function.
/// Choices that shape every function's code.
#[derive(Clone, Copy)]
pub(crate) struct FuncOptions {
    /// `br_table` may use a jump table ([`crate::BranchForms::jump_tables`]).
    pub jump_tables: bool,
    /// [`crate::Config::safepoint_mask`].
    pub safepoint_mask: Option<u64>,
}

pub(crate) fn compile_functions(
    module: &Module<'_>,
    isa: &dyn TargetIsa,
    options: FuncOptions,
    out: &mut CodeLayout,
) -> Result<(), CompileError> {
    let mut fctx = FunctionBuilderContext::new();
    let mut ctx = Context::new();
    for (i, body) in module.bodies.iter().enumerate() {
        let index = u32::try_from(i)
            .ok()
            .and_then(|i| i.checked_add(module.num_imported_funcs))
            .ok_or_else(|| internal("function index overflow"))?;
        let func = translate_function(module, index, body, isa, options, &mut fctx)?;
        compile_clif(&mut ctx, func, isa, PieceKind::Func, out)?;
    }
    Ok(())
}

fn translate_function(
    module: &Module<'_>,
    index: u32,
    body: &wasmparser::FunctionBody<'_>,
    isa: &dyn TargetIsa,
    options: FuncOptions,
    fctx: &mut FunctionBuilderContext,
) -> Result<Function, CompileError> {
    let ty = module.func_type(index)?;
    let mut func = Function::with_name_signature(UserFuncName::user(0, index), wasm_signature(ty));

    // Every prologue compares the stack pointer against vmctx[STACK_LIMIT].
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

    {
        let b = FunctionBuilder::new(&mut func, fctx);
        let mut t = Translator::new(b, module, ty, options)?;
        t.declare_locals(body)?;
        let shape = BodyShape::of(body)?;
        t.poll_before_return = shape.long_tail;
        if !shape.starts_with_loop {
            t.safepoint();
        }
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let op = ops.read()?;
            t.operator(&op)?;
        }
        if !t.frames.is_empty() {
            return Err(internal("unterminated function body"));
        }
        t.b.seal_all_blocks();
        t.b.finalize(isa.frontend_config());
    }
    Ok(func)
}

/// Most operators a function may run between a call's return and its own
/// return without a poll. Polls sit at function entries and loop headers,
/// so returning through many frames runs every frame's tail after its call
/// with none: bounded by this times the frames that fit on the wasm stack.
const MAX_TAIL_OPS: usize = 256;

/// What decides where a function polls, from one pass over its operators.
struct BodyShape {
    /// The first operator that does something at run time is a `loop`: its
    /// header polls the safepoint word right away, so a poll at the
    /// function's entry would only repeat it (C and Rust functions that
    /// begin with a loop, such as a `retry:` label, start with `block`*
    /// `loop`).
    starts_with_loop: bool,
    /// More than [`MAX_TAIL_OPS`] operators follow the first call, so a
    /// path from a call to a return may be longer than that (a path without
    /// a loop header runs operators in program order): poll before
    /// returning.
    long_tail: bool,
}

impl BodyShape {
    fn of(body: &wasmparser::FunctionBody<'_>) -> Result<Self, CompileError> {
        let mut ops = body.get_operators_reader()?;
        let mut leading = true;
        let mut starts_with_loop = false;
        let mut count = 0usize;
        let mut first_call = None;
        while !ops.eof() {
            let op = ops.read()?;
            if leading {
                match op {
                    Operator::Block { .. } | Operator::Nop => {}
                    Operator::Loop { .. } => {
                        starts_with_loop = true;
                        leading = false;
                    }
                    _ => leading = false,
                }
            }
            if first_call.is_none()
                && matches!(op, Operator::Call { .. } | Operator::CallIndirect { .. })
            {
                first_call = Some(count);
            }
            count += 1;
        }
        Ok(BodyShape {
            starts_with_loop,
            long_tail: first_call.is_some_and(|c| count - c > MAX_TAIL_OPS),
        })
    }
}

/// Disjoint kinds of mutable memory the generated code touches. Telling
/// Cranelift they cannot alias lets a heap store leave cached globals,
/// table fields and the memory size alone (calls still clobber everything).
#[derive(Clone, Copy)]
pub(crate) struct Regions {
    /// Linear memory.
    pub heap: AliasRegion,
    /// Global value cells.
    pub globals: AliasRegion,
    /// `VMTable` fields and table element arrays.
    pub tables: AliasRegion,
    /// `VMMemory.size`.
    pub memsize: AliasRegion,
    /// `VMFuncRef` fields read through table elements.
    pub funcrefs: AliasRegion,
}

impl Regions {
    fn new(func: &mut Function) -> Self {
        let mut region = |user_id: u32, description: &'static str| {
            func.dfg.alias_regions.insert(AliasRegionData {
                user_id,
                description: description.into(),
            })
        };
        Regions {
            heap: region(1, "heap"),
            globals: region(2, "globals"),
            tables: region(3, "tables"),
            memsize: region(4, "memory size"),
            funcrefs: region(5, "funcrefs"),
        }
    }

    /// Flags for plain runtime data in `region`.
    pub fn flags(region: AliasRegion) -> MemFlagsData {
        trusted().with_alias_region(Some(region))
    }
}

/// State of one function translation.
pub(crate) struct Translator<'a, 'f> {
    pub b: FunctionBuilder<'f>,
    pub module: &'a Module<'a>,
    pub vmctx: Value,
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// False after an unconditional control transfer until the next frame end.
    pub reachable: bool,
    /// Blocks opened while unreachable, not yet closed.
    pub dead_depth: usize,
    pub locals: Vec<Variable>,
    pub results: Vec<Type>,
    pub regions: Regions,
    /// `br_table` may use a jump table ([`crate::BranchForms::jump_tables`]).
    pub jump_tables: bool,
    /// [`crate::Config::safepoint_mask`].
    safepoint_mask: Option<u64>,
    /// Poll before every return ([`BodyShape::long_tail`]).
    pub poll_before_return: bool,
    sigs: BTreeMap<u32, SigRef>,
    direct: BTreeMap<u32, FuncRef>,
    hostcall: Option<FuncRef>,
    args_slot: Option<StackSlot>,
    stub: Option<FuncRef>,
}

impl<'a, 'f> Translator<'a, 'f> {
    fn new(
        mut b: FunctionBuilder<'f>,
        module: &'a Module<'a>,
        ty: &FuncType,
        options: FuncOptions,
    ) -> Result<Self, CompileError> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = *b
            .block_params(entry)
            .first()
            .ok_or_else(|| internal("no vmctx param"))?;
        let results: Vec<Type> = ty.results.iter().map(|t| clif_type(*t)).collect();
        let ret = b.create_block();
        for r in &results {
            b.append_block_param(ret, *r);
        }
        let frame = Frame::function(ret, results.len());
        let regions = Regions::new(b.func);
        Ok(Translator {
            b,
            module,
            vmctx,
            stack: Vec::new(),
            frames: alloc::vec![frame],
            reachable: true,
            dead_depth: 0,
            locals: Vec::new(),
            results,
            regions,
            jump_tables: options.jump_tables,
            safepoint_mask: options.safepoint_mask,
            poll_before_return: false,
            sigs: BTreeMap::new(),
            direct: BTreeMap::new(),
            hostcall: None,
            args_slot: None,
            stub: None,
        })
    }

    fn declare_locals(&mut self, body: &wasmparser::FunctionBody<'_>) -> Result<(), CompileError> {
        let entry = self
            .b
            .current_block()
            .ok_or_else(|| internal("no entry block"))?;
        let params: Vec<Value> = self.b.block_params(entry).iter().skip(1).copied().collect();
        for p in params {
            let ty = self.b.func.dfg.value_type(p);
            let var = self.b.declare_var(ty);
            self.b.def_var(var, p);
            self.locals.push(var);
        }
        for l in body.get_locals_reader()? {
            let (n, ty) = l?;
            let ty = clif_type(crate::validate::val_type(ty)?);
            for _ in 0..n {
                let zero = self.zero(ty);
                let var = self.b.declare_var(ty);
                self.b.def_var(var, zero);
                self.locals.push(var);
            }
        }
        Ok(())
    }

    /// The zero value of `ty`.
    pub fn zero(&mut self, ty: Type) -> Value {
        match ty {
            types::F32 => self.b.ins().f32const(0.0),
            types::F64 => self.b.ins().f64const(0.0),
            _ => self.b.ins().iconst(ty, 0),
        }
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    pub fn pop(&mut self) -> Result<Value, CompileError> {
        self.stack
            .pop()
            .ok_or_else(|| internal("value stack underflow"))
    }

    pub fn pop2(&mut self) -> Result<(Value, Value), CompileError> {
        let b = self.pop()?;
        let a = self.pop()?;
        Ok((a, b))
    }

    pub fn pop3(&mut self) -> Result<(Value, Value, Value), CompileError> {
        let c = self.pop()?;
        let (a, b) = self.pop2()?;
        Ok((a, b, c))
    }

    /// Pops `n` values, in stack order.
    pub fn popn(&mut self, n: usize) -> Result<Vec<Value>, CompileError> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| internal("value stack underflow"))?;
        Ok(self.stack.split_off(at))
    }

    /// The top `n` values, in stack order, left on the stack.
    pub fn peekn(&self, n: usize) -> Result<&[Value], CompileError> {
        let at = self
            .stack
            .len()
            .checked_sub(n)
            .ok_or_else(|| internal("value stack underflow"))?;
        self.stack
            .get(at..)
            .ok_or_else(|| internal("value stack underflow"))
    }

    /// Loads a field of the VMContext header that is fixed for the instance.
    pub fn vmctx_load(&mut self, ty: Type, offset: i32) -> Value {
        self.b.ins().load(ty, invariant(), self.vmctx, offset)
    }

    /// The SigRef of a wasm type index, imported once per function.
    pub fn sig_ref(&mut self, type_index: u32) -> Result<SigRef, CompileError> {
        if let Some(s) = self.sigs.get(&type_index) {
            return Ok(*s);
        }
        let sig = wasm_signature(self.module.type_at(type_index)?);
        let s = self.b.import_signature(sig);
        self.sigs.insert(type_index, s);
        Ok(s)
    }

    /// One operator.
    fn operator(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        if self.control(op)? {
            return Ok(());
        }
        if self.variable(op)? {
            return Ok(());
        }
        if self.call_op(op)? {
            return Ok(());
        }
        if self.memory_op(op)? {
            return Ok(());
        }
        if self.table_op(op)? {
            return Ok(());
        }
        if self.numeric(op)? {
            return Ok(());
        }
        Err(CompileError::Unsupported(format!("operator {op:?}")))
    }

    /// Locals, globals, `drop`, `select`.
    fn variable(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::LocalGet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.b.use_var(var);
                self.push(v);
            }
            Operator::LocalSet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.pop()?;
                self.b.def_var(var, v);
            }
            Operator::LocalTee { local_index } => {
                let var = self.local(local_index)?;
                let v = *self
                    .stack
                    .last()
                    .ok_or_else(|| internal("value stack underflow"))?;
                self.b.def_var(var, v);
            }
            Operator::GlobalGet { global_index } => {
                let (ptr, off, ty, mutable) = self.global_ptr(global_index)?;
                let flags = if mutable {
                    Regions::flags(self.regions.globals)
                } else {
                    invariant()
                };
                let v = self.b.ins().load(ty, flags, ptr, off);
                self.push(v);
            }
            Operator::GlobalSet { global_index } => {
                let (ptr, off, _, _) = self.global_ptr(global_index)?;
                let v = self.pop()?;
                let flags = Regions::flags(self.regions.globals);
                self.b.ins().store(flags, v, ptr, off);
            }
            Operator::Drop => {
                self.pop()?;
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let (x, y, c) = self.pop3()?;
                let v = self.b.ins().select(c, x, y);
                self.push(v);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn local(&self, index: u32) -> Result<Variable, CompileError> {
        self.locals
            .get(index as usize)
            .copied()
            .ok_or_else(|| internal("local index"))
    }

    /// Address of global `index`'s 8-byte cell (a base and an offset), its
    /// CLIF type and mutability. An inline global's cell is in the
    /// `VMContext`; any other is reached through the GLOBALS array.
    fn global_ptr(&mut self, index: u32) -> Result<(Value, i32, Type, bool), CompileError> {
        let g = *self
            .module
            .globals
            .get(index as usize)
            .ok_or_else(|| internal("global index"))?;
        if g.inline {
            let off = vmctx::global_cell(index).ok_or_else(|| internal("global cell"))?;
            return Ok((self.vmctx, off, clif_type(g.ty), g.mutable));
        }
        let off = index
            .checked_mul(8)
            .and_then(|o| i32::try_from(o).ok())
            .ok_or_else(|| internal("global offset"))?;
        let table = self.vmctx_load(types::I64, vmctx::GLOBALS);
        let ptr = self.b.ins().load(types::I64, invariant(), table, off);
        Ok((ptr, 0, clif_type(g.ty), g.mutable))
    }

    /// `if cond { 0 } else { v }` for an integer `v`, as a conditional move
    /// that the CPU does not predict (`select_spectre_guard`).
    ///
    /// This is the speculation guard after a trapping check: `cond` is the
    /// value the `trapnz` tested, and every address formed after the check
    /// must depend on the result, so that a mispredicted trap branch still
    /// sees 0. Cranelift compares again for the cmov (flags do not live
    /// across CLIF instructions), which costs one `cmp` besides the `cmov`.
    pub fn spectre_zero_if(&mut self, cond: Value, v: Value) -> Value {
        let ty = self.b.func.dfg.value_type(v);
        let zero = self.b.ins().iconst(ty, 0);
        self.b.ins().select_spectre_guard(cond, zero, v)
    }

    /// Traps unconditionally; the rest of the current block is dead.
    pub fn trap(&mut self, t: Trap) {
        self.b.ins().trap(trap_code(t));
        self.reachable = false;
    }

    /// Emits a poll of the safepoint word; the call to the runtime is cold.
    ///
    /// The word's address is in the pinned register (r15, loaded by the
    /// trampolines) and the mask is an immediate if known at compile time,
    /// so a poll costs one load, a `test` and a branch and keeps no value
    /// of its own alive in the function. The word itself is read with an
    /// atomic load, which Cranelift never merges with an earlier read or
    /// moves, so a loop always sees a new request. The slow path is a
    /// direct call to the module's shared safepoint stub, which preserves
    /// every register ([`stub_signature`]): nothing in the loop has to move
    /// for it.
    pub fn safepoint(&mut self) {
        // The trampoline that entered wasm loaded vmctx[SAFEPOINT_FLAGS]
        // into the pinned register.
        let flags_ptr = self.b.ins().get_pinned_reg(types::I64);
        let word = self.b.ins().atomic_load(types::I64, trusted(), flags_ptr);
        let mask = match self.safepoint_mask {
            Some(m) => self.b.ins().iconst(types::I64, m as i64),
            None => self.vmctx_load(types::I64, vmctx::SAFEPOINT_MASK),
        };
        let hit = self.b.ins().band(word, mask);
        let cold = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(cold);
        self.b.ins().brif(hit, cold, &[], cont, &[]);
        self.b.switch_to_block(cold);
        self.b.seal_block(cold);
        let stub = self.safepoint_stub();
        self.b.ins().call(stub, &[self.vmctx]);
        self.b.ins().jump(cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }

    /// The FuncRef of the safepoint stub, declared once per function.
    fn safepoint_stub(&mut self) -> FuncRef {
        if let Some(f) = self.stub {
            return f;
        }
        let sig = self.b.import_signature(stub_signature());
        let name = self
            .b
            .func
            .declare_imported_user_function(UserExternalName::new(STUB_NAMESPACE, 0));
        let f = self.b.import_function(ExtFuncData {
            name: ExternalName::User(name),
            signature: sig,
            colocated: true,
            patchable: false,
        });
        self.stub = Some(f);
        f
    }
}
