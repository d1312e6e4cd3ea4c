// SPDX-License-Identifier: GPL-2.0

//! Structured control flow: block, loop, if/else, end, br, br_if, br_table,
//! return, unreachable, nop, and skipping of unreachable code.

use alloc::vec::Vec;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, JumpTableData, Type, Value};
use kwasm_abi::Trap;
use wasmparser::{BlockType, Operator};

use super::{clif_type, Translator};
use crate::error::{internal, CompileError};
use crate::validate::val_type;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    /// `if` whose `else` has not been seen yet.
    If,
    /// `if` after its `else`.
    Else,
}

/// One entry of the control stack.
pub(crate) struct Frame {
    kind: Kind,
    /// Where control goes after `end` (params = block results).
    dest: Block,
    /// Loop header (params = loop params); branches to a loop go here.
    header: Option<Block>,
    /// `if`: the block run when the condition is false.
    else_block: Option<Block>,
    /// `if`: the block params, re-pushed for the `else` arm.
    if_params: Vec<Value>,
    num_params: usize,
    num_results: usize,
    /// Value stack height below the block params.
    base: usize,
    /// Some branch (or fall-through) reaches `dest`.
    dest_used: bool,
}

impl Frame {
    /// The implicit outermost block of a function body.
    pub(crate) fn function(ret: Block, num_results: usize) -> Frame {
        Frame {
            kind: Kind::Block,
            dest: ret,
            header: None,
            else_block: None,
            if_params: Vec::new(),
            num_params: 0,
            num_results,
            base: 0,
            dest_used: false,
        }
    }

    /// Branch target and its arity.
    fn target(&self) -> (Block, usize) {
        match self.header {
            Some(h) => (h, self.num_params),
            None => (self.dest, self.num_results),
        }
    }
}

fn args(values: &[Value]) -> Vec<BlockArg> {
    values.iter().map(|v| BlockArg::Value(*v)).collect()
}

