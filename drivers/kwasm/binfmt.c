// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the binary format handler for WebAssembly modules.
 *
 * execve() of a file starting with "\0asm" version 1 reads the module and
 * compiles it (on a private large stack: Cranelift needs ~60 KB) unless the
 * code cache has it, links and instantiates it, then replaces the process
 * image like binfmt_elf does,
 * keeping the argument and environment strings on the new (never used) user
 * stack for WASI and /proc/PID/cmdline. The program runs from a task_work
 * on the way back to user mode, which it never reaches: it ends with
 * do_group_exit().
 *
 * Until it starts, the program belongs to its queued task work; then to the
 * new mm: a one-page inaccessible mapping, "[kwasm]" in /proc/PID/maps, frees
 * it when it is closed. Every way the task can end tears its mm down,
 * including get_signal() exiting from under a stopped program when SIGKILL
 * arrives.
 */

#include <linux/binfmts.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/preempt.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/elf.h>
#include <asm/processor.h>

#include "kwasm.h"

/* Largest module accepted; the compiler applies finer limits. */
#define KWASM_MAX_MODULE_BYTES	(64 << 20)
#define KWASM_ERR_LEN		160

struct kwasm_exec {
	struct callback_head work;
	struct vm_special_mapping owner;
	struct kwasm_run run;
};

struct kwasm_compile_args {
	const u8 *wasm;
	size_t len;
	char *err;
	void *module;
};

static unsigned long kwasm_compile_on_stack(void *p)
{
	struct kwasm_compile_args *a = p;

	a->module = kwasm_rs_compile(a->wasm, a->len, a->err, KWASM_ERR_LEN);
	return 0;
}

/* Reads the whole module; NULL with *err set on failure. */
static u8 *kwasm_read_module(struct linux_binprm *bprm, size_t *len, int *err)
{
	loff_t size = i_size_read(file_inode(bprm->file));
	loff_t pos = 0;
	ssize_t n;
	u8 *buf;

	if (size > KWASM_MAX_MODULE_BYTES) {
		pr_info_ratelimited("kwasm: %s: module too large (%lld bytes, limit %d)\n",
				    bprm->filename, size, KWASM_MAX_MODULE_BYTES);
		*err = -ENOEXEC;
		return NULL;
	}
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		*err = -ENOMEM;
		return NULL;
	}
	n = kernel_read(bprm->file, buf, size, &pos);
	if (n != size) {
		kvfree(buf);
		*err = n < 0 ? n : -EIO;
		return NULL;
	}
	*len = size;
	return buf;
}

/*
 * Records where the argument and environment strings are on the new stack,
 * as create_elf_tables() does: WASI args_get/environ_get and
 * /proc/PID/{cmdline,environ} read them from there.
 */
static int kwasm_record_strings(struct linux_binprm *bprm)
{
	struct mm_struct *mm = current->mm;
	unsigned long p = bprm->p;
	int i;
	long len;

	mm->arg_start = p;
	for (i = 0; i < bprm->argc; i++) {
		len = strnlen_user((void __user *)p, MAX_ARG_STRLEN);
		if (!len || len > MAX_ARG_STRLEN)
			return -EINVAL;
		p += len;
	}
	mm->arg_end = mm->env_start = p;
	for (i = 0; i < bprm->envc; i++) {
		len = strnlen_user((void __user *)p, MAX_ARG_STRLEN);
		if (!len || len > MAX_ARG_STRLEN)
			return -EINVAL;
		p += len;
	}
	mm->env_end = p;
	mm->start_stack = bprm->p;
	return 0;
}

static void kwasm_exec_free(struct kwasm_exec *ex)
{
	if (ex->run.program)
		kwasm_rs_program_free(ex->run.program);
	vfree(ex->run.stack);
	kfree(ex);
}

static vm_fault_t kwasm_owner_fault(const struct vm_special_mapping *sm,
				    struct vm_area_struct *vma,
				    struct vm_fault *vmf)
{
	return VM_FAULT_SIGBUS;
}

static int kwasm_owner_mremap(const struct vm_special_mapping *sm,
			      struct vm_area_struct *new_vma)
{
	return -EINVAL;
}

/* Called when the mm goes away (possibly from another task's mmput()). */
static void kwasm_owner_close(const struct vm_special_mapping *sm,
			      struct vm_area_struct *vma)
{
	kwasm_exec_free(container_of(sm, struct kwasm_exec, owner));
}

/* Hands ex over to the current (new) mm; on success the mm frees it. */
static int kwasm_give_to_mm(struct kwasm_exec *ex)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;

	ex->owner.name = "[kwasm]";
	ex->owner.fault = kwasm_owner_fault;
	ex->owner.mremap = kwasm_owner_mremap;
	ex->owner.close = kwasm_owner_close;
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	addr = get_unmapped_area(NULL, 0, PAGE_SIZE, 0, 0);
	if (IS_ERR_VALUE(addr)) {
		mmap_write_unlock(mm);
		return addr;
	}
	/* No VM_READ/VM_MAY*: not even ptrace or /proc/PID/mem can touch it. */
	vma = _install_special_mapping(mm, addr, PAGE_SIZE,
				       VM_DONTCOPY | VM_DONTDUMP, &ex->owner);
	mmap_write_unlock(mm);
	return PTR_ERR_OR_ZERO(vma);
}

