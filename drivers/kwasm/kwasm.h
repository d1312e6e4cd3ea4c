/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kwasm: interfaces between the C glue (exec, stacks, memory, traps) and the
 * Rust side (compiler, instances, host calls). Functions named kwasm_rs_*
 * are implemented in Rust (the .rs files of this directory).
 */
#ifndef _DRIVERS_KWASM_KWASM_H
#define _DRIVERS_KWASM_KWASM_H

#ifndef __ASSEMBLY__
#include <linux/time64.h>
#include <linux/types.h>

/* Size of the stack wasm code (and the compiler) runs on. */
#define KWASM_STACK_SIZE	(512 * 1024)
/*
 * Room kept free below the stack limit for interrupt entry frames: the
 * stack-limit checks in compiled code keep wasm above it.
 */
#define KWASM_STACK_RESERVE	(32 * 1024)

/*
 * One running program. Lives for the whole exec; referenced by a per-CPU
 * pointer while its code runs (with preemption off, inside a kernel FPU
 * section), which is how host calls and trap fixups find it.
 */
struct kwasm_run {
	/* Task stack pointer saved by kwasm_enter(); read by entry.S. */
	unsigned long task_sp;
	/* Stack compiled code runs on (vmalloc, KWASM_STACK_SIZE). */
	void *stack;
	/* Executable copy of the module's code. */
	unsigned long code_start;
	unsigned long code_end;
	/* Whether a kernel FPU section is open. */
	bool fpu_on;
	/* Trap reported by the fault fixup: code and faulting address. */
	unsigned int trap;
	unsigned long trap_ip;
	/* The Rust-side program state (module, instance, WASI). */
	void *program;
};

/* entry.S */
unsigned long kwasm_call_on_stack(void *stack_top, unsigned long (*fn)(void *),
				  void *arg);
unsigned long kwasm_enter(struct kwasm_run *run, void *stack_top,
			  void *trampoline, void *vmctx, const void *code,
			  u64 *args);
void __noreturn kwasm_unwind(struct kwasm_run *run, unsigned long code);
void kwasm_hostcall_entry(void *vmctx, u32 index, u64 *args);
void kwasm_trap_landing(void);

/* traps.c */
unsigned long kwasm_run_trap_ip(struct kwasm_run *run);
void kwasm_run_set_code(struct kwasm_run *run, const void *code, size_t len);

/* run.c */
unsigned long kwasm_run_call(struct kwasm_run *run, void *trampoline,
			     void *vmctx, const void *code, u64 *args);
void kwasm_hostcall_begin(struct kwasm_run *run);
void kwasm_hostcall_end(struct kwasm_run *run);
void *kwasm_code_alloc(const void *code, size_t len);
void kwasm_code_free(void *code);
u32 kwasm_cpu_features(void);
u64 kwasm_run_stack_limit(struct kwasm_run *run);
const unsigned long *kwasm_safepoint_word(u64 *mask);
int kwasm_safepoint(void);

/* binfmt.c */
int kwasm_binfmt_register(void);

/* code_cache.c */
struct file;
struct kwasm_cache_key {
	dev_t dev;
	u32 generation;
	unsigned long ino;
	loff_t size;
	struct timespec64 mtime;
	struct timespec64 ctime;
};

void kwasm_cache_key_of(struct file *file, struct kwasm_cache_key *key);
void *kwasm_cache_lookup(const struct kwasm_cache_key *key);
void kwasm_cache_insert(const struct kwasm_cache_key *key, void *module,
			size_t bytes);
int kwasm_cache_init(void);

/* wasi_io.c */
long kwasm_fd_write(unsigned int fd, const void *buf, size_t len);
void kwasm_strings(bool env, unsigned long *start, unsigned long *end);
int kwasm_copy_user(void *dst, unsigned long src, size_t len);

/* linear_memory.c */
struct kwasm_mem;
struct kwasm_mem *kwasm_mem_reserve(u64 bytes);
void *kwasm_mem_base(struct kwasm_mem *mem);
int kwasm_mem_grow(struct kwasm_mem *mem, u64 old_bytes, u64 new_bytes);
void kwasm_mem_free(struct kwasm_mem *mem);
int kwasm_mem_init(void);

/* Rust side */
void *kwasm_rs_compile(const u8 *wasm, size_t len, char *err, size_t errlen);
void *kwasm_rs_module_get(void *module);
void kwasm_rs_module_put(void *module);
size_t kwasm_rs_module_bytes(void *module);
void *kwasm_rs_program_new(void *module, struct kwasm_run *run,
			   const char *filename, char *err, size_t errlen);
int kwasm_rs_program_run(void *program);
void kwasm_rs_program_free(void *program);
void kwasm_rs_hostcall(void *vmctx, u32 index, u64 *args);

#endif /* __ASSEMBLY__ */

/* Offsets in struct kwasm_run used by entry.S. */
#define KWASM_RUN_TASK_SP	0

/* kwasm_unwind() code of a fault in compiled code (see traps.c). */
#define KWASM_UNWIND_FAULT	0x200

#endif /* _DRIVERS_KWASM_KWASM_H */
