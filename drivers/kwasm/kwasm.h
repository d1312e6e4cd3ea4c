/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwasm: interfaces between the C glue (exec, stacks, memory, traps) and the
 * Rust side (compiler, instances, host calls). Functions named kwasm_rs_*
 * are implemented in Rust (the .rs files of this directory).
 */
#ifndef _DRIVERS_KWASM_KWASM_H
#define _DRIVERS_KWASM_KWASM_H

#ifndef __ASSEMBLY__
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/sched.h>
#include <linux/stddef.h>
#include <linux/thread_info.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* Size of the stack wasm code (and the compiler) runs on. */
#define KWASM_STACK_SIZE	(512 * 1024)
/*
 * Room kept free below the stack limit for interrupt entry frames and leaf
 * host calls (leaf.rs, a few hundred bytes): the stack-limit checks in
 * compiled code keep wasm above it.
 */
#define KWASM_STACK_RESERVE	(32 * 1024)

/*
 * One exec: the C and assembly part of the program that owns everything the
 * exec needs. The owner is a Rust `Program` (program.rs), which starts with
 * this struct and allocates, loads, runs and frees it (kwasm_rs_program_*);
 * C holds it only as this pointer. Rust mirrors the layout in ffi.rs and
 * checks every field against the offsets generated from this definition
 * (kwasm_offsets.c); entry.S uses the same generated offsets.
 *
 * While its code runs (preemption off, inside a kernel FPU section) the
 * per-CPU kwasm_cur_run points at it: that is how host calls and trap
 * fixups find it.
 */
struct kwasm_image;
struct kwasm_user;
struct exception_table_entry;

struct kwasm_run {
	/* Task stack pointer saved by kwasm_enter(); read by entry.S. */
	unsigned long task_sp;
	/* Stack compiled code runs on (kwasm_stack_alloc(), KWASM_STACK_SIZE). */
	void *stack;
	/* The module's code, placed (image.c); NULL until loaded. */
	struct kwasm_image *image;
	/* Fault in compiled code: the faulting address (traps.c). */
	unsigned long trap_ip;
	/* The user scratch mapping (scratch.c), or 0. */
	unsigned long scratch;
	size_t scratch_size;
	/* The exec's user and its shares of kwasm's limits (user_share.c). */
	struct kwasm_user *user;
	/* Whether a kernel FPU section is open. */
	bool fpu_on;
	/* Whether a host call runs (between hostcall_begin and _end). */
	bool in_hostcall;
	/*
	 * The exec changed credentials (setuid, setgid, file capabilities):
	 * the caller controls nothing the program starts with (binfmt.c).
	 */
	bool secureexec;
	/* binfmt.c: the task work that starts the program. */
	struct callback_head work;
	/* binfmt.c: queues @work again after execve() has returned. */
	struct work_struct defer;
	struct task_struct *task;
	/* binfmt.c: the task waits in the park loop for @defer. */
	bool parked;
	/* binfmt.c: the mapping through which the new mm owns the program. */
	struct vm_special_mapping owner;
	/* run.c: in the list of running programs, while runner runs it. */
	struct list_head running;
	struct task_struct *runner;
	struct mm_struct *runner_mm;
	/* run.c: while non-zero, a panic in a host call is not contained. */
	unsigned int no_contain;
	/*
	 * entry.S: the imports of the instance whose VMContext is leaf_vmctx
	 * that have a leaf path (leaf.rs), bit i for import i < 64. Any other
	 * host call goes straight to the full path, without asking leaf.rs.
	 */
	void *leaf_vmctx;
	u64 leaf_imports;
};

/* entry.S */
unsigned long kwasm_enter(unsigned long *saved_sp, void *stack_top,
			  void *trampoline, void *vmctx, const void *code,
			  u64 *args);
void __noreturn kwasm_unwind(unsigned long *saved_sp, unsigned long code);
void kwasm_hostcall_entry(void *vmctx, u32 index, u64 *args);
void kwasm_trap_landing(void);

/* image.c */
struct kwasm_image *kwasm_image_alloc(const void *code, size_t len,
				      u32 nsites, u32 first_func, u32 nfuncs,
				      u32 nrelocs, const char *file,
				      struct kwasm_user *user);
