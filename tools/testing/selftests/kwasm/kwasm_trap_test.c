// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm trap and signal tests: every wasm trap ends the program with the
 * documented signal and one kernel log line naming the trap (never an
 * oops), and a program spinning in a loop is ended promptly by signals.
 */

#include "kwasm_util.h"

#include <signal.h>
#include <time.h>

#include "../kselftest_harness.h"

/* Runs a module that must trap; checks the signal and the log line. */
static void expect_trap(struct __test_metadata *_metadata, const char *path,
			int sig, const char *kind)
{
	char *const argv[] = { (char *)path, NULL };
	static struct result r;
	static int traps;

	/*
	 * Trap lines are rate-limited (10 per 5 s, log.c); start a fresh
	 * window before the first and every 8th trap so that the lines this
	 * test looks for are not the suppressed ones.
	 */
	if (traps++ % 8 == 0)
		sleep(6);
	run(path, argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFSIGNALED(r.status))
		TH_LOG("expected death by signal %d, got status %#x", sig,
		       r.status);
	EXPECT_EQ(sig, WTERMSIG(r.status));
	EXPECT_TRUE(klog_has(path, kind))
		TH_LOG("no kernel log line with '%s' and '%s'", path, kind);
}

TEST(unreachable_kills_with_sigill)
{
	expect_trap(_metadata, "./trap_unreachable.wasm", SIGILL,
		    "trap: unreachable in function");
}

/* kallsyms knows compiled functions (image.c, patches/0006): %pS names it. */
TEST(trap_log_names_the_function_through_kallsyms)
{
	expect_trap(_metadata, "./trap_unreachable.wasm", SIGILL,
		    "(kwasm_trap_unreachable_wasm_f0+0x");
}

TEST(out_of_bounds_load_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_oob_load.wasm", SIGSEGV,
		    "trap: out of bounds memory access in function");
}

TEST(out_of_bounds_store_near_4gib_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_oob_high.wasm", SIGSEGV,
		    "trap: out of bounds memory access");
}

/* Short copies and fills are inline, bounded by the guard like a store. */
TEST(inline_memory_copy_past_the_end_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_oob_copy.wasm", SIGSEGV,
		    "trap: out of bounds memory access in function");
}

TEST(inline_memory_fill_near_4gib_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_oob_fill_high.wasm", SIGSEGV,
		    "trap: out of bounds memory access in function");
}

TEST(division_by_zero_kills_with_sigfpe)
{
	expect_trap(_metadata, "./trap_div_zero.wasm", SIGFPE,
		    "trap: integer divide by zero in function");
}

TEST(unbounded_recursion_kills_with_sigill)
{
	expect_trap(_metadata, "./trap_stack_overflow.wasm", SIGILL,
		    "trap: call stack exhausted");
}

TEST(null_indirect_call_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_indirect_null.wasm", SIGSEGV,
		    "trap: uninitialized element");
}

TEST(integer_overflow_kills_with_sigfpe)
{
	expect_trap(_metadata, "./trap_int_overflow.wasm", SIGFPE,
		    "trap: integer overflow in function");
}

TEST(nan_to_integer_kills_with_sigfpe)
{
	expect_trap(_metadata, "./trap_bad_conversion.wasm", SIGFPE,
		    "trap: invalid conversion to integer in function");
}

TEST(table_get_out_of_bounds_kills_with_sigsegv)
{
	expect_trap(_metadata, "./trap_table_oob.wasm", SIGSEGV,
		    "trap: out of bounds table access in function");
}

TEST(indirect_call_type_mismatch_kills_with_sigill)
{
	expect_trap(_metadata, "./trap_indirect_type.wasm", SIGILL,
		    "trap: indirect call type mismatch in function");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts spin.wasm, sends sig after it has run a while, expects death by it. */
static void expect_killed_by(struct __test_metadata *_metadata, int sig)
{
	char *const argv[] = { "./spin.wasm", NULL };
	double t0, t;
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	usleep(500 * 1000);
	/* Still running: the loop does not end by itself. */
	ASSERT_EQ(0, waitpid(pid, &status, WNOHANG));
	t0 = now();
	ASSERT_EQ(0, kill(pid, sig));
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10 * 1000);
	}
	t = now() - t0;
	if (i == 1000) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ASSERT_TRUE(0) TH_LOG("signal %d did not end the program in 10 s", sig);
	}
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(sig, WTERMSIG(status));
	TH_LOG("signal %d to exit: %.1f ms", sig, t * 1000);
}

TEST(spinning_program_dies_by_sigkill)
{
	expect_killed_by(_metadata, SIGKILL);
}

TEST(spinning_program_dies_by_sigterm)
{
	expect_killed_by(_metadata, SIGTERM);
}

TEST(spinning_program_dies_by_sigint)
{
	expect_killed_by(_metadata, SIGINT);
}

TEST(spinning_program_dies_by_sigquit)
{
	/* Core-dumping default action: delivered after the program is freed. */
	expect_killed_by(_metadata, SIGQUIT);
}

TEST(spinning_program_stops_and_continues)
{
	char *const argv[] = { "./spin.wasm", NULL };
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	usleep(300 * 1000);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG | WUNTRACED) == pid)
			break;
		usleep(10 * 1000);
	}
	ASSERT_GT(1000, i) TH_LOG("SIGSTOP did not stop the program in 10 s");
	ASSERT_TRUE(WIFSTOPPED(status)) TH_LOG("status %#x", status);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &status, WNOHANG | WCONTINUED) == pid)
			break;
		usleep(10 * 1000);
	}
	ASSERT_GT(1000, i) TH_LOG("SIGCONT did not continue the program");
	EXPECT_TRUE(WIFCONTINUED(status)) TH_LOG("status %#x", status);
	/* Running again: still there, then killed. */
	usleep(200 * 1000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST_HARNESS_MAIN
