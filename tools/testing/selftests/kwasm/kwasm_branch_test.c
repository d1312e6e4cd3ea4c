// SPDX-License-Identifier: GPL-2.0
/*
 * kwasm branch forms: compiled code branches the way the running kernel
 * does for its own code (Documentation/kwasm/design.rst, "Indirect
 * branches"). scripts/kwasm test boots the VM once per Spectre v2 mode and
 * runs this test in each.
 */

#include "kwasm_util.h"

#include "../kselftest_harness.h"

#define CODE_STATS "/sys/kernel/debug/kwasm/code"
#define VULN "/sys/devices/system/cpu/vulnerabilities/"

/* Reads a small sysfs/debugfs file (their st_size says nothing). */
static const char *read_small(const char *path)
{
	static char buf[4][4096];
	static int next;
	char *b = buf[next++ % 4];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(buf[0]) - 1);

	if (fd >= 0)
		close(fd);
	b[n > 0 ? n : 0] = '\0';
	return b;
}

/* The "branches ..." line of debugfs kwasm/code, without the newline. */
static int read_forms(char *buf, size_t len)
{
	const char *line = strstr(read_small(CODE_STATS), "branches ");

	if (!line)
		return -1;
	snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	return 0;
}

/* What the kernel's spectre_v2 state implies for indirect branches. */
static const char *expected_indirect(void)
{
	const char *v = read_small(VULN "spectre_v2");
	const char *its = read_small(VULN "indirect_target_selection");

	if (strstr(its, "Aligned branch/return thunks"))
		return "thunk";
	if (strstr(v, "LFENCE"))
		return "lfence";
	if (strstr(v, "Retpolines"))
		return "thunk";
	return "native";
}

/*
 * Whether the kernel runs a mitigation compiled code cannot follow:
 * debugfs says "branches unsupported".
 */
static int unsupported(void)
{
	char forms[256];

	return !read_forms(forms, sizeof(forms)) &&
	       !strncmp(forms, "branches un", 11);
}

/* retbleed=stuff: call depth accounting is not emitted; execs are refused. */
TEST(exec_is_refused_under_call_depth_tracking)
{
	char *const argv[] = { "./branches.wasm", NULL };
	static struct result r;

	if (!unsupported())
		SKIP(return, "the kernel does not track call depth");
	run(argv[0], argv, &r);
	EXPECT_EQ(EOPNOTSUPP, r.exec_errno)
		TH_LOG("expected exec to fail with EOPNOTSUPP, got errno %d status %#x",
		       r.exec_errno, r.status);
	EXPECT_TRUE(klog_has("branches.wasm", "call depth tracking"));
}

TEST(indirect_branch_form_follows_the_kernels_spectre_v2_mitigation)
{
	char forms[256], want[64];

	if (unsupported())
		SKIP(return, "call depth tracking: every exec is refused");
	ASSERT_EQ(0, read_forms(forms, sizeof(forms)))
		TH_LOG("no branches line in %s", CODE_STATS);
	snprintf(want, sizeof(want), "indirect=%s ", expected_indirect());
	EXPECT_NE(NULL, strstr(forms, want))
		TH_LOG("expected \"%s\" in \"%s\"", want, forms);
	TH_LOG("%s", forms);
}

TEST(indirect_calls_br_tables_and_host_calls_run_in_this_form)
{
	char *const argv[] = { "./branches.wasm", NULL };
	static struct result r;
	uint32_t acc = 7, i;

	if (unsupported())
		SKIP(return, "call depth tracking: every exec is refused");
	for (i = 0; i < 300; i++) {
		switch ((i / 3) % 3) {
		case 0:
			acc += i;
			break;
		case 1:
			acc = (acc * 3) ^ i;
			break;
		default:
			acc -= i << 1;
		}
	}
	run(argv[0], argv, &r);
	ASSERT_TRUE(WIFEXITED(r.status))
		TH_LOG("expected an exit, got wait status %#x (stderr: %s)",
		       r.status, r.err);
	EXPECT_EQ(acc & 255, WEXITSTATUS(r.status));
	EXPECT_STREQ("branches\n", r.out);
}

/* Address of kernel symbol @name in /proc/kallsyms (root sees them), or 0. */
static unsigned long ksym(const char *name)
{
	static char line[512];
	unsigned long addr = 0;
	size_t n = strlen(name);
	FILE *f = fopen("/proc/kallsyms", "r");
	char *sym;

	while (f && fgets(line, sizeof(line), f)) {
		sym = strrchr(line, ' ');
		if (sym && !strncmp(sym + 1, name, n) &&
		    (sym[n + 1] == '\n' || sym[n + 1] == '\t')) {
			addr = strtoul(line, NULL, 16);
			break;
		}
	}
	if (f)
		fclose(f);
	return addr;
}

/* One placed image as debugfs kwasm/images shows it. */
struct image {
	unsigned long start;
	unsigned int len, nfuncs, nrelocs;
	unsigned int funcs[64];
	unsigned int relocs[256][2];
	unsigned char code[65536];
};