int kwasm_image_set_reloc(struct kwasm_image *img, u32 i, u32 offset, u32 sym);
void *kwasm_image_code(struct kwasm_image *img);
int kwasm_image_set_site(struct kwasm_image *img, u32 offset);
int kwasm_image_set_func(struct kwasm_image *img, u32 i, u32 start, u32 len);
int kwasm_image_seal(struct kwasm_image *img);
void kwasm_image_free(struct kwasm_image *img);
bool kwasm_image_contains(const struct kwasm_image *img, unsigned long addr);
const struct exception_table_entry *
kwasm_image_search(const struct kwasm_image *img, unsigned long addr);
int kwasm_images_show(struct seq_file *m, void *v);

/*
 * scratch.c: at least size bytes of the run's user scratch mapping (whose
 * contents a later call may replace); its address or a -errno.
 */
unsigned long kwasm_scratch(struct kwasm_run *run, size_t size);
/*
 * A user buffer of size bytes for one call, the scratch mapping if it is
 * small, else a mapping of its own; kwasm_scratch_put() ends its use.
 */
unsigned long kwasm_scratch_get(struct kwasm_run *run, size_t size);
void kwasm_scratch_put(struct kwasm_run *run, unsigned long buf, size_t size);

/* run.c */
unsigned long kwasm_run_call(struct kwasm_run *run, void *trampoline,
			     void *vmctx, const void *code, u64 *args);
void kwasm_hostcall_begin(struct kwasm_run *run);
void kwasm_hostcall_end(struct kwasm_run *run);
void kwasm_run_listed(struct kwasm_run *run);
void kwasm_run_unlisted(struct kwasm_run *run);
struct kwasm_run *kwasm_contain_block(void);
void kwasm_contain_unblock(struct kwasm_run *run);
void kwasm_hostcall_panicked(const char *msg);
void kwasm_keep_after_panic(void *p);
int kwasm_panics_show(struct seq_file *m, void *v);
bool kwasm_inject_hostcall_panic(void);
int kwasm_branch_forms(u32 *forms);
unsigned long kwasm_code_symbol(u32 sym);
u32 kwasm_cpu_features(void);
void *kwasm_stack_alloc(void);
void kwasm_stack_free(void *stack);
const unsigned long *kwasm_safepoint_word(u64 *mask);
int kwasm_safepoint(void);

/* policy.c */
int kwasm_exec_allowed(void);

/*
 * Whether a host call that does a system call's work must go through the
 * kernel's policies for system calls (a seccomp filter, an audit context):
 * the syscall work bits the syscall entry tests.
 */
static inline bool kwasm_policies_apply(void)
{
	return READ_ONCE(current_thread_info()->syscall_work) &
	       (SYSCALL_WORK_SECCOMP | SYSCALL_WORK_SYSCALL_AUDIT);
}

long kwasm_syscall_enter(int nr, const u64 *args, unsigned int n);
void kwasm_audit_exit(long ret);
int kwasm_policy_init(void);

/* stats.c */
int kwasm_stats_init(void);

/* run.c: compiled code in module space, bytes. */
extern atomic_long_t kwasm_code_bytes;

/* log.c */
void kwasm_log_refusal(const char *file, const char *reason);
void kwasm_log_trap(const char *file, const char *trap, int func, u32 offset,
		    unsigned long ip);

/* compile_scope.c */
int kwasm_compile(struct kwasm_run *run, const u8 *wasm, size_t len,
		  char *err, size_t errlen, void **module);
void *kwasm_alloc(size_t size, size_t align, bool zero);
void kwasm_free(void *p);
void *kwasm_realloc(void *p, size_t align, size_t new_size);
void kwasm_compile_panicked(const char *msg);

enum kwasm_compile_stat {
	KWASM_COMPILES,
	KWASM_COMPILE_ABANDONED,
	KWASM_COMPILE_LAST_PEAK,
	KWASM_COMPILE_STAT_NR,
};
extern atomic_long_t kwasm_compile_stats[KWASM_COMPILE_STAT_NR];
int kwasm_compile_show(struct seq_file *m, void *v);

/* user_share.c */
enum kwasm_share {
	KWASM_SHARE_CODE,	/* bytes of kwasm.code_limit_mb */
	KWASM_SHARE_MEMORIES,	/* of kwasm.max_memories */
	KWASM_SHARE_COMPILES,	/* of kwasm.max_compiles */
	KWASM_SHARE_NR,
};

struct kwasm_user *kwasm_user_get(void);
struct kwasm_user *kwasm_user_hold(struct kwasm_user *u);
void kwasm_user_put(struct kwasm_user *u);
bool kwasm_user_charge(struct kwasm_user *u, enum kwasm_share r, long n,
		       long limit);
