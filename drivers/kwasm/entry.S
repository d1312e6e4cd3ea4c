/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwasm stack switching: running the compiler and wasm code on a private
 * stack, host calls back on the task stack, and unwinding out of wasm.
 *
 * Compiled code needs ~60 KB of stack to compile a function and an
 * arbitrary amount to run, more than the 16 KiB task stack. Host calls run
 * kernel code (VFS, scheduler, signals) that expects the task stack, so the
 * host-call entry switches back to it.
 *
 * Objtool cannot follow these stack switches; the functions are marked
 * STACK_FRAME_NON_STANDARD.
 */

#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/percpu.h>
#include <asm/nospec-branch.h>
#include "kwasm.h"
#include "kwasm_offsets.h"

	.text

/*
 * unsigned long kwasm_enter(unsigned long *saved_sp, void *stack_top,
 *			     void *trampoline, void *vmctx, const void *code,
 *			     u64 *args)
 *
 * Saves the callee-saved registers and stores the stack pointer in
 * *saved_sp (struct kwasm_run's task_sp, or a compile scope's), then calls
 * trampoline(vmctx, code, args) on the stack ending at stack_top. Returns 0,
 * or the value passed to kwasm_unwind() with the same saved_sp.
 */
SYM_FUNC_START(kwasm_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, (%rdi)
	mov	%rdi, %r12
	mov	%rdx, %rax
	mov	%rsi, %rsp
	mov	%rcx, %rdi
	mov	%r8, %rsi
	mov	%r9, %rdx
	CALL_NOSPEC rax
	mov	(%r12), %rsp
	/* Wasm chose the branches before this return (as in hostcall entry). */
	CLEAR_BRANCH_HISTORY
	xor	%eax, %eax
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	RET
SYM_FUNC_END(kwasm_enter)
STACK_FRAME_NON_STANDARD kwasm_enter

/*
 * void kwasm_unwind(unsigned long *saved_sp, unsigned long code)
 * Returns code from the kwasm_enter() that stored *saved_sp, abandoning
 * every frame above it.
 */
SYM_FUNC_START(kwasm_unwind)
	mov	(%rdi), %rsp
	mov	%rsi, %rax
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	RET
SYM_FUNC_END(kwasm_unwind)
STACK_FRAME_NON_STANDARD kwasm_unwind

/*
 * void kwasm_hostcall_entry(void *vmctx, u32 index, u64 *args)
 *
 * The VMContext's HOSTCALL pointer. Called by compiled code on the wasm
 * stack with a kernel FPU section open. A leaf call (leaf.rs) runs right
 * here; any other runs on the task stack (below the frame kwasm_enter
 * saved) outside the FPU section. Compiled code calls it directly (a
 * relocation filled at placement). Only imports the run marks as having
 * a leaf path (leaf_imports, set at instantiation) are offered to
 * leaf.rs: for the others that call cost more than the rest of this
 * entry.
 */
SYM_FUNC_START(kwasm_hostcall_entry)
	push	%rbp
	mov	%rsp, %rbp
	/*
	 * Compiled code chose the branches that led here: under the kernel's
	 * BHI mitigation, clear the branch history before kernel code runs,
	 * as syscall entry and unprivileged BPF programs do. Clobbers rax, rcx.
	 */
	CLEAR_BRANCH_HISTORY
	push	%rdi		/* vmctx */
	push	%rsi		/* index */
	push	%rdx		/* args */
	sub	$8, %rsp
	mov	PER_CPU_VAR(kwasm_cur_run), %rax
	cmp	KWASM_RUN_LEAF_VMCTX(%rax), %rdi
	jne	.Lhostcall_full
	cmp	$63, %esi
	ja	.Lhostcall_full
	mov	%esi, %ecx
	mov	KWASM_RUN_LEAF_IMPORTS(%rax), %rax
	bt	%rcx, %rax
	jnc	.Lhostcall_full
	call	kwasm_rs_hostcall_leaf
	test	%al, %al
	jnz	.Lhostcall_done
.Lhostcall_full:
	mov	PER_CPU_VAR(kwasm_cur_run), %rax
	mov	KWASM_RUN_TASK_SP(%rax), %rsp
	and	$-16, %rsp
	push	%rbp		/* wasm frame */
	push	%rax		/* run */
	push	-8(%rbp)	/* vmctx */
	push	-16(%rbp)	/* index */
	push	-24(%rbp)	/* args */
	sub	$8, %rsp
	mov	32(%rsp), %rdi	/* run */
	call	kwasm_hostcall_begin
	mov	24(%rsp), %rdi
	mov	16(%rsp), %rsi
	mov	8(%rsp), %rdx
	call	kwasm_rs_hostcall
	mov	32(%rsp), %rdi
	call	kwasm_hostcall_end
	add	$40, %rsp
	pop	%rbp
.Lhostcall_done:
	mov	%rbp, %rsp
	pop	%rbp
	RET
SYM_FUNC_END(kwasm_hostcall_entry)
STACK_FRAME_NON_STANDARD kwasm_hostcall_entry

/*
 * Where a fault in compiled code resumes (traps.c): still on the wasm stack,
 * inside the FPU section, on the CPU that faulted.
 */
SYM_FUNC_START(kwasm_trap_landing)
	/* Wasm chose the branches before the fault (as in hostcall entry). */
	CLEAR_BRANCH_HISTORY
	mov	PER_CPU_VAR(kwasm_cur_run), %rdi
	lea	KWASM_RUN_TASK_SP(%rdi), %rdi
	mov	$KWASM_UNWIND_FAULT, %esi
	jmp	kwasm_unwind
SYM_FUNC_END(kwasm_trap_landing)
STACK_FRAME_NON_STANDARD kwasm_trap_landing
