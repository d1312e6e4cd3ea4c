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

TEST(indirect_branch_form_follows_the_kernels_spectre_v2_mitigation)
{
	char forms[256], want[64];

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

TEST_HARNESS_MAIN
