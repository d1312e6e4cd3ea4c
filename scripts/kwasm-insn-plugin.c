// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm-insn-plugin: a QEMU TCG plugin that counts the guest instructions
 * executed between two marker instructions, by where they ran.
 *
 * Built by scripts/kwasm-bench-calls.sh against the plugin header of
 * Debian's qemu source package and loaded with
 *   -plugin kwasm-insn-plugin.so,out=FILE[,map=FILE][,cpu=N][,profile=FILE]
 *
 * Markers: a guest program executes the 8-byte no-op
 *   nopl 0x4b57000N(%rax,%rax,1)   (0f 1f 84 00 0N 00 57 4b)
 * with N = 1 to start a measurement and N = 2 to end it. At each end the
 * plugin appends one line to FILE: the instructions executed by all vCPUs
 * since the start, in total and per category. With cpu=N only vCPU N
 * counts: the guest pins the measured program there (taskset), and work of
 * the other vCPUs (kernel threads, their idle loops) stays out.
 *
 * Categories come from the map file, lines "START END NAME" (hex
 * addresses, END exclusive, sorted, not overlapping), written by the bench
 * script from System.map. Instructions outside every range count as
 * "user" below the canonical hole and "other" above it.
 *
 * With profile=FILE, each end also appends to that file, after a line
 * "mark K", one line "PC INSNS" per translation block that ran since the
 * start (its address and the instructions it executed), for a profile by
 * symbol.
 *
 * Counting is per translation block (a TB is attributed to categories
 * instruction by instruction when it is translated), so a block left
 * early by an exception still counts whole: a few instructions of noise
 * per fault, none in the measured loops.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define MAX_CATS 32
#define MAX_VCPUS 64
#define MARK_START 1
#define MARK_END 2

struct range {
	uint64_t start, end;
	int cat;
};

/* What one translation block adds to each category it touches. */
struct tb_counts {
	struct tb_counts *next;
	uint64_t pc, insns, execs, execs_at_start;
	int n;
	struct {
		int cat;
		uint64_t insns;
	} c[];
};

static struct range *ranges;
static size_t n_ranges;
static char *cat_names[MAX_CATS];
static int n_cats;
static int cat_user, cat_other;

/* Per vCPU, per category; each vCPU writes only its own row. */
static uint64_t counts[MAX_VCPUS][MAX_CATS];
static uint64_t snapshot[MAX_CATS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *out;
static uint64_t marks;
static int only_cpu = -1;
static FILE *profile;
static struct tb_counts *all_tbs;

static int cat_index(const char *name)
{
	int i;

	for (i = 0; i < n_cats; i++)
		if (!strcmp(cat_names[i], name))
			return i;
	if (n_cats == MAX_CATS) {
		fprintf(stderr, "kwasm-insn-plugin: more than %d categories\n", MAX_CATS);
		exit(1);
	}
	cat_names[n_cats] = strdup(name);
	return n_cats++;
}

static void load_map(const char *path)
{
	char name[128];
	uint64_t start, end;
	size_t cap = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		perror(path);
		exit(1);
	}
	while (fscanf(f, "%" SCNx64 " %" SCNx64 " %127s", &start, &end, name) == 3) {
		if (n_ranges == cap) {
			cap = cap ? cap * 2 : 1024;
			ranges = realloc(ranges, cap * sizeof(*ranges));
			if (!ranges)
				exit(1);
		}
		ranges[n_ranges].start = start;
		ranges[n_ranges].end = end;
		ranges[n_ranges].cat = cat_index(name);
		n_ranges++;
	}
	fclose(f);
}

static int cat_of(uint64_t pc)
{
	size_t lo = 0, hi = n_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pc < ranges[mid].start)
			hi = mid;
		else if (pc >= ranges[mid].end)
			lo = mid + 1;
		else
			return ranges[mid].cat;
	}
	return pc < 0x800000000000ULL ? cat_user : cat_other;
}

static void sum_counts(uint64_t *sum)
{
	int v, c;

	memset(sum, 0, sizeof(uint64_t) * MAX_CATS);
	for (v = 0; v < MAX_VCPUS; v++) {
		if (only_cpu >= 0 && v != only_cpu)
			continue;
		for (c = 0; c < n_cats; c++)
			sum[c] += __atomic_load_n(&counts[v][c], __ATOMIC_RELAXED);
	}
}