void kwasm_user_uncharge(struct kwasm_user *u, enum kwasm_share r, long n);

/* binfmt.c */
int kwasm_binfmt_register(void);

/* code_cache.c */
struct file;
struct seq_file;
/* The SHA-256 of a module's bytes. */
struct kwasm_cache_key {
	u8 digest[32];
};

/* A compile in progress for a key (kwasm_cache_get). */
struct kwasm_cache_claim {
	struct list_head node;
	struct kwasm_cache_key key;
};

void kwasm_cache_key_of(const u8 *wasm, size_t len, struct kwasm_cache_key *key);
void *kwasm_cache_get(const struct kwasm_cache_key *key,
		      struct kwasm_cache_claim *claim);
void kwasm_cache_unclaim(struct kwasm_cache_claim *claim);
void kwasm_cache_insert(const struct kwasm_cache_key *key, void *module,
			size_t bytes);
int kwasm_cache_show(struct seq_file *m, void *v);

/* wasi_fs.c: the file system side of WASI; see rust/kwasm/wasi/src/os.rs. */
struct kvec;
struct timespec64;

/*
 * What fstat reports that WASI needs. This struct, kwasm_dirent and
 * kwasm_pollfd are mirrored in wasi_os.rs, checked against kwasm_offsets.c.
 */
struct kwasm_stat {
	u64 dev;
	u64 ino;
	u64 nlink;
	u64 size;
	s64 atime_sec;
	s64 mtime_sec;
	s64 ctime_sec;
	u32 atime_nsec;
	u32 mtime_nsec;
	u32 ctime_nsec;
	u32 mode;
};

/* A directory entry as kwasm_fd_readdir() stores it, 8-byte aligned. */
struct kwasm_dirent {
	u64 ino;
	/* Position of the next entry: where to resume after this one. */
	u64 next;
	u16 namelen;
	u8 type;
	char name[];
};

size_t kwasm_kvec_len(const struct kvec *vec, unsigned long n);
long kwasm_fd_rw(struct kwasm_run *run, unsigned int fd, bool write,
		 struct kvec *vec, unsigned long n, s64 pos);
long kwasm_fd_seek(unsigned int fd, s64 off, int whence, u64 *newpos);
long kwasm_fd_get_flags(unsigned int fd);
long kwasm_fd_set_flags(unsigned int fd, unsigned int flags);
long kwasm_fd_stat(unsigned int fd, struct kwasm_stat *st);
long kwasm_path_stat(unsigned int dirfd, const char *path, bool follow,
		     struct kwasm_stat *st);
long kwasm_fd_socket_type(unsigned int fd);
long kwasm_fd_truncate(unsigned int fd, u64 size);
long kwasm_set_times(unsigned int fd, const char *path, bool follow,
		     struct timespec64 *times);
long kwasm_fd_advise(unsigned int fd, u64 off, u64 len, int advice);
long kwasm_fd_allocate(unsigned int fd, u64 off, u64 len);
long kwasm_fd_sync(unsigned int fd, bool datasync);
long kwasm_fd_close(unsigned int fd);
long kwasm_fd_renumber(unsigned int from, unsigned int to);
long kwasm_path_open(unsigned int dirfd, const char *path, u64 flags, u64 mode,
		     u64 resolve);
long kwasm_open_dir(const char *path);
long kwasm_path_mkdir(unsigned int dirfd, const char *path, u32 mode);
long kwasm_path_unlink(unsigned int dirfd, const char *path, bool rmdir);
long kwasm_path_rename(unsigned int old_dir, const char *old,
		       unsigned int new_dir, const char *new);
long kwasm_path_link(unsigned int old_dir, const char *old,
		     unsigned int new_dir, const char *new, bool follow);
long kwasm_path_symlink(const char *target, unsigned int dirfd,
			const char *path);
long kwasm_path_readlink(unsigned int dirfd, const char *path, char *buf,
			 size_t len);
long kwasm_fd_readdir(unsigned int fd, u64 cookie, void *buf, size_t len);
long kwasm_fd_nread(unsigned int fd, u64 *n);

/* wasi_sys.c */
struct kwasm_pollfd {
	s32 fd;
	s16 events;
	s16 revents;
};

