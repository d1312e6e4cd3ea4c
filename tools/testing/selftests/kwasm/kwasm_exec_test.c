// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm exec tests: WebAssembly modules run as executables.
 *
 * Run from the directory holding the built .wasm programs. Each test
 * fork()s, execs a module with stdout/stderr captured in pipes, and checks
 * the exit status, the output, and for rejected modules the errno and the
 * kernel log line that names the reason.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#define OUT_MAX 65536

struct result {
	int status;		/* wait status */
	int exec_errno;		/* errno of a failed execve, else 0 */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void drain(int fd, char *buf)
{
	size_t n = 0;
	ssize_t r;

	while (n < OUT_MAX - 1 && (r = read(fd, buf + n, OUT_MAX - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
}

/*
 * Runs path with argv (NULL-terminated) as uid (or the current user if
 * uid < 0). A failing execve reports its errno through a pipe.
 */
static void run_as(const char *path, char *const argv[], int uid,
		   struct result *res)
{
	int out[2], err[2], eno[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(out) || pipe(err) || pipe2(eno, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char *envp[] = { "KWASM_TEST=1", NULL };

		dup2(out[1], 1);
		dup2(err[1], 2);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execve(path, argv, envp);
		int e = errno;

		if (write(eno[1], &e, sizeof(e)) != sizeof(e))
			_exit(125);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	close(eno[1]);
	if (read(eno[0], &res->exec_errno, sizeof(int)) != sizeof(int))
		res->exec_errno = 0;
	/* Tests write little output: draining one pipe after the other is fine. */
	drain(out[0], res->out);
	drain(err[0], res->err);
	waitpid(pid, &res->status, 0);
	close(out[0]);
	close(err[0]);
	close(eno[0]);
}

static void run(const char *path, char *const argv[], struct result *res)
{
	run_as(path, argv, -1, res);
}

/* Whether the kernel log holds a line containing all of a and b. */
static int klog_has(const char *a, const char *b)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	char *line, *save = NULL;

	if (n < 0)
		return 0;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && strstr(line, b))
			return 1;
	return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* Reads a file into a malloc'd buffer. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		return NULL;
	close(fd);
	*len = st.st_size;
	return buf;
}

TEST(hello_prints_greeting_and_exits_zero)
{
	char *argv[] = { "./hello.wasm", "world", NULL };
	static struct result r;

	run("./hello.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
	EXPECT_STREQ("Hello, world!\n", r.out);
}

TEST(proc_exit_zero_gives_status_zero)
{
	char *argv[] = { "./exit_zero.wasm", NULL };
	static struct result r;

	run("./exit_zero.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
}

TEST(proc_exit_code_reaches_wait)
{
	char *argv[] = { "./exit_code.wasm", NULL };
	static struct result r;

	run("./exit_code.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(42, WEXITSTATUS(r.status));
}

TEST(start_returning_gives_status_zero)
{
	char *argv[] = { "./return_from_start.wasm", NULL };
	static struct result r;

	run("./return_from_start.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
}

TEST(fd_write_reaches_stdout_and_stderr)
{
	char *argv[] = { "./stderr_write.wasm", NULL };
	static struct result r;

	run("./stderr_write.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	EXPECT_STREQ("to stdout\n", r.out);
	EXPECT_STREQ("to stderr\n", r.err);
}

TEST(argv_round_trips_through_args_get)
{
	char *argv[] = { "./echo_args.wasm", "one", "two words", "", "ünï", NULL };
	static struct result r;

	run("./echo_args.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
	EXPECT_STREQ("[./echo_args.wasm]\n[one]\n[two words]\n[]\n[ünï]\n", r.out);
}

TEST(non_root_user_can_exec_a_module)
{
	char *argv[] = { "./hello.wasm", "nobody", NULL };
	static struct result r;

	run_as("./hello.wasm", argv, 65534, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
	EXPECT_STREQ("Hello, nobody!\n", r.out);
}

/* Execs a rejected module; expects ENOEXEC and a kernel log line. */
static void expect_rejected(struct __test_metadata *_metadata,
			    const char *path, const char *reason)
{
	char *argv[] = { (char *)path, NULL };
	static struct result r;

	run(path, argv, &r);
	EXPECT_EQ(ENOEXEC, r.exec_errno)
		TH_LOG("expected ENOEXEC, got errno %d, status %#x",
		       r.exec_errno, r.status);
	if (reason)
		EXPECT_TRUE(klog_has(path, reason))
			TH_LOG("no kernel log line with '%s' and '%s'", path,
			       reason);
}

TEST(truncated_module_is_rejected)
{
	size_t len;
	char *wasm = read_file("./hello.wasm", &len);

	ASSERT_NE(NULL, wasm);
	write_file("/tmp/truncated.wasm", wasm, len / 2);
	expect_rejected(_metadata, "/tmp/truncated.wasm", "invalid module");
	free(wasm);
}

TEST(bad_magic_is_not_claimed)
{
	/* "\0asm" version 2: not ours, and no other handler wants it. */
	static const char v2[] = { 0, 'a', 's', 'm', 2, 0, 0, 0 };
	char *argv[] = { "/tmp/v2.wasm", NULL };
	static struct result r;

	write_file("/tmp/v2.wasm", v2, sizeof(v2));
	run("/tmp/v2.wasm", argv, &r);
	EXPECT_EQ(ENOEXEC, r.exec_errno);
}

TEST(bad_section_is_rejected)
{
	/* Header, then section id 1 (types) claiming 100 bytes it lacks. */
	static const char bad[] = { 0, 'a', 's', 'm', 1, 0, 0, 0,
				    1, 100, 1, 0x60 };

	write_file("/tmp/badsection.wasm", bad, sizeof(bad));
	expect_rejected(_metadata, "/tmp/badsection.wasm", "invalid module");
}

TEST(garbage_after_header_is_rejected)
{
	static const char junk[] = { 0, 'a', 's', 'm', 1, 0, 0, 0,
				     0xff, 0xff, 0xff, 0xff, 0xff };

	write_file("/tmp/junk.wasm", junk, sizeof(junk));
	expect_rejected(_metadata, "/tmp/junk.wasm", "invalid module");
}

TEST(unknown_import_is_rejected)
{
	expect_rejected(_metadata, "./unknown_import.wasm",
			"unknown import env::no_such_function");
}

TEST_HARNESS_MAIN
