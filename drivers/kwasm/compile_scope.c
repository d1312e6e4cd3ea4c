// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: compiling a module inside a scope that can always be abandoned.
 *
 * Cranelift cannot report a failed allocation (Rust turns it into a panic,
 * and a panic in the kernel is a BUG), it cannot be interrupted, and how
 * much memory it needs depends on the module in ways no up-front limit
 * captures exactly. So every compile runs in a scope:
 *
 *  - at most kwasm.max_compiles compiles run at once, and one user's at
 *    most its share of them (user_share.c); an exec waits (killably) for a
 *    free slot;
 *  - every Rust allocation made by the compiling task is recorded in the
 *    scope, charged to the task's memory cgroup and counted against a
 *    per-compile budget (kwasm.compile_memory_mb);
 *  - the allocator checks for a fatal signal and lets other tasks run, and
 *    every 256 allocations for the compile's deadline
 *    (kwasm.compile_seconds);
 *  - on allocation failure, budget exhaustion, the deadline, a fatal
 *    signal or a panic inside the compiler (rust/kernel/lib.rs calls
 *    kwasm_compile_panic()), the scope is abandoned: the compile's own
 *    stack is dropped without unwinding (kwasm_unwind() back to
 *    kwasm_enter()) and everything it allocated is freed from the record.
 *
 * Abandoning is sound because a compile touches nothing but its input, its
 * own allocations and its own stack: it takes no locks and publishes
 * nothing until it returns.
 *
 * All of kwasm's Rust allocations go through kwasm_alloc() and friends
 * (rust/kwasm/kernel_alloc.rs), each with a small header that links it into
 * the scope that made it. A compile's result keeps its headers, detached
 * from the scope when the compile succeeds.
 */

#include <linux/atomic.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

/* Compiles that may run at once (0: one per online CPU). */
static unsigned int max_compiles;
module_param(max_compiles, uint, 0644);
MODULE_PARM_DESC(max_compiles,
		 "Compiles running at once (0: one per online CPU, at most 32)");

/*
 * Seconds one compile may take. Execs of the same bytes wait for one
 * compile (code_cache.c), so this also bounds how long one user's compile
 * can keep another user's exec waiting.
 */
static unsigned int compile_seconds = 300;
module_param(compile_seconds, uint, 0644);
MODULE_PARM_DESC(compile_seconds, "Seconds one compile may take");

/* Memory one compile may allocate, MiB. */
static unsigned long compile_memory_mb = 256;
module_param(compile_memory_mb, ulong, 0644);
MODULE_PARM_DESC(compile_memory_mb, "Memory one compile may use, MiB");

#define KWASM_COMPILE_SLOTS	32

struct kwasm_compile {
	/* Saved by kwasm_enter(): where abandoning the scope resumes. */
	unsigned long task_sp;
	struct list_head allocs;
	size_t bytes, peak, budget;
	unsigned long count;
	/* jiffies after which the compile is abandoned (compile_seconds). */
	unsigned long deadline;
	int slot;
	/* The user whose share of the slots this compile takes. */
	struct kwasm_user *user;
	/* The stack the compile runs on, KWASM_STACK_SIZE bytes. */
	void *stack;
	/* Why the scope was abandoned (a -errno), or 0. */
	int abandoned;
	const u8 *wasm;
	size_t len;
	char *err;
	size_t errlen;
	void *module;
};

/*
 * slot_task[i] is the task compiling in slot i, or NULL. Only that task
 * writes it (claiming with cmpxchg, releasing with a store), and the
 * allocator only looks for current, so a match is always its own scope.
 */
static struct task_struct *kwasm_slot_task[KWASM_COMPILE_SLOTS];
static struct kwasm_compile *kwasm_slot_scope[KWASM_COMPILE_SLOTS];
static atomic_t kwasm_compiles_running = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(kwasm_slot_wait);
/*
 * Claims and releases take it, so that no claimer sees the user share that
 * a failing claim charges for a moment: that claimer would sleep with no
 * one to wake it. (Waking the queue from the claim instead, the wait's own
 * condition, woke the claimer itself: every waiter spun.)
 */