void kwasm_strings(bool env, unsigned long *start, unsigned long *end);
int kwasm_copy_user(void *dst, unsigned long src, size_t len);
long kwasm_clock_get(int clock, bool res, s64 *sec, u32 *nsec);
bool kwasm_leaf_clock_ns(u32 clock, u64 *ns);
long kwasm_random(void *buf, size_t len);
void kwasm_yield(void);
long kwasm_poll(struct kwasm_pollfd *fds, unsigned int n, s64 deadline_ns);
long kwasm_raise(int sig);

/*
 * wasi_net.c: sockets for kwasm_net (see rust/kwasm/wasi/src/net.rs) and
 * for WASI's sock_* calls.
 */
struct epoll_event;

long kwasm_net_socket(int domain, int type, int protocol);
long kwasm_net_bind(unsigned int fd, const void *addr, size_t len);
long kwasm_net_listen(unsigned int fd, int backlog);
long kwasm_net_connect(unsigned int fd, const void *addr, size_t len);
long kwasm_net_name(unsigned int fd, bool peer, void *addr);
long kwasm_net_accept(unsigned int fd, int flags, void *addr, size_t *len);
long kwasm_net_setsockopt(unsigned int fd, int level, int name,
			  const void *val, size_t len);
long kwasm_net_getsockopt(struct kwasm_run *run, unsigned int fd, int level,
			  int name, void *val, size_t cap);
long kwasm_net_sendto(unsigned int fd, struct kvec *vec, unsigned long n,
		      int flags, const void *addr, size_t addrlen);
long kwasm_net_recvfrom(unsigned int fd, struct kvec *vec, unsigned long n,
			int flags, int *msg_flags, void *addr, size_t *addrlen);
long kwasm_net_shutdown(unsigned int fd, int how);
long kwasm_net_epoll_create(int flags);
long kwasm_net_epoll_ctl(unsigned int epfd, int op, unsigned int fd,
			 u32 events, u64 data);
long kwasm_net_epoll_wait(struct kwasm_run *run, unsigned int epfd,
			  struct epoll_event *out, int max, int timeout_ms);

/* linear_memory.c */
struct kwasm_mem;
struct kwasm_mem *kwasm_mem_reserve(u64 bytes, struct kwasm_user *user);
void *kwasm_mem_base(struct kwasm_mem *mem);
int kwasm_mem_grow(struct kwasm_mem *mem, u64 old_bytes, u64 new_bytes);
void kwasm_mem_free(struct kwasm_mem *mem);
int kwasm_mem_show(struct seq_file *m, void *v);

/* Rust side */
void *kwasm_rs_compile(const u8 *wasm, size_t len, char *err, size_t errlen);
void *kwasm_rs_module_get(void *module);
void kwasm_rs_module_put(void *module);
size_t kwasm_rs_module_bytes(void *module);
struct kwasm_run *kwasm_rs_program_alloc(void);
int kwasm_rs_program_load(struct kwasm_run *run, void *module,
			  const char *filename, char *err, size_t errlen);
int kwasm_rs_program_run(struct kwasm_run *run);
void kwasm_rs_program_free(struct kwasm_run *run);
void kwasm_rs_hostcall(void *vmctx, u32 index, u64 *args);
bool kwasm_rs_hostcall_leaf(void *vmctx, u32 index, u64 *args);

#endif /* __ASSEMBLY__ */

/*
 * kwasm_branch_forms(): how generated code must branch (compile.rs,
 * kwasm_compiler::BranchForms).
 */
#define KWASM_BRANCH_LFENCE		0x1	/* lfence; call/jmp *reg */
#define KWASM_BRANCH_THUNK		0x2	/* call/jmp to a thunk */
#define KWASM_BRANCH_RETURN_THUNK	0x4	/* jmp to the return thunk */
#define KWASM_BRANCH_SLS		0x8	/* int3 after ret, jmp *reg */
#define KWASM_BRANCH_IBT		0x10	/* endbr64 at every entry */

/* kwasm_code_symbol(): 0-15 are the indirect thunks, by register. */
#define KWASM_SYM_RETURN_THUNK	16
#define KWASM_SYM_HOSTCALL	17

/* kwasm_unwind() code of a fault in compiled code (see traps.c). */
#define KWASM_UNWIND_FAULT	0x200
/* kwasm_unwind() code of a host call that panicked (run.c). */
#define KWASM_UNWIND_PANIC	0x300

#endif /* _DRIVERS_KWASM_KWASM_H */
