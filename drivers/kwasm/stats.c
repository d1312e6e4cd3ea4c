// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: statistics for administrators, in debugfs (readable by root only):
 *
 *   kwasm/cache	code cache hits, misses, entries, bytes, limit
 *   kwasm/memory	linear memory of all programs, reservations, caps
 *   kwasm/compile	compiles run and abandoned, last peak memory, running
 *   kwasm/code		compiled code of running programs in module space, and
 *			the branch forms compiled code uses on this kernel
 *   kwasm/images	placed images: functions, relocations, code bytes
 *   kwasm/panics	host-call panics contained, and what they left kept
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "kwasm.h"

static int kwasm_code_show(struct seq_file *m, void *v)
{
	u32 f;

	seq_printf(m, "bytes %ld\n", atomic_long_read(&kwasm_code_bytes));
	if (kwasm_branch_forms(&f)) {
		seq_puts(m, "branches unsupported\n");
		return 0;
	}
	seq_printf(m, "branches indirect=%s return=%s sls=%d ibt=%d\n",
		   f & KWASM_BRANCH_THUNK ? "thunk" :
		   f & KWASM_BRANCH_LFENCE ? "lfence" : "native",
		   f & KWASM_BRANCH_RETURN_THUNK ? "thunk" : "ret",
		   !!(f & KWASM_BRANCH_SLS), !!(f & KWASM_BRANCH_IBT));
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(kwasm_cache);
DEFINE_SHOW_ATTRIBUTE(kwasm_mem);
DEFINE_SHOW_ATTRIBUTE(kwasm_compile);
DEFINE_SHOW_ATTRIBUTE(kwasm_code);
DEFINE_SHOW_ATTRIBUTE(kwasm_images);
DEFINE_SHOW_ATTRIBUTE(kwasm_panics);

int kwasm_stats_init(void)
{
	struct dentry *dir = debugfs_create_dir("kwasm", NULL);

	/* debugfs failures are not fatal, and its functions accept them. */
	debugfs_create_file("cache", 0400, dir, NULL, &kwasm_cache_fops);
	debugfs_create_file("memory", 0400, dir, NULL, &kwasm_mem_fops);
	debugfs_create_file("compile", 0400, dir, NULL, &kwasm_compile_fops);
	debugfs_create_file("code", 0400, dir, NULL, &kwasm_code_fops);
	debugfs_create_file("images", 0400, dir, NULL, &kwasm_images_fops);
	debugfs_create_file("panics", 0400, dir, NULL, &kwasm_panics_fops);
	return 0;
}
