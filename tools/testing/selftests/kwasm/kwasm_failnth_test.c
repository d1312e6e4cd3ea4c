// SPDX-License-Identifier: GPL-2.0
/*
 * An allocation failure at every point of an exec. Writing N to
 * /proc/thread-self/fail-nth makes the Nth fault-injection site the task
 * passes fail; with failslab and fail_page_alloc set to consider every
 * allocation (debugfs), that is the Nth slab or page allocation of the
 * exec, the compile (a new module) and the program. For N = 1, 2, ... until
 * execs run clean again, each exec must end in an errno, a signal or an exit
 * status, never a kernel report (the test runner fails the whole run on an
 * oops, BUG or WARN in the log), and kwasm's counters must come back to
 * zero.
 */

#include "kwasm_util.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/ptrace.h>

#include "../kselftest_harness.h"

#define NOBODY 65534
#define MEMORY_STATS "/sys/kernel/debug/kwasm/memory"
#define COMPILE_STATS "/sys/kernel/debug/kwasm/compile"
#define FAILSLAB "/sys/kernel/debug/failslab/"
#define FAIL_PAGE "/sys/kernel/debug/fail_page_alloc/"
/* Clean execs in a row after which the failures are past the exec. */
#define CLEAN_RUN 25

/*
 * Marks where failures are injected in the kernel log: the VM's log scan
 * (scripts/kwasm-lib.sh) expects allocation-failure reports from allocations
 * without __GFP_NOWARN in that window, and only there.
 */
#define KMSG_ON "kwasm-selftest: fault injection on\n"
#define KMSG_OFF "kwasm-selftest: fault injection off\n"

/* Every slab and page allocation may fail, only through fail-nth. */
static int setup_injection(void)
{
	if (access("/proc/thread-self/fail-nth", W_OK) ||
	    access(FAILSLAB "ignore-gfp-wait", W_OK))
		return -1;
	return write_str(FAILSLAB "ignore-gfp-wait", "N") ||
	       write_str(FAILSLAB "verbose", "0") ||
	       write_str(FAIL_PAGE "ignore-gfp-wait", "N") ||
	       write_str(FAIL_PAGE "ignore-gfp-highmem", "N") ||
	       write_str(FAIL_PAGE "min-order", "0") ||
	       write_str(FAIL_PAGE "verbose", "0") ? -1 : 0;
}

struct tally {
	int refused, killed, exited, clean, last;
	unsigned long errnos, signals;	/* bit n: seen errno / signal n */
};

/* The child's exit status for a failed execve: 150 + errno. */
#define EXEC_FAILED 150

/*
 * Follows a child that stopped itself under PTRACE_TRACEME through its
 * exec: asks for the exec event and lets the child go the moment it comes
 * (a tracer that detaches at once). Returns 1 with *status set if the
 * child ended first, else 0.
 */
static int let_traced_exec_go(pid_t pid, int *status)
{
	if (waitpid(pid, status, 0) != pid || !WIFSTOPPED(*status))
		return 1;
	ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC);
	ptrace(PTRACE_CONT, pid, 0, 0);
	for (;;) {
		if (waitpid(pid, status, 0) != pid || !WIFSTOPPED(*status))
			return 1;
		if (*status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			ptrace(PTRACE_DETACH, pid, 0, 0);
			return 0;
		}
		ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(*status));
	}
}

/*
 * Execs path (argv[0]) as nobody with its Nth injection site failing, under
 * a tracer that asked for the exec event if traced; returns whether it ran
 * as it does without failures (exit want, output starting with out).
 */
static int exec_failing(char *const argv[], int n, int want, const char *out,
			bool traced, struct tally *t)
{
	static struct result r;
	int p[2], fd, len, ended = 0;
	char num[16];
	pid_t pid;

	memset(&r, 0, sizeof(r));
	if (pipe(p))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char *const envp[] = { NULL };

		dup2(p[1], 1);
		/* The program's preopen ".": tmpfs, not the test's 9p directory. */
		if (chdir("/tmp"))
			_exit(1);
		if (traced) {
			if (ptrace(PTRACE_TRACEME, 0, 0, 0))
				_exit(1);
			raise(SIGSTOP);
		}
		/*
		 * Before dropping to nobody, who could not write the file of a
		 * task that changed its credentials: the count includes
		 * setgid() and setuid(), whose failure counts as a refusal.
		 */
		len = snprintf(num, sizeof(num), "%d", n);
		fd = open("/proc/thread-self/fail-nth", O_WRONLY);
		if (fd < 0 || write(fd, num, len) != len)
			_exit(1);
		close(fd);
		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		execve(argv[0], argv, envp);
		/* The failure hit the exec before its point of no return. */
		_exit(EXEC_FAILED + (errno < 100 ? errno : 99));
	}
	close(p[1]);
	if (traced)
		ended = let_traced_exec_go(pid, &r.status);
	drain(p[0], r.out);
	close(p[0]);
	if (!ended)
		waitpid(pid, &r.status, 0);
	if (WIFSIGNALED(r.status)) {
		t->killed++;
		t->signals |= 1UL << (WTERMSIG(r.status) & 63);
		return 0;
	}
	if (WEXITSTATUS(r.status) >= EXEC_FAILED || WEXITSTATUS(r.status) == 126) {
		t->refused++;
		if (WEXITSTATUS(r.status) >= EXEC_FAILED)
			t->errnos |= 1UL << ((WEXITSTATUS(r.status) - EXEC_FAILED) & 63);
		return 0;
	}
	t->exited++;
	return WEXITSTATUS(r.status) == want && !strncmp(r.out, out, strlen(out));
}

