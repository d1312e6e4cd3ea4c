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
 * lock: if the address is in that run's code, it records the address and
 * returns an entry that resumes at kwasm_trap_landing, which unwinds to
 * kwasm_run_call(). The Rust side then maps the address to the trap kind.
 *
 * Entries hold 32-bit offsets from themselves, so they live in the kernel
 * image (one per CPU), within 2 GiB of both kernel text and module space.
 */

#include <linux/extable.h>
#include <linux/uaccess.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/smp.h>
#include <asm/extable_fixup_types.h>

#include "kwasm.h"

DECLARE_PER_CPU(struct kwasm_run *, kwasm_cur_run);

static struct exception_table_entry kwasm_ex[NR_CPUS];

const struct exception_table_entry *search_kwasm_extables(unsigned long addr)
{
	struct kwasm_run *run;
	struct exception_table_entry *e;

	/*
	 * Compiled code runs with preemption off: a lookup from preemptible
	 * context (e.g. a uaccess fault) is never about it.
	 */
	if (preemptible())
		return NULL;
	run = this_cpu_read(kwasm_cur_run);
	if (!run || addr < run->code_start || addr >= run->code_end)
		return NULL;
	e = &kwasm_ex[smp_processor_id()];
	e->insn = (long)addr - (long)&e->insn;
	e->fixup = (long)kwasm_trap_landing - (long)&e->fixup;
	e->data = EX_TYPE_DEFAULT;
	run->trap_ip = addr;
	return e;
}

unsigned long kwasm_run_trap_ip(struct kwasm_run *run)
{
	return run->trap_ip;
}

void kwasm_run_set_code(struct kwasm_run *run, const void *code, size_t len)
{
	run->code_start = (unsigned long)code;
	run->code_end = (unsigned long)code + len;
}
