// SPDX-License-Identifier: GPL-2.0
/*
 * Audit sees a wasm program's host calls as the system calls they do: a
 * file watch on a file the program opens through WASI records an openat.
 * With no audit daemon, the records go to the kernel log.
 */

#include "kwasm_util.h"

#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"

#define DIR "/tmp/audited"
#define WATCHED DIR "/seccomp_probe.wasm"

struct audit_req {
	struct nlmsghdr nlh;
	union {
		struct audit_status status;
		struct audit_rule_data rule;
	};
	char buf[256];
};

/* Sends one audit request and waits for its acknowledgement; 0 or -errno. */
static int audit_send(int fd, int type, const void *data, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct audit_req req = { };
	struct {
		struct nlmsghdr nlh;
		struct nlmsgerr err;
	} ack;

	req.nlh.nlmsg_len = NLMSG_LENGTH(len);
	req.nlh.nlmsg_type = type;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nlh.nlmsg_seq = 1;
	memcpy(NLMSG_DATA(&req.nlh), data, len);
	if (sendto(fd, &req, req.nlh.nlmsg_len, 0, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	if (recv(fd, &ack, sizeof(ack), 0) < (ssize_t)sizeof(ack.nlh))
		return -EIO;
	return ack.nlh.nlmsg_type == NLMSG_ERROR ? ack.err.error : 0;
}

static int audit_enable(int fd, int on)
{
	struct audit_status s = { .mask = AUDIT_STATUS_ENABLED, .enabled = on };

	return audit_send(fd, AUDIT_SET, &s, sizeof(s));
}

/* A watch on path for reads and writes, or its removal. */
static int audit_watch(int fd, int type, const char *path)
{
	char data[sizeof(struct audit_rule_data) + 256] = { };
	struct audit_rule_data *r = (void *)data;
	size_t n = strlen(path);
	int i;

	r->flags = AUDIT_FILTER_EXIT;
	r->action = AUDIT_ALWAYS;
	r->field_count = 2;
	r->fields[0] = AUDIT_WATCH;
	r->fieldflags[0] = AUDIT_EQUAL;
	r->values[0] = n;
	r->fields[1] = AUDIT_PERM;
	r->fieldflags[1] = AUDIT_EQUAL;
	r->values[1] = AUDIT_PERM_READ | AUDIT_PERM_WRITE;
	for (i = 0; i < AUDIT_BITMASK_SIZE; i++)
		r->mask[i] = ~0U;
	r->buflen = n;
	memcpy(r->buf, path, n);
	return audit_send(fd, type, r, sizeof(*r) + n);
}

TEST(audit_watch_records_the_open_of_a_wasm_program)
{
	char *const argv[] = { WATCHED, NULL };
	char *const envp[] = { "KWASM_DIRS=" DIR "::.", NULL };
	int fd, status, out[2];
	static char buf[4096];
	pid_t pid;

	mkdir(DIR, 0755);
	ASSERT_EQ(0, copy_unique("./seccomp_probe.wasm", WATCHED, "audit"));
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	ASSERT_LE(0, fd) TH_LOG("no audit netlink socket: %s", strerror(errno));
	ASSERT_EQ(0, audit_enable(fd, 1));
	ASSERT_EQ(0, audit_watch(fd, AUDIT_ADD_RULE, WATCHED));

	ASSERT_EQ(0, pipe(out));
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		close_range(3, ~0U, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[1]);
	drain(out[0], buf);
	waitpid(pid, &status, 0);
	audit_watch(fd, AUDIT_DEL_RULE, WATCHED);
	audit_enable(fd, 0);
	close(fd);

	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status %#x", status);
	ASSERT_NE(NULL, strstr(buf, "open: ok")) TH_LOG("output: %s", buf);
	/* An openat (257) record of the program's task, and the file's path. */
	EXPECT_TRUE(klog_has("syscall=257", "comm=\"seccomp_probe.w\""))
		TH_LOG("no audit SYSCALL record of the wasm openat");
	EXPECT_TRUE(klog_has("type=1302", "name=\"seccomp_probe.wasm\""))
		TH_LOG("no audit PATH record naming the watched file");
}

TEST_HARNESS_MAIN
