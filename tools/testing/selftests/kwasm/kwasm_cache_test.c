// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm code cache tests: the cache is keyed on a module's bytes. The second
 * exec of unchanged bytes is a hit (no compilation), from any file; new
 * bytes are compiled again; the counters are visible in
 * /sys/kernel/debug/kwasm/cache.
 */

#include "kwasm_util.h"

#include <time.h>

#include "../kselftest_harness.h"

#define CACHE_STATS "/sys/kernel/debug/kwasm/cache"
#define COMPILE_STATS "/sys/kernel/debug/kwasm/compile"

/*
 * Tests that exec freshly compiled Rust programs: compiling takes seconds
 * under emulation and far longer on a KASAN kernel, past the default 30 s.
 */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

static int run_ok(const char *path)
{
	char *const argv[] = { (char *)path, "cache", NULL };
	static struct result r;

	run(path, argv, &r);
	return !r.exec_errno && WIFEXITED(r.status) &&
	       WEXITSTATUS(r.status) == 0 && !strcmp(r.out, "Hello, cache!\n");
}

TEST_F_TIMEOUT(slow, second_exec_of_unchanged_module_hits_the_cache, 900)
{
	size_t len;
	char *wasm = read_file("./hello.wasm", &len);
	long hits, misses;

	ASSERT_NE(NULL, wasm);
	write_file("/tmp/cached.wasm", wasm, len);
	ASSERT_TRUE(run_ok("/tmp/cached.wasm"));
	hits = stat_of(CACHE_STATS, "hits");
	misses = stat_of(CACHE_STATS, "misses");
	ASSERT_LE(0, hits) TH_LOG("no /sys/kernel/debug/kwasm/cache");
	ASSERT_TRUE(run_ok("/tmp/cached.wasm"));
	EXPECT_EQ(hits + 1, stat_of(CACHE_STATS, "hits"));
	EXPECT_EQ(misses, stat_of(CACHE_STATS, "misses"));
	free(wasm);
}

TEST_F_TIMEOUT(slow, module_with_new_bytes_is_compiled_again, 900)
{
	long hits, misses;

	ASSERT_EQ(0, copy_unique("./hello.wasm", "/tmp/changed.wasm", "v1"));
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	hits = stat_of(CACHE_STATS, "hits");
	misses = stat_of(CACHE_STATS, "misses");
	/* Same size, same file, new bytes. */
	ASSERT_EQ(0, copy_unique("./hello.wasm", "/tmp/changed.wasm", "v2"));
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	EXPECT_EQ(misses + 1, stat_of(CACHE_STATS, "misses"));
	EXPECT_EQ(hits, stat_of(CACHE_STATS, "hits"));
}

/* The key is the module's bytes, not the file that holds them. */
TEST_F_TIMEOUT(slow, identical_bytes_in_another_file_hit_the_cache, 900)
{
	long hits, misses;

	ASSERT_EQ(0, copy_unique("./hello.wasm", "/tmp/first.wasm", "twin"));
	ASSERT_TRUE(run_ok("/tmp/first.wasm"));
	hits = stat_of(CACHE_STATS, "hits");
	misses = stat_of(CACHE_STATS, "misses");
	ASSERT_EQ(0, copy_unique("./hello.wasm", "/tmp/second.wasm", "twin"));
	ASSERT_TRUE(run_ok("/tmp/second.wasm"));
	EXPECT_EQ(hits + 1, stat_of(CACHE_STATS, "hits"));
	EXPECT_EQ(misses, stat_of(CACHE_STATS, "misses"));
}

TEST_F_TIMEOUT(slow, cache_reports_entries_and_bytes_within_limit, 900)
{
	long entries = stat_of(CACHE_STATS, "entries"), bytes = stat_of(CACHE_STATS, "bytes");

	ASSERT_TRUE(run_ok("./hello.wasm"));
	entries = stat_of(CACHE_STATS, "entries");
	bytes = stat_of(CACHE_STATS, "bytes");
	EXPECT_LT(0, entries);
	EXPECT_LT(0, bytes);
	EXPECT_GE(stat_of(CACHE_STATS, "limit"), bytes);
}

/* Concurrent misses on one key wait for one compile. */
TEST_F_TIMEOUT(slow, concurrent_first_execs_of_one_module_compile_it_once, 900)
{
	const char *path = "/tmp/concurrent.wasm";
	int i, status, ok = 0;
	pid_t pids[8];
	long compiles;

	ASSERT_EQ(0, copy_unique("./hello.wasm", path, "concurrent"));
	compiles = stat_of(COMPILE_STATS, "compiles");
	ASSERT_LE(0, compiles) TH_LOG("no /sys/kernel/debug/kwasm/compile");
	for (i = 0; i < 8; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			int null = open("/dev/null", O_WRONLY);
			char *const argv[] = { (char *)path, NULL };

			dup2(null, 1);
			execv(path, argv);
			_exit(127);
		}
	}
	for (i = 0; i < 8; i++) {
		waitpid(pids[i], &status, 0);
		ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	}
	EXPECT_EQ(8, ok) TH_LOG("only %d of 8 execs succeeded", ok);
	EXPECT_EQ(compiles + 1, stat_of(COMPILE_STATS, "compiles"))
		TH_LOG("8 concurrent first execs compiled the module %ld times",
		       stat_of(COMPILE_STATS, "compiles") - compiles);
}

static double exec_seconds(const char *path, int *status)
{
	char *const argv[] = { (char *)path, NULL };
	struct timespec a, b;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	waitpid(pid, status, 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

/* Reports cold (compile) vs warm (cached) exec time of a 1 MB module. */
TEST_F_TIMEOUT(slow, one_megabyte_module_runs_from_the_cache_when_warm, 900)
{
	size_t len;
	char *wasm = read_file("./big_module.wasm", &len);
	long misses, hits;
	double cold, warm;
	int status;

	ASSERT_NE(NULL, wasm);
	ASSERT_LT(900 * 1000, len);
	free(wasm);
	ASSERT_EQ(0, copy_unique("./big_module.wasm", "/tmp/big_module.wasm",
				 "cold-warm"));
	misses = stat_of(CACHE_STATS, "misses");
	cold = exec_seconds("/tmp/big_module.wasm", &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x", status);
	EXPECT_EQ(misses + 1, stat_of(CACHE_STATS, "misses"));
	hits = stat_of(CACHE_STATS, "hits");
	warm = exec_seconds("/tmp/big_module.wasm", &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(hits + 1, stat_of(CACHE_STATS, "hits"));
	TH_LOG("%zu-byte module: cold exec %.3f s, warm exec %.3f s", len,
	       cold, warm);
}

TEST_HARNESS_MAIN