static DEFINE_SPINLOCK(kwasm_slot_lock);

/* Statistics for debugfs. */
atomic_long_t kwasm_compile_stats[KWASM_COMPILE_STAT_NR];

static unsigned int kwasm_max_compiles(void)
{
	unsigned int n = READ_ONCE(max_compiles);

	if (!n)
		n = num_online_cpus();
	return clamp(n, 1U, (unsigned int)KWASM_COMPILE_SLOTS);
}

static bool kwasm_slot_claim(struct kwasm_compile *c)
{
	unsigned int i, n = kwasm_max_compiles();
	bool claimed = false;

	spin_lock(&kwasm_slot_lock);
	if (!kwasm_user_charge(c->user, KWASM_SHARE_COMPILES, 1, n))
		goto out;
	for (i = 0; i < n && !claimed; i++) {
		if (cmpxchg(&kwasm_slot_task[i], NULL, current) == NULL) {
			WRITE_ONCE(kwasm_slot_scope[i], c);
			c->slot = i;
			atomic_inc(&kwasm_compiles_running);
			claimed = true;
		}
	}
	if (!claimed)
		kwasm_user_uncharge(c->user, KWASM_SHARE_COMPILES, 1);
out:
	spin_unlock(&kwasm_slot_lock);
	return claimed;
}

static void kwasm_slot_release(struct kwasm_compile *c)
{
	spin_lock(&kwasm_slot_lock);
	WRITE_ONCE(kwasm_slot_scope[c->slot], NULL);
	atomic_dec(&kwasm_compiles_running);
	kwasm_user_uncharge(c->user, KWASM_SHARE_COMPILES, 1);
	/* Orders the stores above before the slot can be claimed again. */
	smp_store_release(&kwasm_slot_task[c->slot], NULL);
	spin_unlock(&kwasm_slot_lock);
	wake_up(&kwasm_slot_wait);
}

/*
 * The scope current is compiling in, or NULL. Interrupts taken during a
 * compile run on their own stacks and belong to no scope.
 */
static struct kwasm_compile *kwasm_current_scope(void)
{
	int i;

	if (!atomic_read(&kwasm_compiles_running) || !in_task())
		return NULL;
	for (i = 0; i < KWASM_COMPILE_SLOTS; i++)
		if (READ_ONCE(kwasm_slot_task[i]) == current)
			return READ_ONCE(kwasm_slot_scope[i]);
	return NULL;
}

/* Ends the compile now; kwasm_compile() returns why. */
static void __noreturn kwasm_compile_abandon(struct kwasm_compile *c, int why)
{
	c->abandoned = why;
	kwasm_unwind(&c->task_sp, 1);
}

struct kwasm_alloc_hdr {
	/* In the allocating scope's list while it runs. */
	struct list_head node;
	/* That scope, or NULL once it has ended (or for no scope). */
	struct kwasm_compile *scope;
	/* The start of the underlying kvmalloc() block. */
	void *block;
	size_t size;
	size_t align;
};

static struct kwasm_alloc_hdr *kwasm_hdr(void *p)
{
	return (struct kwasm_alloc_hdr *)p - 1;
}

/*
 * The header sits right below the returned pointer; kvmalloc() gives 8-byte
 * alignment, so larger alignments need up to align - 8 bytes of slack.
 */
static size_t kwasm_alloc_extra(size_t align)
{
	return sizeof(struct kwasm_alloc_hdr) + (align > 8 ? align - 8 : 0);
}

/*
 * What a block of total bytes really takes, as the budget counts it: slab
 * objects are rounded up to their cache's size, larger blocks to pages.
 */
static size_t kwasm_alloc_cost(size_t total)
{
	if (total <= KMALLOC_MAX_CACHE_SIZE)
		return kmalloc_size_roundup(total);
	return PAGE_ALIGN(total);
}

