// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the non-file work behind WASI calls: the program's strings,
 * clocks, randomness, scheduling, polling and signals (WASI's sock_* calls
 * share wasi_net.c with kwasm_net). Like wasi_fs.c it acts on the current
 * task and returns >= 0 or -errno.
 */

#include <linux/file.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "kwasm.h"

/* Where exec left the argument or environment strings. */
void kwasm_strings(bool env, unsigned long *start, unsigned long *end)
{
	struct mm_struct *mm = current->mm;

	*start = env ? mm->env_start : mm->arg_start;
	*end = env ? mm->env_end : mm->arg_end;
}

int kwasm_copy_user(void *dst, unsigned long src, size_t len)
{
	return copy_from_user(dst, (const void __user *)src, len) ? -EFAULT : 0;
}

/* clock_gettime/clock_getres for the four clocks WASI names. */
long kwasm_clock_get(int clock, bool res, s64 *sec, u32 *nsec)
{
	struct task_cputime ct;
	struct timespec64 ts;
	u64 ns;

	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
		if (res)
			ts = ns_to_timespec64(hrtimer_resolution);
		else if (clock == CLOCK_REALTIME)
			ktime_get_real_ts64(&ts);
		else
			ktime_get_ts64(&ts);
		break;
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
		if (res) {
			ns = 1;
		} else if (clock == CLOCK_THREAD_CPUTIME_ID) {
			ns = task_sched_runtime(current);
		} else {
			thread_group_cputime(current, &ct);
			ns = ct.sum_exec_runtime;
		}
		ts = ns_to_timespec64(ns);
		break;
	default:
		return -EINVAL;
	}
	*sec = ts.tv_sec;
	*nsec = ts.tv_nsec;
	return 0;
}

/*
 * getrandom() without GRND_NONBLOCK, for all of buf: random_get has no
 * short result, so only a fatal signal stops it (up to 4 GiB of it).
 */
long kwasm_random(void *buf, size_t len)
{
	int ret = wait_for_random_bytes();

	if (ret)
		return ret;
	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE);

		if (fatal_signal_pending(current))
			return -EINTR;
		get_random_bytes(buf, n);
		buf += n;
		len -= n;
		cond_resched();
	}
	return 0;
}

/* sched_yield(2) does exactly this: to the end of the run queue. */
void kwasm_yield(void)
{
	yield();
}

/* As poll_schedule_timeout() in fs/select.c. */
static int kwasm_poll_sleep(struct poll_wqueues *pwq, ktime_t *expires)
{
	int rc = -EINTR;

	set_current_state(TASK_INTERRUPTIBLE);
	if (!pwq->triggered)
		rc = schedule_hrtimeout_range(expires, 0, HRTIMER_MODE_ABS);
	__set_current_state(TASK_RUNNING);
	/* Orders the reset before the next pass's checks, as in select.c. */
	smp_store_mb(pwq->triggered, 0);
	return rc;
}

/*
 * A leaf clock_time_get (leaf.rs), inside the FPU section: the realtime or
 * monotonic clock in ns, the values kwasm_clock_get() gives, if no policy
 * applies to the call; else false, and the full path runs it.
 */
bool kwasm_leaf_clock_ns(u32 clock, u64 *ns)
{
	s64 t;

	if (kwasm_policies_apply())
		return false;
	if (clock == CLOCK_MONOTONIC)
		t = ktime_get_ns();
	else if (clock == CLOCK_REALTIME)
		t = ktime_get_real_ns();
	else
		return false;
	/* Before 1970: the full path's OVERFLOW. */
	if (t < 0)
		return false;
	*ns = t;
	return true;
}

/*
 * poll() on kernel pollfds until one is ready, a signal arrives, or the
 * monotonic clock passes deadline_ns (negative: no deadline; 0: one pass,
 * no wait and no clock read, for a zero timeout). Like do_poll()
 * in fs/select.c; returns the number of ready fds, 0 on timeout, or
 * -ERESTARTNOHAND for a signal (KernelOs::poll() restarts it with the same
 * deadline).
 */
long kwasm_poll(struct kwasm_pollfd *fds, unsigned int n, s64 deadline_ns)
{
	ktime_t expires = deadline_ns < 0 ? 0 : ns_to_ktime(deadline_ns);
	ktime_t *to = deadline_ns < 0 ? NULL : &expires;
	struct poll_wqueues table;
	poll_table *pt;
	long count = 0;
	unsigned int i;

	/*
	 * As poll(2): each fd costs a wait-queue entry in kernel memory while
	 * the call sleeps, and every wakeup walks them all.
	 */
	if (n > rlimit(RLIMIT_NOFILE))
		return -EINVAL;
	poll_initwait(&table);
	pt = &table.pt;
	for (;;) {
		for (i = 0; i < n; i++) {
			__poll_t filter = demangle_poll(fds[i].events) |
					  EPOLLERR | EPOLLHUP;
			__poll_t mask = EPOLLNVAL;
			struct fd f = fdget(fds[i].fd);

			if (fd_file(f)) {
				pt->_key = filter;
				mask = vfs_poll(fd_file(f), pt) & filter;
				fdput(f);
			}
			fds[i].revents = mangle_poll(mask);
			if (mask) {
				count++;
				pt->_qproc = NULL;
			}
		}
		/* Only the first pass registers on the wait queues. */
		pt->_qproc = NULL;
		if (!count) {
			count = table.error;
			if (signal_pending(current))
				count = -ERESTARTNOHAND;
		}
		if (count || deadline_ns == 0 ||
		    (to && ktime_compare(ktime_get(), *to) >= 0))
			break;
		kwasm_poll_sleep(&table, to);
	}
	poll_freewait(&table);
	return count;
}

/* kill(getpid(), sig); a fatal signal ends the program at a safepoint. */
long kwasm_raise(int sig)
{
	if (!valid_signal(sig))
		return -EINVAL;
	if (!sig)
		return 0;
	return send_sig(sig, current, 0);
}
