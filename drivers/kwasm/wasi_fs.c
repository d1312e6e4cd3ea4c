// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the file system work behind WASI calls, on the current task's own
 * file descriptors. The WASI semantics (argument decoding, guest bounds,
 * errno mapping) live in rust/kwasm/wasi; this file only does kernel work.
 *
 * Guest buffers are kernel memory (the linear memory), so they reach the
 * VFS as kvec iterators with no copy through user space. Paths are kernel
 * strings resolved beneath a directory fd: RESOLVE_BENEATH (an attempt to
 * leave it reads as -EPERM, as WASI runtimes report) and no magic links.
 * Every function returns >= 0 or a negative errno.
 */

#include <linux/dcache.h>
#include <linux/fadvise.h>
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fsnotify.h>
#include <linux/namei.h>
#include <linux/net.h>
#include <linux/openat2.h>
#include <linux/pipe_fs_i.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/uio.h>

#include "../../fs/internal.h"
#include "kwasm.h"

/* How WASI paths are resolved: beneath the directory, no magic links. */
#define KWASM_LOOKUP	(LOOKUP_BENEATH | LOOKUP_NO_MAGICLINKS)
#define KWASM_RESOLVE	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/* Beneath-lookups fail with EXDEV on an escape; WASI reports EPERM. */
static int kwasm_escape(int err)
{
	return err == -EXDEV ? -EPERM : err;
}

/* The position read/write use, as fs/read_write.c does: none for streams. */
static loff_t *kwasm_file_ppos(struct file *file)
{
	return file->f_mode & FMODE_STREAM ? NULL : &file->f_pos;
}

size_t kwasm_kvec_len(const struct kvec *vec, unsigned long n)
{
	size_t total = 0;
	unsigned long i;

	for (i = 0; i < n; i++)
		total += vec[i].iov_len;
	return total;
}

/*
 * kwasm_fd_rw() for a file whose ->read/->write take only user buffers
 * (no ->read_iter/->write_iter: many procfs, debugfs and character device
 * files, which read_iter/write_iter on kernel buffers refuse with EINVAL).
 * Each buffer goes through a user mapping of the run's (scratch.c) in one
 * ->read/->write, the way readv(2) treats such a file: record devices see
 * the program's records, and a read returns what one read returns. The
 * calls end at the first short one. Returns the bytes moved, or the first
 * call's -errno. (Copying to and from vmalloc'ed linear memory costs
 * hardened usercopy a vmap lookup per copy, which epoll_wait avoids; here
 * it is small next to the files' own work.)
 */
static long kwasm_fd_rw_user(struct kwasm_run *run, struct file *file,
			     bool write, const struct kvec *vec,
			     unsigned long n, loff_t *ppos)
{
	unsigned long ubuf, i;
	long ret = 0, done = 0;
	size_t len;

	/* vfs_read()/vfs_write()'s own first checks, before any mapping. */
	if (!(file->f_mode & (write ? FMODE_WRITE : FMODE_READ)))
		return -EBADF;
	if (!(file->f_mode & (write ? FMODE_CAN_WRITE : FMODE_CAN_READ)))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		len = vec[i].iov_len;
		if (!len)
			continue;
		ubuf = kwasm_scratch_get(run, len);
		if (IS_ERR_VALUE(ubuf)) {
			ret = ubuf;
			break;
		}
		if (write) {
			ret = -EFAULT;
			if (!copy_to_user((void __user *)ubuf, vec[i].iov_base, len))
				ret = vfs_write(file, (const char __user *)ubuf,
						len, ppos);
		} else {
			ret = vfs_read(file, (char __user *)ubuf, len, ppos);
		}
		/*
		 * A driver that reports more than it was given would have the
		 * copy below overrun linear memory, which is kernel memory.
		 */
		if (ret > (long)len)
			ret = -EIO;
		if (!write && ret > 0 &&
		    copy_from_user(vec[i].iov_base, (void __user *)ubuf, ret))
			ret = -EFAULT;
		kwasm_scratch_put(run, ubuf, len);
		if (ret <= 0)
			break;
		done += ret;
		if (ret < len)
			break;
	}
	return done ? done : ret;
}

/*
 * readv/writev (pos < 0) or preadv/pwritev (pos >= 0) between fd and
 * kernel buffers.
 */
long kwasm_fd_rw(struct kwasm_run *run, unsigned int fd, bool write,
		 struct kvec *vec, unsigned long n, s64 pos)
{
	struct fd f = pos < 0 ? fdget_pos(fd) : fdget(fd);
	struct file *file = fd_file(f);
	struct iov_iter iter;
	loff_t p, *ppos;
	long ret;

