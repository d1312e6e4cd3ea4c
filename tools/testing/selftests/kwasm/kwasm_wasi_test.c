// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm WASI tests: each wasi_*.wasm program (progs/wasi_*.rs) checks one
 * family of wasi_snapshot_preview1 functions itself, and its stdout, stderr
 * and exit status must equal what wasmtime produced for it on the build
 * host (NAME.expected, written by scripts/kwasm-wasi-reference.py): the
 * differential check runs in the kernel under test.
 *
 * Both sides run the program the same way: arguments "alpha" and
 * "beta gamma", environment KWASM_TEST=1 and GREETING=hello world, stdin
 * "line one\nline two\n", and a fresh empty directory preopened as "."
 * (for kwasm: the current directory, its default preopen).
 *
 * kernel_only_wasi.wasm covers what wasmtime refuses to do (CPU clocks,
 * fd_allocate, proc_raise, path_link following symlinks, sockets, enforcing
 * WASI rights) and a blocking call restarted across stop/continue; those
 * cases have their own tests below.
 */

#include "kwasm_util.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../kselftest_harness.h"

#define STDIN_DATA	"line one\nline two\n"

struct outcome {
	int status;
	char out[OUT_MAX];
	char err[OUT_MAX];
};

/* Reads two pipes to the end, whichever has data. */
static void drain_both(int out_fd, int err_fd, struct outcome *o)
{
	struct pollfd p[2] = { { out_fd, POLLIN }, { err_fd, POLLIN } };
	size_t len[2] = { 0, 0 };
	char *buf[2] = { o->out, o->err };
	int open = 2, i;

	while (open) {
		if (poll(p, 2, -1) < 0)
			break;
		for (i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			n = read(p[i].fd, buf[i] + len[i], OUT_MAX - 1 - len[i]);
			if (n <= 0) {
				p[i].fd = -1;
				open--;
				continue;
			}
			len[i] += n;
		}
	}
	o->out[len[0]] = 0;
	o->err[len[1]] = 0;
}

/* Runs ./NAME.wasm as described above; 0 on success. */
static int run_wasi(const char *name, struct outcome *o)
{
	char wasm[PATH_MAX], arg0[PATH_MAX], dir[] = "/tmp/kwasm-wasi-XXXXXX";
	char stdin_path[PATH_MAX];
	char *const envp[] = { "KWASM_TEST=1", "GREETING=hello world", NULL };
	int out[2], err[2], in;
	pid_t pid;

	if (!realpath(".", wasm) || !mkdtemp(dir))
		return -1;
	snprintf(arg0, sizeof(arg0), "%s.wasm", name);
	strncat(wasm, "/", sizeof(wasm) - strlen(wasm) - 1);
	strncat(wasm, arg0, sizeof(wasm) - strlen(wasm) - 1);
	snprintf(stdin_path, sizeof(stdin_path), "%s.stdin", dir);
	write_file(stdin_path, STDIN_DATA, strlen(STDIN_DATA));
	in = open(stdin_path, O_RDONLY);
	if (in < 0 || pipe(out) || pipe(err))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { arg0, "alpha", "beta gamma", NULL };
		int fd;

		dup2(in, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		/* Nothing but stdio: the preopen must land on fd 3. */
		for (fd = 3; fd < 64; fd++)
			close(fd);
		if (chdir(dir))
			_exit(127);
		execve(wasm, argv, envp);
		_exit(127);
	}
	close(in);
	close(out[1]);
	close(err[1]);
	drain_both(out[0], err[0], o);
	close(out[0]);
	close(err[0]);
	waitpid(pid, &o->status, 0);
	return 0;
}

/* The outcome in the format of NAME.expected. */
static void format_outcome(const struct outcome *o, char *buf, size_t len)
{
	char status[32];

	if (WIFEXITED(o->status))
		snprintf(status, sizeof(status), "%d", WEXITSTATUS(o->status));
	else
		snprintf(status, sizeof(status), "signal %d", WTERMSIG(o->status));
	snprintf(buf, len, "status %s\n--- stdout\n%s--- stderr\n%s", status,
		 o->out, o->err);
}

FIXTURE(wasi) {};
FIXTURE_SETUP(wasi) {}
FIXTURE_TEARDOWN(wasi) {}

FIXTURE_VARIANT(wasi) {
	const char *name;
};

FIXTURE_VARIANT_ADD(wasi, wasi_args_env_clock) {
	.name = "wasi_args_env_clock",
};

FIXTURE_VARIANT_ADD(wasi, wasi_fd_io) {
	.name = "wasi_fd_io",
};

FIXTURE_VARIANT_ADD(wasi, wasi_paths) {
	.name = "wasi_paths",
};

