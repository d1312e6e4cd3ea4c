// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: policies. Who may run WebAssembly programs (the administrator's
 * switch, in the spirit of kernel.unprivileged_bpf_disabled), and the
 * task's seccomp filter and audit rules applied to host calls.
 *
 * /proc/sys/kernel/kwasm/exec_policy:
 *   0  everyone
 *   1  members of the group /proc/sys/kernel/kwasm/exec_group (a gid of
 *      the initial user namespace), and tasks with CAP_SYS_ADMIN
 *   2  nobody (modules are refused with EPERM)
 *
 * The default comes from CONFIG_KWASM_EXEC_POLICY.
 */

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/init.h>
#include <linux/sched/task_stack.h>
#include <linux/seccomp.h>
#include <linux/sysctl.h>
#include <linux/thread_info.h>
#include <linux/uidgid.h>
#include <asm/ioctls.h>
#include <asm/syscall.h>

#include "kwasm.h"

static int kwasm_exec_policy = CONFIG_KWASM_EXEC_POLICY;
static unsigned int kwasm_exec_group;

static const int kwasm_policy_max = 2;

static struct ctl_table kwasm_sysctls[] = {
	{
		.procname	= "exec_policy",
		.data		= &kwasm_exec_policy,
		.maxlen		= sizeof(int),
		.mode		= 0644,
		.proc_handler	= proc_dointvec_minmax,
		.extra1		= SYSCTL_ZERO,
		.extra2		= (void *)&kwasm_policy_max,
	},
	{
		.procname	= "exec_group",
		.data		= &kwasm_exec_group,
		.maxlen		= sizeof(unsigned int),
		.mode		= 0644,
		.proc_handler	= proc_douintvec,
	},
};

/* Whether the current task may exec a wasm module; 0 or -EPERM. */
int kwasm_exec_allowed(void)
{
	kgid_t group;

	switch (READ_ONCE(kwasm_exec_policy)) {
	case 0:
		return 0;
	case 1:
		/*
		 * A gid of the initial namespace: read in the caller's, any user
		 * could map the group onto their own in a user namespace.
		 */
		group = make_kgid(&init_user_ns, READ_ONCE(kwasm_exec_group));
		if ((gid_valid(group) && in_group_p(group)) ||
		    capable(CAP_SYS_ADMIN))
			return 0;
		return -EPERM;
	default:
		return -EPERM;
	}
}

/*
 * Runs the task's seccomp filter for a host call that does the work of
 * system call nr with arguments a0..a5 (as the kernel-side C functions
 * pass them: Linux values, with 0 for pointers into linear memory, which a
 * filter could not read anyway). Returns 0 if the call may go ahead, or the
 * -errno it must fail with. The filter's other actions are carried out as
 * for a system call: SECCOMP_RET_KILL_* ends the task here, RET_TRAP queues
 * SIGSYS (delivered at the program's next safepoint), RET_TRACE stops for
 * the tracer, RET_USER_NOTIF asks the supervisor (which sees the arguments
 * but cannot read wasm memory through the pointer arguments), RET_LOG logs.
 */
/* For Rust, which cannot see ioctl macros. */
const unsigned int kwasm_ioctl_fionread = FIONREAD;

/*
 * seccomp: the task's filter decides on a host call as on system call nr
 * with args (six values). Returns 0 or the -errno the call fails with.
 */
static long kwasm_seccomp(int nr, const u64 *args)
{
	struct pt_regs *regs = task_pt_regs(current);
	struct seccomp_data sd = {
		.nr = nr,
		.arch = AUDIT_ARCH_X86_64,
		.instruction_pointer = instruction_pointer(regs),
		.args = { args[0], args[1], args[2], args[3], args[4], args[5] },
	};
	long ret;

	/*
	 * An earlier host call of this program was killed by the filter: its
	 * SIGSYS ends the program at the next safepoint, and seccomp must not
	 * run again (it WARNs for a task it has already condemned).
	 */
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(current->seccomp.mode) > SECCOMP_MODE_FILTER)
		return -EPERM;
#endif
	/*
	 * An errno chosen by the filter is stored in the task's user registers
	 * (which a kwasm task never returns to); start from 0 to tell it from
	 * a skip without one (RET_TRAP, RET_TRACE without a tracer), which
	 * fails the call with EPERM.
	 */
	syscall_set_return_value(current, regs, 0, 0);
	if (__secure_computing(&sd) == 0)
		return 0;
	ret = syscall_get_return_value(current, regs);
	return ret < 0 && ret >= -MAX_ERRNO ? ret : -EPERM;
}

/*
 * A host call starts the work of system call nr with the n values at args
 * (at most six are read; missing ones are 0, as kwasm_seccomp() takes
 * them), and the kernel's policies for system calls apply: the seccomp
 * filter decides first, then an audit record opens.
 *
 * Audit: a host call that does the work of system call nr is audited as
 * that system call. The record opens here (with the first four arguments,
 * as audit_syscall_entry() takes them) and closes with the call's result in
 * kwasm_audit_exit(); in between, the VFS and socket code record the names
 * and objects it touches, so rules and file watches match as they would for
 * the system call. A kwasm task runs its program after execve() has
 * returned (binfmt.c defers a traced exec's start past the exec event), so
 * the exec's own record is closed before the program runs; should a
 * program ever run inside execve, the exec's record stays open and nothing
 * opens here.
 *
 * Returns the -errno of a refusal, 1 if an audit record opened (which
 * kwasm_audit_exit() must close), else 0. A task with neither a filter nor
 * an audit context, the common case, pays one load and one test, as the
 * syscall entry work does.
 */
static noinline long kwasm_policies_enter(int nr, const u64 *args,
					 unsigned int n)
{
	u64 a[6] = {};
	long ret;

	memcpy(a, args, min(n, ARRAY_SIZE(a)) * sizeof(*a));
	if (test_syscall_work(SECCOMP)) {
		ret = kwasm_seccomp(nr, a);
		if (ret)
			return ret;
	}
	if (current->in_execve || !audit_context())
		return 0;
	audit_syscall_entry(nr, a[0], a[1], a[2], a[3]);
	return 1;
}

long kwasm_syscall_enter(int nr, const u64 *args, unsigned int n)
{
	if (likely(!kwasm_policies_apply()))
		return 0;
	return kwasm_policies_enter(nr, args, n);
}

void kwasm_audit_exit(long ret)
{
#ifdef CONFIG_AUDITSYSCALL
	if (!current->in_execve && audit_context())
		__audit_syscall_exit(!IS_ERR_VALUE(ret), ret);
#endif
}

int kwasm_policy_init(void)
{
	if (!register_sysctl("kernel/kwasm", kwasm_sysctls))
		return -ENOMEM;
	return 0;
}
