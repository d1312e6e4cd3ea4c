// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the kernel work behind kwasm_net, the socket and epoll import
 * module (semantics in rust/kwasm/wasi/src/net.rs). Sockets and epoll
 * instances are the task's own fds. Addresses and options are kernel
 * memory; data moves between the socket layer and linear memory through
 * kvec iterators. Every function returns >= 0 or a negative errno.
 */

#include <linux/audit.h>
#include <linux/fs.h>
#include <linux/eventpoll.h>
#include <linux/file.h>
#include <linux/net.h>
#include <linux/security.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "kwasm.h"

static struct socket *kwasm_sockfd(unsigned int fd, struct fd *f)
{
	struct socket *sock;

	*f = fdget(fd);
	if (!fd_file(*f))
		return ERR_PTR(-EBADF);
	sock = sock_from_file(fd_file(*f));
	if (!sock) {
		fdput(*f);
		return ERR_PTR(-ENOTSOCK);
	}
	return sock;
}

static long kwasm_install_file(struct file *file, int flags)
{
	int fd;

	if (IS_ERR(file))
		return PTR_ERR(file);
	fd = get_unused_fd_flags(flags & O_CLOEXEC);
	if (fd < 0) {
		fput(file);
		return fd;
	}
	fd_install(fd, file);
	return fd;
}

long kwasm_net_socket(int domain, int type, int protocol)
{
	return kwasm_install_file(__sys_socket_file(domain, type, protocol),
				  type & SOCK_CLOEXEC ? O_CLOEXEC : 0);
}

/*
 * The address a call takes, as move_addr_to_kernel() (audit records it);
 * move_addr_to_user()'s counterpart for the addresses calls return is
 * kwasm_addr_out().
 */
static long kwasm_addr_in(struct sockaddr_storage *ss, const void *addr,
			  size_t len)
{
	if (len > sizeof(*ss))
		return -EINVAL;
	if (!len)
		return 0;
	memcpy(ss, addr, len);
	return audit_sockaddr(len, ss);
}

static long kwasm_addr_out(void *addr, struct sockaddr_storage *ss,
			   size_t len)
{
	if (len && audit_sockaddr(len, ss))
		return -ENOMEM;
	memcpy(addr, ss, len);
	return 0;
}

long kwasm_net_bind(unsigned int fd, const void *addr, size_t len)
{
	struct sockaddr_storage ss;
	struct socket *sock;
	struct fd f;
	long ret = kwasm_addr_in(&ss, addr, len);

	if (ret)
		return ret;
	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = __sys_bind_socket(sock, &ss, len);
	fdput(f);
	return ret;
}

long kwasm_net_listen(unsigned int fd, int backlog)
{
	struct socket *sock;
	struct fd f;
	long ret;

	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = __sys_listen_socket(sock, backlog);
	fdput(f);
	return ret;
}

long kwasm_net_connect(unsigned int fd, const void *addr, size_t len)
{
	struct sockaddr_storage ss;
	struct fd f;
	long ret = kwasm_addr_in(&ss, addr, len);

	if (ret)
		return ret;
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	ret = __sys_connect_file(fd_file(f), &ss, len, 0);
	fdput(f);
	return ret;
}

/*
 * getsockname (peer 0), getpeername (peer 1) or accept's peer (2, which
 * no LSM hook checks, as in do_accept()) into addr; returns the length.
 */
static long kwasm_getname(struct socket *sock, void *addr, int peer)
{
	struct sockaddr_storage ss;
	long ret = 0;

	if (peer == 1)
		ret = security_socket_getpeername(sock);
	else if (peer == 0)
		ret = security_socket_getsockname(sock);
	if (ret)
		return ret;
	ret = READ_ONCE(sock->ops)->getname(sock, (struct sockaddr *)&ss, peer);
	if (ret < 0)
		return ret;
	ret = min_t(size_t, ret, sizeof(ss));
	return kwasm_addr_out(addr, &ss, ret) ?: ret;
}