/* Every allocation of kwasm's Rust code (kernel_alloc.rs). */
void *kwasm_alloc(size_t size, size_t align, bool zero)
{
	struct kwasm_compile *c = kwasm_current_scope();
	gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NOWARN | (zero ? __GFP_ZERO : 0);
	struct kwasm_alloc_hdr *h;
	size_t total;
	void *block;
	u8 *p;

	if (!is_power_of_2(align) || check_add_overflow(size, kwasm_alloc_extra(align), &total))
		return NULL;
	if (c) {
		if (fatal_signal_pending(current))
			kwasm_compile_abandon(c, -EINTR);
		if (!(++c->count & 255)) {
			cond_resched();
			if (time_after(jiffies, c->deadline))
				kwasm_compile_abandon(c, -ETIME);
		}
		if (kwasm_alloc_cost(total) > c->budget - c->bytes)
			kwasm_compile_abandon(c, -E2BIG);
	}
	/*
	 * Large blocks are what users scale (tables, compiler arrays): at the
	 * cgroup's limit they fail instead of invoking its OOM killer.
	 */
	if (total > PAGE_SIZE)
		gfp |= __GFP_RETRY_MAYFAIL;
	block = kvmalloc(total, gfp);
	/*
	 * Outside a compile, Rust code that cannot handle failure (Vec::push)
	 * would turn it into a panic, a BUG(): a task at its cgroup's limit
	 * still gets blocks of up to a page, uncharged (fallible callers too:
	 * the allocator cannot tell them apart). Larger blocks, which is what
	 * users scale, are allocated fallibly (try_reserve) and stay charged.
	 */
	if (!block && !c && total <= PAGE_SIZE)
		block = kmalloc(total, (gfp & ~__GFP_ACCOUNT) | __GFP_NOFAIL);
	if (!block) {
		if (c)
			kwasm_compile_abandon(c, -ENOMEM);
		return NULL;
	}
	p = PTR_ALIGN((u8 *)block + sizeof(*h), align);
	h = kwasm_hdr(p);
	h->block = block;
	h->size = size;
	h->align = align;
	h->scope = c;
	if (c) {
		list_add(&h->node, &c->allocs);
		c->bytes += kwasm_alloc_cost(total);
		c->peak = max(c->peak, c->bytes);
	}
	return p;
}

void kwasm_free(void *p)
{
	struct kwasm_alloc_hdr *h;

	if (!p)
		return;
	h = kwasm_hdr(p);
	if (h->scope) {
		/* Only the compiling task frees what its scope owns. */
		list_del(&h->node);
		h->scope->bytes -= kwasm_alloc_cost(h->size +
						    kwasm_alloc_extra(h->align));
	}
	kvfree(h->block);
}

void *kwasm_realloc(void *p, size_t align, size_t new_size)
{
	void *n;

	if (!p)
		return kwasm_alloc(new_size, align, false);
	n = kwasm_alloc(new_size, align, false);
	if (!n)
		return NULL;
	memcpy(n, p, min(kwasm_hdr(p)->size, new_size));
	kwasm_free(p);
	return n;
}

/* Frees everything an abandoned scope allocated. */
static void kwasm_scope_free_all(struct kwasm_compile *c)
{
	struct kwasm_alloc_hdr *h, *tmp;
	unsigned long n = 0;

	list_for_each_entry_safe(h, tmp, &c->allocs, node) {
		kvfree(h->block);
		if (!(++n & 1023))
			cond_resched();
	}
	INIT_LIST_HEAD(&c->allocs);
	c->bytes = 0;
}

/* What survives the compile (its result) now belongs to no scope. */
static void kwasm_scope_detach_all(struct kwasm_compile *c)
{
	struct kwasm_alloc_hdr *h, *tmp;
	unsigned long n = 0;

	list_for_each_entry_safe(h, tmp, &c->allocs, node) {
		list_del(&h->node);
		h->scope = NULL;
		if (!(++n & 1023))
			cond_resched();
	}
}

/*
 * Called by the kernel's Rust panic handler. Inside a compile, records the
 * message and abandons the compile; elsewhere it returns and the panic
 * goes on to BUG() as usual.
 */
