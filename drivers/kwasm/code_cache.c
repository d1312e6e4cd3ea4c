// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the code cache. A second exec of an unchanged module skips
 * reading and compiling it.
 *
 * Entries are keyed on the file's identity and change state (device,
 * inode, generation, size, mtime, ctime): writing to the file or changing
 * its metadata changes the key, so a changed file is compiled again and the
 * stale entry is dropped. Entries hold a reference to the compiled module
 * (the Rust side's shared CompiledModule); the cache is an LRU list bounded
 * by the bytes its modules hold (kwasm.cache_limit_mb). /proc/kwasm_cache
 * shows hits, misses, entries and bytes.
 */

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

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

void kwasm_cache_key_of(struct file *file, struct kwasm_cache_key *key)
{
	struct inode *inode = file_inode(file);

	memset(key, 0, sizeof(*key));
	key->dev = inode->i_sb->s_dev;
	key->ino = inode->i_ino;
	key->generation = inode->i_generation;
	key->size = i_size_read(inode);
	key->mtime = inode_get_mtime(inode);
	key->ctime = inode_get_ctime(inode);
}

static bool kwasm_same_file(const struct kwasm_cache_key *a,
			    const struct kwasm_cache_key *b)
{
	return a->dev == b->dev && a->ino == b->ino;
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
void *kwasm_cache_lookup(const struct kwasm_cache_key *key)
{
	struct kwasm_cache_entry *e, *tmp;
	void *module = NULL;

	mutex_lock(&kwasm_cache_lock);
	list_for_each_entry_safe(e, tmp, &kwasm_cache_lru, lru) {
		if (!memcmp(&e->key, key, sizeof(*key))) {
			list_move(&e->lru, &kwasm_cache_lru);
			module = kwasm_rs_module_get(e->module);
			break;
		}
		/* The same file, changed since: that entry is stale. */
		if (kwasm_same_file(&e->key, key))
			kwasm_cache_drop(e);
	}
	if (module)
		kwasm_cache_hits++;
	else
		kwasm_cache_misses++;
	mutex_unlock(&kwasm_cache_lock);
	return module;
}

/* Adds module (taking a new reference) under key, evicting as needed. */
void kwasm_cache_insert(const struct kwasm_cache_key *key, void *module,
			size_t bytes)
{
	size_t limit = (size_t)cache_limit_mb << 20;
	struct kwasm_cache_entry *e;

	if (bytes > limit)
		return;
	e = kzalloc(sizeof(*e), GFP_KERNEL);
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

static int kwasm_cache_show(struct seq_file *m, void *v)
{
	mutex_lock(&kwasm_cache_lock);
	seq_printf(m, "hits %lu\nmisses %lu\nentries %lu\nbytes %zu\nlimit %zu\n",
		   kwasm_cache_hits, kwasm_cache_misses, kwasm_cache_entries,
		   kwasm_cache_bytes, (size_t)cache_limit_mb << 20);
	mutex_unlock(&kwasm_cache_lock);
	return 0;
}

int kwasm_cache_init(void)
{
	if (!proc_create_single("kwasm_cache", 0444, NULL, kwasm_cache_show))
		return -ENOMEM;
	return 0;
}
