// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: entering compiled code, the FPU discipline around it, and the
 * executable memory it lives in.
 *
 * Compiled code uses SSE registers, so it only runs inside a kernel FPU
 * section (which also disables preemption and sets the default MXCSR that
 * wasm needs). The section ends at every host call, where the kernel may
 * sleep, reschedule or take signals; all XMM registers are caller-saved, so
 * nothing of wasm's survives a call that the section needs to keep.
 */

#include <linux/execmem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/task_work.h>
#include <linux/percpu.h>
#include <linux/set_memory.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>

#include "kwasm.h"

/* The program whose code runs on this CPU (valid inside an FPU section). */
DEFINE_PER_CPU(struct kwasm_run *, kwasm_cur_run);

static void kwasm_fpu_begin(struct kwasm_run *run)
{
	kernel_fpu_begin();
	run->fpu_on = true;
	this_cpu_write(kwasm_cur_run, run);
}

static void kwasm_fpu_end(struct kwasm_run *run)
{
	this_cpu_write(kwasm_cur_run, NULL);
	run->fpu_on = false;
	kernel_fpu_end();
}

/*
 * Calls trampoline(vmctx, code, args) on run's stack. Returns 0 or the code
 * given to kwasm_unwind() (a trap, or an exit request from a host call).
 */
unsigned long kwasm_run_call(struct kwasm_run *run, void *trampoline,
			     void *vmctx, const void *code, u64 *args)
{
	unsigned long ret;

	kwasm_fpu_begin(run);
	ret = kwasm_enter(run, run->stack + KWASM_STACK_SIZE, trampoline,
			  vmctx, code, args);
	if (run->fpu_on)
		kwasm_fpu_end(run);
	return ret;
}

/* Called by kwasm_hostcall_entry on the task stack around each host call. */
void kwasm_hostcall_begin(struct kwasm_run *run)
{
	kwasm_fpu_end(run);
}

void kwasm_hostcall_end(struct kwasm_run *run)
{
	/* The task may run on another CPU now: this sets that CPU's pointer. */
	kwasm_fpu_begin(run);
}

/*
 * Copies code into module space (within +-2 GiB of kernel text) and makes it
 * read-only and executable.
 */
void *kwasm_code_alloc(const void *code, size_t len)
{
	size_t size = PAGE_ALIGN(len ? len : 1);
	void *p;

	p = execmem_alloc(EXECMEM_DEFAULT, size);
	if (!p)
		return NULL;
	memset(p, 0xcc, size);
	memcpy(p, code, len);
	if (set_memory_rox((unsigned long)p, size >> PAGE_SHIFT)) {
		execmem_free(p);
		return NULL;
	}
	return p;
}

void kwasm_code_free(void *code)
{
	/* execmem memory is VM_FLUSH_RESET_PERMS: vfree restores the mapping. */
	execmem_free(code);
}

/* CPU features the compiler may use; see drivers/kwasm/compile.rs. */
#define KWASM_CPU_SSE41		BIT(0)
#define KWASM_CPU_SSE42		BIT(1)
#define KWASM_CPU_POPCNT	BIT(2)
#define KWASM_CPU_LZCNT		BIT(3)
#define KWASM_CPU_BMI1		BIT(4)
#define KWASM_CPU_BMI2		BIT(5)

u32 kwasm_cpu_features(void)
{
	u32 f = 0;

	if (boot_cpu_has(X86_FEATURE_XMM4_1))
		f |= KWASM_CPU_SSE41;
	if (boot_cpu_has(X86_FEATURE_XMM4_2))
		f |= KWASM_CPU_SSE42;
	if (boot_cpu_has(X86_FEATURE_POPCNT))
		f |= KWASM_CPU_POPCNT;
	if (boot_cpu_has(X86_FEATURE_ABM))
		f |= KWASM_CPU_LZCNT;
	if (boot_cpu_has(X86_FEATURE_BMI1))
		f |= KWASM_CPU_BMI1;
	if (boot_cpu_has(X86_FEATURE_BMI2))
		f |= KWASM_CPU_BMI2;
	return f;
}

u64 kwasm_run_stack_limit(struct kwasm_run *run)
{
	return (unsigned long)run->stack + KWASM_STACK_RESERVE;
}

/*
 * Compiled code polls the task's thread_info flags at function entries and
 * loop headers and makes a host call when any of these bits is set.
 */
const unsigned long *kwasm_safepoint_word(u64 *mask)
{
	*mask = _TIF_NEED_RESCHED | _TIF_SIGPENDING | _TIF_NOTIFY_SIGNAL |
		_TIF_NOTIFY_RESUME;
	return &current_thread_info()->flags;
}

/*
 * Whether a signal is pending whose default action dumps core (SIGQUIT,
 * SIGSEGV sent by kill, ...). Other default-fatal signals have already
 * become SIGKILL when they were sent (complete_signal()).
 */
static bool kwasm_core_signal_pending(void)
{
	struct sighand_struct *sighand = current->sighand;
	sigset_t pending;
	bool found = false;
	int sig;

	spin_lock_irq(&sighand->siglock);
	sigorsets(&pending, &current->pending.signal,
		  &current->signal->shared_pending.signal);
	sigandnsets(&pending, &pending, &current->blocked);
	for (sig = 1; sig < SIGRTMIN && !found; sig++)
		found = sigismember(&pending, sig) && sig_kernel_coredump(sig) &&
			sighand->action[sig - 1].sa.sa_handler == SIG_DFL;
	spin_unlock_irq(&sighand->siglock);
	return found;
}

/*
 * Safepoint host call: lets other tasks run, runs task work queued while the
 * program ran (e.g. deferred fput), and handles signals. Stop signals and
 * ptrace stops are handled here by get_signal(), and the program goes on
 * when continued. Returns non-zero if the program must end: a fatal signal
 * is pending (or a core-dumping one, which kwasm_task_run() delivers after
 * the program has been torn down, as get_signal() would not return).
 */
int kwasm_safepoint(void)
{
	struct ksignal ksig;

	cond_resched();
	if (test_thread_flag(TIF_NOTIFY_RESUME))
		clear_thread_flag(TIF_NOTIFY_RESUME);
	if (task_work_pending(current))
		task_work_run();
	if (!signal_pending(current))
		return 0;
	if (fatal_signal_pending(current) || kwasm_core_signal_pending())
		return 1;
	/* Nothing left but stops and ignored signals: no handler can run. */
	get_signal(&ksig);
	return fatal_signal_pending(current);
}