void kwasm_compile_panicked(const char *msg)
{
	struct kwasm_compile *c = kwasm_current_scope();
	unsigned long sp = current_stack_pointer;

	/* Only a panic in the compile's own frames may abandon them. */
	if (!c || sp < (unsigned long)c->stack ||
	    sp >= (unsigned long)c->stack + KWASM_STACK_SIZE)
		return;
	snprintf(c->err, c->errlen, "compiler panicked: %s", msg);
	kwasm_compile_abandon(c, -EFAULT);
}

static unsigned long kwasm_compile_on_stack(void *p)
{
	struct kwasm_compile *c = p;

	c->module = kwasm_rs_compile(c->wasm, c->len, c->err, c->errlen);
	return 0;
}

/*
 * Compiles wasm[0..len) on run's stack, in a slot of run's user's share.
 * Returns 0 and the module, -ENOEXEC with the reason in err, or the -errno
 * that ended it early: -EINTR (fatal signal), -ENOMEM, -E2BIG (memory budget), -ETIME
 * (kwasm.compile_seconds), -EFAULT
 * (the compiler panicked; err has the message).
 */
int kwasm_compile(struct kwasm_run *run, const u8 *wasm, size_t len,
		  char *err, size_t errlen, void **module)
{
	void *stack = run->stack;
	long left;
	struct kwasm_compile c = {
		.allocs = LIST_HEAD_INIT(c.allocs),
		.budget = (size_t)READ_ONCE(compile_memory_mb) << 20,
		.user = run->user,
		.stack = stack,
		.wasm = wasm,
		.len = len,
		.err = err,
		.errlen = errlen,
	};

	*module = NULL;
	/*
	 * The deadline counts from the claim on these bytes (code_cache.c),
	 * which other execs of them wait on: waiting for a slot counts too.
	 */
	c.deadline = jiffies + clamp_val(READ_ONCE(compile_seconds), 1U, 86400U) * HZ;
	left = wait_event_killable_timeout(kwasm_slot_wait, kwasm_slot_claim(&c),
					   c.deadline - jiffies);
	if (left < 0)
		return -EINTR;
	if (!left)
		return -ETIME;
	/*
	 * Compiling stays preemptible, but on this CPU: code walking the stack
	 * (lockdep, KASAN, kmemleak) checks the per-CPU IRQ and entry stacks
	 * when it meets one it does not know.
	 */
	migrate_disable();
	kwasm_enter(&c.task_sp, stack + KWASM_STACK_SIZE,
		    kwasm_compile_on_stack, &c, NULL, NULL);
	migrate_enable();
	if (c.abandoned) {
		kwasm_scope_free_all(&c);
		atomic_long_inc(&kwasm_compile_stats[KWASM_COMPILE_ABANDONED]);
	} else {
		kwasm_scope_detach_all(&c);
	}
	kwasm_slot_release(&c);
	atomic_long_inc(&kwasm_compile_stats[KWASM_COMPILES]);
	atomic_long_set(&kwasm_compile_stats[KWASM_COMPILE_LAST_PEAK], c.peak);
	if (c.abandoned)
		return c.abandoned;
	if (!c.module)
		return -ENOEXEC;
	*module = c.module;
	return 0;
}

/* debugfs kwasm/compile (stats.c). */
int kwasm_compile_show(struct seq_file *m, void *v)
{
	atomic_long_t *st = kwasm_compile_stats;

	seq_printf(m, "compiles %ld\n", atomic_long_read(&st[KWASM_COMPILES]));
	seq_printf(m, "abandoned %ld\n",
		   atomic_long_read(&st[KWASM_COMPILE_ABANDONED]));
	seq_printf(m, "last_peak_bytes %ld\n",
		   atomic_long_read(&st[KWASM_COMPILE_LAST_PEAK]));
	seq_printf(m, "running %d\n", atomic_read(&kwasm_compiles_running));
	seq_printf(m, "max_running %u\n", kwasm_max_compiles());
	seq_printf(m, "budget_bytes %lu\n", READ_ONCE(compile_memory_mb) << 20);
	return 0;
}
