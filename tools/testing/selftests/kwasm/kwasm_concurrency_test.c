// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm concurrency and lifetime tests: float results stay bit-exact while
 * several programs share the CPUs (FPU state under preemption), many
 * instances of one module run at once, and many sequential execs leave
 * kernel memory where it was.
 */

#include "kwasm_util.h"

#include <sched.h>
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

	return spawn_piped(argv, -1, out_fd);
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

/*
 * A program moved between CPUs every 2 ms while it runs: it leaves compiled
 * code at safepoints (preemption, the migration) and host calls, and comes
 * back on the other CPU, where the per-CPU pointer to the running program
 * and its FPU state must follow it.
 */
TEST_F_TIMEOUT(slow, program_migrated_between_cpus_keeps_bit_exact_results, 300)
{
	static char alone[OUT_MAX], got[OUT_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int fd, status, moves = 0;
	cpu_set_t set;
	pid_t pid;

	ASSERT_LE(2, ncpu) TH_LOG("the machine has %ld CPU online; this test needs 2",
				  ncpu);
	pid = spawn("./float_mix.wasm", "300000", &fd);
	ASSERT_LT(0, pid);
	collect(pid, fd, alone, &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pid = spawn("./float_mix.wasm", "300000", &fd);
	ASSERT_LT(0, pid);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		CPU_ZERO(&set);
		CPU_SET(moves++ % 2, &set);
		sched_setaffinity(pid, sizeof(set), &set);
		usleep(2000);
	}
	drain(fd, got);
	close(fd);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x after %d moves", status, moves);
	EXPECT_STREQ(alone, got);
	EXPECT_LE(10, moves) TH_LOG("only %d moves while it ran", moves);
	TH_LOG("%d moves between CPUs 0 and 1", moves);
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

/*
 * Kernel memory in KiB: slab + vmalloc + page tables + kernel stacks from
 * /proc/meminfo, plus wasm linear memory (its pages are counted in none of
 * these) from /sys/kernel/debug/kwasm/memory.
 */
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
	f = fopen("/sys/kernel/debug/kwasm/memory", "r");
	if (!f)
		return -1;
	if (fscanf(f, "bytes %ld", &v) == 1)
		total += v / 1024;
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

/* Starts spin.wasm and waits until it is stopped by SIGSTOP, inside wasm. */
static pid_t spawn_stopped_spinner(void)
{
	char *const argv[] = { "./spin.wasm", NULL };
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	usleep(100 * 1000);
	kill(pid, SIGSTOP);
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
		return -1;
	return pid;
}

/*
 * SIGKILL, or a core-dumping signal followed by SIGCONT, ends a stopped
 * program from inside the kernel's signal code, not through kwasm's normal
 * exit path: everything must still be freed.
 */
TEST_F_TIMEOUT(slow, killing_stopped_programs_leaves_kernel_memory_at_baseline, 600)
{
	long before, after;
	int i, status;
	pid_t pid;

	for (i = 0; i < 60; i++) {
		int sig = i % 2 ? SIGQUIT : SIGKILL;

		if (i == 10)
			before = kernel_memory_kb();
		pid = spawn_stopped_spinner();
		ASSERT_LT(0, pid);
		ASSERT_EQ(0, kill(pid, sig));
		if (sig != SIGKILL)
			ASSERT_EQ(0, kill(pid, SIGCONT));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig)
			TH_LOG("expected death by signal %d, got status %#x",
			       sig, status);
	}
	after = kernel_memory_kb();
	/* Each program has a 512 KiB stack: 50 leaks would be 25 MiB. */
	EXPECT_GT(1024, after - before)
		TH_LOG("kernel memory %ld KiB before, %ld KiB after", before,
		       after);
	TH_LOG("kernel memory %ld KiB before, %ld KiB after 50 killed programs",
	       before, after);
}

/* Measures (and bounds) the kernel memory an idle instance holds. */
TEST_F_TIMEOUT(slow, idle_instance_holds_under_one_mib_of_kernel_memory, 300)
{
	enum { N = 16 };
	long before, after, per;
	pid_t pids[N];
	int i, status;

	/* Warm up (slabs, code cache). */
	pids[0] = spawn_stopped_spinner();
	ASSERT_LT(0, pids[0]);
	kill(pids[0], SIGKILL);
	waitpid(pids[0], &status, 0);

	before = kernel_memory_kb();
	for (i = 0; i < N; i++) {
		pids[i] = spawn_stopped_spinner();
		ASSERT_LT(0, pids[i]);
	}
	after = kernel_memory_kb();
	for (i = 0; i < N; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
	}
	per = (after - before) / N;
	/* Includes the task itself (kernel stack, mm, page tables). */
	EXPECT_GT(1024, per) TH_LOG("%ld KiB per idle instance", per);
	TH_LOG("kernel memory per idle instance (spin.wasm, 64 KiB linear memory, task included): %ld KiB",
	       per);
}

TEST_HARNESS_MAIN
