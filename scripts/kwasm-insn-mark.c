// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm-insn-mark CMD [ARGS...]: runs CMD between the two marker
 * instructions that scripts/kwasm-insn-plugin.c counts between, and exits
 * with CMD's status (128 + signal if a signal ended it). Static, for the
 * test VM. Outside QEMU with the plugin the markers are plain no-ops.
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

/* nopl 0x4b57000N(%rax,%rax,1): N = 1 starts counting, 2 ends it. */
static inline void mark_start(void)
{
	asm volatile(".byte 0x0f, 0x1f, 0x84, 0x00, 0x01, 0x00, 0x57, 0x4b" ::: "memory");
}

static inline void mark_end(void)
{
	asm volatile(".byte 0x0f, 0x1f, 0x84, 0x00, 0x02, 0x00, 0x57, 0x4b" ::: "memory");
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: kwasm-insn-mark CMD [ARGS...]\n");
		return 2;
	}
	mark_start();
	pid = fork();
	if (pid < 0) {
		perror("kwasm-insn-mark: fork");
		return 1;
	}
	if (pid == 0) {
		execv(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("kwasm-insn-mark: waitpid");
		return 1;
	}
	mark_end();
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
