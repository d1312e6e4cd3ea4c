// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm against hostile users: modules that ask for more than the machine
 * has, compiles that run out of budget or are killed, and log messages a
 * user can provoke. Every case must end in a clean error for the user (an
 * errno or an exit status) and leave the kernel usable; the test runner
 * fails the whole run on any oops, BUG or WARN in the kernel log.
 */

#include "kwasm_util.h"

#include <signal.h>
#include <time.h>

#include "../kselftest_harness.h"

#define NOBODY 65534
#define COMPILE_STATS "/sys/kernel/debug/kwasm/compile"
#define BUDGET_PARAM "/sys/module/kwasm/parameters/compile_memory_mb"
#define SECONDS_PARAM "/sys/module/kwasm/parameters/compile_seconds"
#define CODE_LIMIT_PARAM "/sys/module/kwasm/parameters/code_limit_mb"
#define MAX_MEMORIES_PARAM "/sys/module/kwasm/parameters/max_memories"
#define MEMORY_STATS "/sys/kernel/debug/kwasm/memory"
#define PANIC_PARAM "/sys/module/kwasm/parameters/hostcall_panic_pid"
#define MAX_COMPILES_PARAM "/sys/module/kwasm/parameters/max_compiles"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* After each refusal the machine still runs programs. */
static int hello_runs(void)
{
	char *const argv[] = { "./hello.wasm", "again", NULL };
	static struct result r;

	run_as("./hello.wasm", argv, NOBODY, &r);
	return !r.exec_errno && WIFEXITED(r.status) &&
	       WEXITSTATUS(r.status) == 0 && !strcmp(r.out, "Hello, again!\n");
}

FIXTURE(hostile) {
	struct result r;
};

FIXTURE_SETUP(hostile) {}
FIXTURE_TEARDOWN(hostile) {}

