// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the kernel operations behind WASI calls. Guest buffers are kernel
 * memory (the linear memory), so they go to the VFS through kernel_write()
 * with no copy through user space.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "kwasm.h"

/* write(2) on the current task's fd, from a kernel buffer. */
long kwasm_fd_write(unsigned int fd, const void *buf, size_t len)
{
	struct fd f = fdget_pos(fd);
	struct file *file = fd_file(f);
	loff_t pos, *ppos = NULL;
	ssize_t ret;

	if (!file)
		return -EBADF;
	/* kernel_write() WARNs on a file not open for writing. */
	if (!(file->f_mode & FMODE_WRITE)) {
		ret = -EBADF;
		goto out;
	}
	if (!(file->f_mode & FMODE_STREAM)) {
		pos = file->f_pos;
		ppos = &pos;
	}
	ret = kernel_write(file, buf, len, ppos);
	if (ret >= 0 && ppos)
		file->f_pos = pos;
out:
	fdput_pos(f);
	return ret;
}

/* Where exec left the argument or environment strings. */
void kwasm_strings(bool env, unsigned long *start, unsigned long *end)
{
	struct mm_struct *mm = current->mm;

	*start = env ? mm->env_start : mm->arg_start;
	*end = env ? mm->env_end : mm->arg_end;
}

int kwasm_copy_user(void *dst, unsigned long src, size_t len)
{
	return copy_from_user(dst, (const void __user *)src, len) ? -EFAULT : 0;
}
