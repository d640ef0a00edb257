// SPDX-License-Identifier: MIT
/*
 * check_correlate.c - the two streams joined, end to end: `memhook record`
 * then `memhook report --format json` on programs that measure their own
 * memory (tests/progs/corr_*.c), and the per-stack figures compared with
 * what each program printed. The oracle is always the program's reading
 * of /proc/self/pagemap, never memhook.
 *
 * - corr_pages: small blocks of two call sites share heap pages; each
 *   stack's resident_bytes must be the site's own bytes on present pages,
 *   with and without the kernel stream.
 * - corr_swap: under a cgroup-v1 memory limit with a swap file (set up and
 *   removed here, even when the test fails), the stack whose buffer was
 *   read back gets the swap-ins the program saw, the other none, and the
 *   reclaim stalls go to the stack whose faults were stalled.
 *
 * A case that cannot run here (no root, no BPF, no cgroup v1 memory
 * controller) prints "SKIP <name>: <reason>".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>

#include "tests/testutil.h"

#define MIB (1024LL * 1024)
/* memhook's exit status when --kernel=on cannot have the kernel stream. */
#define EXIT_KERNEL_UNAVAILABLE 69
/* Swap test: site_reread's buffer and the cgroup limit, MiB; site_quiet's, KiB; swap file, MiB. */
#define SWAP_BUF_MB 192
#define SWAP_LIMIT_MB 64
#define QUIET_KB 1024
#define SWAP_FILE_MB 512

/* The number after "key=" on the program's output line starting with line; -1 if absent. */
static long long out_val(const char *out, const char *line, const char *key)
{
	const char *at = strstr(out, line), *eol;
	char want[64];

	if (!at)
		return -1;
	eol = strchr(at, '\n');
	snprintf(want, sizeof(want), " %s=", key);
	at = strstr(at, want);
	if (!at || (eol && at > eol))
		return -1;
	return strtoll(at + strlen(want), NULL, 10);
}

/* The stack (element of "stacks") whose innermost frame is function; NULL if none. */
static const char *stack_of(const char *json, const char *function)
{
	const char *stacks = mh_test_json_value(json, "stacks"), *el, *frames, *frame, *name;
	char want[64];
	size_t i;

	snprintf(want, sizeof(want), "\"%s\"", function);
	for (i = 0; stacks && (el = mh_test_json_element(stacks, i)); i++) {
		frames = mh_test_json_value(el, "frames");
		frame = frames ? mh_test_json_element(frames, 0) : NULL;
		name = frame ? mh_test_json_value(frame, "function") : NULL;
		if (name && !strncmp(name, want, strlen(want)))
			return el;
	}
	return NULL;
}

/* An integer field of function's stack; fails the test if it is absent or not a number. */
static long long stack_int(const char *json, const char *function, const char *field)
{
	const char *el = stack_of(json, function);
	long long v;

	ck_assert_msg(el != NULL, "no stack with %s as its innermost frame", function);
	ck_assert_msg(mh_test_json_int(el, field, &v) == 0, "%s: no integer %s", function, field);
	return v;
}

struct recording {
	char *out;	/* the program's stdout */
	char *json;	/* memhook report --format json */
};

static void recording_free(struct recording *r)
{
	free(r->out);
	free(r->json);
}

/*
 * memhook record [opts] -- tests/progs/PROG args, then the JSON report.
 * Returns false (after a SKIP line) when it cannot run here: not built, or
 * --kernel=on refused. Fails the test on any other error.
 */
