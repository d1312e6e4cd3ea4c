// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: turning faults in compiled code into wasm traps.
 *
 * Out-of-bounds accesses hit unmapped pages of the linear-memory
 * reservation (#PF), traps are ud2 (#UD), division by zero is #DE. All of
 * them reach fixup_exception() -> search_exception_tables(), which asks
 * search_kwasm_extables() (patches/: kernel/extable.c) after the kernel,
 * module and BPF tables. While compiled code runs, preemption is off and
 * the per-CPU kwasm_cur_run says whose code it is, so the lookup needs no
 * lock: if the address is in that run's image, it records the address and
 * returns the image's entry for it (image.c), which resumes at
 * kwasm_trap_landing and unwinds to kwasm_run_call(). The Rust side then
 * maps the address to the trap kind.
 */

#include <linux/extable.h>
#include <linux/percpu.h>
#include <linux/preempt.h>

#include "kwasm.h"

DECLARE_PER_CPU(struct kwasm_run *, kwasm_cur_run);

const struct exception_table_entry *search_kwasm_extables(unsigned long addr)
{
	struct kwasm_run *run;

	/*
	 * Compiled code runs with preemption off: a lookup from preemptible
	 * context (e.g. a uaccess fault) is never about it.
	 */
	if (preemptible())
		return NULL;
	run = this_cpu_read(kwasm_cur_run);
	if (!run || !run->image || !kwasm_image_contains(run->image, addr))
		return NULL;
	run->trap_ip = addr;
	return kwasm_image_search(run->image, addr);
}
