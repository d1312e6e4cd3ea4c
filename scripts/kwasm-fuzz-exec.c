// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm-fuzz-exec: runs one program for `scripts/kwasm fuzz-kernel` and says
 * how it ended. Built on the host (gcc -static) and run as root in the VM by
 * scripts/kwasm-fuzz-kernel-guest.sh:
 *
 *   kwasm-fuzz-exec [-t SECONDS] [-u UID] [-d DIR] [-m MIB] FILE
 *
 * Forks; the child drops to UID (default 65534) with group UID and no
 * supplementary groups, moves to DIR (default /), limits its address space
 * to MIB MiB if -m is given, points stdin, stdout and stderr at /dev/null
 * and execve()s FILE with no arguments. Prints one line, the outcome and
 * "ms=N", the milliseconds from fork to the end:
 *
 *   exec ENAME    execve() failed with errno ENAME (ENOEXEC, ENOMEM, ...)
 *   exit N        the program exited with status N
 *   signal N      it was killed by signal N (" core" if it dumped core)
 *   timeout       it was still running after SECONDS (default 5), counted
 *                 from the fork so that a slow compile counts too, and was
 *                 killed with SIGKILL
 *   stuck         it did not die within 30 s of SIGKILL (exit status 3)
 *   harness WHAT ENAME
 *                 the child could not be set up (exit status 2)
 *
 * Exit status 0 otherwise, or 2 with a message on stderr if the harness
 * itself failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what)
{
	fprintf(stderr, "kwasm-fuzz-exec: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Waits up to ms milliseconds for fd to become readable; 0 on timeout. */
static int wait_readable(int fd, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long end = now_ms() + ms;
	int n;

	for (;;) {
		n = poll(&p, 1, ms < 0 ? 0 : (int)ms);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			fail("poll");
		ms = end - now_ms();
	}
}

/* What the child reports on the pipe when it cannot exec the program. */
struct report {
	int stage;	/* 0: execve() itself; else the setup step that failed */
	int err;
};

static const char *const stages[] = {
	"exec", "credentials", "pdeathsig", "chdir", "rlimit", "stdio",
};

static const char *errno_name(int err)
{
	static char buf[32];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

/* The child: never returns. Reports a failure before the program runs on fd. */
static void child(int fd, const char *file, uid_t uid, const char *dir,
		  long mib)
{
	static const char *const envp[] = { "PATH=/bin", "HOME=/", NULL };
	struct report r = { .stage = 1 };
	char *argv[2];
	int null;

	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		goto out;
	/* Cleared by the credential change above, so set after it. */
	r.stage++;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		goto out;
	r.stage++;
	if (chdir(dir))
		goto out;
	r.stage++;
	if (mib > 0) {
		struct rlimit lim = { .rlim_cur = (rlim_t)mib << 20,
				      .rlim_max = (rlim_t)mib << 20 };

		if (setrlimit(RLIMIT_AS, &lim))
			goto out;
	}
	r.stage++;
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(null, 2) < 0)
		goto out;
	if (null > 2)
		close(null);
	r.stage = 0;
	argv[0] = (char *)file;
	argv[1] = NULL;
	execve(file, argv, (char *const *)envp);
out:
	r.err = errno;
	if (write(fd, &r, sizeof(r)) != sizeof(r))
		_exit(126);
	_exit(127);
}

int main(int argc, char **argv)
{
	long timeout = 5, mib = 0, left, start, elapsed;
	const char *dir = "/";
	uid_t uid = 65534;
	struct report r = { 0 };
	int pipefd[2], pidfd, status, opt;
	ssize_t n;
	pid_t pid;

	while ((opt = getopt(argc, argv, "t:u:d:m:")) != -1) {
		switch (opt) {
		case 't':
			timeout = atol(optarg);
			break;
		case 'u':
			uid = (uid_t)atol(optarg);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'm':
			mib = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || timeout <= 0)
		goto usage;

	if (pipe2(pipefd, O_CLOEXEC))
		fail("pipe2");
	start = now_ms();
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		close(pipefd[0]);
		child(pipefd[1], argv[optind], uid, dir, mib);
	}
	close(pipefd[1]);
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		fail("pidfd_open");

	/* The pipe: a report if execve() failed, end of file once it worked. */
	if (wait_readable(pipefd[0], timeout * 1000)) {
		n = read(pipefd[0], &r, sizeof(r));
		if (n != sizeof(r))
			r.err = 0;
	}
	left = timeout * 1000 - (now_ms() - start);
	if (!r.err && !wait_readable(pidfd, left)) {
		kill(pid, SIGKILL);
		if (!wait_readable(pidfd, 30000)) {
			printf("stuck ms=%ld\n", now_ms() - start);
			return 3;
		}
		waitpid(pid, &status, 0);
		printf("timeout ms=%ld\n", now_ms() - start);
		return 0;
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	elapsed = now_ms() - start;
	if (r.err && r.stage) {
		printf("harness %s %s\n", stages[r.stage % 6], errno_name(r.err));
		return 2;
	}
	if (r.err)
		printf("exec %s", errno_name(r.err));
	else if (WIFEXITED(status))
		printf("exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("signal %d%s", WTERMSIG(status),
		       WCOREDUMP(status) ? " core" : "");
	else
		printf("status %#x", status);
	printf(" ms=%ld\n", elapsed);
	return 0;

usage:
	fprintf(stderr,
		"usage: kwasm-fuzz-exec [-t SECONDS] [-u UID] [-d DIR] [-m MIB] FILE\n");
	return 2;
}