FIXTURE_VARIANT_ADD(wasi, wasi_dirs) {
	.name = "wasi_dirs",
};

FIXTURE_VARIANT_ADD(wasi, wasi_poll_misc) {
	.name = "wasi_poll_misc",
};

FIXTURE_VARIANT_ADD(wasi, wasi_fd_state) {
	.name = "wasi_fd_state",
};

/* Compiling a Rust std program takes seconds under emulation. */
TEST_F_TIMEOUT(wasi, program_output_matches_wasmtime, 600)
{
	static char expected_path[PATH_MAX], got[2 * OUT_MAX + 64];
	struct outcome *o = calloc(1, sizeof(*o));
	char *expected;
	size_t len;

	ASSERT_NE(NULL, o);
	snprintf(expected_path, sizeof(expected_path), "./%s.expected",
		 variant->name);
	expected = read_file(expected_path, &len);
	ASSERT_NE(NULL, expected) TH_LOG("no %s", expected_path);
	ASSERT_EQ(0, run_wasi(variant->name, o));
	format_outcome(o, got, sizeof(got));
	EXPECT_STREQ(expected, got)
		TH_LOG("%s under kwasm differs from wasmtime:\n--- wasmtime:\n%s\n--- kwasm:\n%s",
		       variant->name, expected, got);
	free(expected);
	free(o);
}

/*
 * Starts kernel_only_wasi.wasm CASE in a fresh directory with stdin from
 * in_fd, stdout to a pipe (*out), and fd3 (if >= 0) as fd 3 with no preopen;
 * with envp as its environment if not NULL.
 */
