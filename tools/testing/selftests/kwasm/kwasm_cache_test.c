// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm code cache tests: the second exec of an unchanged module is a cache
 * hit (no compilation), a changed file is compiled again, and the counters
 * are visible in /proc/kwasm_cache.
 */

#include "kwasm_util.h"

#include <time.h>
#include <utime.h>

#include "../kselftest_harness.h"

/*
 * Tests that exec freshly compiled Rust programs: compiling takes seconds
 * under emulation and far longer on a KASAN kernel, past the default 30 s.
 */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

static long cache_stat(const char *name)
{
	char key[64];
	long v, found = -1;
	FILE *f = fopen("/proc/kwasm_cache", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

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
	hits = cache_stat("hits");
	misses = cache_stat("misses");
	ASSERT_LE(0, hits) TH_LOG("no /proc/kwasm_cache");
	ASSERT_TRUE(run_ok("/tmp/cached.wasm"));
	EXPECT_EQ(hits + 1, cache_stat("hits"));
	EXPECT_EQ(misses, cache_stat("misses"));
	free(wasm);
}

TEST_F_TIMEOUT(slow, changed_module_is_compiled_again, 900)
{
	size_t len;
	char *wasm = read_file("./hello.wasm", &len);
	struct utimbuf later = { time(NULL) + 10, time(NULL) + 10 };
	long hits, misses;

	ASSERT_NE(NULL, wasm);
	write_file("/tmp/changed.wasm", wasm, len);
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	hits = cache_stat("hits");
	misses = cache_stat("misses");
	/* New contents (the same bytes, rewritten) and a new mtime. */
	write_file("/tmp/changed.wasm", wasm, len);
	ASSERT_EQ(0, utime("/tmp/changed.wasm", &later));
	ASSERT_TRUE(run_ok("/tmp/changed.wasm"));
	EXPECT_EQ(misses + 1, cache_stat("misses"));
	EXPECT_EQ(hits, cache_stat("hits"));
	free(wasm);
}

TEST_F_TIMEOUT(slow, cache_reports_entries_and_bytes_within_limit, 900)
{
	long entries = cache_stat("entries"), bytes = cache_stat("bytes");

	ASSERT_TRUE(run_ok("./hello.wasm"));
	entries = cache_stat("entries");
	bytes = cache_stat("bytes");
	EXPECT_LT(0, entries);
	EXPECT_LT(0, bytes);
	EXPECT_GE(cache_stat("limit"), bytes);
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
	write_file("/tmp/big_module.wasm", wasm, len);
	misses = cache_stat("misses");
	cold = exec_seconds("/tmp/big_module.wasm", &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %#x", status);
	EXPECT_EQ(misses + 1, cache_stat("misses"));
	hits = cache_stat("hits");
	warm = exec_seconds("/tmp/big_module.wasm", &status);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(hits + 1, cache_stat("hits"));
	TH_LOG("%zu-byte module: cold exec %.3f s, warm exec %.3f s", len,
	       cold, warm);
	free(wasm);
}

TEST_HARNESS_MAIN
