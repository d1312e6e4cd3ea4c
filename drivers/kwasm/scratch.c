// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: a run's scratch mapping. Some kernel interfaces only move data
 * through user memory: epoll_wait(), protocols' getsockopt(), and the
 * ->read/->write of files without ->read_iter/->write_iter (many procfs,
 * debugfs and character device files). A program's user address space
 * holds nothing else (its linear memory is kernel memory), so those calls
 * go through one anonymous mapping there: an ordinary mapping of the
 * task's, charged and limited like any other, freed with the mm.
 */

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/mman.h>

#include "kwasm.h"

/*
 * The most the run's mapping keeps: a larger buffer gets a mapping of its
 * own for one call, so that its pages do not stay behind.
 */
#define KWASM_SCRATCH_KEEP	(16 * PAGE_SIZE)

/* A new anonymous mapping of size bytes in the task's mm, or a -errno. */
static unsigned long kwasm_scratch_map(size_t size)
{
	return vm_mmap(NULL, 0, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, 0);
}

unsigned long kwasm_scratch(struct kwasm_run *run, size_t size)
{
	unsigned long buf;

	size = PAGE_ALIGN(size);
	if (size > run->scratch_size) {
		buf = kwasm_scratch_map(size);
		if (IS_ERR_VALUE(buf))
			return buf;
		if (run->scratch)
			vm_munmap(run->scratch, run->scratch_size);
		run->scratch = buf;
		run->scratch_size = size;
	}
	return run->scratch;
}

unsigned long kwasm_scratch_get(struct kwasm_run *run, size_t size)
{
	if (size <= KWASM_SCRATCH_KEEP)
		return kwasm_scratch(run, size);
	return kwasm_scratch_map(size);
}

void kwasm_scratch_put(struct kwasm_run *run, unsigned long buf, size_t size)
{
	if (buf != run->scratch)
		vm_munmap(buf, size);
}