static void tb_exec(unsigned int vcpu, void *udata)
{
	struct tb_counts *t = udata;
	uint64_t *row = counts[vcpu % MAX_VCPUS];
	int i;

	if (profile && (only_cpu < 0 || (int)vcpu == only_cpu))
		__atomic_fetch_add(&t->execs, 1, __ATOMIC_RELAXED);
	for (i = 0; i < t->n; i++)
		__atomic_store_n(&row[t->c[i].cat], row[t->c[i].cat] + t->c[i].insns,
				 __ATOMIC_RELAXED);
}

static void on_marker(unsigned int vcpu, void *udata)
{
	uint64_t now[MAX_CATS], total = 0;
	struct tb_counts *t;
	int c;

	pthread_mutex_lock(&lock);
	sum_counts(now);
	if ((uintptr_t)udata == MARK_START) {
		memcpy(snapshot, now, sizeof(now));
		for (t = all_tbs; t; t = t->next)
			t->execs_at_start = __atomic_load_n(&t->execs, __ATOMIC_RELAXED);
	} else {
		for (c = 0; c < n_cats; c++)
			total += now[c] - snapshot[c];
		fprintf(out, "mark %" PRIu64 " insns %" PRIu64, ++marks, total);
		for (c = 0; c < n_cats; c++)
			if (now[c] != snapshot[c])
				fprintf(out, " %s=%" PRIu64, cat_names[c], now[c] - snapshot[c]);
		fputc('\n', out);
		fflush(out);
		if (profile) {
			fprintf(profile, "mark %" PRIu64 "\n", marks);
			for (t = all_tbs; t; t = t->next) {
				uint64_t e = __atomic_load_n(&t->execs, __ATOMIC_RELAXED);

				if (e != t->execs_at_start)
					fprintf(profile, "%" PRIx64 " %" PRIu64 "\n", t->pc,
						(e - t->execs_at_start) * t->insns);
			}
			fflush(profile);
		}
	}
	pthread_mutex_unlock(&lock);
}

static int marker_of(struct qemu_plugin_insn *insn)
{
	static const unsigned char prefix[] = { 0x0f, 0x1f, 0x84, 0x00 };
	const unsigned char *b = qemu_plugin_insn_data(insn);

	if (qemu_plugin_insn_size(insn) != 8 || memcmp(b, prefix, 4) ||
	    b[5] != 0 || b[6] != 0x57 || b[7] != 0x4b)
		return 0;
	return b[4] == MARK_START || b[4] == MARK_END ? b[4] : 0;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb), i;
	struct tb_counts *t = calloc(1, sizeof(*t) + n * sizeof(t->c[0]));
	int j;

	if (!t) {
		fprintf(stderr, "kwasm-insn-plugin: out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		int cat = cat_of(qemu_plugin_insn_vaddr(insn));
		int m = marker_of(insn);

		if (m)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)m);
		for (j = 0; j < t->n && t->c[j].cat != cat; j++)
			;
		if (j == t->n) {
			t->c[j].cat = cat;
			t->n++;
		}
		t->c[j].insns++;
	}
	t->pc = qemu_plugin_tb_vaddr(tb);
	t->insns = n;
	if (profile) {
		pthread_mutex_lock(&lock);
		t->next = all_tbs;
		all_tbs = t;
		pthread_mutex_unlock(&lock);
	}
	/* Translation blocks are never freed while QEMU runs: neither is t. */
	qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, t);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	const char *out_path = NULL;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else if (!strncmp(argv[i], "map=", 4)) {
			load_map(argv[i] + 4);
		} else if (!strncmp(argv[i], "profile=", 8)) {
			profile = fopen(argv[i] + 8, "w");
			if (!profile) {
				perror(argv[i] + 8);
				return -1;
			}
		} else if (!strncmp(argv[i], "cpu=", 4)) {
			only_cpu = atoi(argv[i] + 4);
		} else {
			fprintf(stderr, "kwasm-insn-plugin: unknown option %s\n", argv[i]);
			return -1;
		}
	}
	if (!out_path) {
		fprintf(stderr, "kwasm-insn-plugin: out=FILE is required\n");
		return -1;
	}
	if (info->system.max_vcpus > MAX_VCPUS || only_cpu >= info->system.max_vcpus) {
		fprintf(stderr, "kwasm-insn-plugin: at most %d vCPUs, cpu=N below that\n",
			MAX_VCPUS);
		return -1;
	}
	out = fopen(out_path, "w");
	if (!out) {
		perror(out_path);
		return -1;
	}
	cat_user = cat_index("user");
	cat_other = cat_index("other");
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	return 0;
}
