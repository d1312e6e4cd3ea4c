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

#include <linux/livepatch.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/task_work.h>
#include <linux/kmemleak.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/rcupdate.h>
#include <linux/resume_user_mode.h>
#include <asm/alternative.h>
#include <asm/nospec-branch.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

/* The program whose code runs on this CPU (valid inside an FPU section). */
DEFINE_PER_CPU(struct kwasm_run *, kwasm_cur_run);

/*
 * Whether compiled code uses the AVX encodings: the CPU has AVX and XCR0
 * enables the YMM state (as for the kernel's own AVX code). Fixed at boot.
 */
static bool kwasm_avx __ro_after_init;

static int __init kwasm_avx_init(void)
{
	kwasm_avx = boot_cpu_has(X86_FEATURE_AVX) &&
		    cpu_has_xfeatures(XFEATURE_MASK_SSE | XFEATURE_MASK_YMM, NULL);
	return 0;
}
late_initcall(kwasm_avx_init);

static void kwasm_fpu_begin(struct kwasm_run *run)
{
	kernel_fpu_begin();
	/*
	 * The registers may hold another task's YMM state (saved already):
	 * Cranelift mixes VEX forms with SSE ones (moves, spills), which a
	 * dirty upper half slows down (a state transition per switch on
	 * older Intel CPUs, a false dependency on newer ones).
	 */
	if (kwasm_avx)
		asm volatile("vzeroupper");
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
	ret = kwasm_enter(&run->task_sp, run->stack + KWASM_STACK_SIZE,
			  trampoline, vmctx, code, args);
	/* A host call that ended the program (exit, trap) did not end itself. */
	WRITE_ONCE(run->in_hostcall, false);
	if (run->fpu_on)
		kwasm_fpu_end(run);
	return ret;
}

/* Called by kwasm_hostcall_entry on the task stack around each host call. */
void kwasm_hostcall_begin(struct kwasm_run *run)
{
	kwasm_fpu_end(run);
	WRITE_ONCE(run->in_hostcall, true);
}

void kwasm_hostcall_end(struct kwasm_run *run)
{
	WRITE_ONCE(run->in_hostcall, false);
	/* The task may run on another CPU now: this sets that CPU's pointer. */
	kwasm_fpu_begin(run);
}

/*
 * Programs running now, each with the task that runs it: how a panic in a
 * host call finds its program (the task may have moved to any CPU).
 */
static LIST_HEAD(kwasm_running);
static DEFINE_SPINLOCK(kwasm_running_lock);

/* Contained panics, and the state they left that is kept, not freed. */
static atomic_long_t kwasm_panics_contained;
static atomic_long_t kwasm_panics_kept;

/* The current task starts running run (binfmt.c). */
void kwasm_run_listed(struct kwasm_run *run)
{
	run->runner = current;
	run->runner_mm = current->mm;
	spin_lock(&kwasm_running_lock);
	list_add(&run->running, &kwasm_running);
	spin_unlock(&kwasm_running_lock);
}

/* run is about to be freed; it may never have been listed. */
void kwasm_run_unlisted(struct kwasm_run *run)
{
	if (!run->runner)
		return;
	spin_lock(&kwasm_running_lock);
	list_del(&run->running);
	spin_unlock(&kwasm_running_lock);
	run->runner = NULL;
}

/*
 * The current task's run if the task runs a program, is not exiting and
 * runs in its program's mm: then the mm, which owns the run, stays alive
 * while the task uses it. Called with kwasm_running_lock held.
 */
static struct kwasm_run *kwasm_current_run(void)
{
	struct kwasm_run *run;

	if (current->flags & PF_EXITING)
		return NULL;
	list_for_each_entry(run, &kwasm_running, running)
		if (run->runner == current && run->runner_mm == current->mm)
			return run;
	return NULL;
}

/*
 * kwasm code that runs with kernel state held on behalf of another program
 * (freeing it from an mmput() with its mm's locks held) must not be
 * abandoned by a panic: brackets such code. Returns what to pass to
 * kwasm_contain_unblock().
 */
struct kwasm_run *kwasm_contain_block(void)
{
	struct kwasm_run *run;

