// SPDX-License-Identifier: GPL-2.0
/*
 * A task's seccomp filter applies to the host calls of the wasm program it
 * execs, as to the system calls of a native one: with the system call's
 * number and arguments, and the filter's action carried out.
 */

#include "kwasm_util.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"

#define ARG_LO(n) offsetof(struct seccomp_data, args[n])

/*
 * socket(AF_INET, ...) -> inet_action; openat(dirfd != AT_FDCWD, ...) ->
 * EACCES (the preopen itself, relative to AT_FDCWD, stays allowed);
 * clock_gettime -> EOPNOTSUPP; all else allowed.
 */
static int install_filter(__u32 inet_action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clock_gettime, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 0, 5),
		BPF_STMT(BPF_RET | BPF_K, inet_action),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (__u32)AT_FDCWD, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* Runs seccomp_probe.wasm under a filter (if inet_action); output in r. */
static void probe(__u32 inet_action, struct result *r)
{
	int out[2];
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(out))
		abort();
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { "./seccomp_probe.wasm", NULL };
		char *const envp[] = { "KWASM_DIRS=.", NULL };

		dup2(out[1], 1);
		/* The preopen goes to fd 3, where wasi-libc looks for it. */
		close_range(3, ~0U, 0);
		if (inet_action && install_filter(inet_action))
			_exit(125);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[1]);
	drain(out[0], r->out);
	waitpid(pid, &r->status, 0);
	close(out[0]);
}

TEST(without_a_filter_the_probe_opens_everything_and_reads_the_clocks)
{
	static struct result r;

	probe(0, &r);
	ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		TH_LOG("status %#x", r.status);
	EXPECT_STREQ("socket(AF_INET): ok\nsocket(AF_UNIX): ok\nopen: ok\nclock: ok\n", r.out);
}

TEST(filter_errno_denies_the_wasm_socket_open_and_clock)
{
	static struct result r;

	probe(SECCOMP_RET_ERRNO | EPERM, &r);
	ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		TH_LOG("status %#x", r.status);
	/*
	 * WASI errnos: 63 PERM, 2 ACCES, 58 NOTSUP. The clock, a leaf call
	 * without a filter, goes through the filter once there is one.
	 */
	EXPECT_STREQ("socket(AF_INET): errno 63\nsocket(AF_UNIX): ok\nopen: errno 2\nclock: errno 58\n",
		     r.out);
}

TEST(filter_kill_ends_the_wasm_program_with_sigsys)
{
	static struct result r;

	probe(SECCOMP_RET_KILL_PROCESS, &r);
	ASSERT_TRUE(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS)
		TH_LOG("expected death by SIGSYS, got status %#x, output %s",
		       r.status, r.out);
	EXPECT_STREQ("", r.out);
}

TEST(filter_trap_delivers_sigsys_to_the_wasm_program)
{
	static struct result r;

	probe(SECCOMP_RET_TRAP, &r);
	ASSERT_TRUE(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSYS)
		TH_LOG("expected death by SIGSYS, got status %#x, output %s",
		       r.status, r.out);
}

TEST_HARNESS_MAIN