/* Runs the sweep; returns the number of execs, or -1 if it never ends clean. */
static int sweep_unmarked(const char *src, const char *tag, int want,
			  const char *out, int limit, bool traced,
			  struct tally *t)
{
	char path[64], utag[64];
	int n, clean = 0;

	memset(t, 0, sizeof(*t));
	for (n = 1; n <= limit; n++) {
		char *const argv[] = { path, "failnth", NULL };

		snprintf(path, sizeof(path), "/tmp/failnth_%s.wasm", tag);
		if (src) {
			/* A new module each time: the compile runs too. */
			snprintf(utag, sizeof(utag), "%s-%d", tag, n);
			if (copy_unique(src, path, utag)) {
				fprintf(stderr, "# cannot copy %s to %s: %s\n", src, path,
					strerror(errno));
				return -1;
			}
			chmod(path, 0755);
		}
		if (exec_failing(argv, n, want, out, traced, t)) {
			t->clean++;
			if (++clean == CLEAN_RUN) {
				t->last = n - CLEAN_RUN;
				return n;
			}
		} else {
			clean = 0;
		}
	}
	return -1;
}

/* sweep_unmarked() inside the kernel log's fault-injection window. */
static int sweep(const char *src, const char *tag, int want, const char *out,
		 int limit, bool traced, struct tally *t)
{
	int n;

	if (write_str("/dev/kmsg", KMSG_ON))
		fprintf(stderr, "# cannot write to /dev/kmsg: %s\n", strerror(errno));
	n = sweep_unmarked(src, tag, want, out, limit, traced, t);
	if (write_str("/dev/kmsg", KMSG_OFF))
		fprintf(stderr, "# cannot write to /dev/kmsg: %s\n", strerror(errno));
	/*
	 * The sweep's refusals used up kwasm's log rate limit (log.c: one
	 * limit, 10 lines per 5 s, for every kwasm line); wait out its window
	 * so that the next test's refusals are logged and can be checked.
	 */
	sleep(6);
	return n;
}

/* What every sweep must show; n is sweep()'s result. */
static void check_sweep(struct __test_metadata *_metadata, int n, struct tally *t)
{
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "memories"));
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "bytes"));
	EXPECT_EQ(0, stat_of(COMPILE_STATS, "running"));
	/*
	 * ENOMEM, or E2BIG: the kernel's copy_strings() reports a failed
	 * argument page so, for any binary.
	 */
	EXPECT_EQ(0, t->errnos & ~((1UL << ENOMEM) | (1UL << E2BIG)))
		TH_LOG("an allocation failure made execve fail with errnos %#lx", t->errnos);
	ASSERT_LT(0, n) TH_LOG("execs never ran clean again (refused %d, killed %d, exited %d)",
			       t->refused, t->killed, t->exited);
	TH_LOG("fail-nth 1..%d: %d refused by execve (errnos %#lx), %d killed (signals %#lx), %d exited (%d as without failures)",
	       n, t->refused, t->errnos, t->killed, t->signals, t->exited, t->clean);
}

FIXTURE(failnth) {
	struct tally t;
};

FIXTURE_SETUP(failnth) {}
FIXTURE_TEARDOWN(failnth) {}

/* A module compiled anew for every N: exec, compile, instantiate, run. */
TEST_F_TIMEOUT(failnth, every_allocation_of_a_compiling_exec_may_fail, 3000)
{
	struct tally *t = &self->t;
	int n;

	if (setup_injection())
		SKIP(return, "no fail-nth, failslab or fail_page_alloc in this kernel");
	n = sweep("./exit_code.wasm", "compile", 42, "", 6000, false, t);
	check_sweep(_metadata, n, t);
}

/* Warms the cache with hello.wasm at path; 0 if it ran. */
static int warm_hello(const char *path, const char *tag)
{
	static struct result warm;
	char *const argv[] = { (char *)path, "failnth", NULL };

	if (copy_unique("./hello.wasm", path, tag))
		return -1;
	chmod(path, 0755);
	run_as(path, argv, NOBODY, &warm);
	if (WIFEXITED(warm.status) && !WEXITSTATUS(warm.status))
		return 0;
	fprintf(stderr, "# hello.wasm did not run: status %#x, errno %d\n",
		warm.status, warm.exec_errno);
	return -1;
}

