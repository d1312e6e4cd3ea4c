// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel memory a wasm program causes is charged to its memory cgroup:
 * memory.max refuses a program whose tables would exceed it (ENOMEM, not
 * the cgroup's OOM killer), and memory.current shows what an idle program
 * costs.
 */

#include "kwasm_util.h"

#include <signal.h>
#include <sys/mount.h>

#include "../kselftest_harness.h"

#define CG "/sys/fs/cgroup"
#define CG_TEST CG "/kwasm_test"

/* Whether a line of path (a /proc file: no size to read by) contains s. */
static int file_has(const char *path, const char *s)
{
	char line[512];
	int found = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !!strstr(line, s);
	fclose(f);
	return found;
}

FIXTURE(cg) {};

FIXTURE_SETUP(cg)
{
	mkdir(CG, 0755);
	if (access(CG "/cgroup.controllers", F_OK))
		ASSERT_EQ(0, mount("cgroup2", CG, "cgroup2", 0, NULL));
	ASSERT_EQ(0, write_str(CG "/cgroup.subtree_control", "+memory"));
	rmdir(CG_TEST);
	ASSERT_EQ(0, mkdir(CG_TEST, 0755));
}

FIXTURE_TEARDOWN(cg)
{
	rmdir(CG_TEST);
}

/* Forks path into the test cgroup; returns the pid. */
static pid_t spawn_in_cgroup(const char *path, int *eno_fd)
{
	int eno[2];
	pid_t pid;

	if (pipe2(eno, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { (char *)path, NULL };
		char self[16];
		int e;

		snprintf(self, sizeof(self), "%d", getpid());
		if (write_str(CG_TEST "/cgroup.procs", self))
			_exit(125);
		execv(path, argv);
		e = errno;
		if (write(eno[1], &e, sizeof(e)) != sizeof(e))
			_exit(124);
		_exit(127);
	}
	close(eno[1]);
	*eno_fd = eno[0];
	return pid;
}

static int wait_exec(pid_t pid, int eno_fd, int *status)
{
	int e = 0;

	if (read(eno_fd, &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(eno_fd);
	waitpid(pid, status, 0);
	return e;
}

TEST_F(cg, memory_max_stops_a_program_whose_tables_exceed_it)
{
	int status, e, fd;
	pid_t pid;

	/* Control: without a limit, the 64 MB table is granted. */
	pid = spawn_in_cgroup("./table_64mib.wasm", &fd);
	e = wait_exec(pid, fd, &status);
	ASSERT_EQ(0, e) TH_LOG("exec failed with errno %d without a limit", e);
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status %#x without a limit", status);

	ASSERT_EQ(0, write_str(CG_TEST "/memory.max", "33554432"));
	pid = spawn_in_cgroup("./table_64mib.wasm", &fd);
	e = wait_exec(pid, fd, &status);
	/* Refused cleanly: not left to the cgroup's OOM killer. */
	ASSERT_EQ(ENOMEM, e)
		TH_LOG("under memory.max=32M: errno %d, status %#x", e, status);
	EXPECT_EQ(0, stat_of(CG_TEST "/memory.events", "oom_kill"))
		TH_LOG("the cgroup's OOM killer ran");
	EXPECT_LT(0, stat_of(CG_TEST "/memory.events", "max"))
		TH_LOG("memory.events shows no charge that hit memory.max");
}

TEST_F(cg, idle_program_memory_is_charged_to_its_cgroup)
{
	long before, during;
	char maps[64];
	int status, fd, i;
	pid_t pid;

	before = stat_of(CG_TEST "/memory.current", NULL);
	pid = spawn_in_cgroup("./spin.wasm", &fd);
	ASSERT_LT(0, pid);
	/* Wait for the exec to complete: the [kwasm] mapping appears. */
	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	for (i = 0; i < 500 && !file_has(maps, "[kwasm]"); i++)
		usleep(10000);
	ASSERT_GT(500, i) TH_LOG("spin.wasm did not start");
	during = stat_of(CG_TEST "/memory.current", NULL);
	kill(pid, SIGKILL);
	wait_exec(pid, fd, &status);
	ksft_print_msg("memory.current of a cgroup running spin.wasm: %ld KiB (empty: %ld KiB)\n",
		       during / 1024, before / 1024);
	/* Stack (512 KiB) and linear memory (64 KiB) at least. */
	EXPECT_LT(before + 576 * 1024, during);
}

TEST_HARNESS_MAIN
