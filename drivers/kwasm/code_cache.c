// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the code cache. A second exec of a module with the same bytes
 * skips compiling it.
 *
 * Entries are keyed on the SHA-256 of the module's contents, not on file
 * metadata: a rewrite within the file system's timestamp granularity, a
 * file system without reliable change attributes (FUSE, network file
 * systems) or a recycled device number cannot make an exec run code
 * compiled from other bytes. Entries hold a reference to the compiled
 * module (the Rust side's shared CompiledModule); the cache is an LRU list
 * bounded by the bytes its modules hold (kwasm.cache_limit_mb). The
 * debugfs file kwasm/cache shows hits, misses, entries and bytes (stats.c).
 */

#include <crypto/sha2.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

static unsigned long cache_limit_mb = 64;
module_param(cache_limit_mb, ulong, 0644);
MODULE_PARM_DESC(cache_limit_mb, "Size of the compiled-code cache, MiB (0: off)");

struct kwasm_cache_entry {
	struct list_head lru;		/* most recently used first */
	struct kwasm_cache_key key;
	void *module;			/* a reference of the Rust side's */
	size_t bytes;
};

static DEFINE_MUTEX(kwasm_cache_lock);
static LIST_HEAD(kwasm_cache_lru);
static size_t kwasm_cache_bytes;
static unsigned long kwasm_cache_entries, kwasm_cache_hits, kwasm_cache_misses;

void kwasm_cache_key_of(const u8 *wasm, size_t len, struct kwasm_cache_key *key)
{
	sha256(wasm, len, key->digest);
}

static void kwasm_cache_drop(struct kwasm_cache_entry *e)
{
	list_del(&e->lru);
	kwasm_cache_bytes -= e->bytes;
	kwasm_cache_entries--;
	kwasm_rs_module_put(e->module);
	kfree(e);
}

/* Returns a new reference to the cached module for key, or NULL. */
static void *kwasm_cache_lookup(const struct kwasm_cache_key *key)
{
	struct kwasm_cache_entry *e;
	void *module = NULL;

	/* Off: not even what was cached before counts. */
	if (!READ_ONCE(cache_limit_mb))
		return NULL;
	mutex_lock(&kwasm_cache_lock);
	list_for_each_entry(e, &kwasm_cache_lru, lru) {
		if (!memcmp(&e->key, key, sizeof(*key))) {
			list_move(&e->lru, &kwasm_cache_lru);
			module = kwasm_rs_module_get(e->module);
			break;
		}
	}
	if (module)
		kwasm_cache_hits++;
	else
		kwasm_cache_misses++;
	mutex_unlock(&kwasm_cache_lock);
	return module;
}

/*
 * Compiles in progress, by key: concurrent first execs of one module wait
 * for one compile instead of each compiling it. A spinlock, since waiters test
 * the list from wait_event's condition.
 */
static DEFINE_SPINLOCK(kwasm_inflight_lock);
static LIST_HEAD(kwasm_inflight);
static DECLARE_WAIT_QUEUE_HEAD(kwasm_inflight_wait);

static bool kwasm_inflight_has(const struct kwasm_cache_key *key)
{
	struct kwasm_cache_claim *c;
	bool found = false;

	spin_lock(&kwasm_inflight_lock);
	list_for_each_entry(c, &kwasm_inflight, node)
		if (!memcmp(&c->key, key, sizeof(*key)))
			found = true;
	spin_unlock(&kwasm_inflight_lock);
	return found;
}

static bool kwasm_inflight_claim(struct kwasm_cache_claim *claim)
{
	struct kwasm_cache_claim *c;

	spin_lock(&kwasm_inflight_lock);
	list_for_each_entry(c, &kwasm_inflight, node) {
		if (!memcmp(&c->key, &claim->key, sizeof(claim->key))) {
			spin_unlock(&kwasm_inflight_lock);
			return false;
		}
	}
	list_add(&claim->node, &kwasm_inflight);
	spin_unlock(&kwasm_inflight_lock);
	return true;
}

/*
 * Returns a new reference to the cached module for key; or NULL with claim
 * registered: the caller compiles, inserts the result and calls
 * kwasm_cache_unclaim(); or ERR_PTR(-EINTR) if killed while another task
 * compiled the same file.
 */
void *kwasm_cache_get(const struct kwasm_cache_key *key,
		      struct kwasm_cache_claim *claim)
{
	void *module;

	claim->key = *key;
	for (;;) {
		module = kwasm_cache_lookup(key);
		if (module || kwasm_inflight_claim(claim))
			return module;
		if (wait_event_killable(kwasm_inflight_wait,
					!kwasm_inflight_has(key)))
			return ERR_PTR(-EINTR);
	}
}

/* Ends a claim of kwasm_cache_get(), whether the compile worked or not. */
void kwasm_cache_unclaim(struct kwasm_cache_claim *claim)
{
	spin_lock(&kwasm_inflight_lock);
	list_del(&claim->node);
	spin_unlock(&kwasm_inflight_lock);
	wake_up_all(&kwasm_inflight_wait);
}

/* Adds module (taking a new reference) under key, evicting as needed. */
void kwasm_cache_insert(const struct kwasm_cache_key *key, void *module,
			size_t bytes)
{
	size_t limit = (size_t)cache_limit_mb << 20;
	struct kwasm_cache_entry *e;

	if (bytes > limit)
		return;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return;
	e->key = *key;
	e->bytes = bytes;
	e->module = kwasm_rs_module_get(module);
	mutex_lock(&kwasm_cache_lock);
	list_add(&e->lru, &kwasm_cache_lru);
	kwasm_cache_bytes += bytes;
	kwasm_cache_entries++;
	while (kwasm_cache_bytes > limit)
		kwasm_cache_drop(list_last_entry(&kwasm_cache_lru,
						 struct kwasm_cache_entry, lru));
	mutex_unlock(&kwasm_cache_lock);
}

int kwasm_cache_show(struct seq_file *m, void *v)
{
	mutex_lock(&kwasm_cache_lock);
	seq_printf(m, "hits %lu\nmisses %lu\nentries %lu\nbytes %zu\nlimit %zu\n",
		   kwasm_cache_hits, kwasm_cache_misses, kwasm_cache_entries,
		   kwasm_cache_bytes, (size_t)cache_limit_mb << 20);
	mutex_unlock(&kwasm_cache_lock);
	return 0;
}
