// SPDX-License-Identifier: GPL-2.0
/*
 * Audit sees a wasm program's host calls as the system calls they do: a
 * file watch on a file the program opens through WASI records an openat,
 * and a rule on connect(2) records the program's connects with the
 * addresses they named. With no audit daemon, the records go to the
 * kernel log.
 */

#include "kwasm_util.h"

#include <linux/audit.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"

#define DIR "/tmp/audited"
#define WATCHED DIR "/seccomp_probe.wasm"
#define RATELIMIT "/proc/sys/kernel/printk_ratelimit"

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

/* Runs argv with envp and nothing but stdio; its output in buf, its status. */
static int run_program(char *const argv[], char *const envp[], char *buf)
{
	int out[2], status = -1;
	pid_t pid;

	if (pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		close_range(3, ~0U, 0);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[1]);
	drain(out[0], buf);
	close(out[0]);
	waitpid(pid, &status, 0);
	return status;
}

TEST(audit_watch_records_the_open_of_a_wasm_program)
{
	char *const argv[] = { WATCHED, NULL };
	char *const envp[] = { "KWASM_DIRS=" DIR "::.", NULL };
	int fd, status;
	static char buf[OUT_MAX];

	mkdir(DIR, 0755);
	ASSERT_EQ(0, copy_unique("./seccomp_probe.wasm", WATCHED, "audit"));
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	ASSERT_LE(0, fd) TH_LOG("no audit netlink socket: %s", strerror(errno));
	ASSERT_EQ(0, audit_enable(fd, 1));
	ASSERT_EQ(0, audit_watch(fd, AUDIT_ADD_RULE, WATCHED));

	status = run_program(argv, envp, buf);
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

/* klog_has(), given kauditd up to 5 s to print the records. */
static int klog_soon(const char *a, const char *b)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (klog_has(a, b))
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

/* A rule on system call nr (every task), or its removal. */
static int audit_syscall(int fd, int type, int nr)
{
	struct audit_rule_data r = {
		.flags = AUDIT_FILTER_EXIT,
		.action = AUDIT_ALWAYS,
	};

	r.mask[nr / 32] = 1U << (nr % 32);
	return audit_send(fd, type, &r, sizeof(r));
}

/*
 * net_sockets.wasm connects to 127.0.0.1 (among much else): the record of
 * its connect carries a SOCKADDR record of that AF_INET address, as
 * move_addr_to_kernel() makes one for a native connect.
 */
TEST(audit_records_the_address_of_a_wasm_connect)
{
	char *const argv[] = { "./net_sockets.wasm", NULL };
	char *const envp[] = { "KWASM_DIRS=", NULL };
	int fd, status, found_syscall, found_inet, found_lo;
	static char buf[OUT_MAX];
	char ratelimit[32] = { 0 };

	/*
	 * Without auditd the records are printk()ed, at most 10 per 5 s
	 * (printk_ratelimit()): the other test's records may have used them.
	 */
	fd = open(RATELIMIT, O_RDONLY);
	ASSERT_LT(0, read(fd, ratelimit, sizeof(ratelimit) - 1));
	close(fd);
	ASSERT_EQ(0, write_str(RATELIMIT, "0"));
	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	ASSERT_LE(0, fd) TH_LOG("no audit netlink socket: %s", strerror(errno));
	ASSERT_EQ(0, audit_enable(fd, 1));
	ASSERT_EQ(0, audit_syscall(fd, AUDIT_ADD_RULE, __NR_connect));

	status = run_program(argv, envp, buf);
	audit_syscall(fd, AUDIT_DEL_RULE, __NR_connect);
	audit_enable(fd, 0);
	close(fd);
	/* The records may still be on their way to the log. */
	found_syscall = klog_soon("syscall=42", "comm=\"net_sockets.was\"");
	found_inet = klog_soon("type=1306", "saddr=0200");
	found_lo = klog_soon("type=1306", "7F000001");
	write_str(RATELIMIT, ratelimit);

	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("status %#x, output: %s", status, buf);
	EXPECT_TRUE(found_syscall)
		TH_LOG("no audit SYSCALL record of the wasm connect");
	/* AF_INET (0200), a port, then 127.0.0.1 (7F000001). */
	EXPECT_TRUE(found_inet)
		TH_LOG("no audit SOCKADDR record of an AF_INET address");
	EXPECT_TRUE(found_lo)
		TH_LOG("no audit SOCKADDR record naming 127.0.0.1");
}

TEST_HARNESS_MAIN
