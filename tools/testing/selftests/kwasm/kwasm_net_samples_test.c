// SPDX-License-Identifier: GPL-2.0
/*
 * The network samples as kwasm programs (samples/kwasm/net, built over the
 * kwasm-net crate): the epoll echo server under many concurrent clients,
 * a 1 MiB stream that needs back-pressure, peer resets and half-close,
 * over IPv4 and IPv6; the HTTP/1.1 server's keep-alive, Connection: close, pipelining
 * and errors. Each server is blocked in epoll_wait when the test ends it
 * with SIGTERM, which must end it by that signal.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "kwasm_util.h"

#include "../kselftest_harness.h"

#define CLIENTS 64

struct server {
	pid_t pid;
	int port;
	int family;
};

/*
 * Starts a sample server on addr ("127.0.0.1:0" or "[::1]:0") and waits for
 * its "listening on ADDR:PORT" line (compiling takes a while under
 * emulation). Returns 0 or -1 with the server's stdout in line.
 */
static int start_server(const char *path, const char *addr, struct server *s,
			char *line, size_t size)
{
	char *const argv[] = { (char *)path, (char *)addr, NULL };
	struct pollfd pfd;
	size_t n = 0;
	int out[2];
	char *colon;

	line[0] = 0;
	if (pipe(out))
		return -1;
	s->family = strchr(addr, '[') ? AF_INET6 : AF_INET;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv(path, argv);
		_exit(127);
	}
	close(out[1]);
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (n < size - 1 && !memchr(line, '\n', n)) {
		ssize_t r;

		if (poll(&pfd, 1, 240000) != 1)
			break;
		r = read(out[0], line + n, size - 1 - n);
		if (r <= 0)
			break;
		n += r;
		line[n] = 0;
	}
	close(out[0]);
	colon = strrchr(line, ':');
	if (strncmp(line, "listening on ", 13) || !colon)
		return -1;
	s->port = atoi(colon + 1);
	return s->port > 0 ? 0 : -1;
}

/* Ends the server with SIGTERM; returns its wait status. */
static int stop_server(struct server *s)
{
	int status = 0;

	if (s->pid <= 0)
		return 0;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, &status, 0);
	s->pid = 0;
	return status;
}

static int connect_to(const struct server *s)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int one = 1, fd, r;

	fd = socket(s->family, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->family == AF_INET6) {
		a6.sin6_port = htons(s->port);
		a6.sin6_addr = in6addr_loopback;
		r = connect(fd, (struct sockaddr *)&a6, sizeof(a6));
	} else {
		a4.sin_port = htons(s->port);
		a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = connect(fd, (struct sockaddr *)&a4, sizeof(a4));
	}
	if (r) {
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads exactly len bytes (or fewer at EOF); returns the count. */
static size_t recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, p + got, len - got, 0);

		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/* Reads until EOF (or size - 1 bytes); returns a NUL-terminated count. */
static size_t recv_to_eof(int fd, char *buf, size_t size)
{
	size_t got = recv_all(fd, buf, size - 1);

	buf[got] = 0;
	return got;
}

static int echo_once(const struct server *s, const char *msg)
{
	char buf[256];
	int fd = connect_to(s);
	size_t len = strlen(msg);
	int ok;

	if (fd < 0)
		return 0;
	ok = !send_all(fd, msg, len) && recv_all(fd, buf, len) == len &&
	     !memcmp(buf, msg, len);
	close(fd);
	return ok;
}

FIXTURE(echo) {
	struct server srv;
	char line[256];
};

/* Every echo test runs over IPv4 and over IPv6 loopback. */
FIXTURE_VARIANT(echo) {
	const char *addr;
};

FIXTURE_VARIANT_ADD(echo, ipv4) {
	.addr = "127.0.0.1:0",
};

FIXTURE_VARIANT_ADD(echo, ipv6) {
	.addr = "[::1]:0",
};

FIXTURE_SETUP(echo)
{
	ASSERT_EQ(0, start_server("./echo_server.wasm", variant->addr,
				  &self->srv, self->line, sizeof(self->line)))
		TH_LOG("expected \"listening on %s\" (with a port), got \"%s\"",
		       variant->addr, self->line);
}

FIXTURE_TEARDOWN(echo)
{
	int status = stop_server(&self->srv);

	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		TH_LOG("expected death by SIGTERM, got status %#x", status);
}

TEST_F_TIMEOUT(echo, echo_serves_64_concurrent_clients, 300)
{
	int fds[CLIENTS], i;
	char msg[64], buf[64];

	for (i = 0; i < CLIENTS; i++) {
		fds[i] = connect_to(&self->srv);
		ASSERT_LE(0, fds[i]) TH_LOG("client %d cannot connect", i);
	}
	/* All connected before any echo: the server juggles 64 at once. */
	for (i = 0; i < CLIENTS; i++) {
		snprintf(msg, sizeof(msg), "client %02d says hello", i);
		ASSERT_EQ(0, send_all(fds[i], msg, strlen(msg)));
	}
	for (i = CLIENTS - 1; i >= 0; i--) {
		size_t len;

		snprintf(msg, sizeof(msg), "client %02d says hello", i);
		len = strlen(msg);
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(len, recv_all(fds[i], buf, len));
		EXPECT_STREQ(msg, buf);
		close(fds[i]);
	}
}

/*
 * Sends 1 MiB while reading the echo: the server's socket buffers fill, so
 * it must keep the rest and wait for room (EPOLLOUT).
 */
