// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: per-user shares of kwasm's global limits.
 *
 * Compiled code in module space (kwasm.code_limit_mb), linear-memory
 * reservations (kwasm.max_memories) and compile slots (kwasm.max_compiles)
 * are global, like bpf_jit_limit: without shares, one user could take all
 * of each and lock every other user out of kwasm. So each user (real uid,
 * as RLIMIT_NPROC counts processes) may hold at most kwasm.user_share_pct
 * percent of each limit, and at least one unit of it: an exec that would
 * go over fails with ENOMEM (a compile waits for the user's own compiles
 * instead). 100 turns the shares off; 0 counts as 1. Where a limit is a
 * single unit (max_compiles on a one-CPU machine), a share is all of it.
 * Users are uids: a user with a range of subordinate uids (user
 * namespaces) has a share per uid.
 *
 * A user's record lives while something holds it: each program takes a
 * reference at exec, each image and memory one of its own (they may
 * outlive the program by an RCU grace period).
 */

#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

static unsigned int user_share_pct = 50;
module_param(user_share_pct, uint, 0644);
MODULE_PARM_DESC(user_share_pct,
		 "Percent of each global kwasm limit one user may hold (100: no shares)");

struct kwasm_user {
	struct hlist_node node;
	kuid_t uid;
	refcount_t ref;
	atomic_long_t held[KWASM_SHARE_NR];
};

static DEFINE_HASHTABLE(kwasm_users, 6);
static DEFINE_SPINLOCK(kwasm_users_lock);

/* The record of uid with a new reference, if it has one. Lock held. */
static struct kwasm_user *kwasm_user_find(kuid_t uid)
{
	struct kwasm_user *u;

	hash_for_each_possible(kwasm_users, u, node, __kuid_val(uid)) {
		if (uid_eq(u->uid, uid)) {
			refcount_inc(&u->ref);
			return u;
		}
	}
	return NULL;
}

/* The record of the current task's real uid, referenced; NULL without memory. */
struct kwasm_user *kwasm_user_get(void)
{
	kuid_t uid = current_uid();
	struct kwasm_user *u, *new;

	/* A user with programs running has a record: no allocation then. */
	spin_lock(&kwasm_users_lock);
	u = kwasm_user_find(uid);
	spin_unlock(&kwasm_users_lock);
	if (u)
		return u;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	spin_lock(&kwasm_users_lock);
	/* Another exec of the same user may have added one meanwhile. */
	u = kwasm_user_find(uid);
	if (!u)
		hash_add(kwasm_users, &new->node, __kuid_val(uid));
	spin_unlock(&kwasm_users_lock);
	if (u) {
		kfree(new);
		return u;
	}
	return new;
}

/* Another reference to @u, for an object that may outlive its program. */
struct kwasm_user *kwasm_user_hold(struct kwasm_user *u)
{
	refcount_inc(&u->ref);
	return u;
}

void kwasm_user_put(struct kwasm_user *u)
{
	if (!u || !refcount_dec_and_lock(&u->ref, &kwasm_users_lock))
		return;
	hash_del(&u->node);
	spin_unlock(&kwasm_users_lock);
	kfree(u);
}

/*
 * Charges @n units of resource @r to @u, whose global limit is @limit
 * units. False, charging nothing, if that would take @u over its share.
 */
bool kwasm_user_charge(struct kwasm_user *u, enum kwasm_share r, long n,
		       long limit)
{
	unsigned int pct = clamp(READ_ONCE(user_share_pct), 1U, 100U);
	long share = max(limit / 100 * pct + limit % 100 * pct / 100, 1L);
	long held = atomic_long_read(&u->held[r]);

	if (pct == 100) {
		atomic_long_add(n, &u->held[r]);
		return true;
	}
	/* Never over the share, not even for a moment: others read it. */
	do {
		if (held + n > share)
			return false;
	} while (!atomic_long_try_cmpxchg(&u->held[r], &held, held + n));
	return true;
}

void kwasm_user_uncharge(struct kwasm_user *u, enum kwasm_share r, long n)
{
	atomic_long_sub(n, &u->held[r]);
}
