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
 * on the way back to user mode, which it never reaches (except, for a
 * traced exec, the park loop below): it ends with do_group_exit().
 *
 * One object owns everything of an exec: the Rust program (program.rs), which
 * this file holds as its struct kwasm_run. Until it starts, the program
 * belongs to its queued task work; then to the new mm: a one-page
 * inaccessible mapping, "[kwasm]" in /proc/PID/maps, frees it when it is
 * closed. Every way the task can end tears its mm down,
 * including get_signal() exiting from under a stopped program when SIGKILL
 * arrives.
 */

#include <linux/binfmts.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/elf.h>
#include <asm/processor.h>

#include "kwasm.h"

/* Largest module accepted; the compiler applies finer limits. */
#define KWASM_MAX_MODULE_BYTES	(64 << 20)
#define KWASM_ERR_LEN		160

/* Reads the whole module; NULL with *err set on failure. */
static u8 *kwasm_read_module(struct linux_binprm *bprm, size_t *len, int *err)
{
	loff_t size = i_size_read(file_inode(bprm->file));
	loff_t pos = 0;
	ssize_t n;
	u8 *buf;

	if (size > KWASM_MAX_MODULE_BYTES) {
		kwasm_log_refusal(bprm->filename, "module larger than 64 MiB");
		*err = -ENOEXEC;
		return NULL;
	}
	buf = kvmalloc(size, GFP_KERNEL_ACCOUNT | __GFP_NOWARN |
		       __GFP_RETRY_MAYFAIL);
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

/*
 * Compiles wasm[0..len), the module of bprm, for run. Returns 0 and the
 * module, or a -errno with the reason logged: ENOEXEC (invalid, or the
 * compiler failed), ENOMEM (out of memory, or over the compile's memory
 * budget), ETIME (over its time), EINTR (killed).
 */
static int kwasm_compile_file(struct linux_binprm *bprm, struct kwasm_run *run,
			      const u8 *wasm, size_t len, char *err,
			      void **module)
{
	int ret = kwasm_compile(run, wasm, len, err, KWASM_ERR_LEN, module);

	switch (ret) {
	case 0:
	case -EINTR:
		return ret;
	case -E2BIG:
		snprintf(err, KWASM_ERR_LEN,
			 "compile needs more than kwasm.compile_memory_mb");
		ret = -ENOMEM;
		break;
	case -ETIME:
		snprintf(err, KWASM_ERR_LEN,
			 "compile takes longer than kwasm.compile_seconds");
		break;
	case -ENOMEM:
		snprintf(err, KWASM_ERR_LEN, "out of memory while compiling");
		break;
	default:
		/* Invalid, or the compiler panicked: err says which. */
		ret = -ENOEXEC;
	}
	kwasm_log_refusal(bprm->filename, err);
	return ret;
}

/*
 * Returns a reference to the compiled module of bprm: from the code cache
 * if a module with the same bytes was compiled before, else compiled now
 * (concurrent execs of the same bytes wait for one compile). NULL with
 * *ret set on failure.
 */
static void *kwasm_module_of(struct linux_binprm *bprm, struct kwasm_run *run,
			     char *err, int *ret)
{
	struct kwasm_cache_claim claim;
	struct kwasm_cache_key key;
	void *module;
	size_t len;
	u8 *wasm;

	/* exec denies writers while it runs, so the bytes stay the same. */
	wasm = kwasm_read_module(bprm, &len, ret);
	if (!wasm)
		return NULL;
	kwasm_cache_key_of(wasm, len, &key);
	module = kwasm_cache_get(&key, &claim);
	if (IS_ERR(module)) {
		*ret = PTR_ERR(module);
		module = NULL;
	} else if (!module) {
		*ret = kwasm_compile_file(bprm, run, wasm, len, err, &module);
		if (!*ret)
			kwasm_cache_insert(&key, module,
					   kwasm_rs_module_bytes(module));
		kwasm_cache_unclaim(&claim);
	}
	kvfree(wasm);
	return module;
}

/*
 * Frees run and everything its program owns. This may run in another
 * program's host call (its mmput() of this program's mm, with the mm's
 * locks held): a panic in here must not be contained there.
 */
static void kwasm_program_free(struct kwasm_run *run)
{
	struct kwasm_run *caller = kwasm_contain_block();

	kwasm_run_unlisted(run);
	kwasm_rs_program_free(run);
	kwasm_contain_unblock(caller);
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
	kwasm_program_free(container_of(sm, struct kwasm_run, owner));
}

/*
 * Maps one page of sm anywhere in the current mm: returns its address, or
 * a -errno (IS_ERR_VALUE()).
 */
static unsigned long kwasm_map_page(const struct vm_special_mapping *sm,
				    unsigned long vm_flags)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long addr;

	if (mmap_write_lock_killable(mm))
		return -EINTR;
	addr = get_unmapped_area(NULL, 0, PAGE_SIZE, 0, 0);
	if (!IS_ERR_VALUE(addr)) {
		vma = _install_special_mapping(mm, addr, PAGE_SIZE, vm_flags, sm);
		if (IS_ERR(vma))
			addr = PTR_ERR(vma);
	}
	mmap_write_unlock(mm);
	return addr;
}