/*
 * Runs the program; never returns.
 *
 * task_work_run() takes the whole list of pending works and runs it from a
 * local variable, so a work that never returns strands the works queued
 * before it, among them the deferred fput()s of the files exec closed
 * (close-on-exec): a parent waiting for such a pipe to close would wait for
 * the whole program, and the files would leak. So the work queued by exec
 * only queues this one and returns; and since this one does not return
 * either, it first runs whatever follows it in its batch.
 */
static void kwasm_task_run(struct callback_head *head)
{
	struct kwasm_exec *ex = container_of(head, struct kwasm_exec, work);
	struct callback_head *next = head->next, *n;
	int status;

	/* Run by exit_task_work(), or the task dies on its way out. */
	if ((current->flags & PF_EXITING) || fatal_signal_pending(current)) {
		kwasm_exec_free(ex);
		return;
	}
	head->next = NULL;
	while (next) {
		n = next->next;
		next->func(next);
		next = n;
	}
	task_work_run();
	if (kwasm_give_to_mm(ex)) {
		kwasm_exec_free(ex);
		pr_info_ratelimited("kwasm: %s: out of memory\n", current->comm);
		do_group_exit(SIGKILL);
	}
	status = kwasm_rs_program_run(ex->run.program);
	/*
	 * A signal that stopped the program and whose default action dumps
	 * core is delivered now, outside the program: get_signal() dumps core
	 * and exits.
	 */
	if (signal_pending(current) && !fatal_signal_pending(current)) {
		struct ksignal ksig;

		get_signal(&ksig);
	}
	do_group_exit(status);
}

static void kwasm_task_start(struct callback_head *head)
{
	struct kwasm_exec *ex = container_of(head, struct kwasm_exec, work);

	if (current->flags & PF_EXITING) {
		kwasm_exec_free(ex);
		return;
	}
	init_task_work(&ex->work, kwasm_task_run);
	/* Only fails for an exiting task. */
	if (task_work_add(current, &ex->work, TWA_RESUME))
		kwasm_exec_free(ex);
}

static struct linux_binfmt kwasm_format;

static int kwasm_load_binary(struct linux_binprm *bprm)
{
	static const u8 magic[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
	struct kwasm_compile_args args = {};
	struct kwasm_cache_key key;
	struct kwasm_exec *ex;
	char *err;
	u8 *wasm;
	int ret;

	if (memcmp(bprm->buf, magic, sizeof(magic)))
		return -ENOEXEC;

	err = kzalloc(KWASM_ERR_LEN, GFP_KERNEL);
	ex = kzalloc(sizeof(*ex), GFP_KERNEL_ACCOUNT);
	if (!err || !ex) {
		ret = -ENOMEM;
		goto out;
	}
	ex->run.stack = __vmalloc(KWASM_STACK_SIZE, GFP_KERNEL_ACCOUNT);
	if (!ex->run.stack) {
		ret = -ENOMEM;
		goto out;
	}
	kwasm_cache_key_of(bprm->file, &key);
	args.module = kwasm_cache_lookup(&key);
	if (!args.module) {
		/* exec denies writers, so the file is the one the key describes. */
		wasm = kwasm_read_module(bprm, &args.len, &ret);
		if (!wasm)
			goto out;
		args.wasm = wasm;
		args.err = err;
		/*
		 * Compiling stays preemptible, but on this CPU: code walking the
		 * stack (lockdep, KASAN, kmemleak) checks the per-CPU IRQ and
		 * entry stacks when it meets one it does not know.
		 */
		migrate_disable();
		kwasm_call_on_stack(ex->run.stack + KWASM_STACK_SIZE,
				    kwasm_compile_on_stack, &args);
		migrate_enable();
		kvfree(wasm);
		if (!args.module) {
			pr_info_ratelimited("kwasm: %s: %s\n", bprm->filename, err);
			ret = -ENOEXEC;
			goto out;
		}
		kwasm_cache_insert(&key, args.module,
				   kwasm_rs_module_bytes(args.module));
	}
	/* Takes over the module reference. */
	ex->run.program = kwasm_rs_program_new(args.module, &ex->run,
					       bprm->filename, err,
					       KWASM_ERR_LEN);
	if (!ex->run.program) {
		pr_info_ratelimited("kwasm: %s: %s\n", bprm->filename, err);
		ret = -ENOEXEC;
		goto out;
	}

	ret = begin_new_exec(bprm);
	if (ret)
		goto out;
	/* Point of no return: failures from here kill the task. */
	set_personality_64bit();
	setup_new_exec(bprm);
	ret = setup_arg_pages(bprm, randomize_stack_top(STACK_TOP),
			      EXSTACK_DEFAULT);
	if (ret)
		goto out;
	ret = kwasm_record_strings(bprm);
	if (ret)
		goto out;
	set_binfmt(&kwasm_format);
	finalize_exec(bprm);

	init_task_work(&ex->work, kwasm_task_start);
	ret = task_work_add(current, &ex->work, TWA_RESUME);
	if (ret)
		goto out;
	kfree(err);
	return 0;

out:
	if (ex)
		kwasm_exec_free(ex);
	kfree(err);
	return ret;
}

static struct linux_binfmt kwasm_format = {
	.module		= THIS_MODULE,
	.load_binary	= kwasm_load_binary,
};

int kwasm_binfmt_register(void)
{
	register_binfmt(&kwasm_format);
	return 0;
}