	if (!file)
		return -EBADF;
	iov_iter_kvec(&iter, write ? ITER_SOURCE : ITER_DEST, vec, n,
		      kwasm_kvec_len(vec, n));
	if (pos < 0) {
		ppos = kwasm_file_ppos(file);
		if (ppos)
			p = *ppos;
	} else {
		ret = -ESPIPE;
		if (!(file->f_mode & (write ? FMODE_PWRITE : FMODE_PREAD)))
			goto out;
		p = pos;
		ppos = &p;
	}
	if (!(write ? file->f_op->write_iter : file->f_op->read_iter))
		ret = kwasm_fd_rw_user(run, file, write, vec, n, ppos ? &p : NULL);
	else if (write)
		ret = vfs_iter_write(file, &iter, ppos ? &p : NULL, 0);
	else
		ret = vfs_iter_read(file, &iter, ppos ? &p : NULL, 0);
	if (ret >= 0 && pos < 0 && ppos)
		*ppos = p;
out:
	if (pos < 0)
		fdput_pos(f);
	else
		fdput(f);
	return ret;
}

long kwasm_fd_seek(unsigned int fd, s64 off, int whence, u64 *newpos)
{
	struct fd f = fdget_pos(fd);
	loff_t ret;

	if (!fd_file(f))
		return -EBADF;
	ret = whence <= SEEK_END ? vfs_llseek(fd_file(f), off, whence) : -EINVAL;
	fdput_pos(f);
	if (ret < 0)
		return ret;
	*newpos = ret;
	return 0;
}

/* fcntl(F_GETFL). */
long kwasm_fd_get_flags(unsigned int fd)
{
	struct fd f = fdget_raw(fd);
	long flags;

	if (!fd_file(f))
		return -EBADF;
	flags = fd_file(f)->f_flags;
	if (fd_file(f)->f_mode & FMODE_PATH)
		flags |= O_PATH;
	fdput(f);
	return flags;
}

/* fcntl(F_SETFL) for O_APPEND and O_NONBLOCK, as setfl() in fs/fcntl.c. */
long kwasm_fd_set_flags(unsigned int fd, unsigned int flags)
{
	const unsigned int mask = O_APPEND | O_NONBLOCK;
	struct fd f = fdget(fd);
	struct file *file = fd_file(f);
	long ret = 0;

	if (!file)
		return -EBADF;
	flags &= mask;
	if (((flags ^ file->f_flags) & O_APPEND) && IS_APPEND(file_inode(file))) {
		ret = -EPERM;
		goto out;
	}
	if (file->f_op->check_flags)
		ret = file->f_op->check_flags(flags | (file->f_flags & ~mask));
	if (!ret) {
		spin_lock(&file->f_lock);
		file->f_flags = flags | (file->f_flags & ~mask);
		file->f_iocb_flags = iocb_flags(file);
		spin_unlock(&file->f_lock);
	}
out:
	fdput(f);
	return ret;
}