/* Hands run over to the current (new) mm; on success the mm frees it. */
static int kwasm_give_to_mm(struct kwasm_run *run)
{
	unsigned long addr;

	run->owner.name = "[kwasm]";
	run->owner.fault = kwasm_owner_fault;
	run->owner.mremap = kwasm_owner_mremap;
	run->owner.close = kwasm_owner_close;
	/* No VM_READ/VM_MAY*: not even ptrace or /proc/PID/mem can touch it. */
	addr = kwasm_map_page(&run->owner, VM_DONTCOPY | VM_DONTDUMP);
	return IS_ERR_VALUE(addr) ? (int)addr : 0;
}

/*
 * A program that runs with credentials its caller does not have starts
 * with fds 0-2 open, as glibc ensures for setuid ELF programs: otherwise
 * the first file or socket it opens would take the place of a standard
 * stream the caller closed.
 */
static int kwasm_secure_stdio(void)
{
	struct file *null, *f;
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		f = fget_raw(fd);
		if (f) {
			fput(f);
			continue;
		}
		null = filp_open("/dev/null", O_RDWR, 0);
		if (IS_ERR(null))
			return PTR_ERR(null);
		if (replace_fd(fd, null, 0) < 0) {
			fput(null);
			return -EMFILE;
		}
		fput(null);
	}
	return 0;
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
	struct kwasm_run *run = container_of(head, struct kwasm_run, work);
	struct callback_head *next = head->next, *n;
	int status;

	/* Run by exit_task_work(), or the task dies on its way out. */
	if ((current->flags & PF_EXITING) || fatal_signal_pending(current)) {
		kwasm_program_free(run);
		return;
	}
	head->next = NULL;
	while (next) {
		n = next->next;
		next->func(next);
		next = n;
	}
	task_work_run();
	if (kwasm_give_to_mm(run)) {
		kwasm_program_free(run);
		kwasm_log_refusal(current->comm, "out of memory");
		do_group_exit(SIGKILL);
	}
	if (run->secureexec && kwasm_secure_stdio()) {
		kwasm_log_refusal(current->comm, "cannot open /dev/null for stdio");
		do_group_exit(126 << 8);
	}
	kwasm_run_listed(run);
	status = kwasm_rs_program_run(run);
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

static void kwasm_task_start(struct callback_head *head);

#ifdef CONFIG_KWASM_FAULT_INJECTION
#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."
/*
 * Fault injection for the traced-exec test: the kworker waits this long
 * (ms) before it queues a deferred start again, so that the tracer
 * resumes the task first (root only; 0: no wait).
 */
static unsigned int start_requeue_delay_ms;
module_param(start_requeue_delay_ms, uint, 0600);
MODULE_PARM_DESC(start_requeue_delay_ms,
		 "Delay the start of traced execs by this many ms (testing)");

static void kwasm_inject_requeue_delay(void)
{
	unsigned int ms = min(READ_ONCE(start_requeue_delay_ms), 10000U);

	if (ms)
		msleep(ms);
}
#else
static void kwasm_inject_requeue_delay(void) {}
#endif

/*
 * Where a task whose start was deferred past execve() (kwasm_task_start())
 * waits in user mode until the kworker has queued the start again:
 * "pause; jmp .-2". The queued work kicks the task back into the kernel.
 * This is the task's only user code, and it never runs a program's data.
 */
static const u8 kwasm_park_text[PAGE_SIZE] __aligned(PAGE_SIZE) = {
	0xf3, 0x90, 0xeb, 0xfc
};
static struct page *kwasm_park_pages[2] __ro_after_init;
static const struct vm_special_mapping kwasm_park_mapping = {
	.name	= "[kwasm_park]",
	.pages	= kwasm_park_pages,
};