/* Parses the image named @name from debugfs kwasm/images; 0 if found. */
static int read_image(const char *name, struct image *img)
{
	static char buf[1 << 20];
	char want[96], *line, *save;
	int fd = open("/sys/kernel/debug/kwasm/images", O_RDONLY);
	ssize_t n, got = 0;
	int in = 0;
	unsigned int off, a, b;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	snprintf(want, sizeof(want), "image %s ", name);
	memset(img, 0, sizeof(*img));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!in) {
			in = !strncmp(line, want, strlen(want)) &&
			     sscanf(line + strlen(want), "start %lx len %u",
				    &img->start, &img->len) == 2;
			continue;
		}
		if (!strcmp(line, "end"))
			return 0;
		if (sscanf(line, "func %u %u", &a, &b) == 2 && img->nfuncs < 64)
			img->funcs[img->nfuncs++] = a;
		else if (sscanf(line, "reloc %u %u", &a, &b) == 2 &&
			 img->nrelocs < 256) {
			img->relocs[img->nrelocs][0] = a;
			img->relocs[img->nrelocs++][1] = b;
		} else if (sscanf(line, "code %u %n", &off, &a) == 1) {
			for (line += a; off < sizeof(img->code); line += 2) {
				if (sscanf(line, "%2hhx", &img->code[off]) != 1)
					break;
				off++;
			}
		}
	}
	return -1;
}

/* Whether @addr is one of the kernel's return thunks. */
static int is_return_thunk(unsigned long addr)
{
	static const char *const names[] = {
		"__x86_return_thunk", "retbleed_return_thunk",
		"srso_return_thunk", "srso_alias_return_thunk",
		"its_return_thunk", "call_depth_return_thunk",
	};
	static unsigned long addrs[6];
	static int known;
	int i;

	for (i = 0; !known && i < 6; i++)
		addrs[i] = ksym(names[i]);
	known = 1;
	for (i = 0; i < 6; i++)
		if (addrs[i] && addrs[i] == addr)
			return 1;
	return 0;
}

static const char *const regs[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/*
 * The code the kernel placed, not only what the host compiler tests see:
 * every entry has its endbr64 under IBT, every relocated branch is a call
 * or jmp rel32 that lands on the kernel's own thunk or host-call entry.
 */
TEST(placed_code_has_landing_pads_and_branches_to_the_kernels_thunks)
{
	static struct image img;
	static const unsigned char endbr[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
	char forms[256], thunk[48];
	char *const argv[] = { "./branches_spin.wasm", NULL };
	unsigned long hostcall = ksym("kwasm_hostcall_entry");
	unsigned int i, off, sym, thunks = 0, hostcalls = 0, returns = 0;
	unsigned long target, want;
	int ibt, thunk_form, return_thunk;
	int32_t rel;
	pid_t pid;

	if (unsupported())
		SKIP(return, "call depth tracking: every exec is refused");
	ASSERT_EQ(0, read_forms(forms, sizeof(forms)));
	ibt = !!strstr(forms, "ibt=1");
	thunk_form = !!strstr(forms, "indirect=thunk");
	return_thunk = !!strstr(forms, "return=thunk");
	ASSERT_NE(0, hostcall) TH_LOG("no kwasm_hostcall_entry in /proc/kallsyms");
	pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	ASSERT_EQ(0, wait_running(pid));
	EXPECT_EQ(0, read_image("branches_spin_wasm", &img))
		TH_LOG("no image branches_spin_wasm in debugfs kwasm/images");
	stop_and_reap(pid);
	ASSERT_LT(0, img.len);
	ASSERT_LE(img.len, sizeof(img.code));
	ASSERT_LT(0, img.nfuncs);
	for (i = 0; ibt && i < img.nfuncs; i++)
		EXPECT_EQ(0, memcmp(img.code + img.funcs[i], endbr, 4))
			TH_LOG("function at %#x: expected endbr64, got %02x %02x %02x %02x",
			       img.funcs[i], img.code[img.funcs[i]],
			       img.code[img.funcs[i] + 1], img.code[img.funcs[i] + 2],
			       img.code[img.funcs[i] + 3]);
	for (i = 0; i < img.nrelocs; i++) {
		off = img.relocs[i][0];
		sym = img.relocs[i][1];
		ASSERT_LE(off + 4, img.len);
		ASSERT_LT(0, off);
		memcpy(&rel, img.code + off, 4);
		target = img.start + off + 4 + (long)rel;
		if (sym == 17) {
			want = hostcall;
			hostcalls++;
			EXPECT_EQ(0xe8, img.code[off - 1]) TH_LOG("host call at %#x", off);
		} else if (sym < 16) {
			snprintf(thunk, sizeof(thunk), "__x86_indirect_thunk_%s", regs[sym]);
			want = ksym(thunk);
			thunks++;
			EXPECT_TRUE(img.code[off - 1] == 0xe8 || img.code[off - 1] == 0xe9)
				TH_LOG("thunk branch at %#x: opcode %#x", off, img.code[off - 1]);
		} else {
			returns++;
			EXPECT_EQ(0xe9, img.code[off - 1]) TH_LOG("return at %#x", off);
			EXPECT_TRUE(is_return_thunk(target))
				TH_LOG("return at %#x goes to %#lx, not a return thunk",
				       off, target);
			continue;
		}
		EXPECT_EQ(want, target)
			TH_LOG("relocation %u at %#x (symbol %u): expected %#lx, got %#lx",
			       i, off, sym, want, target);
	}
	EXPECT_LT(0, hostcalls) TH_LOG("expected direct host calls");
	/* Thunk branches exactly when the kernel uses them. */
	EXPECT_EQ(thunk_form, thunks > 0)
		TH_LOG("%u thunk branches with %s", thunks, forms);
	EXPECT_EQ(return_thunk, returns > 0)
		TH_LOG("%u return-thunk branches with %s", returns, forms);
}

TEST_HARNESS_MAIN