static long kwasm_getattr(const struct path *path, struct kwasm_stat *st)
{
	struct kstat k;
	long ret;

	ret = vfs_getattr(path, &k, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (ret)
		return ret;
	st->dev = new_encode_dev(k.dev);
	st->ino = k.ino;
	st->mode = k.mode;
	st->nlink = k.nlink;
	st->size = k.size;
	st->atime_sec = k.atime.tv_sec;
	st->atime_nsec = k.atime.tv_nsec;
	st->mtime_sec = k.mtime.tv_sec;
	st->mtime_nsec = k.mtime.tv_nsec;
	st->ctime_sec = k.ctime.tv_sec;
	st->ctime_nsec = k.ctime.tv_nsec;
	return 0;
}

long kwasm_fd_stat(unsigned int fd, struct kwasm_stat *st)
{
	struct fd f = fdget_raw(fd);
	long ret;

	if (!fd_file(f))
		return -EBADF;
	ret = kwasm_getattr(&fd_file(f)->f_path, st);
	fdput(f);
	return ret;
}

/* Resolves path beneath dirfd. */
static int kwasm_lookup(unsigned int dirfd, const char *path, bool follow,
			struct path *out)
{
	struct filename *name = getname_kernel(path);
	int ret;

	if (IS_ERR(name))
		return PTR_ERR(name);
	ret = filename_lookup(dirfd, name, KWASM_LOOKUP |
			      (follow ? LOOKUP_FOLLOW : 0), out, NULL);
	putname(name);
	return kwasm_escape(ret);
}

long kwasm_path_stat(unsigned int dirfd, const char *path, bool follow,
		     struct kwasm_stat *st)
{
	struct path p;
	long ret = kwasm_lookup(dirfd, path, follow, &p);

	if (ret)
		return ret;
	ret = kwasm_getattr(&p, st);
	path_put(&p);
	return ret;
}

/* getsockopt(SO_TYPE). */
long kwasm_fd_socket_type(unsigned int fd)
{
	struct fd f = fdget(fd);
	struct socket *sock;
	long ret;

	if (!fd_file(f))
		return -EBADF;
	sock = sock_from_file(fd_file(f));
	ret = sock ? sock->type : -ENOTSOCK;
	fdput(f);
	return ret;
}

long kwasm_fd_truncate(unsigned int fd, u64 size)
{
	struct fd f = fdget(fd);
	long ret;

	if (!fd_file(f))
		return -EBADF;
	ret = size > LLONG_MAX ? -EINVAL : do_ftruncate(fd_file(f), size, 0);
	fdput(f);
	return ret;
}

/*
 * futimens (path NULL) or utimensat beneath dirfd; times[i].tv_nsec may be
 * UTIME_OMIT or UTIME_NOW.
 */
long kwasm_set_times(unsigned int fd, const char *path, bool follow,
		     struct timespec64 *times)
{
	struct path p;
	struct fd f;
	long ret;

	if (path) {
		ret = kwasm_lookup(fd, path, follow, &p);
		if (ret)
			return ret;
		ret = vfs_utimes(&p, times);
		path_put(&p);
		return ret;
	}
	f = fdget(fd);
	if (!fd_file(f))
		return -EBADF;
	ret = vfs_utimes(&fd_file(f)->f_path, times);
	fdput(f);
	return ret;
}

long kwasm_fd_advise(unsigned int fd, u64 off, u64 len, int advice)
{
	struct fd f = fdget(fd);
	long ret;

	if (!fd_file(f))
		return -EBADF;
	ret = vfs_fadvise(fd_file(f), off, len, advice);
	fdput(f);
	return ret;
}

long kwasm_fd_allocate(unsigned int fd, u64 off, u64 len)
{
	struct fd f = fdget(fd);
	long ret;

	if (!fd_file(f))
		return -EBADF;
	ret = vfs_fallocate(fd_file(f), 0, off, len);
	fdput(f);
	return ret;
}

long kwasm_fd_sync(unsigned int fd, bool datasync)
{
	struct fd f = fdget(fd);
	long ret;

	if (!fd_file(f))
		return -EBADF;
	ret = vfs_fsync(fd_file(f), datasync);
	fdput(f);
	return ret;
}

long kwasm_fd_close(unsigned int fd)
{
	return close_fd(fd);
}

/* dup2(from, to) then close(from). */
long kwasm_fd_renumber(unsigned int from, unsigned int to)
{
	struct file *file = fget_raw(from);
	long ret;

	if (!file)
		return -EBADF;
	ret = replace_fd(to, file, 0);
	fput(file);
	if (ret < 0)
		return ret;
	return close_fd(from);
}

/* openat2() with kernel strings; the new file, not yet in the fd table. */
static struct file *kwasm_open_file(unsigned int dirfd, const char *path,
				    u64 flags, u64 mode, u64 resolve)
{
	struct open_how how = { .flags = flags, .mode = mode,
				.resolve = resolve };
	struct filename *name;
	struct open_flags op;
	struct file *file;
	int ret;

	ret = build_open_flags(&how, &op);
	if (ret)
		return ERR_PTR(ret);
	name = getname_kernel(path);
	if (IS_ERR(name))
		return ERR_CAST(name);
	file = do_filp_open(dirfd, name, &op);
	putname(name);
	return file;
}

static long kwasm_install(struct file *file, u64 flags)
{
	int fd;

	if (IS_ERR(file))
		return kwasm_escape(PTR_ERR(file));
	fd = get_unused_fd_flags(flags);
	if (fd < 0) {
		fput(file);
		return fd;
	}
	fd_install(fd, file);
	return fd;
}

long kwasm_path_open(unsigned int dirfd, const char *path, u64 flags, u64 mode,
		     u64 resolve)
{
	return kwasm_install(kwasm_open_file(dirfd, path, flags, mode, resolve),
			     flags);
}

/* Opens a host directory (a preopen) relative to the current directory. */
long kwasm_open_dir(const char *path)
{
	return kwasm_install(kwasm_open_file(AT_FDCWD, path,
					     O_RDONLY | O_DIRECTORY | O_CLOEXEC,
					     0, 0), O_CLOEXEC);
}

/*
 * The kernel's do_*at() resolve a path's parent without RESOLVE_BENEATH. A
 * path of one component cannot leave its directory (the last component is
 * never followed by these operations, and "." and ".." are refused by them
 * as last components), so it goes to them as is; for a longer path the
 * parent is opened beneath dirfd here and handed over as a temporary
 * descriptor (the task is the program's only thread: exec unshared its
 * file table).
 */
struct kwasm_parent {
	int fd;
	bool temp;
	const char *last;
};

static int kwasm_parent_get(unsigned int dirfd, const char *path,
			    struct kwasm_parent *p)
{
	const char *end = path + strlen(path);
	struct file *file;
	char *dir;
	long fd;

	if (path[0] == '/')
		return -EPERM;
	/* Trailing slashes belong to the last component. */
	while (end > path && end[-1] == '/')
		end--;
	while (end > path && end[-1] != '/')
		end--;
	p->last = end;
	p->fd = dirfd;
	p->temp = false;
	if (end == path)
		return 0;
	dir = kstrndup(path, end - path, GFP_KERNEL_ACCOUNT);
	if (!dir)
		return -ENOMEM;
	file = kwasm_open_file(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
			       KWASM_RESOLVE);
	kfree(dir);
	fd = kwasm_install(file, O_CLOEXEC);
	if (fd < 0)
		return fd;
	p->fd = fd;
	p->temp = true;
	return 0;
}

static void kwasm_parent_put(struct kwasm_parent *p)
{
	if (p->temp)
		close_fd(p->fd);
}

long kwasm_path_mkdir(unsigned int dirfd, const char *path, u32 mode)
{
	struct kwasm_parent p;
	long ret = kwasm_parent_get(dirfd, path, &p);

	if (ret)
		return ret;
	ret = do_mkdirat(p.fd, getname_kernel(p.last), mode);
	kwasm_parent_put(&p);
	return ret;
}

long kwasm_path_unlink(unsigned int dirfd, const char *path, bool rmdir)
{
	struct kwasm_parent p;
	long ret = kwasm_parent_get(dirfd, path, &p);

	if (ret)
		return ret;
	if (rmdir)
		ret = do_rmdir(p.fd, getname_kernel(p.last));
	else
		ret = do_unlinkat(p.fd, getname_kernel(p.last));
	kwasm_parent_put(&p);
	return ret;
}

long kwasm_path_rename(unsigned int old_dir, const char *old,
		       unsigned int new_dir, const char *new)
{
	struct kwasm_parent po, pn;
	long ret = kwasm_parent_get(old_dir, old, &po);

	if (ret)
		return ret;
	ret = kwasm_parent_get(new_dir, new, &pn);
	if (!ret) {
		ret = do_renameat2(po.fd, getname_kernel(po.last), pn.fd,
				   getname_kernel(pn.last), 0);
		kwasm_parent_put(&pn);
	}
	kwasm_parent_put(&po);
	return ret;
}

/*
 * The source is opened beneath old_dir (following a final symlink only if
 * asked, and then beneath too) and linked through its descriptor.
 */
long kwasm_path_link(unsigned int old_dir, const char *old,
		     unsigned int new_dir, const char *new, bool follow)
{
	struct kwasm_parent pn;
	struct file *file;
	long src, ret;

	file = kwasm_open_file(old_dir, old,
			       O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
			       0, KWASM_RESOLVE);
	src = kwasm_install(file, O_CLOEXEC);
	if (src < 0)
		return src;
	ret = kwasm_parent_get(new_dir, new, &pn);
	if (!ret) {
		ret = do_linkat(src, getname_kernel(""), pn.fd,
				getname_kernel(pn.last), AT_EMPTY_PATH);
		kwasm_parent_put(&pn);
	}
	close_fd(src);
	return ret;
}

long kwasm_path_symlink(const char *target, unsigned int dirfd,
			const char *path)
{
	struct kwasm_parent p;
	long ret = kwasm_parent_get(dirfd, path, &p);

	if (ret)
		return ret;
	ret = do_symlinkat(getname_kernel(target), p.fd, getname_kernel(p.last));
	kwasm_parent_put(&p);
	return ret;
}

/* readlinkat() beneath dirfd into a kernel buffer; returns the bytes. */
long kwasm_path_readlink(unsigned int dirfd, const char *path, char *buf,
			 size_t len)
{
	DEFINE_DELAYED_CALL(done);
	const char *link;
	struct path p;
	long ret;

	ret = kwasm_lookup(dirfd, path, false, &p);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (!d_is_symlink(p.dentry))
		goto out;
	ret = security_inode_readlink(p.dentry);
	if (ret)
		goto out;
	link = vfs_get_link(p.dentry, &done);
	if (IS_ERR(link)) {
		ret = PTR_ERR(link);
		goto out;
	}
	ret = min(strlen(link), len);
	memcpy(buf, link, ret);
	do_delayed_call(&done);
	touch_atime(&p);
out:
	path_put(&p);
	return ret;
}

struct kwasm_readdir {
	struct dir_context ctx;
	u8 *buf;
	size_t len;
	size_t used;
	struct kwasm_dirent *prev;
	int error;
};

/*
 * An entry's resume position is the position of the entry after it (given
 * when that one arrives), or where iteration stopped.
 */
static bool kwasm_filldir(struct dir_context *ctx, const char *name,
			  int namelen, loff_t offset, u64 ino,
			  unsigned int d_type)
{
	struct kwasm_readdir *rd = container_of(ctx, struct kwasm_readdir, ctx);
	size_t size = ALIGN(offsetof(struct kwasm_dirent, name) + namelen, 8);
	struct kwasm_dirent *d;

	/* A name getdents64() would refuse (verify_dirent_name()). */
	if (namelen <= 0 || namelen >= PATH_MAX || memchr(name, '/', namelen)) {
		rd->error = -EIO;
		return false;
	}
	if (rd->prev)
		rd->prev->next = offset;
	if (size > rd->len - rd->used)
		return false;
	d = (struct kwasm_dirent *)(rd->buf + rd->used);
	d->ino = ino;
	d->next = 0;
	d->namelen = namelen;
	d->type = d_type;
	memcpy(d->name, name, namelen);
	rd->prev = d;
	rd->used += size;
	return true;
}

/*
 * getdents from position cookie into buf as struct kwasm_dirent records
 * (8-byte aligned); returns the bytes used, 0 at the end.
 *
 * fd_readdir calls this until the guest's buffer is full, which may be
 * a whole large directory: a fatal signal stops it between calls (any
 * other signal would cut the listing short, which a WASI program takes
 * for the end of the directory).
 */
long kwasm_fd_readdir(unsigned int fd, u64 cookie, void *buf, size_t len)
{
	struct kwasm_readdir rd = { .ctx.actor = kwasm_filldir, .buf = buf,
				    .len = len };
	struct fd f;
	loff_t pos;
	long ret;

	if (fatal_signal_pending(current))
		return -EINTR;
	f = fdget_pos(fd);
	if (!fd_file(f))
		return -EBADF;
	ret = -ENOTDIR;
	if (!d_can_lookup(fd_file(f)->f_path.dentry))
		goto out;
	pos = vfs_llseek(fd_file(f), cookie, SEEK_SET);
	if (pos < 0) {
		ret = pos;
		goto out;
	}
	ret = iterate_dir(fd_file(f), &rd.ctx);
	if (rd.prev)
		rd.prev->next = rd.ctx.pos;
	/*
	 * What was stored counts, even before an error; a positive ret (some
	 * ->iterate_shared() return 1 having stored nothing) is no length.
	 */
	if (rd.used)
		ret = rd.used;
	else if (ret >= 0)
		ret = rd.error;
out:
	fdput_pos(f);
	return ret;
}

/* ioctl(FIONREAD) for regular files and pipes; 0 for anything else. */
long kwasm_fd_nread(unsigned int fd, u64 *n)
{
	struct fd f = fdget(fd);
	struct file *file = fd_file(f);
	struct pipe_inode_info *pipe;

	if (!file)
		return -EBADF;
	*n = 0;
	if (S_ISREG(file_inode(file)->i_mode)) {
		loff_t size = i_size_read(file_inode(file));

		if (size > file->f_pos)
			*n = size - file->f_pos;
	} else {
		pipe = get_pipe_info(file, false);
		if (pipe) {
			unsigned int tail, head, mask;

			mutex_lock(&pipe->mutex);
			head = pipe->head;
			mask = pipe->ring_size - 1;
			for (tail = pipe->tail; tail != head; tail++)
				*n += pipe->bufs[tail & mask].len;
			mutex_unlock(&pipe->mutex);
		}
	}
	fdput(f);
	return 0;
}
