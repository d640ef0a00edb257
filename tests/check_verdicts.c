// SPDX-License-Identifier: MIT
/*
 * check_verdicts.c - memhook's leak verdicts against Valgrind's memcheck,
 * live, on the scenario programs tests/progs/leak_*.c and leak_*.cc (each
 * says in its header what memcheck reports for it).
 *
 * Each scenario runs under `valgrind --leak-check=full` (the oracle) and
 * under `memhook record`, then `memhook report --format json`. Per
 * process (a forked child is matched with memcheck's summary of the
 * child's pid), the test asserts:
 *   - definitely and indirectly lost bytes and blocks equal memcheck's;
 *   - the stacks with definitely lost blocks are as many as memcheck's
 *     "definitely lost in loss record" records, and lose the same bytes
 *     and blocks directly (compared as sorted lists);
 *   - possibly lost and still reachable bytes and blocks equal memcheck's,
 *     or differ exactly as docs/LEAKS.md ("Differences from memcheck")
 *     says they do for that scenario.
 * A mismatch fails with both tools' figures for every kind.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>

#include "tests/testutil.h"

/* Time limit of one run, in seconds (memcheck is slow to start). */
#define RUN_TIMEOUT_S 120
#define MAX_PROCS 2

struct scenario {
	const char *name;		/* under <build>/tests/progs/ */
	int procs;			/* processes compared: 1, or 2 with a fork child */
};

static const struct scenario scenarios[] = {
	{ "leak_direct", 1 },
	{ "leak_stacks", 1 },
	{ "leak_struct", 1 },
	{ "leak_list", 1 },
	{ "leak_tree", 1 },
	{ "leak_cycle", 1 },
	{ "leak_global", 1 },
	{ "leak_static_local", 1 },
	{ "leak_main_stack", 1 },
	{ "leak_tls", 1 },
	{ "leak_live_thread", 1 },
	{ "leak_interior", 1 },
	{ "leak_realloc", 1 },
	{ "leak_aligned", 1 },
	{ "leak_libc", 1 },
	{ "leak_cxx_new", 1 },
	{ "leak_cxx_containers", 1 },
	{ "leak_cxx_heuristics", 1 },
	{ "leak_thread_exited", 1 },
	{ "leak_fork", 2 },
	{ "leak_dlclose", 1 },
	{ "leak_exit_nested", 1 },
	{ "leak_underscore_exit", 1 },
	{ "leak_return_main", 1 },
	{ "leak_sigterm", 1 },
	{ "leak_sbrk", 1 },
	{ "leak_mmap_only", 1 },
	{ "leak_cycle_opt", 1 },
};

/* Loss records (memcheck) or stacks (memhook) with definitely lost blocks, at most. */
#define MAX_LOSSES 64

/* The directly lost blocks of one loss record or stack. */
struct loss {
	long long bytes, blocks;
};

/* One process's verdicts, from either tool. */
struct verdicts {
	long long bytes[4], blocks[4];	/* definite, indirect, possible, reachable */
	long long definite_stacks;	/* memcheck: definite loss records */
	struct loss losses[MAX_LOSSES];	/* of those records / stacks, sorted */
};

static const char *const kind_names[4] = { "definite", "indirect", "possible", "reachable" };

static int by_loss(const void *a, const void *b)
{
	const struct loss *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return (x->blocks > y->blocks) - (x->blocks < y->blocks);
}

/* A decimal number with thousands separators ("1,112"); -1 if none. */
static long long vg_count(const char *p, const char **end)
{
	long long v = -1;

	for (; (*p >= '0' && *p <= '9') || (*p == ',' && v >= 0); p++)
		if (*p != ',')
			v = (v < 0 ? 0 : v * 10) + (*p - '0');
	*end = p;
	return v;
}

/*
 * "==P== 480 (24 direct, 456 indirect) bytes in 1 blocks are definitely
 * lost in loss record ..." or "==P== 40 bytes in 1 blocks are ...": the
 * directly lost bytes and the blocks of each definite loss record.
 */