long kwasm_net_name(unsigned int fd, bool peer, void *addr)
{
	struct socket *sock;
	struct fd f;
	long ret;

	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = kwasm_getname(sock, addr, peer);
	fdput(f);
	return ret;
}

/*
 * accept4(); the peer's address goes to addr (128 bytes, or NULL for none),
 * its length to *len. The new fd is reserved first, as accept4() does, so
 * that running out of fds never loses a connection.
 */
long kwasm_net_accept(unsigned int fd, int flags, void *addr, size_t *len)
{
	struct proto_accept_arg arg = { };
	struct file *file;
	struct fd f;
	long n;
	int newfd;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	newfd = get_unused_fd_flags(flags & SOCK_CLOEXEC ? O_CLOEXEC : 0);
	if (newfd < 0) {
		fdput(f);
		return newfd;
	}
	file = do_accept(fd_file(f), &arg, NULL, NULL,
			 flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
	fdput(f);
	if (IS_ERR(file)) {
		put_unused_fd(newfd);
		return PTR_ERR(file);
	}
	if (addr) {
		n = kwasm_getname(sock_from_file(file), addr, 2);
		*len = n < 0 ? 0 : n;
	}
	fd_install(newfd, file);
	return newfd;
}

long kwasm_net_setsockopt(unsigned int fd, int level, int name,
			  const void *val, size_t len)
{
	struct socket *sock;
	struct fd f;
	long ret;

	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = do_sock_setsockopt(sock, false, level, name,
				 KERNEL_SOCKPTR((void *)val), len);
	fdput(f);
	return ret;
}

/*
 * getsockopt(); returns the option's length. SOL_SOCKET options take kernel
 * pointers; protocols' own getsockopt() only takes user pointers (and warns
 * about kernel ones), so those go through the scratch mapping.
 */
long kwasm_net_getsockopt(struct kwasm_run *run, unsigned int fd, int level,
			  int name, void *val, size_t cap)
{
	int __user *ulen;
	unsigned long buf;
	struct socket *sock;
	int len = cap;
	struct fd f;
	long ret;

	if (cap > PAGE_SIZE - sizeof(int))
		return -EINVAL;
	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	if (level == SOL_SOCKET) {
		ret = do_sock_getsockopt(sock, false, level, name,
					 KERNEL_SOCKPTR(val),
					 KERNEL_SOCKPTR(&len));
		goto out;
	}
	ret = buf = kwasm_scratch(run, PAGE_SIZE);
	if (IS_ERR_VALUE(buf))
		goto out;
	ulen = (int __user *)buf;
	ret = -EFAULT;
	if (put_user(len, ulen))
		goto out;
	ret = do_sock_getsockopt(sock, false, level, name,
				 USER_SOCKPTR((void __user *)(ulen + 1)),
				 USER_SOCKPTR(ulen));
	if (ret)
		goto out;
	ret = -EFAULT;
	if (get_user(len, ulen))
		goto out;
	len = clamp(len, 0, (int)cap);
	if (copy_from_user(val, ulen + 1, len))
		goto out;
	ret = 0;
out:
	fdput(f);
	return ret ? ret : len;
}

long kwasm_net_sendto(unsigned int fd, struct kvec *vec, unsigned long n,
		      int flags, const void *addr, size_t addrlen)
{
	struct sockaddr_storage ss;
	struct msghdr msg = { };
	struct socket *sock;
	struct fd f;
	long ret;

	if (addr) {
		ret = kwasm_addr_in(&ss, addr, addrlen);
		if (ret)
			return ret;
		msg.msg_name = &ss;
		msg.msg_namelen = addrlen;
	}
	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, vec, n, kwasm_kvec_len(vec, n));
	if (fd_file(f)->f_flags & O_NONBLOCK)
		flags |= MSG_DONTWAIT;
	msg.msg_flags = flags;
	ret = sock_sendmsg(sock, &msg);
	fdput(f);
	return ret;
}

/*
 * recvmsg(); the sender goes to addr (128 bytes, or NULL for none), its
 * length to *addrlen.
 */
