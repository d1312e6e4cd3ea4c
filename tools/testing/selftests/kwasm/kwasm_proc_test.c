// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm process tests: a running wasm program is an ordinary process to
 * /proc and ptrace.
 */

#include "kwasm_util.h"

#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>

#include "../kselftest_harness.h"

static pid_t start_spin(void)
{
	char *const argv[] = { "./spin.wasm", "one", "two", NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Waits up to 10 s for a state change matching flags; 0 on success. */
static int wait_state(pid_t pid, int *status, int flags)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, status, WNOHANG | flags) == pid)
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

TEST(proc_shows_cmdline_status_and_stack)
{
	static const char cmdline[] = "./spin.wasm\0one\0two";
	static char buf[8192];
	int status;
	pid_t pid = start_spin();
	ssize_t n;

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_running(pid));
	n = read_proc(pid, "cmdline", buf, sizeof(buf));
	EXPECT_EQ((ssize_t)sizeof(cmdline), n);
	EXPECT_EQ(0, memcmp(buf, cmdline, sizeof(cmdline)));
	ASSERT_LT(0, read_proc(pid, "status", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "Name:\tspin.wasm")) TH_LOG("%s", buf);
	/* Stopped, the task's kernel stack can be walked. */
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(0, wait_state(pid, &status, WUNTRACED));
	ASSERT_LT(0, read_proc(pid, "stack", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "do_signal_stop")) TH_LOG("stack:\n%s", buf);
	stop_and_reap(pid);
}

/* The /proc/kallsyms line of a function of spin.wasm, or NULL. */
static char *kallsyms_line(char *line, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char *found = NULL;

	if (!f)
		return NULL;
	while (fgets(line, len, f))
		if (strstr(line, " kwasm_spin_wasm_f0\t[kwasm]")) {
			found = line;
			break;
		}
	fclose(f);
	return found;
}

/* image.c and patches/0006: placed functions are kernel symbols. */
TEST(running_program_functions_are_listed_in_proc_kallsyms)
{
	static char line[512];
	pid_t pid = start_spin();
	unsigned long addr = 0;

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_running(pid));
	ASSERT_NE(NULL, kallsyms_line(line, sizeof(line)))
		TH_LOG("expected kwasm_spin_wasm_f0 [kwasm] in /proc/kallsyms");
	addr = strtoul(line, NULL, 16);
	EXPECT_NE(0, addr) TH_LOG("root sees no address: %s", line);
	EXPECT_NE(NULL, strstr(line, " t kwasm_spin_wasm_f0")) TH_LOG("%s", line);
	stop_and_reap(pid);
	/* Unlisted when the program is gone. */
	EXPECT_EQ(NULL, kallsyms_line(line, sizeof(line))) TH_LOG("%s", line);
}

TEST(ptrace_attach_stops_and_detach_resumes)
{
	int status;
	pid_t pid = start_spin();

	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_running(pid));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	ASSERT_EQ(0, wait_state(pid, &status, 0)) TH_LOG("no ptrace stop");
	ASSERT_TRUE(WIFSTOPPED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(SIGSTOP, WSTOPSIG(status));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	/* Running again, not exited. */
	usleep(200 * 1000);
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	stop_and_reap(pid);
}

#define REQUEUE_DELAY_PARAM "/sys/module/kwasm/parameters/start_requeue_delay_ms"

/*
 * A tracer that asked for PTRACE_EVENT_EXEC sees the exec before the
 * program runs, as for a native program (the event is sent inside execve,
 * where pending task work also runs), and the program then runs to its
 * end, however soon the tracer lets it go.
 */
static void traced_exec(struct __test_metadata *_metadata)
{
	struct pollfd pfd;
	int out[2], status;
	static char buf[256];
	static char maps[4096];
	char path[64];
	int fd, len;
	pid_t pid;

	ASSERT_EQ(0, pipe(out));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *const argv[] = { "./hello.wasm", "traced", NULL };

		dup2(out[1], 1);
		close(out[0]);
		if (ptrace(PTRACE_TRACEME, 0, 0, 0))
			_exit(126);
		raise(SIGSTOP);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	ASSERT_EQ(0, ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC));
	ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, 0, 0));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) &&
		    status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
		TH_LOG("expected the exec event, got status %#x", status);
	/* Stopped at the exec event: the program has not written anything. */
	pfd = (struct pollfd){ .fd = out[0], .events = POLLIN };
	EXPECT_EQ(0, poll(&pfd, 1, 0))
		TH_LOG("the program ran before the exec event");
	/* Its start was deferred: it waits in the park loop if let go now. */
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("cannot open %s", path);
	len = read(fd, maps, sizeof(maps) - 1);
	close(fd);
	ASSERT_LT(0, len) TH_LOG("cannot read %s", path);
	maps[len] = 0;
	EXPECT_NE(NULL, strstr(maps, "[kwasm_park]"))
		TH_LOG("no [kwasm_park] mapping at the exec event:\n%s", maps);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, 0, 0));
	drain(out[0], buf);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("expected exit status 0, got status %#x", status);
	EXPECT_STREQ("Hello, traced!\n", buf);
	close(out[0]);
}

TEST(traced_exec_event_comes_before_the_program_runs)
{
	traced_exec(_metadata);
}

/*
 * The start of a traced exec is queued again by a kworker after the
 * event; a tracer that resumes the task before that (here: the kworker is
 * held back 300 ms) must not send it back to the replaced image's code.
 */
FIXTURE(slow_start) {};

FIXTURE_SETUP(slow_start)
{
	if (access(REQUEUE_DELAY_PARAM, W_OK))
		SKIP(return, "no %s (CONFIG_KWASM_FAULT_INJECTION)",
		     REQUEUE_DELAY_PARAM);
	ASSERT_EQ(0, write_str(REQUEUE_DELAY_PARAM, "300"));
}

FIXTURE_TEARDOWN(slow_start)
{
	write_str(REQUEUE_DELAY_PARAM, "0");
}

TEST_F(slow_start, traced_exec_resumed_before_its_start_is_queued_still_runs)
{
	traced_exec(_metadata);
}

TEST_HARNESS_MAIN