static void memcheck_losses(const char *lines, struct verdicts *v)
{
	static const char tag[] = "are definitely lost in loss record";
	const char *line, *p;
	long long n = 0;

	for (line = lines; (p = strstr(line, tag)); line = p + sizeof(tag) - 1) {
		const char *start = p, *q;
		struct loss l;

		while (start > lines && start[-1] != '\n')
			start--;
		q = strstr(start, "== ");
		ck_assert_msg(q && q < p, "memcheck loss record without a pid prefix");
		l.bytes = vg_count(q + 3, &q);
		if (!strncmp(q, " (", 2))
			l.bytes = vg_count(q + 2, &q);
		q = strstr(q, " bytes in ");
		ck_assert_msg(q && q < p, "unexpected memcheck loss record line");
		l.blocks = vg_count(q + strlen(" bytes in "), &q);
		ck_assert_int_lt(n, MAX_LOSSES);
		v->losses[n++] = l;
	}
	v->definite_stacks = n;
	qsort(v->losses, (size_t)n, sizeof(v->losses[0]), by_loss);
}

/* memcheck's verdicts for the nth process of its log. */
static void memcheck_verdicts(const char *log, int nth, struct verdicts *v)
{
	long pid = mh_test_valgrind_pid(log, nth);
	struct mh_vg_summary s;
	char *lines;

	ck_assert_msg(pid > 0, "memcheck's log has no process #%d", nth);
	lines = mh_test_valgrind_lines(log, pid);
	ck_assert_msg(mh_test_valgrind_parse(lines, &s) == 0,
		      "memcheck printed no heap summary for pid %ld", pid);
	v->bytes[0] = s.definite_bytes;
	v->blocks[0] = s.definite_blocks;
	v->bytes[1] = s.indirect_bytes;
	v->blocks[1] = s.indirect_blocks;
	v->bytes[2] = s.possible_bytes;
	v->blocks[2] = s.possible_blocks;
	v->bytes[3] = s.reachable_bytes;
	v->blocks[3] = s.reachable_blocks;
	memcheck_losses(lines, v);
	ck_assert_int_eq(v->definite_stacks,
			 mh_test_count(lines, "are definitely lost in loss record"));
	free(lines);
}

static long long json_field(const char *obj, const char *path, const char *what)
{
	long long v = -1;
	int rc = mh_test_json_int(obj, path, &v);

	ck_assert_msg(rc != -EINVAL, "%s: %s is not a number: no leak verdict (null)", what, path);
	ck_assert_msg(rc == 0, "%s: %s: %s", what, path, strerror(-rc));
	return v;
}

/* memhook's verdicts for one process object of the JSON report. */
static void memhook_verdicts(const char *proc, const char *what, struct verdicts *v)
{
	const char *stacks = mh_test_json_value(proc, "stacks"), *st;
	char path[64];
	size_t i;

	for (i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "summary.leaks.%s.bytes", kind_names[i]);
		v->bytes[i] = json_field(proc, path, what);
		snprintf(path, sizeof(path), "summary.leaks.%s.blocks", kind_names[i]);
		v->blocks[i] = json_field(proc, path, what);
	}
	ck_assert_msg(stacks != NULL, "%s: the report has no stacks", what);
	v->definite_stacks = 0;
	for (i = 0; (st = mh_test_json_element(stacks, i)); i++) {
		struct loss l = { .blocks = json_field(st, "leaks.definite.blocks", what) };

		if (l.blocks <= 0)
			continue;
		l.bytes = json_field(st, "leaks.definite.bytes", what);
		ck_assert_int_lt(v->definite_stacks, MAX_LOSSES);
		v->losses[v->definite_stacks++] = l;
	}
	qsort(v->losses, (size_t)v->definite_stacks, sizeof(v->losses[0]), by_loss);
}

/* `memhook record --follow-forks`, then the JSON report's text. */
static char *memhook_json(const char *exe, int *status)
{
	char *memhook = mh_test_artefact("memhook"), *trace = mh_test_join(mh_test_tmp, "t.mht"),
	     *out = mh_test_join(mh_test_tmp, "mh.out"), *err = mh_test_join(mh_test_tmp, "mh.err"),
	     *json_path = mh_test_join(mh_test_tmp, "report.json"), *json, *msg;
	const char *rec[] = { memhook, "record", "--follow-forks", "-q", "-o", trace, "--", exe,
			      NULL };
	const char *rep[] = { memhook, "report", "--format", "json", trace, NULL };
	int rc;

	*status = mh_test_run(&(struct mh_test_cmd){ .argv = rec, .stdout_path = out,
						     .stderr_path = err,
						     .timeout_s = RUN_TIMEOUT_S });
	ck_assert_msg(*status >= 0, "memhook record: %s", strerror(-*status));
	rc = mh_test_run(&(struct mh_test_cmd){ .argv = rep, .stdout_path = json_path,
						.stderr_path = err, .timeout_s = RUN_TIMEOUT_S });
	msg = mh_test_read_file(err, NULL);
	ck_assert_msg(rc >= 0 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
		      "memhook report failed (status %d): %s", rc, msg ? msg : "");
	json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(json);
	free(msg);
	free(json_path);
	free(err);
	free(out);
	free(trace);
	free(memhook);
	return json;
}