static bool record(const char *name, const char *prog, const char *const *opts,
		   const char *const *args, struct recording *r)
{
	char *memhook = mh_test_path("memhook"), *rel = mh_test_join("tests/progs", prog);
	char *path = mh_test_path(rel), *trace = mh_test_join(mh_test_tmp, "corr.mht");
	char *out_path = mh_test_join(mh_test_tmp, "corr.out");
	char *err_path = mh_test_join(mh_test_tmp, "corr.err");
	char *json_path = mh_test_join(mh_test_tmp, "corr.json");
	const char *rec[24] = { memhook, "record", "-q", "-o", trace };
	const char *rep[] = { memhook, "report", "--format", "json", "-o", json_path, trace, NULL };
	struct mh_test_cmd cmd = { .argv = rec, .stdout_path = out_path, .stderr_path = err_path };
	bool ran = false;
	size_t n = 5, i;
	int st;

	memset(r, 0, sizeof(*r));
	if (!mh_test_executable(memhook) || !mh_test_executable(path)) {
		mh_test_skip(name, "memhook or the test program is not built");
		goto out;
	}
	for (i = 0; opts[i]; i++)
		rec[n++] = opts[i];
	rec[n++] = "--";
	rec[n++] = path;
	for (i = 0; args && args[i]; i++)
		rec[n++] = args[i];
	st = mh_test_run(&cmd);
	if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == EXIT_KERNEL_UNAVAILABLE) {
		mh_test_skip(name, "--kernel=on refused: no kernel stream here (exit 69)");
		goto out;
	}
	r->out = mh_test_read_file(out_path, NULL);
	ck_assert_msg(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "memhook record %s: status %#x, stdout: %s", prog, st, r->out ? r->out : "");
	cmd = (struct mh_test_cmd){ .argv = rep };
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	r->json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(r->out);
	ck_assert_ptr_nonnull(r->json);
	ran = true;
out:
	free(memhook);
	free(rel);
	free(path);
	free(trace);
	free(out_path);
	free(err_path);
	free(json_path);
	return ran;
}

/* ---- small objects share pages fairly ---- */

/*
 * corr_pages leaves 200,000 blocks of 48 and of 80 bytes interleaved on
 * the heap, drops every fifth page of their span and prints, per site, the
 * bytes of its blocks on present pages. It touches nothing afterwards and
 * frees nothing, so the exit-time snapshot sees the pages it read: each
 * stack's resident_bytes must equal its site's figure to the byte (a block
 * across a dropped page's edge counts only its part on the present page).
 * Periodic snapshots are off: the only snapshot is the exit scan's, the
 * "latest" one the stacks' figures come from. Both stacks together cannot
 * hold more than the resident pages their blocks overlap.
 */
static void check_pages_shared(const char *name, const char *kernel)
{
	const char *opts[] = { kernel, "--pagemap-interval", "0", NULL };
	static const char *const sites[] = { "site_a", "site_b" };
	long long want, got, swapped, heap, dropped, sum = 0;
	struct recording r;
	char line[32];
	unsigned i;

	if (!record(name, "corr_pages", opts, NULL, &r))
		return;
	heap = out_val(r.out, "heap ", "resident_bytes");
	dropped = out_val(r.out, "heap ", "dropped_pages");
	ck_assert_msg(heap > 0 && dropped > 0, "corr_pages printed no heap line: %s", r.out);
	for (i = 0; i < 2; i++) {
		snprintf(line, sizeof(line), "site=%s ", sites[i]);
		want = out_val(r.out, line, "resident_bytes");
		ck_assert_msg(want > 0, "corr_pages printed nothing for %s: %s", sites[i], r.out);
		/* Some pages were dropped: the figure is not just the bytes allocated. */
		ck_assert_int_lt(want, out_val(r.out, line, "bytes"));
		got = stack_int(r.json, sites[i], "resident_bytes");
		swapped = stack_int(r.json, sites[i], "swapped_bytes");
		ck_assert_msg(got == want && swapped == 0,
			      "%s: resident %lld (swapped %lld) in the report, %lld by the program",
			      sites[i], got, swapped, want);
		sum += got;
	}
	ck_assert_msg(sum <= heap, "stacks hold %lld resident bytes, their pages only %lld", sum,
		      heap);
	recording_free(&r);
}

START_TEST(test_pages_shared_pagemap)
{
	check_pages_shared("pages_shared_pagemap", "--kernel=off");
}
END_TEST

