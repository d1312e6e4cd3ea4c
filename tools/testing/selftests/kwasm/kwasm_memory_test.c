// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm linear-memory tests: memory.grow honours the module's maximum and
 * the task's RLIMIT_AS (returning -1 when refused, never failing the
 * program), and new pages are zeroed and usable.
 */

#include "kwasm_util.h"

#include <sys/resource.h>

#include "../kselftest_harness.h"

/* Runs path with RLIMIT_AS set to limit bytes (or unchanged if 0). */
static int run_limited(const char *path, rlim_t limit)
{
	char *const argv[] = { (char *)path, NULL };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct rlimit rl = { limit, limit };

		if (limit && setrlimit(RLIMIT_AS, &rl))
			_exit(126);
		execv(path, argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return status;
}

TEST(memory_grow_stops_at_declared_maximum)
{
	int status = run_limited("./memory_grow_max.wasm", 0);

	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d of memory_grow_max.wat got a wrong result",
		       WEXITSTATUS(status));
}

TEST(memory_grow_succeeds_without_limit)
{
	int status = run_limited("./memory_grow_big.wasm", 0);

	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(13, WEXITSTATUS(status));
}

TEST(memory_grow_past_rlimit_as_returns_minus_one)
{
	/* 32 MiB: the 64 MiB grow is refused, the 4 MiB one fits. */
	int status = run_limited("./memory_grow_big.wasm", 32 << 20);

	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(12, WEXITSTATUS(status));
}

#define LIMIT_PARAM "/sys/module/kwasm/parameters/memory_limit_mb"

TEST(memory_grow_past_system_wide_cap_returns_minus_one)
{
	int status;

	/* 32 MiB for all programs: the 64 MiB grow is refused. */
	ASSERT_EQ(0, write_str(LIMIT_PARAM, "32")) TH_LOG("cannot write %s", LIMIT_PARAM);
	status = run_limited("./memory_grow_big.wasm", 0);
	ASSERT_EQ(0, write_str(LIMIT_PARAM, "0"));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status %#x", status);
	EXPECT_EQ(12, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
