// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver for SQLite: runs speedtest1's main test set (inserts,
 * selects, index builds, updates, deletes, joins, a CTE, sorting, and
 * more) on an in-memory database. `sqlite [SCALE]`: SCALE, the amount of
 * work in percent (default 100), scales speedtest1's --size. speedtest1
 * prints each test's name, the time it took and, with --verify, a hash of
 * every result row; this build's VFS reports a fixed clock, so every time
 * is 0.000s and the output is the same on every engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* speedtest1.c's unlink(), included there only on Linux */

#define main speedtest1_main
#include "speedtest1.c"
#undef main

/*
 * The default VFS of this SQLITE_OS_OTHER build. The database and its
 * temporary tables live in memory, so it never opens a file.
 */
static int bench_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	return SQLITE_CANTOPEN;
}

static int bench_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	return SQLITE_OK;
}

static int bench_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	*out = 0;
	return SQLITE_OK;
}

static int bench_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	sqlite3_snprintf(n, out, "%s", name);
	return SQLITE_OK;
}

static int bench_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	memset(out, 0, n);
	return n;
}

static int bench_sleep(sqlite3_vfs *vfs, int us)
{
	return us;
}

/* 2024-01-01 00:00 UTC, as a Julian day number in milliseconds. */
#define FIXED_TIME_MS 212275411200000LL

static int bench_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	*t = FIXED_TIME_MS;
	return SQLITE_OK;
}

static int bench_current_time(sqlite3_vfs *vfs, double *t)
{
	*t = FIXED_TIME_MS / 86400000.0;
	return SQLITE_OK;
}

static int bench_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return 0;
}

static sqlite3_vfs bench_vfs = {
	.iVersion = 2,
	.szOsFile = sizeof(sqlite3_file),
	.mxPathname = 512,
	.zName = "bench",
	.xOpen = bench_open,
	.xDelete = bench_delete,
	.xAccess = bench_access,
	.xFullPathname = bench_full_pathname,
	.xRandomness = bench_randomness,
	.xSleep = bench_sleep,
	.xCurrentTime = bench_current_time,
	.xGetLastError = bench_last_error,
	.xCurrentTimeInt64 = bench_current_time_int64,
};

int sqlite3_os_init(void)
{
	return sqlite3_vfs_register(&bench_vfs, 1);
}

int sqlite3_os_end(void)
{
	return SQLITE_OK;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 100;
	char size[24];
	char *args[] = { argv[0], "--memdb", "--verify", "--size", size, NULL };

	snprintf(size, sizeof(size), "%ld", scale * 40 / 100 > 0 ? scale * 40 / 100 : 1);
	return speedtest1_main(5, args);
}