/* Points the task's return to user mode at the park loop. */
static int kwasm_park_in_user_mode(void)
{
	unsigned long addr;

	addr = kwasm_map_page(&kwasm_park_mapping, VM_READ | VM_EXEC |
			      VM_MAYREAD | VM_MAYEXEC | VM_DONTCOPY);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	start_thread(current_pt_regs(), addr, current->mm->start_stack);
	return 0;
}

/*
 * Runs in a kworker, outside the exec: queues the start of the program on
 * its task again. If the task is still inside execve() when the work runs,
 * kwasm_task_start() defers once more; if it is exiting, it will never run
 * the work, and the program is freed here.
 */
static void kwasm_task_requeue(struct work_struct *w)
{
	struct kwasm_run *run = container_of(w, struct kwasm_run, defer);
	struct task_struct *task = run->task;

	kwasm_inject_requeue_delay();
	init_task_work(&run->work, kwasm_task_start);
	if (task_work_add(task, &run->work, TWA_RESUME))
		kwasm_program_free(run);
	put_task_struct(task);
}

static void kwasm_task_start(struct callback_head *head)
{
	struct kwasm_run *run = container_of(head, struct kwasm_run, work);

	if (current->flags & PF_EXITING) {
		kwasm_program_free(run);
		return;
	}
	/*
	 * ptrace_notify() runs pending task work, so for a tracer that asked
	 * for PTRACE_EVENT_EXEC this runs inside execve(), before the event:
	 * the program would run (and end) before the tracer saw the exec.
	 * Queue the start again from outside the task instead: task_work_run()
	 * would run work queued from here at once. The tracer may resume the
	 * task before the kworker has run, so the task's way back to user mode
	 * leads to the park loop, not to the old image's address.
	 */
	if (current->in_execve) {
		if (!run->parked) {
			int ret = kwasm_park_in_user_mode();

			if (ret) {
				kwasm_program_free(run);
				if (ret != -EINTR)
					kwasm_log_refusal(current->comm,
							  "out of memory");
				/* Not do_exit(): execve() must unwind. */
				force_fatal_sig(SIGKILL);
				return;
			}
			run->parked = true;
			INIT_WORK(&run->defer, kwasm_task_requeue);
		}
		run->task = get_task_struct(current);
		/* Any CPU: the parked task spins on this one. */
		queue_work(system_unbound_wq, &run->defer);
		return;
	}
	init_task_work(&run->work, kwasm_task_run);
	/* Only fails for an exiting task. */
	if (task_work_add(current, &run->work, TWA_RESUME))
		kwasm_program_free(run);
}

static struct linux_binfmt kwasm_format;

static int kwasm_load_binary(struct linux_binprm *bprm)
{
	static const u8 magic[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
	struct kwasm_run *run = NULL;
	void *module;
	u32 forms;
	char *err;
	int ret;

	if (memcmp(bprm->buf, magic, sizeof(magic)))
		return -ENOEXEC;
	ret = kwasm_exec_allowed();
	if (ret)
		return ret;
	/* A mitigation compiled code cannot follow refuses every module. */
	ret = kwasm_branch_forms(&forms);
	if (ret) {
		kwasm_log_refusal(bprm->filename,
				  "call depth tracking (retbleed=stuff) is not supported");
		return ret;
	}

	err = kzalloc(KWASM_ERR_LEN, GFP_KERNEL);
	run = kwasm_rs_program_alloc();
	if (!err || !run) {
		ret = -ENOMEM;
		goto out;
	}
	module = kwasm_module_of(bprm, run, err, &ret);
	if (!module)
		goto out;
	/* Takes over the module reference. */
	ret = kwasm_rs_program_load(run, module, bprm->filename, err,
				    KWASM_ERR_LEN);
	if (ret) {
		/* Killed while mapping its memory: no refusal to report. */
		if (fatal_signal_pending(current))
			ret = -EINTR;
		else
			kwasm_log_refusal(bprm->filename, err);
		goto out;
	}

	ret = begin_new_exec(bprm);
	if (ret)
		goto out;
	run->secureexec = bprm->secureexec;
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

	init_task_work(&run->work, kwasm_task_start);
	ret = task_work_add(current, &run->work, TWA_RESUME);
	if (ret)
		goto out;
	kfree(err);
	return 0;

out:
	if (run)
		kwasm_program_free(run);
	kfree(err);
	return ret;
}

static struct linux_binfmt kwasm_format = {
	.module		= THIS_MODULE,
	.load_binary	= kwasm_load_binary,
};

int kwasm_binfmt_register(void)
{
	kwasm_park_pages[0] = virt_to_page(kwasm_park_text);
	register_binfmt(&kwasm_format);
	return 0;
}
