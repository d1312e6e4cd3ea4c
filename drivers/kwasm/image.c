// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm code images, shaped like BPF images: one execmem allocation in
 * module space (within +-2 GiB of kernel text) holds a program's compiled
 * code followed by its exception table, one entry per trap site, sorted
 * by address (traps.c searches it). Every sealed image is on an RCU list
 * so that kallsyms and the unwinders know its functions:
 * kwasm_<file>_f<index> in oopses, %pS, stack traces and /proc/kallsyms;
 * perf gets a KSYMBOL event for each.
 *
 * The image is read-only and executable once sealed; the entries hold
 * 32-bit offsets from themselves to the code and to kwasm_trap_landing.
 */

#include <linux/ctype.h>
#include <linux/execmem.h>
#include <linux/extable.h>
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>
#include <linux/perf_event.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/extable_fixup_types.h>

#include "kwasm.h"

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "kwasm."

/*
 * Compiled code of all programs together in module space, which it shares
 * with modules and BPF programs (like bpf_jit_limit). Every exec places its
 * module's code, so this bounds what many running programs can take.
 */
static unsigned long code_limit_mb = 256;
module_param(code_limit_mb, ulong, 0644);
MODULE_PARM_DESC(code_limit_mb,
		 "Compiled code of all running programs in module space, MiB");

atomic_long_t kwasm_code_bytes = ATOMIC_LONG_INIT(0);

/* Longest file name part of a symbol (kwasm_<name>_f<index>). */
#define KWASM_IMAGE_NAME 32

/**
 * struct kwasm_image - one program's placed code.
 * @node: entry of kwasm_images (RCU).
 * @mem: the execmem allocation, @size bytes: code, then @ex.
 * @start: first byte of code.
 * @end: one past the last byte of code.
 * @ex: the exception table, @nex entries: one per trap site sorted by
 *	address, then one for any other address in the code.
 * @nex: number of entries of @ex.
 * @listed: on kwasm_images.
 * @nsites: trap-site entries set so far (they must come in address order).
 * @last_site: code offset of the last of them.
 * @free_work: frees the code after an RCU grace period.
 * @first_func: function index of @funcs[0] (the module's imports come first).
 * @nfuncs: number of @funcs.
 * @name: file name with every byte but [A-Za-z0-9_] replaced, for symbols.
 * @nrelocs: number of @relocs.
 * @relocs: the rel32 branches filled at placement (kwasm_abi::CodeReloc),
 *	for the debugfs dump that tests check placed code with.
 * @funcs: code offset and length of each defined function.
 */
struct kwasm_image {
	struct list_head node;
	void *mem;
	size_t size;
	unsigned long start;
	unsigned long end;
	struct exception_table_entry *ex;
	u32 nex;
	u32 nsites;
	u32 last_site;
	bool listed;
	struct rcu_work free_work;
	u32 first_func;
	u32 nfuncs;
	char name[KWASM_IMAGE_NAME];
	/* Whose share of kwasm.code_limit_mb the code takes (user_share.c). */
	struct kwasm_user *user;
	u32 nrelocs;
	struct {
		u32 offset;
		u32 sym;
	} *relocs;
	struct {
		u32 start;
		u32 len;
	} funcs[];
};

static LIST_HEAD(kwasm_images);
static DEFINE_SPINLOCK(kwasm_images_lock);

static void kwasm_image_set_name(struct kwasm_image *img, const char *file)
{
	const char *base = strrchr(file, '/');
	size_t i;

	base = base ? base + 1 : file;
	/* ASCII only: the kernel's isalnum() takes Latin-1 letters too. */
	for (i = 0; i < KWASM_IMAGE_NAME - 1 && base[i]; i++)
		img->name[i] = isascii(base[i]) && isalnum(base[i]) ?
			       base[i] : '_';
	img->name[i] = '\0';
}