static pid_t start_case_env(const char *name, int in_fd, int fd3,
			    char *const envp[], int *out)
{
	char wasm[PATH_MAX], dir[] = "/tmp/kwasm-wasi-XXXXXX";
	char *const argv[] = { "kernel_only_wasi.wasm", (char *)name, NULL };
	char *const no_dirs[] = { "KWASM_DIRS=", NULL };
	char *const dirs[] = { "KWASM_TEST=1", NULL };
	int p[2];
	pid_t pid;

	if (!realpath("./kernel_only_wasi.wasm", wasm) || !mkdtemp(dir) ||
	    pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd;

		if (in_fd >= 0)
			dup2(in_fd, 0);
		dup2(p[1], 1);
		if (fd3 >= 0)
			dup2(fd3, 3);
		for (fd = fd3 >= 0 ? 4 : 3; fd < 64; fd++)
			close(fd);
		if (chdir(dir))
			_exit(127);
		execve(wasm, argv, envp ? envp : fd3 >= 0 ? no_dirs : dirs);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

static pid_t start_case(const char *name, int in_fd, int fd3, int *out)
{
	return start_case_env(name, in_fd, fd3, NULL, out);
}

/* Waits for the case to end; returns its wait status, its output in buf. */
static int finish_case(pid_t pid, int out, char *buf)
{
	int status;

	drain(out, buf);
	close(out);
	waitpid(pid, &status, 0);
	return status;
}

static void expect_case_ok(struct __test_metadata *_metadata, const char *name)
{
	static char buf[OUT_MAX];
	char want[64];
	int out, status;
	pid_t pid = start_case(name, -1, -1, &out);

	ASSERT_LT(0, pid);
	status = finish_case(pid, out, buf);
	snprintf(want, sizeof(want), "ok %s\n", name);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_STREQ(want, buf);
}

TEST(cpu_time_clocks_advance)
{
	expect_case_ok(_metadata, "cpu-clocks");
}

TEST(fd_allocate_extends_a_file)
{
	expect_case_ok(_metadata, "allocate");
}

TEST(path_link_follows_a_symlink_when_asked)
{
	expect_case_ok(_metadata, "link-follow");
}

TEST(wasi_rights_are_enforced)
{
	expect_case_ok(_metadata, "rights");
}

/*
 * procfs files whose ->read takes only user buffers (no ->read_iter), read
 * through the run's scratch mapping: /proc/self/cmdline and an environment
 * of two 100 KB values in /proc/self/environ.
 */
TEST(proc_files_without_read_iter_read_the_programs_own_args_and_env)
{
	static char big[2][100 * 1000 + 16], buf[OUT_MAX];
	char *const envp[] = { "KWASM_DIRS=/proc/self::/proc/self", big[0], big[1], NULL };
	int i, out, status;
	pid_t pid;

	for (i = 0; i < 2; i++) {
		int n = snprintf(big[i], sizeof(big[i]), "KWASM_BIG%d=", i);

		memset(big[i] + n, 'a' + i, sizeof(big[i]) - n - 1);
	}
	pid = start_case_env("proc-read", -1, -1, envp, &out);
	ASSERT_LT(0, pid);
	status = finish_case(pid, out, buf);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %.300s", status, buf);
	EXPECT_STREQ("ok proc-read\n", buf);
}

TEST(fd_write_looks_at_the_first_1024_iovecs_only)
{
	expect_case_ok(_metadata, "iovec-limit");
}

TEST(poll_oneoff_with_more_fds_than_rlimit_nofile_fails_with_inval)
{
	struct rlimit old, low = { 64, 64 };
	static char buf[OUT_MAX];
	int out, status;
	pid_t pid;

	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	/* The case inherits it; restored before any check can stop us. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
	pid = start_case("poll-rlimit", -1, -1, &out);
	setrlimit(RLIMIT_NOFILE, &old);
	ASSERT_LT(0, pid);
	status = finish_case(pid, out, buf);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_STREQ("ok poll-rlimit\n", buf);
}

/*
 * Stopped and continued every 150 ms, a poll_oneoff with a 1.5 s timeout
 * must still return (after 1.5 s): each restart keeps the deadline. Were
 * the timeout to start over at each restart, the program would still be
 * polling when the stops end, 6 s later.
 */
TEST(poll_oneoff_restarted_by_stop_and_continue_keeps_its_deadline)
{
	static char buf[OUT_MAX];
	int out, status, i, exited = 0;
	pid_t pid;

	pid = start_case("poll-restart", -1, -1, &out);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_running(pid));
	for (i = 0; i < 40 && !exited; i++) {
		usleep(150 * 1000);
		if (kill(pid, SIGSTOP))
			break;
		ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
		if (!WIFSTOPPED(status)) {
			exited = 1;
			break;
		}
		ASSERT_EQ(0, kill(pid, SIGCONT));
		ASSERT_EQ(pid, waitpid(pid, &status, WCONTINUED));
		exited = WIFEXITED(status) || WIFSIGNALED(status);
	}
	EXPECT_EQ(1, exited)
		TH_LOG("still polling after %d stops (6 s) with a 1.5 s timeout", i);
	if (!exited) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	drain(out, buf);
	close(out);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_STREQ("ok poll-restart\n", buf);
}

TEST(proc_raise_usr1_ends_the_program_with_sigusr1)
{
	static char buf[OUT_MAX];
	int out, status;
	pid_t pid = start_case("raise", -1, -1, &out);

	ASSERT_LT(0, pid);
	status = finish_case(pid, out, buf);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1)
		TH_LOG("expected death by SIGUSR1, got status %#x, output: %s",
		       status, buf);
}

TEST(sock_send_recv_shutdown_on_a_connected_socket)
{
	static char buf[OUT_MAX];
	char msg[16] = { 0 };
	int sv[2], out, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = start_case("socket", -1, sv[1], &out);
	ASSERT_LT(0, pid);
	close(sv[1]);
	ASSERT_EQ(4, read(sv[0], msg, sizeof(msg) - 1));
	EXPECT_STREQ("ping", msg);
	ASSERT_EQ(4, write(sv[0], "pong", 4));
	/* The program shut down its writing side. */
	EXPECT_EQ(0, read(sv[0], msg, sizeof(msg)));
	shutdown(sv[0], SHUT_WR);
	status = finish_case(pid, out, buf);
	close(sv[0]);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_STREQ("ok socket\n", buf);
}

TEST(sock_accept_takes_a_connection)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static char buf[OUT_MAX];
	char msg[16] = { 0 };
	int lfd, cfd, out, status;
	pid_t pid;

	/* Abstract address: nothing to clean up. */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
		 "kwasm-accept-%d", getpid());
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(0, listen(lfd, 1));
	pid = start_case("accept", -1, lfd, &out);
	ASSERT_LT(0, pid);
	close(lfd);
	cfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&addr, sizeof(addr)));
	ASSERT_EQ(5, write(cfd, "hello", 5));
	ASSERT_EQ(5, read(cfd, msg, sizeof(msg) - 1));
	EXPECT_STREQ("hello", msg);
	close(cfd);
	status = finish_case(pid, out, buf);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
}

TEST(blocked_fd_read_is_restarted_after_stop_and_continue)
{
	static char buf[OUT_MAX];
	int in[2], out, status;
	pid_t pid;

	ASSERT_EQ(0, pipe(in));
	pid = start_case("blocked-read", in[0], -1, &out);
	ASSERT_LT(0, pid);
	close(in[0]);
	ASSERT_EQ(0, wait_running(pid));
	/* Let it block in fd_read. */
	usleep(200 * 1000);
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_EQ(pid, waitpid(pid, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	usleep(100 * 1000);
	ASSERT_EQ(4, write(in[1], "data", 4));
	close(in[1]);
	status = finish_case(pid, out, buf);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_STREQ("ok blocked-read\n", buf);
}

TEST_HARNESS_MAIN