long kwasm_net_recvfrom(unsigned int fd, struct kvec *vec, unsigned long n,
			int flags, int *msg_flags, void *addr, size_t *addrlen)
{
	struct sockaddr_storage ss;
	struct msghdr msg = { .msg_name = addr ? &ss : NULL };
	struct socket *sock;
	struct fd f;
	long ret;

	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	iov_iter_kvec(&msg.msg_iter, ITER_DEST, vec, n, kwasm_kvec_len(vec, n));
	if (fd_file(f)->f_flags & O_NONBLOCK)
		flags |= MSG_DONTWAIT;
	ret = sock_recvmsg(sock, &msg, flags);
	fdput(f);
	if (ret < 0)
		return ret;
	*msg_flags = msg.msg_flags;
	if (addr) {
		*addrlen = min_t(size_t, msg.msg_namelen, sizeof(ss));
		if (kwasm_addr_out(addr, &ss, *addrlen))
			*addrlen = 0;
	}
	return ret;
}

long kwasm_net_shutdown(unsigned int fd, int how)
{
	struct socket *sock;
	struct fd f;
	long ret;

	sock = kwasm_sockfd(fd, &f);
	if (IS_ERR(sock))
		return PTR_ERR(sock);
	ret = security_socket_shutdown(sock, how);
	if (!ret)
		ret = READ_ONCE(sock->ops)->shutdown(sock, how);
	fdput(f);
	return ret;
}

long kwasm_net_epoll_create(int flags)
{
	return do_epoll_create(flags);
}

long kwasm_net_epoll_ctl(unsigned int epfd, int op, unsigned int fd,
			 u32 events, u64 data)
{
	struct epoll_event ev = { .events = events, .data = data };

	return do_epoll_ctl(epfd, op, fd, &ev, false);
}

/*
 * epoll_wait() into kernel memory. do_epoll_wait() writes user memory, so
 * it writes a scratch mapping of the program's (created on first use,
 * freed with its mm) that is then copied out: 12 bytes per ready event.
 * The copy goes through a small stack buffer: copying straight into out
 * (in the program's vmalloc'ed linear memory) would make hardened
 * usercopy look the destination up in the vmap tree on every call.
 */
long kwasm_net_epoll_wait(struct kwasm_run *run, unsigned int epfd,
			  struct epoll_event *out, int max, int timeout_ms)
{
	/*
	 * Only the events copy_from_user() fills are read (all of them, or
	 * the call fails): no zeroing under INIT_STACK_ALL_ZERO, which cost
	 * a memset of the whole array per call.
	 */
	struct epoll_event chunk[16] __uninitialized;
	struct timespec64 end, *to = NULL;
	unsigned long buf;
	long ret, done, n;

	buf = kwasm_scratch(run, max * sizeof(*out));
	if (IS_ERR_VALUE(buf))
		return buf;
	if (timeout_ms == 0) {
		/* As epoll_wait(2) with 0: expired already, no clock read. */
		end = (struct timespec64){ 0, 0 };
		to = &end;
	} else if (timeout_ms > 0) {
		/* As ep_timeout_to_timespec(): no division loop over the ns. */
		struct timespec64 rel = {
			.tv_sec = timeout_ms / MSEC_PER_SEC,
			.tv_nsec = NSEC_PER_MSEC * (timeout_ms % MSEC_PER_SEC),
		};

		ktime_get_ts64(&end);
		end = timespec64_add_safe(end, rel);
		to = &end;
	}
	ret = do_epoll_wait(epfd, (struct epoll_event __user *)buf, max, to);
	for (done = 0; ret > 0 && done < ret; done += n) {
		n = min_t(long, ret - done, ARRAY_SIZE(chunk));
		if (copy_from_user(chunk, (void __user *)(buf + done * sizeof(*out)),
				   n * sizeof(*out)))
			return -EFAULT;
		memcpy(out + done, chunk, n * sizeof(*out));
	}
	return ret;
}
