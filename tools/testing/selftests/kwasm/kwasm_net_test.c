// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm_net tests: net_sockets.wasm (progs/net_sockets.rs) drives TCP over
 * IPv4 and IPv6 loopback, Unix and UDP sockets, options, names, epoll with
 * a non-blocking listener, half-close and bad arguments through the
 * kwasm_net imports; its output must match net_sockets.expected, which the
 * same program produces on the host runner.
 */

#include "kwasm_util.h"

#include "../kselftest_harness.h"

/* A Rust std program: compiling it takes seconds under emulation. */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

TEST_F_TIMEOUT(slow, sockets_and_epoll_from_wasm_behave_like_on_the_host, 300)
{
	char *const argv[] = { "./net_sockets.wasm", NULL };
	static struct result r;
	char *expected;
	size_t len;

	expected = read_file("./net_sockets.expected", &len);
	ASSERT_NE(NULL, expected);
	run("./net_sockets.wasm", argv, &r);
	ASSERT_EQ(0, r.exec_errno);
	EXPECT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0)
		TH_LOG("status %#x, stderr: %s", r.status, r.err);
	EXPECT_STREQ(expected, r.out)
		TH_LOG("expected:\n%s\ngot:\n%s", expected, r.out);
	free(expected);
}

TEST_HARNESS_MAIN