TEST_F_TIMEOUT(echo, echo_streams_one_mebibyte_with_back_pressure, 300)
{
	const size_t total = 1 << 20;
	char *out = malloc(total), *in = malloc(total);
	size_t sent = 0, got = 0, i;
	int fd = connect_to(&self->srv);

	ASSERT_LE(0, fd);
	ASSERT_TRUE(out && in);
	for (i = 0; i < total; i++)
		out[i] = (char)(i * 31 + i / 4096);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (got < total) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (sent < total)
			pfd.events |= POLLOUT;
		ASSERT_EQ(1, poll(&pfd, 1, 60000))
			TH_LOG("stalled: sent %zu, received %zu", sent, got);
		if (pfd.revents & POLLOUT) {
			n = send(fd, out + sent, total - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(fd, in + got, total - got, 0);
			ASSERT_LT(0, n) TH_LOG("EOF after %zu of %zu bytes", got, total);
			got += n;
		}
	}
	EXPECT_EQ(0, memcmp(out, in, total));
	close(fd);
	free(out);
	free(in);
}

/* A client that resets its connection must not take the server down. */
TEST_F_TIMEOUT(echo, echo_survives_peer_resets_and_serves_the_next_client, 300)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int i;

	for (i = 0; i < 8; i++) {
		int fd = connect_to(&self->srv);

		ASSERT_LE(0, fd);
		/* Unread data pending on either side makes the close a reset. */
		ASSERT_EQ(0, send_all(fd, "reset me", 8));
		if (i % 2)
			usleep(20000);
		ASSERT_EQ(0, setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
		close(fd);
	}
	EXPECT_TRUE(echo_once(&self->srv, "still here after 8 resets"));
}

/* After the client's FIN the server echoes what it has, then closes. */
TEST_F_TIMEOUT(echo, echo_half_close_returns_the_data_then_eof, 300)
{
	char buf[64];
	int fd = connect_to(&self->srv);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_all(fd, "last words", 10));
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	EXPECT_EQ(10, recv_to_eof(fd, buf, sizeof(buf)));
	EXPECT_STREQ("last words", buf);
	close(fd);
}

FIXTURE(http) {
	struct server srv;
	char line[256];
	char buf[4096];
};

FIXTURE_SETUP(http)
{
	ASSERT_EQ(0, start_server("./http_server.wasm", "127.0.0.1:0",
				  &self->srv, self->line, sizeof(self->line)))
		TH_LOG("expected \"listening on 127.0.0.1:PORT\", got \"%s\"",
		       self->line);
}

FIXTURE_TEARDOWN(http)
{
	int status = stop_server(&self->srv);

	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
		TH_LOG("expected death by SIGTERM, got status %#x", status);
}

#define OK_200 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
	"Content-Length: 18\r\nConnection: keep-alive\r\n\r\nHello from kwasm!\n"
#define CLOSE_200 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
	"Content-Length: 18\r\nConnection: close\r\n\r\nHello from kwasm!\n"

TEST_F_TIMEOUT(http, http_keep_alive_then_connection_close, 300)
{
	const char *get = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
	const char *last = "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	int fd = connect_to(&self->srv);
	size_t n;

	ASSERT_LE(0, fd);
	/* Two answers on one connection, then the close after the third. */
	ASSERT_EQ(0, send_all(fd, get, strlen(get)));
	n = recv_all(fd, self->buf, strlen(OK_200));
	self->buf[n] = 0;
	EXPECT_STREQ(OK_200, self->buf);
	ASSERT_EQ(0, send_all(fd, get, strlen(get)));
	n = recv_all(fd, self->buf, strlen(OK_200));
	self->buf[n] = 0;
	EXPECT_STREQ(OK_200, self->buf);
	ASSERT_EQ(0, send_all(fd, last, strlen(last)));
	recv_to_eof(fd, self->buf, sizeof(self->buf));
	EXPECT_STREQ(CLOSE_200, self->buf);
	close(fd);
}

TEST_F_TIMEOUT(http, http_pipelined_requests_are_answered_in_order, 300)
{
	const char *reqs = "GET / HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"
		"POST / HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
	const char *want = OK_200
		"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
		"Content-Length: 10\r\nConnection: keep-alive\r\n\r\nnot found\n"
		"HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\n"
		"Content-Length: 19\r\nConnection: close\r\n\r\nmethod not allowed\n";
	int fd = connect_to(&self->srv);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_all(fd, reqs, strlen(reqs)));
	recv_to_eof(fd, self->buf, sizeof(self->buf));
	EXPECT_STREQ(want, self->buf);
	close(fd);
}

TEST_F_TIMEOUT(http, http_1_0_closes_and_bad_requests_get_400, 300)
{
	const char *old = "HEAD / HTTP/1.0\r\n\r\n";
	const char *bad = "BROKEN\r\n\r\n";
	int fd = connect_to(&self->srv);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_all(fd, old, strlen(old)));
	recv_to_eof(fd, self->buf, sizeof(self->buf));
	EXPECT_STREQ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		     "Content-Length: 18\r\nConnection: close\r\n\r\n", self->buf);
	close(fd);
	fd = connect_to(&self->srv);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, send_all(fd, bad, strlen(bad)));
	recv_to_eof(fd, self->buf, sizeof(self->buf));
	EXPECT_STREQ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
		     "Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n",
		     self->buf);
	close(fd);
}

TEST_HARNESS_MAIN
