// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: linear memories.
 *
 * Each memory is a sparse reservation of kernel address space, 4 GiB plus a
 * 2 GiB guard (the BPF arena pattern), so that compiled code needs no bounds
 * checks: every 32-bit address plus a static offset below 2 GiB stays inside
 * the reservation, and everything beyond the current size is unmapped and
 * faults. Pages are mapped when the memory grows and charged to the task's
 * memory cgroup.
 */

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "kwasm.h"

#define KWASM_MEM_RESERVATION	(6ULL << 30)
#define KWASM_MEM_ACCESSIBLE	(4ULL << 30)

struct kwasm_mem {
	struct vm_struct *area;
	/* Bytes mapped from the start of the area. */
	u64 mapped;
};

/* Unmaps and frees the pages over [from, to), a batch at a time. */
static void kwasm_mem_unmap(struct kwasm_mem *mem, u64 from, u64 to)
{
	unsigned long base = (unsigned long)mem->area->addr;
	struct page *batch[64];
	u64 off = from, end;
	int i, n;

	while (off < to) {
		n = min_t(u64, ARRAY_SIZE(batch), (to - off) >> PAGE_SHIFT);
		end = off + ((u64)n << PAGE_SHIFT);
		for (i = 0; i < n; i++)
			batch[i] = vmalloc_to_page((void *)(base + off) +
						   ((u64)i << PAGE_SHIFT));
		vm_area_unmap_pages(mem->area, base + off, base + end);
		for (i = 0; i < n; i++)
			if (batch[i])
				__free_page(batch[i]);
		off = end;
		cond_resched();
	}
}

/* Maps zeroed pages over [old_bytes, new_bytes). */
int kwasm_mem_grow(struct kwasm_mem *mem, u64 old_bytes, u64 new_bytes)
{
	unsigned long base = (unsigned long)mem->area->addr;
	struct page *batch[64];
	u64 off = old_bytes;
	int i, n, err;

	if (old_bytes != mem->mapped || new_bytes < old_bytes ||
	    new_bytes > KWASM_MEM_ACCESSIBLE || !PAGE_ALIGNED(new_bytes))
		return -EINVAL;
	while (off < new_bytes) {
		n = min_t(u64, ARRAY_SIZE(batch), (new_bytes - off) >> PAGE_SHIFT);
		for (i = 0; i < n; i++) {
			batch[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					      __GFP_NOWARN);
			if (!batch[i])
				goto nomem;
		}
		err = vm_area_map_pages(mem->area, base + off,
					base + off + ((u64)n << PAGE_SHIFT),
					batch);
		if (err) {
			while (i--)
				__free_page(batch[i]);
			goto undo;
		}
		off += (u64)n << PAGE_SHIFT;
		mem->mapped = off;
		cond_resched();
	}
	return 0;

nomem:
	while (i--)
		__free_page(batch[i]);
	err = -ENOMEM;
undo:
	kwasm_mem_unmap(mem, old_bytes, mem->mapped);
	mem->mapped = old_bytes;
	return err;
}

struct kwasm_mem *kwasm_mem_reserve(u64 bytes)
{
	struct kwasm_mem *mem;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return NULL;
	mem->area = get_vm_area(KWASM_MEM_RESERVATION, VM_SPARSE);
	if (!mem->area) {
		kfree(mem);
		return NULL;
	}
	if (kwasm_mem_grow(mem, 0, bytes)) {
		kwasm_mem_free(mem);
		return NULL;
	}
	return mem;
}

void *kwasm_mem_base(struct kwasm_mem *mem)
{
	return mem->area->addr;
}

void kwasm_mem_free(struct kwasm_mem *mem)
{
	kwasm_mem_unmap(mem, 0, mem->mapped);
	free_vm_area(mem->area);
	kfree(mem);
}