impl Translator<'_, '_> {
    /// Params and results of a block type.
    fn block_sig(&self, bt: BlockType) -> Result<(Vec<Type>, Vec<Type>), CompileError> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (Vec::new(), alloc::vec![clif_type(val_type(t)?)]),
            BlockType::FuncType(i) => {
                let ft = self.module.type_at(i)?;
                (
                    ft.params.iter().map(|t| clif_type(*t)).collect(),
                    ft.results.iter().map(|t| clif_type(*t)).collect(),
                )
            }
        })
    }

    fn new_block_with(&mut self, params: &[Type]) -> Block {
        let blk = self.b.create_block();
        for t in params {
            self.b.append_block_param(blk, *t);
        }
        blk
    }

    fn frame_at(&mut self, depth: u32) -> Result<&mut Frame, CompileError> {
        let i = self
            .frames
            .len()
            .checked_sub(1)
            .and_then(|top| top.checked_sub(depth as usize))
            .ok_or_else(|| internal("branch depth"))?;
        self.frames
            .get_mut(i)
            .ok_or_else(|| internal("branch depth"))
    }

    /// Resolves a branch to relative `depth`: target block and the values it
    /// takes from the top of the stack. Marks the target as used.
    fn branch_target(&mut self, depth: u32) -> Result<(Block, Vec<Value>), CompileError> {
        let frame = self.frame_at(depth)?;
        let (blk, n) = frame.target();
        if frame.header.is_none() {
            frame.dest_used = true;
        }
        let vals = self.peekn(n)?.to_vec();
        Ok((blk, vals))
    }

    /// Control operators. Returns false if `op` is not one.
    pub(super) fn control(&mut self, op: &Operator<'_>) -> Result<bool, CompileError> {
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => self.trap(Trap::Unreachable),
            Operator::Block { blockty } => {
                let (params, results) = self.block_sig(blockty)?;
                let dest = self.new_block_with(&results);
                let base = self
                    .stack
                    .len()
                    .checked_sub(params.len())
                    .ok_or_else(|| internal("block params"))?;
                self.frames.push(Frame {
                    kind: Kind::Block,
                    dest,
                    header: None,
                    else_block: None,
                    if_params: Vec::new(),
                    num_params: params.len(),
                    num_results: results.len(),
                    base,
                    dest_used: false,
                });
            }
            Operator::Loop { blockty } => {
                let (params, results) = self.block_sig(blockty)?;
                let header = self.new_block_with(&params);
                let dest = self.new_block_with(&results);
                let vals = self.popn(params.len())?;
                self.b.ins().jump(header, &args(&vals));
                self.b.switch_to_block(header);
                let base = self.stack.len();
                let hp = self.b.block_params(header).to_vec();
                self.stack.extend_from_slice(&hp);
                self.frames.push(Frame {
                    kind: Kind::Loop,
                    dest,
                    header: Some(header),
                    else_block: None,
                    if_params: Vec::new(),
                    num_params: params.len(),
                    num_results: results.len(),
                    base,
                    dest_used: false,
                });
                // Loop headers poll so that no loop runs unbounded without a
                // chance to reschedule or be killed.
                self.safepoint();
            }
            Operator::If { blockty } => {
                let (params, results) = self.block_sig(blockty)?;
                let cond = self.pop()?;
                let then_block = self.b.create_block();
                let else_block = self.b.create_block();
                let dest = self.new_block_with(&results);
                self.b.ins().brif(cond, then_block, &[], else_block, &[]);
                self.b.switch_to_block(then_block);
                self.b.seal_block(then_block);
                let if_params = self.peekn(params.len())?.to_vec();
                let base = self
                    .stack
                    .len()
                    .checked_sub(params.len())
                    .ok_or_else(|| internal("if params"))?;
                self.frames.push(Frame {
                    kind: Kind::If,
                    dest,
                    header: None,
                    else_block: Some(else_block),
                    if_params,
                    num_params: params.len(),
                    num_results: results.len(),
                    base,
                    dest_used: false,
                });
            }
            Operator::Else => self.else_op()?,
            Operator::End => self.end_op()?,
            Operator::Br { relative_depth } => {
                let (blk, vals) = self.branch_target(relative_depth)?;
                self.b.ins().jump(blk, &args(&vals));
                self.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                let cond = self.pop()?;
                let (blk, vals) = self.branch_target(relative_depth)?;
                let next = self.b.create_block();
                self.b.ins().brif(cond, blk, &args(&vals), next, &[]);
                self.b.switch_to_block(next);
                self.b.seal_block(next);
            }
            Operator::BrTable { ref targets } => {
                let index = self.pop()?;
                if self.jump_tables {
                    let mut calls = Vec::new();
                    for depth in targets.targets() {
                        let (blk, vals) = self.branch_target(depth?)?;
                        calls.push(self.b.func.dfg.block_call(blk, &args(&vals)));
                    }
                    let (blk, vals) = self.branch_target(targets.default())?;
                    let def = self.b.func.dfg.block_call(blk, &args(&vals));
                    let jt = self.b.create_jump_table(JumpTableData::new(def, &calls));
                    self.b.ins().br_table(index, jt);
                } else {
                    self.br_table_compares(index, targets)?;
                }
                self.reachable = false;
            }
            Operator::Return => {
                let vals = self.peekn(self.results.len())?.to_vec();
                if self.poll_before_return {
                    self.safepoint();
                }
                self.b.ins().return_(&vals);
                self.reachable = false;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `br_table` as a binary search over runs of equal targets: no
    /// indirect jump (see [`crate::BranchForms::jump_tables`]). Every path
    /// compares the index, so a mispredicted compare still lands on a
    /// valid target of this `br_table`.
    fn br_table_compares(
        &mut self,
        index: Value,
        targets: &wasmparser::BrTable<'_>,
    ) -> Result<(), CompileError> {
        // (first index, depth) of each run; runs cover [0, len).
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for (i, depth) in targets.targets().enumerate() {
            let depth = depth?;
            if runs.last().is_none_or(|&(_, d)| d != depth) {
                let i = u32::try_from(i).map_err(|_| internal("br_table size"))?;
                runs.push((i, depth));
            }
        }
        let len = targets.len();
        if !runs.is_empty() {
            let in_range = self.b.create_block();
            let (blk, vals) = self.branch_target(targets.default())?;
            let out =
                self.b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, index, i64::from(len));
            self.b.ins().brif(out, blk, &args(&vals), in_range, &[]);
            self.b.switch_to_block(in_range);
            self.b.seal_block(in_range);
            self.br_table_search(index, &runs)?;
        } else {
            let (blk, vals) = self.branch_target(targets.default())?;
            self.b.ins().jump(blk, &args(&vals));
        }
        Ok(())
    }

    /// Branches to the run of `runs` that holds `index`, known to be in
    /// `[runs[0].0, end of the last run)`.
    fn br_table_search(&mut self, index: Value, runs: &[(u32, u32)]) -> Result<(), CompileError> {
        let Some(&(_, depth)) = runs.first() else {
            return Err(internal("empty br_table search"));
        };
        if runs.len() == 1 {
            let (blk, vals) = self.branch_target(depth)?;
            self.b.ins().jump(blk, &args(&vals));
            return Ok(());
        }
        let (low, high) = runs.split_at(runs.len() / 2);
        let split = high[0].0;
        let (lo_blk, hi_blk) = (self.b.create_block(), self.b.create_block());
        let below = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, index, i64::from(split));
        self.b.ins().brif(below, lo_blk, &[], hi_blk, &[]);
        for (blk, half) in [(lo_blk, low), (hi_blk, high)] {
            self.b.switch_to_block(blk);
            self.b.seal_block(blk);
            self.br_table_search(index, half)?;
        }
        Ok(())
    }

    fn else_op(&mut self) -> Result<(), CompileError> {
        let reachable = self.reachable;
        let frame = self
            .frames
            .last_mut()
            .ok_or_else(|| internal("else without if"))?;
        if frame.kind != Kind::If {
            return Err(internal("else without if"));
        }
        frame.kind = Kind::Else;
        let (dest, n, base) = (frame.dest, frame.num_results, frame.base);
        let else_block = frame
            .else_block
            .take()
            .ok_or_else(|| internal("else block"))?;
        let params = core::mem::take(&mut frame.if_params);
        if reachable {
            frame.dest_used = true;
            let vals = self.peekn(n)?.to_vec();
            self.b.ins().jump(dest, &args(&vals));
        }
        self.stack.truncate(base);
        self.b.switch_to_block(else_block);
        self.b.seal_block(else_block);
        self.stack.extend_from_slice(&params);
        self.reachable = true;
        Ok(())
    }

    fn end_op(&mut self) -> Result<(), CompileError> {
        let reachable = self.reachable;
        let mut frame = self
            .frames
            .pop()
            .ok_or_else(|| internal("end without block"))?;
        if reachable {
            frame.dest_used = true;
            let vals = self.peekn(frame.num_results)?.to_vec();
            self.b.ins().jump(frame.dest, &args(&vals));
        }
        self.stack.truncate(frame.base);
        if let Some(else_block) = frame.else_block.take() {
            // `if` without `else`: the false arm passes the params through
            // (the validator checked params == results).
            self.b.switch_to_block(else_block);
            self.b.seal_block(else_block);
            self.b.ins().jump(frame.dest, &args(&frame.if_params));
            frame.dest_used = true;
        }
        if let Some(h) = frame.header {
            // All back edges are known now.
            self.b.seal_block(h);
        }
        if frame.dest_used {
            self.b.switch_to_block(frame.dest);
            self.b.seal_block(frame.dest);
            let vals = self.b.block_params(frame.dest).to_vec();
            self.stack.extend_from_slice(&vals);
            self.reachable = true;
        } else {
            self.reachable = false;
        }
        if self.frames.is_empty() && self.reachable {
            // End of the function body: `dest` is the return block.
            let vals = self.peekn(self.results.len())?.to_vec();
            if self.poll_before_return {
                self.safepoint();
            }
            self.b.ins().return_(&vals);
            self.reachable = false;
        }
        Ok(())
    }

    /// While unreachable, only the block structure is followed.
    pub(super) fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<(), CompileError> {
        match op {
            Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                self.dead_depth = self.dead_depth.saturating_add(1);
            }
            Operator::Else if self.dead_depth == 0 => self.else_op()?,
            Operator::End if self.dead_depth == 0 => self.end_op()?,
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }
}