START_TEST(test_pages_shared_kernel)
{
	if (geteuid() != 0) {
		mh_test_skip("pages_shared_kernel", "needs root for the kernel stream");
		return;
	}
	check_pages_shared("pages_shared_kernel", "--kernel=on");
}
END_TEST

/* ---- swap-ins attributed ---- */

/* What the swap fixture set up, or why it could not. */
static struct mh_test_swapcg swapcg;

/* Unchecked fixture: runs in the runner's process, so teardown runs even if the test failed. */
static void swap_setup(void)
{
	mh_test_swapcg_setup(&swapcg, "corr", SWAP_FILE_MB, SWAP_LIMIT_MB * MIB);
}

static void swap_teardown(void)
{
	mh_test_swapcg_teardown(&swapcg);
}

/*
 * corr_swap moves itself into the cgroup, fills site_quiet's 1 MiB, then
 * site_reread's 192 MiB (three times the limit), and reads site_reread's
 * buffer back, counting the pages pagemap showed swapped just before the
 * read and present just after. site_reread's swap-ins must be within 5%
 * of that count; site_quiet's buffer was swapped out too but never read,
 * so its stack has none. Filling 192 MiB under a 64 MiB limit stalls the
 * program's faults in memcg reclaim: site_reread's stack carries stall time.
 */
START_TEST(test_swapins_attributed)
{
	static const char *const opts[] = { "--kernel=on", NULL };
	char mb[16], kb[16];
	const char *args[] = { swapcg.cgroup_dir, mb, kb, NULL };
	long long came_back, quiet_swapped, swapins, quiet_swapins, stall, total;
	struct recording r;

	if (swapcg.skip[0]) {
		mh_test_skip("swapins_attributed", swapcg.skip);
		return;
	}
	snprintf(mb, sizeof(mb), "%d", SWAP_BUF_MB);
	snprintf(kb, sizeof(kb), "%d", QUIET_KB);
	if (!record("swapins_attributed", "corr_swap", opts, args, &r))
		return;
	came_back = out_val(r.out, "reread ", "came_back");
	quiet_swapped = out_val(r.out, "quiet ", "swapped");
	/* Enough of the buffer must have come back for the test to mean something. */
	ck_assert_msg(came_back > (SWAP_BUF_MB - SWAP_LIMIT_MB) * MIB / sysconf(_SC_PAGESIZE) / 4,
		      "too few pages came back from swap: %s", r.out);
	/* site_quiet's 0 means something only if its pages were swapped out. */
	ck_assert_msg(quiet_swapped > 0, "site_quiet's buffer was never swapped out: %s", r.out);
	ck_assert_msg(mh_test_json_int(r.json, "summary.swapins", &total) == 0,
		      "no kernel stream in the report");
	swapins = stack_int(r.json, "site_reread", "swapins");
	quiet_swapins = stack_int(r.json, "site_quiet", "swapins");
	stall = stack_int(r.json, "site_reread", "reclaim_stall_ns");
	ck_assert_msg(llabs(swapins - came_back) * 100 <= came_back * 5,
		      "site_reread: %lld swap-ins in the report, %lld pages came back", swapins,
		      came_back);
	ck_assert_msg(quiet_swapins == 0, "site_quiet: %lld swap-ins, its buffer was never read",
		      quiet_swapins);
	ck_assert_msg(stall > 0, "site_reread: no reclaim stall charged");
	ck_assert_int_ge(total, swapins);
	recording_free(&r);
}
END_TEST

static Suite *correlate_suite(void)
{
	Suite *s = suite_create("correlate");
	TCase *tp = tcase_create("Pages");
	TCase *ts = tcase_create("Swap");

	tcase_add_checked_fixture(tp, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_add_test(tp, test_pages_shared_pagemap);
	tcase_add_test(tp, test_pages_shared_kernel);
	suite_add_tcase(s, tp);

	tcase_add_unchecked_fixture(ts, swap_setup, swap_teardown);
	tcase_add_checked_fixture(ts, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_add_test(ts, test_swapins_attributed);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	return mh_test_run_suite(correlate_suite());
}
