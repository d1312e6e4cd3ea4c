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

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

/*
 * System-wide cap on the linear memory of all programs together, in MiB;
 * 0 means half of RAM. Growth past it (or past the task's RLIMIT_AS, which
 * a linear memory counts against like an mmap would) makes memory.grow
 * return -1.
 */
static unsigned long memory_limit_mb;
module_param(memory_limit_mb, ulong, 0644);
MODULE_PARM_DESC(memory_limit_mb,
		 "Total linear memory of all wasm programs, MiB (0: half of RAM)");

static atomic64_t kwasm_mem_total = ATOMIC64_INIT(0);

/*
 * Linear memories that may exist at once. Each reserves 6 GiB of the 32 TiB
 * vmalloc space: the default keeps kwasm to a fifth of it, whatever users do.
 */
static unsigned int max_memories = 1024;
module_param(max_memories, uint, 0644);
MODULE_PARM_DESC(max_memories, "Linear memories (6 GiB reservations) at once");

static atomic_t kwasm_mem_count = ATOMIC_INIT(0);

static u64 kwasm_mem_limit(void)
{
	if (memory_limit_mb)
		return (u64)memory_limit_mb << 20;
	return ((u64)totalram_pages() << PAGE_SHIFT) / 2;
}

/* Charges new_bytes - old_bytes against the limits; false if refused. */
static bool kwasm_mem_charge(u64 old_bytes, u64 new_bytes)
{
	u64 delta = new_bytes - old_bytes;

	if (new_bytes > rlimit(RLIMIT_AS))
		return false;
	if (atomic64_add_return(delta, &kwasm_mem_total) > kwasm_mem_limit()) {
		atomic64_sub(delta, &kwasm_mem_total);
		return false;
	}
	return true;
}

#define KWASM_MEM_RESERVATION	(6ULL << 30)
#define KWASM_MEM_ACCESSIBLE	(4ULL << 30)

struct kwasm_mem {
	struct vm_struct *area;
	/* Bytes mapped from the start of the area. */
	u64 mapped;
	/* Whose share of kwasm.max_memories this is (user_share.c). */
	struct kwasm_user *user;
};

/*
 * Pages unmapped per TLB flush when tearing down. Each vm_area_unmap_pages()
 * flushes the kernel TLB on every CPU; over 64-page batches that was ~240 ms
 * for a 750 MiB memory in the VM, most of a killed program's time to die.
 */
#define KWASM_UNMAP_BATCH	512

/*
 * Unmaps and frees the pages over [from, to), KWASM_UNMAP_BATCH at a time
 * (64 if the batch array cannot be allocated: teardown must not fail).
 */
static void kwasm_mem_unmap(struct kwasm_mem *mem, u64 from, u64 to)
{
	unsigned long base = (unsigned long)mem->area->addr;
	struct page *small[64], **batch;
	unsigned int max = KWASM_UNMAP_BATCH;
	u64 off = from, end;
	int i, n;

	batch = kmalloc_array(max, sizeof(*batch), GFP_KERNEL | __GFP_NOWARN);
	if (!batch) {
		batch = small;
		max = ARRAY_SIZE(small);
	}
	while (off < to) {
		n = min_t(u64, max, (to - off) >> PAGE_SHIFT);
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
	if (batch != small)
		kfree(batch);
}

/*
 * Maps zeroed pages over [old_bytes, new_bytes). Gigabytes take seconds to
 * zero (tens under KASAN and emulation): a fatal signal ends the growth
 * between batches, undoing it, so that a killed program dies promptly.
 */
int kwasm_mem_grow(struct kwasm_mem *mem, u64 old_bytes, u64 new_bytes)
{
	unsigned long base = (unsigned long)mem->area->addr, end;
	struct page *batch[64];
	u64 off = old_bytes;
	int i, n, err;

	if (old_bytes != mem->mapped || new_bytes < old_bytes ||
	    new_bytes > KWASM_MEM_ACCESSIBLE || !PAGE_ALIGNED(new_bytes))
		return -EINVAL;
	if (!kwasm_mem_charge(old_bytes, new_bytes))
		return -ENOMEM;
	while (off < new_bytes) {
		if (fatal_signal_pending(current)) {
			err = -EINTR;
			goto undo;
		}
		n = min_t(u64, ARRAY_SIZE(batch), (new_bytes - off) >> PAGE_SHIFT);
		for (i = 0; i < n; i++) {
			/* At the cgroup's limit, growth fails: no OOM kill. */
			batch[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO |
					      __GFP_NOWARN | __GFP_RETRY_MAYFAIL);
			if (!batch[i])
				goto nomem;
		}
		end = base + off + ((u64)n << PAGE_SHIFT);
		err = vm_area_map_pages(mem->area, base + off, end, batch);
		if (err) {
			/*
			 * It may have mapped part of the batch before failing
			 * (a page table it could not allocate): unmap that
			 * before the pages go back, or code past the memory's
			 * end could reach them.
			 */
			vm_area_unmap_pages(mem->area, base + off, end);
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
	atomic64_sub(new_bytes - old_bytes, &kwasm_mem_total);
	return err;
}

struct kwasm_mem *kwasm_mem_reserve(u64 bytes, struct kwasm_user *user)
{
	unsigned int limit = READ_ONCE(max_memories);
	struct kwasm_mem *mem;

	if (!kwasm_user_charge(user, KWASM_SHARE_MEMORIES, 1, limit))
		return NULL;
	if (atomic_inc_return(&kwasm_mem_count) > limit)
		goto uncount;
	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		goto uncount;
	mem->area = get_vm_area(KWASM_MEM_RESERVATION, VM_SPARSE);
	if (!mem->area) {
		kfree(mem);
		goto uncount;
	}
	mem->user = kwasm_user_hold(user);
	if (kwasm_mem_grow(mem, 0, bytes)) {
		kwasm_mem_free(mem);
		return NULL;
	}
	return mem;

uncount:
	atomic_dec(&kwasm_mem_count);
	kwasm_user_uncharge(user, KWASM_SHARE_MEMORIES, 1);
	return NULL;
}

void *kwasm_mem_base(struct kwasm_mem *mem)
{
	return mem->area->addr;
}

void kwasm_mem_free(struct kwasm_mem *mem)
{
	kwasm_mem_unmap(mem, 0, mem->mapped);
	atomic64_sub(mem->mapped, &kwasm_mem_total);
	free_vm_area(mem->area);
	atomic_dec(&kwasm_mem_count);
	kwasm_user_uncharge(mem->user, KWASM_SHARE_MEMORIES, 1);
	kwasm_user_put(mem->user);
	kfree(mem);
}

/* debugfs kwasm/memory (stats.c): linear memory of all programs, the caps. */
int kwasm_mem_show(struct seq_file *m, void *v)
{
	seq_printf(m, "bytes %lld\nlimit %llu\nmemories %d\nmax_memories %u\n",
		   (long long)atomic64_read(&kwasm_mem_total), kwasm_mem_limit(),
		   atomic_read(&kwasm_mem_count), READ_ONCE(max_memories));
	return 0;
}
