// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm exec tests: WebAssembly modules run as executables.
 *
 * Run from the directory holding the built .wasm programs. Each test
 * fork()s, execs a module with stdout/stderr captured in pipes, and checks
 * the exit status, the output, and for rejected modules the errno and the
 * kernel log line that names the reason.
 */

#include "kwasm_util.h"
#include "../kselftest_harness.h"

/*
 * Tests that exec freshly compiled Rust programs: compiling takes seconds
 * under emulation and far longer on a KASAN kernel, past the default 30 s.
 */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

TEST_F_TIMEOUT(slow, hello_prints_greeting_and_exits_zero, 900)
{
	char *const argv[] = { "./hello.wasm", "world", NULL };
	static struct result r;

	run("./hello.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
	EXPECT_STREQ("Hello, world!\n", r.out);
}

TEST(proc_exit_zero_gives_status_zero)
{
	char *const argv[] = { "./exit_zero.wasm", NULL };
	static struct result r;

	run("./exit_zero.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
}

TEST(proc_exit_code_reaches_wait)
{
	char *const argv[] = { "./exit_code.wasm", NULL };
	static struct result r;

	run("./exit_code.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(42, WEXITSTATUS(r.status));
}

TEST(start_returning_gives_status_zero)
{
	char *const argv[] = { "./return_from_start.wasm", NULL };
	static struct result r;

	run("./return_from_start.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
}

TEST(fd_write_reaches_stdout_and_stderr)
{
	char *const argv[] = { "./stderr_write.wasm", NULL };
	static struct result r;

	run("./stderr_write.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	EXPECT_STREQ("to stdout\n", r.out);
	EXPECT_STREQ("to stderr\n", r.err);
}

TEST_F_TIMEOUT(slow, argv_round_trips_through_args_get, 900)
{
	char *const argv[] = { "./echo_args.wasm", "one", "two words", "", "ünï", NULL };
	static struct result r;

	run("./echo_args.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	ASSERT_TRUE(WIFEXITED(r.status)) TH_LOG("status %#x", r.status);
	EXPECT_EQ(0, WEXITSTATUS(r.status));
	EXPECT_STREQ("[./echo_args.wasm]\n[one]\n[two words]\n[]\n[ünï]\n", r.out);
}

TEST_F_TIMEOUT(slow, non_root_user_can_exec_a_module, 900)
{
	char *const argv[] = { "./hello.wasm", "nobody", NULL };
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
	char *const argv[] = { (char *)path, NULL };
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
	char *const argv[] = { "/tmp/v2.wasm", NULL };
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