	if (!in_task())
		return NULL;
	spin_lock(&kwasm_running_lock);
	run = kwasm_current_run();
	if (run)
		run->no_contain++;
	spin_unlock(&kwasm_running_lock);
	return run;
}

void kwasm_contain_unblock(struct kwasm_run *run)
{
	if (run)
		run->no_contain--;
}

/*
 * Rust code panicked with msg (panic.rs). If the current task is in a host
 * call of its program, in plain task context with nothing held (no
 * spinlock, RCU, interrupts off or lock lockdep knows of), and not inside
 * a bracket of kwasm_contain_block(), the frames above the program's entry
 * are the host call's own Rust code and the C helpers it called have
 * returned. Abandon them, as a trap does, and end only that program;
 * whatever they owned is leaked. Returns otherwise (the panic BUG()s).
 */
void kwasm_hostcall_panicked(const char *msg)
{
	unsigned long sp = current_stack_pointer;
	struct kwasm_run *run;

	if (!in_task() || !preemptible() || irqs_disabled() ||
	    rcu_preempt_depth())
		return;
#ifdef CONFIG_LOCKDEP
	if (current->lockdep_depth)
		return;
#endif
	spin_lock(&kwasm_running_lock);
	run = kwasm_current_run();
	if (run && (!READ_ONCE(run->in_hostcall) || run->no_contain ||
		    !object_is_on_stack((void *)sp) || sp >= run->task_sp))
		run = NULL;
	spin_unlock(&kwasm_running_lock);
	if (!run)
		return;
	pr_err_ratelimited("kwasm: %s[%d]: host call panicked, program ended, its allocations leaked: %s\n",
			   current->comm, task_pid_nr(current), msg);
	atomic_long_inc(&kwasm_panics_contained);
	run->in_hostcall = false;
	kwasm_unwind(&run->task_sp, KWASM_UNWIND_PANIC);
}

/*
 * Keeps p, a kmalloc() block holding what a contained panic left (panic.rs
 * explains why it is never freed): counted, and known to kmemleak as kept
 * on purpose, which also makes what it points to reachable.
 */
void kwasm_keep_after_panic(void *p)
{
	kmemleak_not_leak(p);
	atomic_long_inc(&kwasm_panics_kept);
}

/* debugfs kwasm/panics (stats.c). */
int kwasm_panics_show(struct seq_file *m, void *v)
{
	seq_printf(m, "contained %ld\nkept %ld\n",
		   atomic_long_read(&kwasm_panics_contained),
		   atomic_long_read(&kwasm_panics_kept));
	return 0;
}

#ifdef CONFIG_KWASM_FAULT_INJECTION
/*
 * Fault injection for the test of the above: the next host call of the
 * process with this pid panics (root only; 0: none).
 */
static int hostcall_panic_pid;
module_param(hostcall_panic_pid, int, 0600);
MODULE_PARM_DESC(hostcall_panic_pid,
		 "Make the next host call of this process panic (testing)");

bool kwasm_inject_hostcall_panic(void)
{
	int pid = READ_ONCE(hostcall_panic_pid);

	return pid && pid == task_tgid_nr(current) &&
	       cmpxchg(&hostcall_panic_pid, pid, 0) == pid;
}
#endif

/*
 * How generated code must branch, following what the running kernel does
 * for its own code and for BPF programs (emit_indirect_jump() and
 * emit_return() in arch/x86/net/bpf_jit_comp.c).
 */
