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
 */

#include "kwasm_util.h"

#include <dirent.h>
#include <poll.h>
#include <signal.h>

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

TEST_HARNESS_MAIN
