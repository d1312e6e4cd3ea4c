// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm concurrency and lifetime tests: float results stay bit-exact while
 * several programs share the CPUs (FPU state under preemption), many
 * instances of one module run at once, and many sequential execs leave
 * kernel memory where it was.
 */

#include "kwasm_util.h"

#include <signal.h>

#include "../kselftest_harness.h"

/* Loops of execs under emulation need more than the default 30 s. */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

/* Starts path with one argument, stdout to a pipe; returns the read end. */
static pid_t spawn(const char *path, const char *arg, int *out_fd)
{
	char *const argv[] = { (char *)path, (char *)arg, NULL };
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execv(path, argv);
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

static void collect(pid_t pid, int fd, char *buf, int *status)
{
	drain(fd, buf);
	close(fd);
	waitpid(pid, status, 0);
}

TEST_F_TIMEOUT(slow, float_results_are_bit_exact_under_concurrency, 300)
{
	static char alone[OUT_MAX], got[4][OUT_MAX];
	int fds[4], status, i;
	pid_t pids[4];

	/* Reference: one instance alone. */
	pids[0] = spawn("./float_mix.wasm", "300000", &fds[0]);
	ASSERT_LT(0, pids[0]);
	collect(pids[0], fds[0], alone, &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_NE(0, strlen(alone));

	/* Four at once on two CPUs: they are preempted in the middle of work. */
	for (i = 0; i < 4; i++) {
		pids[i] = spawn("./float_mix.wasm", "300000", &fds[i]);
		ASSERT_LT(0, pids[i]);
	}
	for (i = 0; i < 4; i++) {
		collect(pids[i], fds[i], got[i], &status);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		EXPECT_STREQ(alone, got[i]);
	}
}

TEST_F_TIMEOUT(slow, sixty_four_instances_of_one_module_run_at_once, 300)
{
	static char out[64][OUT_MAX];
	int fds[64], status, i;
	pid_t pids[64];

	for (i = 0; i < 64; i++) {
		pids[i] = spawn("./hello.wasm", "many", &fds[i]);
		ASSERT_LT(0, pids[i]);
	}
	for (i = 0; i < 64; i++) {
		collect(pids[i], fds[i], out[i], &status);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("instance %d: status %#x", i, status);
		EXPECT_STREQ("Hello, many!\n", out[i]);
	}
}

/* Kernel memory in KiB: slab + vmalloc + page tables, from /proc/meminfo. */
static long kernel_memory_kb(void)
{
	static const char *const keys[] = { "Slab:", "VmallocUsed:",
					    "PageTables:", "KernelStack:" };
	char line[256];
	long total = 0, v;
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned int i;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strncmp(line, keys[i], strlen(keys[i])) &&
			    sscanf(line + strlen(keys[i]), "%ld", &v) == 1)
				total += v;
	fclose(f);
	return total;
}

static void run_many(const char *path, int n)
{
	char *const argv[] = { (char *)path, NULL };
	int i, status;

	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			execv(path, argv);
			_exit(127);
		}
		waitpid(pid, &status, 0);
	}
}

TEST_F_TIMEOUT(slow, thousand_execs_leave_kernel_memory_at_baseline, 600)
{
	long before, after;

	/* Warm up caches (slabs, execmem) so they do not count as growth. */
	run_many("./exit_zero.wasm", 50);
	run_many("./trap_oob_load.wasm", 10);
	before = kernel_memory_kb();
	run_many("./exit_zero.wasm", 900);
	run_many("./trap_oob_load.wasm", 100);
	after = kernel_memory_kb();
	ASSERT_LT(0, before);
	/* A leak of one page per exec would be 4000 KiB. */
	EXPECT_GT(1024, after - before)
		TH_LOG("kernel memory %ld KiB before, %ld KiB after", before,
		       after);
	TH_LOG("kernel memory %ld KiB before, %ld KiB after 1000 execs",
	       before, after);
}

TEST_HARNESS_MAIN
