// SPDX-License-Identifier: GPL-2.0
/*
 * kernel.kwasm.exec_policy: who may exec .wasm files. 0 lets everyone, 1
 * only members of kernel.kwasm.exec_group and CAP_SYS_ADMIN, 2 nobody; a
 * refused exec fails with EPERM.
 */

#include "kwasm_util.h"

#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>

#include "../kselftest_harness.h"

#define POLICY "/proc/sys/kernel/kwasm/exec_policy"
#define GROUP "/proc/sys/kernel/kwasm/exec_group"
#define NOBODY 65534
#define WASM_GROUP 4242

/*
 * Execs hello.wasm as uid (root if < 0), with gid as its only supplementary
 * group (none if < 0). Returns 0 if it ran and printed its greeting, else
 * the errno of the failed execve (or -1 for any other failure).
 */
static int exec_hello(int uid, int gid)
{
	int eno[2], out[2], status, e = 0;
	char buf[64] = "";
	pid_t pid;

	if (pipe2(eno, O_CLOEXEC) || pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *const argv[] = { "./hello.wasm", "policy", NULL };
		gid_t g = gid;

		dup2(out[1], 1);
		if (setgroups(gid < 0 ? 0 : 1, &g))
			_exit(126);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(argv[0], argv);
		e = errno;
		if (write(eno[1], &e, sizeof(e)) != sizeof(e))
			_exit(125);
		_exit(127);
	}
	close(eno[1]);
	close(out[1]);
	if (read(eno[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	if (read(out[0], buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	waitpid(pid, &status, 0);
	close(eno[0]);
	close(out[0]);
	if (e)
		return e;
	return WIFEXITED(status) && !WEXITSTATUS(status) &&
	       !strcmp(buf, "Hello, policy!\n") ? 0 : -1;
}

FIXTURE(policy) {};

FIXTURE_SETUP(policy)
{
	ASSERT_EQ(0, access(POLICY, W_OK)) TH_LOG("no %s", POLICY);
}

FIXTURE_TEARDOWN(policy)
{
	write_str(POLICY, "0");
	write_str(GROUP, "0");
}

TEST_F(policy, policy_0_lets_every_user_exec)
{
	ASSERT_EQ(0, write_str(POLICY, "0"));
	EXPECT_EQ(0, exec_hello(NOBODY, -1));
	EXPECT_EQ(0, exec_hello(-1, -1));
}

TEST_F(policy, policy_1_admits_only_the_group_and_admins)
{
	char gid[16];

	snprintf(gid, sizeof(gid), "%d", WASM_GROUP);
	ASSERT_EQ(0, write_str(GROUP, gid));
	ASSERT_EQ(0, write_str(POLICY, "1"));
	EXPECT_EQ(EPERM, exec_hello(NOBODY, -1))
		TH_LOG("a user outside group %d was not refused", WASM_GROUP);
	EXPECT_EQ(0, exec_hello(NOBODY, WASM_GROUP))
		TH_LOG("a member of group %d was refused", WASM_GROUP);
	EXPECT_EQ(0, exec_hello(-1, -1)) TH_LOG("root was refused");
}

static int write_str_fmt(const char *path, const char *fmt, int a, int b)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, a, b);
	return write_str(path, buf);
}

/*
 * exec_group is a gid of the initial user namespace: a user who maps the
 * group number onto their own gid in a user namespace of their own is
 * still refused.
 */
TEST_F(policy, policy_1_group_cannot_be_mapped_in_a_user_namespace)
{
	int eno[2], status, e = 0;
	char gid[16];
	pid_t pid;

	snprintf(gid, sizeof(gid), "%d", WASM_GROUP);
	ASSERT_EQ(0, write_str(GROUP, gid));
	ASSERT_EQ(0, write_str(POLICY, "1"));
	ASSERT_EQ(0, pipe2(eno, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *const argv[] = { "./hello.wasm", "userns", NULL };

		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(126);
		/* Changing ids made /proc/self root's; make it ours again. */
		if (prctl(PR_SET_DUMPABLE, 1) || unshare(CLONE_NEWUSER))
			_exit(125);
		/* Inside: uid 0 and gid WASM_GROUP are nobody outside. */
		if (write_str("/proc/self/setgroups", "deny") ||
		    write_str_fmt("/proc/self/uid_map", "0 %d 1", NOBODY, 0) ||
		    write_str_fmt("/proc/self/gid_map", "%d %d 1", WASM_GROUP,
				  NOBODY) ||
		    setgid(WASM_GROUP))
			_exit(124);
		execv(argv[0], argv);
		e = errno;
		if (write(eno[1], &e, sizeof(e)) != sizeof(e))
			_exit(123);
		_exit(127);
	}
	close(eno[1]);
	if (read(eno[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(eno[0]);
	waitpid(pid, &status, 0);
	ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) >= 124 &&
		     WEXITSTATUS(status) <= 126)
		TH_LOG("could not set up the user namespace (exit %d)",
		       WEXITSTATUS(status));
	EXPECT_EQ(EPERM, e)
		TH_LOG("a group mapped in a user namespace passed exec_group (errno %d, status %#x)",
		       e, status);
}

TEST_F(policy, policy_2_refuses_everyone_with_eperm)
{
	ASSERT_EQ(0, write_str(POLICY, "2"));
	EXPECT_EQ(EPERM, exec_hello(NOBODY, -1));
	EXPECT_EQ(EPERM, exec_hello(-1, -1));
}

TEST_F(policy, policy_rejects_values_out_of_range)
{
	EXPECT_NE(0, write_str(POLICY, "3"));
	EXPECT_NE(0, write_str(POLICY, "-1"));
}

TEST_HARNESS_MAIN