/* Points @e at @insn with the trap landing as fixup; false if out of reach. */
static bool kwasm_set_entry(struct exception_table_entry *e, unsigned long insn)
{
	long to_insn = (long)insn - (long)&e->insn;
	long to_fixup = (long)kwasm_trap_landing - (long)&e->fixup;

	if (to_insn != (s32)to_insn || to_fixup != (s32)to_fixup)
		return false;
	e->insn = to_insn;
	e->fixup = to_fixup;
	e->data = EX_TYPE_DEFAULT;
	return true;
}

/* Frees the code (execmem memory is VM_FLUSH_RESET_PERMS) and @img. */
static void kwasm_image_release(struct kwasm_image *img)
{
	execmem_free(img->mem);
	atomic_long_sub(img->size, &kwasm_code_bytes);
	kwasm_user_uncharge(img->user, KWASM_SHARE_CODE, img->size);
	kwasm_user_put(img->user);
	kvfree(img->relocs);
	kvfree(img);
}

/*
 * Allocates an image for @len bytes of @code with room for @nsites trap
 * sites and @nfuncs functions (the first one being function @first_func),
 * and copies the code. The code stays writable until kwasm_image_seal().
 * NULL if over kwasm.code_limit_mb, over @user's share of it, or out of
 * memory.
 */
struct kwasm_image *kwasm_image_alloc(const void *code, size_t len,
				      u32 nsites, u32 first_func, u32 nfuncs,
				      u32 nrelocs, const char *file,
				      struct kwasm_user *user)
{
	long limit = min(READ_ONCE(code_limit_mb), LONG_MAX >> 20) << 20;
	struct kwasm_image *img;
	size_t ex_at = ALIGN(len, sizeof(int));
	size_t size;

	if (check_add_overflow(nsites, 1U, &nsites) ||
	    check_add_overflow(ex_at, (size_t)nsites *
			       sizeof(struct exception_table_entry), &size))
		return NULL;
	size = PAGE_ALIGN(size);
	img = kvzalloc(struct_size(img, funcs, nfuncs),
		       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!img)
		return NULL;
	img->relocs = kvcalloc(nrelocs, sizeof(*img->relocs),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!img->relocs && nrelocs) {
		kvfree(img);
		return NULL;
	}
	img->nrelocs = nrelocs;
	if (!kwasm_user_charge(user, KWASM_SHARE_CODE, size, limit))
		goto free;
	if (atomic_long_add_return(size, &kwasm_code_bytes) > limit)
		goto uncharge;
	img->mem = execmem_alloc(EXECMEM_DEFAULT, size);
	if (!img->mem)
		goto uncharge;
	img->size = size;
	img->user = kwasm_user_hold(user);
	memset(img->mem, 0xcc, size);
	memcpy(img->mem, code, len);
	img->start = (unsigned long)img->mem;
	img->end = img->start + len;
	img->ex = img->mem + ex_at;
	img->nex = nsites;
	img->first_func = first_func;
	img->nfuncs = nfuncs;
	kwasm_image_set_name(img, file);
	/* The last entry answers for every address that is not a site. */
	if (!kwasm_set_entry(&img->ex[nsites - 1], img->start)) {
		kwasm_image_release(img);
		return NULL;
	}
	return img;

uncharge:
	atomic_long_sub(size, &kwasm_code_bytes);
	kwasm_user_uncharge(user, KWASM_SHARE_CODE, size);
free:
	kvfree(img->relocs);
	kvfree(img);
	return NULL;
}

/* The code, writable until kwasm_image_seal(). */
void *kwasm_image_code(struct kwasm_image *img)
{
	return img->mem;
}

/*
 * Sets the next exception-table entry, for the trap site at code offset
 * @offset: a fault there resumes at kwasm_trap_landing. Sites must come in
 * increasing address order (search_extable() bisects).
 */
