/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kwasm selftests: run a program with its output
 * captured, read the kernel log, write files.
 */
#ifndef KWASM_UTIL_H
#define KWASM_UTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX 65536

struct result {
	int status;		/* wait status */
	int exec_errno;		/* errno of a failed execve, else 0 */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static inline void drain(int fd, char *buf)
{
	size_t n = 0;
	ssize_t r;

	while (n < OUT_MAX - 1 && (r = read(fd, buf + n, OUT_MAX - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
}

/*
 * Runs path with argv (NULL-terminated) as uid (or the current user if
 * uid < 0). A failing execve reports its errno through a pipe.
 */
static inline void run_as(const char *path, char *const argv[], int uid,
		   struct result *res)
{
	int out[2], err[2], eno[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe(out) || pipe(err) || pipe2(eno, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char *const envp[] = { "KWASM_TEST=1", NULL };

		dup2(out[1], 1);
		dup2(err[1], 2);
		if (uid >= 0 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execve(path, argv, envp);
		int e = errno;

		if (write(eno[1], &e, sizeof(e)) != sizeof(e))
			_exit(125);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	close(eno[1]);
	if (read(eno[0], &res->exec_errno, sizeof(int)) != sizeof(int))
		res->exec_errno = 0;
	/* Tests write little output: draining one pipe after the other is fine. */
	drain(out[0], res->out);
	drain(err[0], res->err);
	waitpid(pid, &res->status, 0);
	close(out[0]);
	close(err[0]);
	close(eno[0]);
}

/*
 * Starts argv[0] with its stdout on a pipe, as uid (and group uid) unless
 * uid is -1; returns the pid (-1 on failure) and the read end in *out.
 */
static inline pid_t spawn_piped(char *const argv[], int uid, int *out)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		if (uid != -1 && (setgid(uid) || setuid(uid)))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	*out = p[0];
	return pid;
}

static inline void run(const char *path, char *const argv[], struct result *res)
{
	run_as(path, argv, -1, res);
}

/* Whether the kernel log holds a line containing all of a and b. */
static inline int klog_has(const char *a, const char *b)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	char *line, *save = NULL;

	if (n < 0)
		return 0;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && strstr(line, b))
			return 1;
	return 0;
}

static inline void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* Reads a file into a malloc'd, NUL-terminated buffer. */
static inline char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		return NULL;
	buf[st.st_size] = 0;
	close(fd);
	*len = st.st_size;
	return buf;
}

/* Writes val to path (a sysctl, module parameter or cgroup file); 0 or -1. */
static inline int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * The value of key in a file of "key value" lines (debugfs statistics,
 * cgroup memory.events), or of the file's first number if key is NULL;
 * -1 if there is none.
 */
static inline long stat_of(const char *path, const char *key)
{
	char k[64];
	long v, found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!key) {
		if (fscanf(f, "%ld", &found) != 1)
			found = -1;
	} else {
		while (fscanf(f, "%63s %ld", k, &v) == 2)
			if (!strcmp(k, key))
				found = v;
	}
	fclose(f);
	return found;
}

/*
 * Writes src's module to dst with a custom section named tag appended: a
 * module that behaves the same but has bytes of its own, so that its exec
 * misses the code cache (which is keyed on content). tag < 100 bytes.
 */
static inline int copy_unique(const char *src, const char *dst,
			      const char *tag)
{
	size_t len, n = strlen(tag);
	char *buf = read_file(src, &len);
	char *out;

	if (!buf || n >= 100)
		return -1;
	out = malloc(len + n + 3);
	if (!out)
		return -1;
	memcpy(out, buf, len);
	out[len] = 0;			/* custom section */
	out[len + 1] = n + 1;		/* its size (LEB128, < 128) */
	out[len + 2] = n;		/* name length */
	memcpy(out + len + 3, tag, n);
	unlink(dst);
	write_file(dst, out, len + n + 3);
	free(buf);
	free(out);
	return 0;
}

/* Reads /proc/PID/NAME into buf (NUL-terminated); bytes read or -1. */
static inline ssize_t read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

/*
 * Waits up to 30 s for the program to run: its [kwasm] mapping appears once
 * execve() has returned (compile included). Attaching earlier would see
 * the exec's SIGTRAP, as for any traced exec.
 */
static inline int wait_running(pid_t pid)
{
	static char buf[4096];
	int i;

	for (i = 0; i < 3000; i++) {
		if (read_proc(pid, "maps", buf, sizeof(buf)) > 0 &&
		    strstr(buf, "[kwasm]"))
			return 0;
		usleep(10 * 1000);
	}
	return -1;
}

static inline void stop_and_reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

#endif /* KWASM_UTIL_H */
