// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: messages in the kernel log.
 *
 * Any user can make kwasm log (a refused module, a trap), so all messages
 * share one rate limit, and every name that comes from a user (the file
 * name, the module's import names inside a reason) is escaped: a newline in
 * a name must not forge a log line.
 */

#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/string.h>

#include "kwasm.h"

static DEFINE_RATELIMIT_STATE(kwasm_log_rs, 5 * HZ, 10);

/* An exec of file was refused (or a program could not start) for reason. */
void kwasm_log_refusal(const char *file, const char *reason)
{
	if (__ratelimit(&kwasm_log_rs))
		pr_info("kwasm: %*pE: %*pE\n", (int)strlen(file), file,
			(int)strlen(reason), reason);
}

/*
 * A program trapped; func < 0 if the trap has no place in compiled code.
 * The program's code is still placed: %pS names the faulting instruction's
 * function through kallsyms (image.c), as an oops would.
 */
void kwasm_log_trap(const char *file, const char *trap, int func, u32 offset,
		    unsigned long ip)
{
	if (!__ratelimit(&kwasm_log_rs))
		return;
	if (func < 0)
		pr_info("kwasm: %*pE: trap: %s\n", (int)strlen(file), file, trap);
	else
		pr_info("kwasm: %*pE: trap: %s in function %d at offset %#x (%pS)\n",
			(int)strlen(file), file, trap, func, offset, (void *)ip);
}