int kwasm_image_set_site(struct kwasm_image *img, u32 offset)
{
	if (img->nsites >= img->nex - 1 || offset >= img->end - img->start)
		return -EINVAL;
	if (img->nsites && offset <= img->last_site)
		return -EINVAL;
	if (!kwasm_set_entry(&img->ex[img->nsites], img->start + offset))
		return -ERANGE;
	img->last_site = offset;
	img->nsites++;
	return 0;
}

/* Records relocation @i: the rel32 at code offset @offset goes to @sym. */
int kwasm_image_set_reloc(struct kwasm_image *img, u32 i, u32 offset, u32 sym)
{
	if (i >= img->nrelocs)
		return -EINVAL;
	img->relocs[i].offset = offset;
	img->relocs[i].sym = sym;
	return 0;
}

/* Records that defined function @i spans [@start, @start + @len). */
int kwasm_image_set_func(struct kwasm_image *img, u32 i, u32 start, u32 len)
{
	if (i >= img->nfuncs)
		return -EINVAL;
	img->funcs[i].start = start;
	img->funcs[i].len = len;
	return 0;
}

/* Announces (or withdraws) every function of @img to perf. */
static void kwasm_image_perf_ksymbols(const struct kwasm_image *img,
				      bool unregister)
{
	char sym[KSYM_NAME_LEN];
	u32 i;

	for (i = 0; i < img->nfuncs; i++) {
		snprintf(sym, sizeof(sym), "kwasm_%s_f%u", img->name,
			 img->first_func + i);
		perf_event_ksymbol(PERF_RECORD_KSYMBOL_TYPE_OOL,
				   img->start + img->funcs[i].start,
				   img->funcs[i].len, unregister, sym);
	}
}

/* Makes the image read-only and executable and names its functions. */
int kwasm_image_seal(struct kwasm_image *img)
{
	int ret;

	if (img->nsites != img->nex - 1)
		return -EINVAL;
	ret = set_memory_rox((unsigned long)img->mem, img->size >> PAGE_SHIFT);
	if (ret)
		return ret;
	spin_lock(&kwasm_images_lock);
	list_add_tail_rcu(&img->node, &kwasm_images);
	img->listed = true;
	spin_unlock(&kwasm_images_lock);
	kwasm_image_perf_ksymbols(img, false);
	return 0;
}

static void kwasm_image_free_work(struct work_struct *work)
{
	kwasm_image_release(container_of(to_rcu_work(work), struct kwasm_image,
					 free_work));
}

/*
 * Unlists @img and frees it once RCU readers (kallsyms, the unwinders, perf
 * reading instruction bytes of what kernel_text_address() accepted, in
 * NMI) can no longer see it, from a workqueue: execmem_free() sleeps.
 */
void kwasm_image_free(struct kwasm_image *img)
{
	if (!img->listed) {
		kwasm_image_release(img);
		return;
	}
	kwasm_image_perf_ksymbols(img, true);
	spin_lock(&kwasm_images_lock);
	list_del_rcu(&img->node);
	spin_unlock(&kwasm_images_lock);
	INIT_RCU_WORK(&img->free_work, kwasm_image_free_work);
	queue_rcu_work(system_wq, &img->free_work);
}

bool kwasm_image_contains(const struct kwasm_image *img, unsigned long addr)
{
	return addr >= img->start && addr < img->end;
}

/*
 * The exception-table entry for a fault at @addr, which the caller knows is
 * in @img's code. Only trap sites should fault; any other address is a
 * compiler bug, still ended as a trap rather than an oops, and reported.
 */
const struct exception_table_entry *
kwasm_image_search(const struct kwasm_image *img, unsigned long addr)
{
	const struct exception_table_entry *e;

	e = search_extable(img->ex, img->nex - 1, addr);
	if (e)
		return e;
	pr_err_ratelimited("kwasm: fault at %pS, not a trap site of its code\n",
			   (void *)addr);
	return &img->ex[img->nex - 1];
}

