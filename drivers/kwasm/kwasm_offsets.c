// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm: the layouts of the structures in kwasm.h that assembly and Rust
 * share, generated from their C definitions like asm-offsets.c: the
 * Makefile turns this file's assembly into kwasm_offsets.h (for entry.S)
 * and kwasm_offsets.rs (ffi.rs and wasi_os.rs check their #[repr(C)]
 * mirrors, field by field, against these numbers at compile time).
 */
#define COMPILE_OFFSETS

#include <linux/kbuild.h>

#include "kwasm.h"

int main(void)
{
	DEFINE(KWASM_RUN_SIZE, sizeof(struct kwasm_run));
	DEFINE(KWASM_RUN_ALIGN, __alignof__(struct kwasm_run));
	DEFINE(KWASM_STACK_LIMIT_OFFSET, KWASM_STACK_RESERVE);
	OFFSET(KWASM_RUN_TASK_SP, kwasm_run, task_sp);
	OFFSET(KWASM_RUN_STACK, kwasm_run, stack);
	OFFSET(KWASM_RUN_IMAGE, kwasm_run, image);
	OFFSET(KWASM_RUN_TRAP_IP, kwasm_run, trap_ip);
	OFFSET(KWASM_RUN_LEAF_VMCTX, kwasm_run, leaf_vmctx);
	OFFSET(KWASM_RUN_LEAF_IMPORTS, kwasm_run, leaf_imports);
	OFFSET(KWASM_RUN_SCRATCH, kwasm_run, scratch);
	OFFSET(KWASM_RUN_SCRATCH_SIZE, kwasm_run, scratch_size);
	OFFSET(KWASM_RUN_USER, kwasm_run, user);
	OFFSET(KWASM_RUN_FPU_ON, kwasm_run, fpu_on);
	OFFSET(KWASM_RUN_IN_HOSTCALL, kwasm_run, in_hostcall);
	OFFSET(KWASM_RUN_SECUREEXEC, kwasm_run, secureexec);
	OFFSET(KWASM_RUN_WORK, kwasm_run, work);
	OFFSET(KWASM_RUN_DEFER, kwasm_run, defer);
	OFFSET(KWASM_RUN_TASK, kwasm_run, task);
	OFFSET(KWASM_RUN_PARKED, kwasm_run, parked);
	OFFSET(KWASM_RUN_OWNER, kwasm_run, owner);
	OFFSET(KWASM_RUN_RUNNING, kwasm_run, running);
	OFFSET(KWASM_RUN_RUNNER, kwasm_run, runner);
	OFFSET(KWASM_RUN_RUNNER_MM, kwasm_run, runner_mm);
	OFFSET(KWASM_RUN_NO_CONTAIN, kwasm_run, no_contain);
	DEFINE(KWASM_UNWIND_PANIC_CODE, KWASM_UNWIND_PANIC);
	DEFINE(KWASM_UNWIND_FAULT_CODE, KWASM_UNWIND_FAULT);

	DEFINE(KWASM_STAT_SIZE, sizeof(struct kwasm_stat));
	OFFSET(KWASM_STAT_DEV, kwasm_stat, dev);
	OFFSET(KWASM_STAT_INO, kwasm_stat, ino);
	OFFSET(KWASM_STAT_NLINK, kwasm_stat, nlink);
	OFFSET(KWASM_STAT_SIZE_FIELD, kwasm_stat, size);
	OFFSET(KWASM_STAT_ATIME_SEC, kwasm_stat, atime_sec);
	OFFSET(KWASM_STAT_MTIME_SEC, kwasm_stat, mtime_sec);
	OFFSET(KWASM_STAT_CTIME_SEC, kwasm_stat, ctime_sec);
	OFFSET(KWASM_STAT_ATIME_NSEC, kwasm_stat, atime_nsec);
	OFFSET(KWASM_STAT_MTIME_NSEC, kwasm_stat, mtime_nsec);
	OFFSET(KWASM_STAT_CTIME_NSEC, kwasm_stat, ctime_nsec);
	OFFSET(KWASM_STAT_MODE, kwasm_stat, mode);

	OFFSET(KWASM_DIRENT_INO, kwasm_dirent, ino);
	OFFSET(KWASM_DIRENT_NEXT, kwasm_dirent, next);
	OFFSET(KWASM_DIRENT_NAMELEN, kwasm_dirent, namelen);
	OFFSET(KWASM_DIRENT_TYPE, kwasm_dirent, type);
	OFFSET(KWASM_DIRENT_NAME, kwasm_dirent, name);

	DEFINE(KWASM_POLLFD_SIZE, sizeof(struct kwasm_pollfd));
	OFFSET(KWASM_POLLFD_FD, kwasm_pollfd, fd);
	OFFSET(KWASM_POLLFD_EVENTS, kwasm_pollfd, events);
	OFFSET(KWASM_POLLFD_REVENTS, kwasm_pollfd, revents);
	return 0;
}