/* memhook record exits like its program, or with 128 + the signal. */
static bool same_exit(int plain, int recorded)
{
	if (WIFEXITED(plain))
		return WIFEXITED(recorded) && WEXITSTATUS(recorded) == WEXITSTATUS(plain);
	return WIFSIGNALED(plain) &&
	       ((WIFSIGNALED(recorded) && WTERMSIG(recorded) == WTERMSIG(plain)) ||
		(WIFEXITED(recorded) && WEXITSTATUS(recorded) == 128 + WTERMSIG(plain)));
}

/* Append "fmt..." to the report of differences. */
static void note(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(char *buf, size_t size, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used >= size - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, size - used, fmt, ap);
	va_end(ap);
}

/*
 * Compare one process: every kind's bytes and blocks, and the definite
 * losses stack by stack, must be memcheck's (a live thread's DTV, possibly
 * lost, included: docs/LEAKS.md).
 */
static int compare(const struct scenario *sc, int proc, const struct verdicts *vg,
		   const struct verdicts *mh, char *why, size_t size)
{
	int bad = 0;
	size_t k;

	for (k = 0; k < 4; k++) {
		if (mh->bytes[k] != vg->bytes[k] || mh->blocks[k] != vg->blocks[k])
			bad++;
	}
	if (mh->definite_stacks != vg->definite_stacks ||
	    memcmp(mh->losses, vg->losses, (size_t)vg->definite_stacks * sizeof(vg->losses[0])))
		bad++;
	printf("# %s[%d]: %-9s memcheck bytes/blocks   memhook bytes/blocks\n", sc->name, proc,
	       "kind");
	for (k = 0; k < 4; k++)
		printf("# %s[%d]: %-9s %10lld/%-6lld %10lld/%-6lld\n", sc->name, proc,
		       kind_names[k], vg->bytes[k], vg->blocks[k], mh->bytes[k], mh->blocks[k]);
	printf("# %s[%d]: definite stacks: memcheck %lld, memhook %lld\n", sc->name, proc,
	       vg->definite_stacks, mh->definite_stacks);
	if (!bad)
		return 0;
	note(why, size, "\n%s, process %d:", sc->name, proc);
	for (k = 0; k < 4; k++)
		note(why, size, " %s %lld/%lld (memcheck %lld/%lld);", kind_names[k],
		     mh->bytes[k], mh->blocks[k], vg->bytes[k], vg->blocks[k]);
	note(why, size, " definite stacks %lld (memcheck %lld), bytes/blocks of each:",
	     mh->definite_stacks, vg->definite_stacks);
	for (k = 0; k < (size_t)mh->definite_stacks; k++)
		note(why, size, " %lld/%lld", mh->losses[k].bytes, mh->losses[k].blocks);
	note(why, size, " (memcheck");
	for (k = 0; k < (size_t)vg->definite_stacks; k++)
		note(why, size, " %lld/%lld", vg->losses[k].bytes, vg->losses[k].blocks);
	note(why, size, ")");
	return bad;
}

START_TEST(test_verdicts_match_memcheck)
{
	const struct scenario *sc = &scenarios[_i];
	const char *vg_opts[] = { "--trace-children=yes", NULL };
	char *rel = mh_test_join("tests/progs", sc->name), *exe = mh_test_artefact(rel);
	char *vg_out = mh_test_join(mh_test_tmp, "vg.out"), *log, *json, why[4096] = "";
	const char *argv[] = { exe, NULL };
	struct verdicts vg, mh;
	int vg_status, mh_status, p, bad = 0;

	if (!mh_test_have_program("valgrind")) {
		mh_test_skip(sc->name, "valgrind is not installed (scripts/install-deps.sh)");
		goto out;
	}
	vg_status = mh_test_valgrind_log(vg_opts, argv, vg_out, RUN_TIMEOUT_S, &log);
	ck_assert_msg(vg_status >= 0, "valgrind %s: %s", sc->name, strerror(-vg_status));
	json = memhook_json(exe, &mh_status);
	ck_assert_msg(same_exit(vg_status, mh_status),
		      "%s: status %#x under memhook, %#x under memcheck", sc->name, mh_status,
		      vg_status);
	for (p = 0; p < sc->procs; p++) {
		const char *proc = json;
		char what[96];

		if (p > 0)
			proc = mh_test_json_element(mh_test_json_value(json, "children"),
						    (size_t)p - 1);
		snprintf(what, sizeof(what), "%s process %d", sc->name, p);
		ck_assert_msg(proc != NULL, "%s: not in the report", what);
		memcheck_verdicts(log, p, &vg);
		memhook_verdicts(proc, what, &mh);
		bad += compare(sc, p, &vg, &mh, why, sizeof(why));
	}
	ck_assert_msg(!bad, "verdicts differ from memcheck's (memhook bytes/blocks):%s", why);
	free(json);
	free(log);
out:
	free(vg_out);
	free(exe);
	free(rel);
}
END_TEST