/* A cached module and a program that makes host calls: exec, instantiate, WASI. */
TEST_F_TIMEOUT(failnth, every_allocation_of_a_cached_exec_and_its_host_calls_may_fail, 3000)
{
	struct tally *t = &self->t;
	int n;

	if (setup_injection())
		SKIP(return, "no fail-nth, failslab or fail_page_alloc in this kernel");
	ASSERT_EQ(0, warm_hello("/tmp/failnth_cached.wasm", "cached"));
	n = sweep(NULL, "cached", 0, "Hello, failnth!", 6000, false, t);
	check_sweep(_metadata, n, t);
}

/*
 * The same under a tracer that detaches at the exec event: the deferred
 * start and its park mapping (binfmt.c) may fail too.
 */
TEST_F_TIMEOUT(failnth, every_allocation_of_a_traced_exec_may_fail, 3000)
{
	struct tally *t = &self->t;
	int n;

	if (setup_injection())
		SKIP(return, "no fail-nth, failslab or fail_page_alloc in this kernel");
	ASSERT_EQ(0, warm_hello("/tmp/failnth_traced.wasm", "traced"));
	n = sweep(NULL, "traced", 0, "Hello, failnth!", 6000, true, t);
	check_sweep(_metadata, n, t);
}

/*
 * failslab and fail_page_alloc failing every allocation of a task that has
 * make-it-fail set (task-filter), from the next one on: slab allocations
 * of any size and page allocations of order 1 and up, so that kvmalloc()'s
 * fallback to vmalloc() fails too while a pipe still gets its pages.
 */
static int fail_every_allocation(bool on)
{
	/*
	 * In this order on, the reverse off: every task's allocations would
	 * fail while the probability is 100 without the task filter.
	 */
	static const struct { const char *name, *on, *off; } v[] = {
		{ "task-filter", "Y", "N" }, { "interval", "1", "1" },
		{ "times", "-1", "1" }, { "space", "0", "0" },
		{ "probability", "100", "0" },
	};
	const char *const attrs[] = { FAILSLAB, FAIL_PAGE };
	unsigned int i, j, k;
	char path[128];

	for (k = 0; k < ARRAY_SIZE(v); k++) {
		j = on ? k : ARRAY_SIZE(v) - 1 - k;
		for (i = 0; i < ARRAY_SIZE(attrs); i++) {
			snprintf(path, sizeof(path), "%s%s", attrs[i], v[j].name);
			if (write_str(path, on ? v[j].on : v[j].off))
				return -1;
		}
	}
	return write_str(FAIL_PAGE "min-order", on ? "1" : "0");
}

/*
 * A program that makes every allocation of its own task fail (it writes
 * its /proc/thread-self/make-it-fail, its preopen) and then makes host
 * calls. Those whose iovec or subscription lists take more than a page,
 * and a read of a procfs file into a buffer that needs a user mapping of
 * its own, must return ENOMEM; shorter ones must still work (kwasm's small
 * allocations fall back to ones that cannot fail); after it resets
 * make-it-fail, all work again. Every failure must leave the kernel log
 * free of reports and kwasm's memory counters at zero.
 */
TEST(host_calls_whose_memory_cannot_be_allocated_return_enomem)
{
	static struct result r;
	char *const argv[] = { "./host_call_lists.wasm", NULL };
	char *const envp[] = { "KWASM_DIRS=/proc/thread-self", NULL };
	const char *want = "lists: large ok\n"
		"small=00 write=48 read=48 poll=48 bigread=48 reset=00 after=00 poll2=00 readback=00\n";
	int p[2];
	pid_t pid;

	if (setup_injection() || fail_every_allocation(false))
		SKIP(return, "no failslab or fail_page_alloc in this kernel");
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, fail_every_allocation(true));
	if (write_str("/dev/kmsg", KMSG_ON))
		fprintf(stderr, "# cannot write to /dev/kmsg: %s\n", strerror(errno));
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	drain(p[0], r.out);
	close(p[0]);
	waitpid(pid, &r.status, 0);
	if (write_str("/dev/kmsg", KMSG_OFF))
		fprintf(stderr, "# cannot write to /dev/kmsg: %s\n", strerror(errno));
	ASSERT_EQ(0, fail_every_allocation(false));
	ASSERT_LT(0, pid);
	EXPECT_TRUE(WIFEXITED(r.status) && !WEXITSTATUS(r.status))
		TH_LOG("expected exit status 0, got wait status %#x", r.status);
	EXPECT_STREQ(want, r.out);
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "memories"));
	EXPECT_EQ(0, stat_of(MEMORY_STATS, "bytes"));
}

TEST_HARNESS_MAIN