/* The symbol for @addr in @img: a function's or the image's. */
static int kwasm_image_symbol(const struct kwasm_image *img,
			      unsigned long addr, unsigned long *size,
			      unsigned long *off, char *sym)
{
	u32 at = addr - img->start;
	u32 lo = 0, hi = img->nfuncs;

	/* Functions come in address order (the layout places them so). */
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (at < img->funcs[mid].start)
			hi = mid;
		else if (at - img->funcs[mid].start >= img->funcs[mid].len)
			lo = mid + 1;
		else {
			/* kprobes and ftrace pass NULL for what they skip. */
			if (size)
				*size = img->funcs[mid].len;
			if (off)
				*off = at - img->funcs[mid].start;
			return snprintf(sym, KSYM_NAME_LEN, "kwasm_%s_f%u",
					img->name, img->first_func + mid);
		}
	}
	/* Trampolines, adapters, the safepoint stub. */
	if (size)
		*size = img->end - img->start;
	if (off)
		*off = at;
	return snprintf(sym, KSYM_NAME_LEN, "kwasm_%s", img->name);
}

int kwasm_address_lookup(unsigned long addr, unsigned long *size,
			 unsigned long *off, char *sym)
{
	struct kwasm_image *img;
	int ret = 0;

	rcu_read_lock();
	list_for_each_entry_rcu(img, &kwasm_images, node) {
		if (kwasm_image_contains(img, addr)) {
			ret = kwasm_image_symbol(img, addr, size, off, sym);
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}

bool is_kwasm_text_address(unsigned long addr)
{
	struct kwasm_image *img;
	bool ret = false;

	rcu_read_lock();
	list_for_each_entry_rcu(img, &kwasm_images, node) {
		if (kwasm_image_contains(img, addr)) {
			ret = true;
			break;
		}
	}
	rcu_read_unlock();
	return ret;
}

/* Symbol @symnum of all placed functions, for /proc/kallsyms. */
int kwasm_get_kallsym(unsigned int symnum, unsigned long *value, char *type,
		      char *sym)
{
	struct kwasm_image *img;
	int ret = -ERANGE;

	rcu_read_lock();
	list_for_each_entry_rcu(img, &kwasm_images, node) {
		if (symnum >= img->nfuncs) {
			symnum -= img->nfuncs;
			continue;
		}
		*value = img->start + img->funcs[symnum].start;
		*type = 't';
		snprintf(sym, KSYM_NAME_LEN, "kwasm_%s_f%u", img->name,
			 img->first_func + symnum);
		ret = 0;
		break;
	}
	rcu_read_unlock();
	return ret;
}

/* Largest code the debugfs dump shows byte by byte. */
#define KWASM_DUMP_MAX	SZ_64K

/*
 * debugfs kwasm/images: every placed image, its functions, relocations
 * and (up to KWASM_DUMP_MAX) code bytes, for tests that check the code
 * actually placed in the kernel (kwasm_branch_test).
 */
int kwasm_images_show(struct seq_file *m, void *v)
{
	struct kwasm_image *img;
	u32 i, len;

	rcu_read_lock();
	list_for_each_entry_rcu(img, &kwasm_images, node) {
		len = img->end - img->start;
		seq_printf(m, "image %s start %lx len %u\n", img->name,
			   img->start, len);
		for (i = 0; i < img->nfuncs; i++)
			seq_printf(m, "func %u %u\n", img->funcs[i].start,
				   img->funcs[i].len);
		for (i = 0; i < img->nrelocs; i++)
			seq_printf(m, "reloc %u %u\n", img->relocs[i].offset,
				   img->relocs[i].sym);
		/* Freed only after a grace period: readable under RCU. */
		for (i = 0; len <= KWASM_DUMP_MAX && i < len; i += 32)
			seq_printf(m, "code %u %*phN\n", i, (int)min(32U, len - i),
				   (u8 *)img->start + i);
		seq_puts(m, "end\n");
	}
	rcu_read_unlock();
	return 0;
}