int kwasm_branch_forms(u32 *forms)
{
	u32 f = 0;

	/*
	 * Call depth tracking (retbleed=stuff) needs accounting code at every
	 * call and function entry, which the compiler does not emit.
	 */
	if (cpu_feature_enabled(X86_FEATURE_CALL_DEPTH))
		return -EOPNOTSUPP;
	if (cpu_feature_enabled(X86_FEATURE_INDIRECT_THUNK_ITS))
		f |= KWASM_BRANCH_THUNK;
	else if (cpu_feature_enabled(X86_FEATURE_RETPOLINE_LFENCE))
		f |= KWASM_BRANCH_LFENCE;
	else if (cpu_feature_enabled(X86_FEATURE_RETPOLINE))
		f |= KWASM_BRANCH_THUNK;
	if (cpu_wants_rethunk())
		f |= KWASM_BRANCH_RETURN_THUNK;
	/* bpf_jit also puts int3 after jmp *reg in retpoline kernels. */
	if (IS_ENABLED(CONFIG_MITIGATION_SLS) ||
	    IS_ENABLED(CONFIG_MITIGATION_RETPOLINE))
		f |= KWASM_BRANCH_SLS;
	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT))
		f |= KWASM_BRANCH_IBT;
	*forms = f;
	return 0;
}

/*
 * Address of what generated code calls or jumps to directly
 * (kwasm_abi::Symbol): the indirect-branch thunk for register @sym (0-15),
 * the return thunk or the host-call entry. 0 if there is none, which fails
 * the exec.
 */
unsigned long kwasm_code_symbol(u32 sym)
{
	if (sym < 16) {
		if (cpu_feature_enabled(X86_FEATURE_INDIRECT_THUNK_ITS))
			return (unsigned long)its_static_thunk(sym);
		if (IS_ENABLED(CONFIG_MITIGATION_RETPOLINE))
			return (unsigned long)&__x86_indirect_thunk_array[sym];
		return 0;
	}
	if (sym == KWASM_SYM_RETURN_THUNK && cpu_wants_rethunk())
		return (unsigned long)x86_return_thunk;
	if (sym == KWASM_SYM_HOSTCALL)
		return (unsigned long)kwasm_hostcall_entry;
	return 0;
}

/* CPU features the compiler may use; see drivers/kwasm/compile.rs. */
#define KWASM_CPU_SSE41		BIT(0)
#define KWASM_CPU_SSE42		BIT(1)
#define KWASM_CPU_POPCNT	BIT(2)
#define KWASM_CPU_LZCNT		BIT(3)
#define KWASM_CPU_BMI1		BIT(4)
#define KWASM_CPU_BMI2		BIT(5)
#define KWASM_CPU_AVX		BIT(6)
#define KWASM_CPU_AVX2		BIT(7)
#define KWASM_CPU_FMA		BIT(8)

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
	/*
	 * Compiled code runs between kernel_fpu_begin() and kernel_fpu_end(),
	 * which save and restore the task's whole xstate, YMM included: as
	 * for the kernel's own AVX code (arch/x86/crypto), the AVX encodings
	 * are usable there when XCR0 enables the YMM state (kwasm_avx). (Wasm
	 * values are at most 128 bits; the VEX forms only spare the SSE forms'
	 * copies.)
	 */
	if (kwasm_avx) {
		f |= KWASM_CPU_AVX;
		if (boot_cpu_has(X86_FEATURE_AVX2))
			f |= KWASM_CPU_AVX2;
		if (boot_cpu_has(X86_FEATURE_FMA))
			f |= KWASM_CPU_FMA;
	}
	return f;
}

/* The stack compiled code (and the compiler) runs on, charged to the memcg. */
void *kwasm_stack_alloc(void)
{
	return __vmalloc(KWASM_STACK_SIZE, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
}

void kwasm_stack_free(void *stack)
{
	vfree(stack);
}

/*
 * Compiled code polls the task's thread_info flags at function entries and
 * loop headers and makes a host call when any of these bits is set.
 */
const unsigned long *kwasm_safepoint_word(u64 *mask)
{
	*mask = _TIF_NEED_RESCHED | _TIF_SIGPENDING | _TIF_NOTIFY_SIGNAL |
		_TIF_NOTIFY_RESUME | _TIF_PATCH_PENDING;
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
	/*
	 * What returning to user mode would do (the task never does):
	 * livepatch transition, task work, memory.high reclaim, block-cgroup
	 * throttling (exit_to_user_mode_loop()).
	 */
	if (test_thread_flag(TIF_PATCH_PENDING))
		klp_update_patch_state(current);
	if (test_thread_flag(TIF_NOTIFY_RESUME))
		resume_user_mode_work(task_pt_regs(current));
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