/* The log helpers on a fixed two-process log, before they judge anything. */
START_TEST(test_log_split)
{
	static const char log[] =
		"==10== Memcheck\n"
		"==11== 33 bytes in 1 blocks are definitely lost in loss record 1 of 2\n"
		"==11==    definitely lost: 33 bytes in 1 blocks\n"
		"==10== 44 bytes in 1 blocks are definitely lost in loss record 1 of 1\n"
		"==10== 5 bytes in 1 blocks are definitely lost in loss record 2 of 2\n";
	char *lines;

	ck_assert_int_eq(mh_test_valgrind_pid(log, 0), 10);
	ck_assert_int_eq(mh_test_valgrind_pid(log, 1), 11);
	ck_assert_int_eq(mh_test_valgrind_pid(log, 2), -1);
	lines = mh_test_valgrind_lines(log, 10);
	ck_assert_int_eq(mh_test_count(lines, "are definitely lost in loss record"), 2);
	ck_assert_ptr_null(strstr(lines, "==11=="));
	free(lines);
	lines = mh_test_valgrind_lines(log, 11);
	ck_assert_int_eq(mh_test_count(lines, "are definitely lost in loss record"), 1);
	free(lines);
}
END_TEST

START_TEST(test_loss_records)
{
	static const char log[] =
		"==7== 1,480 (1,024 direct, 456 indirect) bytes in 2 blocks are definitely lost"
		" in loss record 8 of 9\n"
		"==7==    at 0x4846990: malloc\n"
		"==7== 48 bytes in 3 blocks are definitely lost in loss record 4 of 9\n"
		"==7== 64 bytes in 1 blocks are possibly lost in loss record 5 of 9\n";
	struct verdicts v;

	memcheck_losses(log, &v);
	ck_assert_int_eq(v.definite_stacks, 2);
	ck_assert_int_eq(v.losses[0].bytes, 48);
	ck_assert_int_eq(v.losses[0].blocks, 3);
	ck_assert_int_eq(v.losses[1].bytes, 1024);
	ck_assert_int_eq(v.losses[1].blocks, 2);
}
END_TEST

START_TEST(test_json_arrays)
{
	static const char json[] =
		"{\"stacks\": [ {\"leaks\": {\"definite\": {\"blocks\": 2}}}, {\"x\": [1, 2]},"
		" {\"leaks\": {\"definite\": {\"blocks\": null}}} ], \"children\": []}";
	const char *stacks = mh_test_json_value(json, "stacks"), *e;
	long long v = 0;

	ck_assert_ptr_nonnull(stacks);
	e = mh_test_json_element(stacks, 0);
	ck_assert_int_eq(mh_test_json_int(e, "leaks.definite.blocks", &v), 0);
	ck_assert_int_eq(v, 2);
	e = mh_test_json_element(stacks, 2);
	ck_assert_int_eq(mh_test_json_int(e, "leaks.definite.blocks", &v), -EINVAL);
	ck_assert_ptr_null(mh_test_json_element(stacks, 3));
	ck_assert_ptr_null(mh_test_json_element(mh_test_json_value(json, "children"), 0));
	ck_assert_ptr_null(mh_test_json_value(json, "missing"));
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("verdicts");
	TCase *tc = tcase_create("Helpers");

	tcase_add_test(tc, test_log_split);
	tcase_add_test(tc, test_loss_records);
	tcase_add_test(tc, test_json_arrays);
	suite_add_tcase(s, tc);
	tc = tcase_create("SameVerdictsAsMemcheck");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 3 * RUN_TIMEOUT_S);
	tcase_add_loop_test(tc, test_verdicts_match_memcheck, 0, N_OF(scenarios));
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