TEST_F(hostile, initial_memory_larger_than_ram_is_refused_with_enomem)
{
	char *const argv[] = { "./huge_initial_memory.wasm", NULL };

	run_as(argv[0], argv, NOBODY, &self->r);
	ASSERT_EQ(ENOMEM, self->r.exec_errno)
		TH_LOG("expected execve to fail with ENOMEM, got errno %d (status %#x)",
		       self->r.exec_errno, self->r.status);
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

TEST_F(hostile, hundred_tables_of_ten_million_elements_are_refused_with_enomem)
{
	char *const argv[] = { "./many_huge_tables.wasm", NULL };

	run_as(argv[0], argv, NOBODY, &self->r);
	ASSERT_EQ(ENOMEM, self->r.exec_errno)
		TH_LOG("expected execve to fail with ENOMEM, got errno %d (status %#x)",
		       self->r.exec_errno, self->r.status);
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

TEST_F_TIMEOUT(hostile, compile_over_its_memory_budget_is_abandoned_with_enomem, 600)
{
	char *const argv[] = { "/tmp/over_budget.wasm", NULL };
	long abandoned = stat_of(COMPILE_STATS, "abandoned");

	ASSERT_LE(0, abandoned) TH_LOG("no %s", COMPILE_STATS);
	ASSERT_EQ(0, copy_unique("./big_module.wasm", argv[0], "over-budget"));
	ASSERT_EQ(0, write_str(BUDGET_PARAM, "1"));
	run_as(argv[0], argv, NOBODY, &self->r);
	ASSERT_EQ(0, write_str(BUDGET_PARAM, "256"));
	ASSERT_EQ(ENOMEM, self->r.exec_errno)
		TH_LOG("expected execve to fail with ENOMEM under a 1 MiB budget, got errno %d (status %#x)",
		       self->r.exec_errno, self->r.status);
	EXPECT_EQ(abandoned + 1, stat_of(COMPILE_STATS, "abandoned"));
	EXPECT_TRUE(klog_has("over_budget.wasm", "compile_memory_mb"))
		TH_LOG("no kernel log line naming the file and the budget");
	EXPECT_EQ(0, stat_of(COMPILE_STATS, "running"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/*
 * Execs of the same bytes wait for one compile, so a compile's time is
 * bounded too (kwasm.compile_seconds).
 */
TEST_F_TIMEOUT(hostile, compile_over_its_time_is_abandoned_with_etime, 600)
{
	char *const argv[] = { "/tmp/over_time.wasm", NULL };
	long abandoned = stat_of(COMPILE_STATS, "abandoned");
	long t0, took;

	ASSERT_LE(0, abandoned) TH_LOG("no %s", COMPILE_STATS);
	ASSERT_EQ(0, copy_unique("./big_module.wasm", argv[0], "over-time"));
	ASSERT_EQ(0, write_str(SECONDS_PARAM, "1"));
	t0 = now_ms();
	run_as(argv[0], argv, NOBODY, &self->r);
	took = now_ms() - t0;
	ASSERT_EQ(0, write_str(SECONDS_PARAM, "300"));
	ASSERT_EQ(ETIME, self->r.exec_errno)
		TH_LOG("expected execve to fail with ETIME after 1 s of compiling, got errno %d (status %#x) after %ld ms",
		       self->r.exec_errno, self->r.status, took);
	EXPECT_EQ(abandoned + 1, stat_of(COMPILE_STATS, "abandoned"));
	EXPECT_TRUE(klog_has("over_time.wasm", "compile_seconds"))
		TH_LOG("no kernel log line naming the file and the limit");
	EXPECT_EQ(0, stat_of(COMPILE_STATS, "running"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/* User plus system CPU time of pid, in clock ticks; -1 if unreadable. */
static long cpu_ticks(pid_t pid)
{
	static char buf[4096];
	unsigned long ut, st;
	char *p;

	if (read_proc(pid, "stat", buf, sizeof(buf)) <= 0)
		return -1;
	/* After "(comm)": state and 10 more fields, then utime and stime. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return ut + st;
}

/* Starts path (a copy of big_module.wasm) as uid; its pid. */
static pid_t start_compile(const char *path, uid_t uid)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };

		if (uid && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(path, argv);
		_exit(127);
	}
	return pid;
}

/*
 * With one compile slot, taken by one user's long compile, another user's
 * exec waits for the slot asleep: it used to spin, its wait condition
 * waking the queue it waited on.
 */
TEST_F_TIMEOUT(hostile, an_exec_waiting_for_a_compile_slot_sleeps, 600)
{
	long deadline, t0, t1;
	pid_t a, b;
	int status;

	ASSERT_EQ(0, copy_unique("./big_module.wasm", "/tmp/slot_a.wasm", "slot-a"));
	ASSERT_EQ(0, copy_unique("./big_module.wasm", "/tmp/slot_b.wasm", "slot-b"));
	ASSERT_EQ(0, write_str(MAX_COMPILES_PARAM, "1"));
	a = start_compile("/tmp/slot_a.wasm", NOBODY);
	ASSERT_LT(0, a);
	deadline = now_ms() + 10000;
	while (stat_of(COMPILE_STATS, "running") < 1 && now_ms() < deadline)
		usleep(5000);
	b = start_compile("/tmp/slot_b.wasm", 0);
	ASSERT_LT(0, b);
	/* Let b reach the wait, then take its CPU time over a second. */
	usleep(500000);
	t0 = cpu_ticks(b);
	usleep(1000000);
	t1 = cpu_ticks(b);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	waitpid(a, &status, 0);
	waitpid(b, &status, 0);
	write_str(MAX_COMPILES_PARAM, "0");
	ASSERT_LE(0, t0);
	ksft_print_msg("an exec waiting 1 s for the compile slot used %ld ticks of CPU (%ld per s)\n",
		       t1 - t0, sysconf(_SC_CLK_TCK));
	EXPECT_GT(sysconf(_SC_CLK_TCK) / 10, t1 - t0)
		TH_LOG("the waiting exec used %ld of %ld ticks: it spins",
		       t1 - t0, sysconf(_SC_CLK_TCK));
	EXPECT_EQ(0, stat_of(COMPILE_STATS, "running"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/* Module space for placed code is bounded (image.c, like bpf_jit_limit). */
TEST_F(hostile, code_over_the_code_space_limit_is_refused_with_enomem)
{
	char *const argv[] = { "./hello.wasm", "limit", NULL };

	ASSERT_EQ(0, write_str(CODE_LIMIT_PARAM, "0"));
	run_as(argv[0], argv, NOBODY, &self->r);
	ASSERT_EQ(0, write_str(CODE_LIMIT_PARAM, "256"));
	EXPECT_EQ(ENOMEM, self->r.exec_errno)
		TH_LOG("expected execve to fail with ENOMEM with no code space, got errno %d (status %#x)",
		       self->r.exec_errno, self->r.status);
	EXPECT_TRUE(klog_has("hello.wasm", "code_limit_mb"))
		TH_LOG("no kernel log line naming the file and the limit");
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/* Starts spin.wasm (one linear memory) as @uid; its pid, or -1. */
static pid_t spin_as(int uid)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *const argv[] = { "./spin.wasm", NULL };

		if (setgid(uid) || setuid(uid))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/*
 * kwasm.max_memories is global; a user may hold at most half of it
 * (kwasm.user_share_pct), so another user can still run programs.
 */
TEST_F(hostile, one_user_cannot_take_another_users_share_of_the_memories)
{
	char *const argv[] = { "./hello.wasm", "share", NULL };
	long max = stat_of(MEMORY_STATS, "max_memories");
	char old[32];
	pid_t pid;

	ASSERT_LT(0, max) TH_LOG("no max_memories in %s", MEMORY_STATS);
	ASSERT_EQ(0, stat_of(MEMORY_STATS, "memories"))
		TH_LOG("programs still hold linear memories");
	snprintf(old, sizeof(old), "%ld", max);
	ASSERT_EQ(0, write_str(MAX_MEMORIES_PARAM, "2"));
	pid = spin_as(NOBODY);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, wait_running(pid)) TH_LOG("spin.wasm did not start");
	/* Its second memory would be all of nobody's share (1 of 2). */
	run_as(argv[0], argv, NOBODY, &self->r);
	EXPECT_EQ(ENOMEM, self->r.exec_errno)
		TH_LOG("expected a second program of the same user to fail with ENOMEM, got errno %d (status %#x)",
		       self->r.exec_errno, self->r.status);
	EXPECT_TRUE(klog_has("hello.wasm", "share"))
		TH_LOG("no kernel log line naming the file and the user's share");
	/* The other memory is another user's to take. */
	run_as(argv[0], argv, NOBODY - 1, &self->r);
	EXPECT_EQ(0, self->r.exec_errno)
		TH_LOG("expected another user's program to run, got errno %d",
		       self->r.exec_errno);
	EXPECT_STREQ("Hello, share!\n", self->r.out);
	stop_and_reap(pid);
	ASSERT_EQ(0, write_str(MAX_MEMORIES_PARAM, old));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/*
 * A panic in kwasm's Rust code during a host call (a kwasm bug a program
 * could trigger; injected here with CONFIG_KWASM_FAULT_INJECTION) ends
 * that program with SIGSYS instead of BUG()ing the kernel.
 */
TEST_F(hostile, panic_in_a_host_call_ends_only_that_program)
{
	char *const argv[] = { "./hello.wasm", "panic", NULL };
	char pid_str[16], c = 'x';
	int go[2], status;
	pid_t pid;

	if (access(PANIC_PARAM, W_OK))
		SKIP(return, "no %s (CONFIG_KWASM_FAULT_INJECTION)", PANIC_PARAM);
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(125);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(go[0]);
	snprintf(pid_str, sizeof(pid_str), "%d", pid);
	ASSERT_EQ(0, write_str(PANIC_PARAM, pid_str));
	ASSERT_EQ(1, write(go[1], &c, 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		TH_LOG("expected the program to end with SIGSYS, got status %#x",
		       status);
	EXPECT_TRUE(klog_has("host call panicked", "injected by kwasm.hostcall_panic_pid"))
		TH_LOG("no kernel log line about the panic");
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "memories"))
		TH_LOG("the program's memory was not freed");
	EXPECT_LE(1, stat_of("/sys/kernel/debug/kwasm/panics", "kept"))
		TH_LOG("what the panic left is not counted as kept");
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

TEST_F_TIMEOUT(hostile, sigkill_during_compile_ends_the_exec_at_once, 600)
{
	const char *path = "/tmp/killed_in_compile.wasm";
	long abandoned = stat_of(COMPILE_STATS, "abandoned");
	long t0, waited, deadline;
	int status;
	pid_t pid;

	ASSERT_EQ(0, copy_unique("./big_module.wasm", path, "killed"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		execv(path, argv);
		_exit(127);
	}
	/* Wait until the compile runs, then let it get going. */
	deadline = now_ms() + 10000;
	while (stat_of(COMPILE_STATS, "running") < 1 && now_ms() < deadline)
		usleep(5000);
	ASSERT_LE(1, stat_of(COMPILE_STATS, "running"))
		TH_LOG("the compile of %s never started", path);
	usleep(500000);
	t0 = now_ms();
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	waited = now_ms() - t0;
	ksft_print_msg("SIGKILL during compile: exec ended %ld ms after kill()\n",
		       waited);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("expected death by SIGKILL, got status %#x", status);
	EXPECT_EQ(abandoned + 1, stat_of(COMPILE_STATS, "abandoned"));
	/* A bound a stuck compile cannot meet (the compile takes ~20 s). */
	EXPECT_GT(1000, waited)
		TH_LOG("the exec took %ld ms to end after SIGKILL", waited);
	EXPECT_EQ(0, stat_of(COMPILE_STATS, "running"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/* Starts path as nobody with its stdout on a pipe, the read end in *out. */
static pid_t start_piped(const char *path, int *out)
{
	char *const argv[] = { (char *)path, NULL };

	return spawn_piped(argv, NOBODY, out);
}

/* Reads fd until what was read ends with want; 0 then, -1 at EOF. */
static int read_until(int fd, const char *want)
{
	size_t n = strlen(want), have = 0;
	char tail[16] = { 0 };
	char c;

	while (read(fd, &c, 1) == 1) {
		memmove(tail, tail + 1, sizeof(tail) - 2);
		tail[sizeof(tail) - 2] = c;
		if (++have >= n && !strcmp(tail + sizeof(tail) - 1 - n, want))
			return 0;
	}
	return -1;
}

/*
 * Kills pid and returns the milliseconds until it was reaped; *status gets
 * how it ended.
 */
static long kill_and_time(pid_t pid, int *status)
{
	long t0 = now_ms();

	kill(pid, SIGKILL);
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return now_ms() - t0;
}

/*
 * grow_then_fill.wasm grows its memory by 750 MiB in one memory.grow, then
 * fills all of it with one memory.fill after another. Either instruction is
 * seconds of kernel work under emulation. Killed in the middle of either,
 * the program must die in a fraction of what the instruction takes: the
 * grow stops between batches of pages and the fill between 1 MiB chunks.
 */
TEST_F_TIMEOUT(hostile, sigkill_during_a_750mib_memory_grow_ends_it_early, 300)
{
	long t0, grow_ms, waited;
	int fd, status;
	pid_t pid;

	/*
	 * Twice whole, to time the grow: the first run also compiles the
	 * module and has the VM's memory touched for the first time (slow
	 * under QEMU); the second is the one timed.
	 */
	for (int i = 0; i < 2; i++) {
		pid = start_piped("./grow_then_fill.wasm", &fd);
		ASSERT_LE(0, pid);
		ASSERT_EQ(0, read_until(fd, "grow\n"));
		t0 = now_ms();
		ASSERT_EQ(0, read_until(fd, "fill\n"))
			TH_LOG("the 750 MiB grow was refused (exit status 2?)");
		grow_ms = now_ms() - t0;
		kill_and_time(pid, &status);
		close(fd);
	}

	pid = start_piped("./grow_then_fill.wasm", &fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, read_until(fd, "grow\n"));
	usleep(grow_ms * 1000 / 4);
	waited = kill_and_time(pid, &status);
	close(fd);
	ksft_print_msg("750 MiB memory.grow takes %ld ms; SIGKILL a quarter into it: dead %ld ms later\n",
		       grow_ms, waited);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("expected death by SIGKILL, got status %#x", status);
	/* Unmapping what was mapped is left, not the rest of the grow. */
	EXPECT_GT(grow_ms / 2, waited)
		TH_LOG("died %ld ms after SIGKILL, the whole grow takes %ld ms",
		       waited, grow_ms);
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "bytes"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/*
 * A fill is fast (~100 ms for 750 MiB under TCG) next to unmapping the
 * memory, so the time to die says little here; what this proves is that a
 * kill landing inside the fill's chunk loop ends the program cleanly and
 * frees its memory. (The loop's stop at a pending safepoint is proven on
 * the host by kwasm-runtime's tests.)
 */
TEST_F_TIMEOUT(hostile, sigkill_during_a_750mib_memory_fill_frees_the_memory, 300)
{
	long t0, fill_ms, waited;
	int fd, status;
	pid_t pid;

	pid = start_piped("./grow_then_fill.wasm", &fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, read_until(fd, "fill\n"))
		TH_LOG("the 750 MiB grow was refused (exit status 2?)");
	ASSERT_EQ(0, read_until(fd, "."));
	t0 = now_ms();
	ASSERT_EQ(0, read_until(fd, "."));
	fill_ms = now_ms() - t0;
	usleep(fill_ms * 1000 / 4);
	waited = kill_and_time(pid, &status);
	close(fd);
	ksft_print_msg("750 MiB memory.fill takes %ld ms; SIGKILL a quarter into one: dead %ld ms later\n",
		       fill_ms, waited);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("expected death by SIGKILL, got status %#x", status);
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "bytes"));
	ASSERT_TRUE(hello_runs()) TH_LOG("hello.wasm no longer runs");
}

/*
 * random_forever.wasm fills 64 MiB with random_get again and again: one
 * host call that is seconds of kernel work under emulation. Killed a
 * quarter into one, the program must die long before the call would have
 * ended: the fill stops at a fatal signal between pages.
 */
TEST_F_TIMEOUT(hostile, sigkill_during_a_64mib_random_get_ends_it_early, 300)
{
	long t0, call_ms, waited;
	int fd, status;
	pid_t pid;

	pid = start_piped("./random_forever.wasm", &fd);
	ASSERT_LE(0, pid);
	ASSERT_EQ(0, read_until(fd, "random\n"));
	/* The first fill also faults the 64 MiB in: time the second. */
	ASSERT_EQ(0, read_until(fd, "."));
	t0 = now_ms();
	ASSERT_EQ(0, read_until(fd, "."));
	call_ms = now_ms() - t0;
	usleep(call_ms * 1000 / 4);
	waited = kill_and_time(pid, &status);
	close(fd);
	ksft_print_msg("random_get of 64 MiB takes %ld ms; SIGKILL a quarter into one: dead %ld ms later\n",
		       call_ms, waited);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("expected death by SIGKILL, got status %#x", status);
	EXPECT_GT(call_ms / 2, waited)
		TH_LOG("died %ld ms after SIGKILL, one random_get takes %ld ms",
		       waited, call_ms);
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "bytes"));
}

/* Counts kernel log lines containing s. */
static int klog_count(const char *s)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	char *line, *save = NULL;
	int count = 0;

	if (n < 0)
		return -1;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		count += !!strstr(line, s);
	return count;
}

TEST_F_TIMEOUT(hostile, names_in_log_messages_are_escaped, 120)
{
	const char *path = "/tmp/evil\nkwasm: forged line.wasm";
	char *const argv[] = { (char *)path, NULL };

	/* Let the log's rate limit (10 per 5 s) recover from earlier tests. */
	sleep(6);
	ASSERT_EQ(0, copy_unique("./trap_unreachable.wasm", path, "evil"));
	run_as(path, argv, NOBODY, &self->r);
	ASSERT_TRUE(WIFSIGNALED(self->r.status))
		TH_LOG("expected the trap to end the program, status %#x",
		       self->r.status);
	EXPECT_TRUE(klog_has("evil\\nkwasm: forged line.wasm", "unreachable"))
		TH_LOG("no trap line with the name escaped");
	/* Every occurrence is inside an escaped name, none starts a line. */
	EXPECT_EQ(klog_count("evil\\nkwasm: forged line"),
		  klog_count("kwasm: forged line"))
		TH_LOG("a newline in a file name forged a log line");
}

TEST_F_TIMEOUT(hostile, trap_messages_are_rate_limited, 300)
{
	char *const argv[] = { "./trap_unreachable.wasm", NULL };
	int i, before, after, allowed;
	long t0, took;

	before = klog_count("trap_unreachable.wasm: trap");
	t0 = now_ms();
	for (i = 0; i < 40; i++) {
		run_as(argv[0], argv, NOBODY, &self->r);
		ASSERT_TRUE(WIFSIGNALED(self->r.status))
			TH_LOG("run %d: status %#x", i, self->r.status);
	}
	took = now_ms() - t0;
	after = klog_count("trap_unreachable.wasm: trap");
	/*
	 * 10 lines per 5 s: one interval for each 5 s the loop took, and one
	 * more for an interval that began before it (a slow debug kernel
	 * gets more intervals, not more lines per interval).
	 */
	allowed = 10 * (took / 5000 + 2);
	ksft_print_msg("40 trapping execs in %ld ms wrote %d trap lines (at most %d allowed)\n",
		       took, after - before, allowed);
	EXPECT_GE(allowed, after - before)
		TH_LOG("40 traps in %ld ms wrote %d log lines, expected at most %d",
		       took, after - before, allowed);
}

/*
 * Runs path as uid with only env, all fds above 2 closed; returns the wait
 * status.
 */
static int run_with_env(const char *path, int uid, char *env)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };
		char *const envp[] = { env, NULL };

		close_range(3, ~0U, 0);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execve(path, argv, envp);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return status;
}

TEST(setuid_wasm_gets_no_preopens_chosen_by_its_caller)
{
	const char *path = "/tmp/suid_preopens.wasm";
	char env[] = "KWASM_DIRS=/tmp/root_only::/data";
	int status;

	mkdir("/tmp/root_only", 0700);
	write_file("/tmp/root_only/secret", "secret\n", 7);
	ASSERT_EQ(0, copy_unique("./count_preopens.wasm", path, "suid"));
	ASSERT_EQ(0, chown(path, 0, 0));

	/* Control: without the setuid bit, root gets the preopen at fd 3. */
	ASSERT_EQ(0, chmod(path, 0755));
	status = run_with_env(path, -1, env);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	ASSERT_EQ(13, WEXITSTATUS(status))
		TH_LOG("expected KWASM_DIRS to preopen fd 3 for root, exit %d",
		       WEXITSTATUS(status));

	/* setuid root, run by nobody: the caller's KWASM_DIRS is ignored. */
	ASSERT_EQ(0, chmod(path, 04755));
	status = run_with_env(path, NOBODY, env);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("a setuid program got a caller-chosen preopen at fd %d",
		       WEXITSTATUS(status) - 10);

	/* Nor the caller's current directory, preopened by default. */
	status = run_with_env(path, NOBODY, "KWASM_TEST=1");
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("a setuid program got the caller's directory at fd %d",
		       WEXITSTATUS(status) - 10);
}

TEST_HARNESS_MAIN
