// SPDX-License-Identifier: MIT
/*
 * check_views.c - the report formats other tools read: pprof (read back by
 * `go tool pprof -raw`), speedscope (read back by python3's json module),
 * folded stacks (summed by awk), and `memhook run` giving the same bytes
 * as `memhook report` for one trace. Each records examples/leaky with the
 * built memhook; the truth is the JSON report's summary, read by the
 * test's own JSON reader, and the tools' own parsers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_cmd.h"
#include "testutil.h"

/* The report's process totals the other formats must add up to. */
struct totals {
	long long bytes_allocated, alloc_calls, leaked_bytes, leaked_blocks;
};

static char *example;

static void views_setup(void)
{
	setup();
	example = mh_test_path("examples/leaky");
}

static void views_teardown(void)
{
	free(example);
	teardown();
}

/* Record examples/leaky into trace; false (after SKIP) when memhook is not built. */
static bool record_example(const char *name)
{
	const char *args[] = { "record", "-q", "-o", trace, "--", example, NULL };

	if (skip_unbuilt(name))
		return false;
	ck_assert_msg(run_memhook(args, NULL) == 0, "memhook record failed");
	return true;
}

/* `memhook report --format FORMAT -o path trace`. */
static void report_to(const char *format, const char *path)
{
	const char *args[] = { "report", "--format", format, "-o", path, trace, NULL };

	ck_assert_msg(run_memhook(args, NULL) == 0, "memhook report --format %s failed", format);
}

static void read_totals(struct totals *t)
{
	char *json_path = mh_test_join(dir, "report.json");
	char *json;

	report_to("json", json_path);
	json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(json);
	ck_assert_int_eq(mh_test_json_int(json, "summary.bytes_allocated", &t->bytes_allocated), 0);
	ck_assert_int_eq(mh_test_json_int(json, "summary.alloc_calls", &t->alloc_calls), 0);
	ck_assert_int_eq(mh_test_json_int(json, "summary.leaked_bytes", &t->leaked_bytes), 0);
	ck_assert_int_eq(mh_test_json_int(json, "summary.leaked_blocks", &t->leaked_blocks), 0);
	ck_assert_int_gt(t->leaked_blocks, 0);	/* the example leaks: inuse is not all zero */
	free(json);
	free(json_path);
}

/* Run a shell command line; stdout to path. Returns its exit code. */
static int shell(const char *line, const char *path)
{
	const char *argv[] = { "sh", "-c", line, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = path, .stderr_path = err_path };
	int status = mh_test_run(&cmd);

	ck_assert_int_ge(status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Column of name in the header line of `pprof -raw` ("alloc_space/bytes[dflt]" ...). */
static int raw_column(const char *header, const char *name)
{
	char word[128];
	int col = 0, used;

	while (sscanf(header, "%127s%n", word, &used) == 1) {
		if (!strncmp(word, name, strlen(name)) && word[strlen(name)] == '/')
			return col;
		header += used;
		col++;
	}
	return -1;
}

/* Sum of one sample type over the Samples section of `pprof -raw` output. */
static long long raw_sum(const char *raw, const char *name)
{
	const char *p = strstr(raw, "\nSamples:\n"), *end;
	long long sum = 0, v;
	int col, i, used;

	ck_assert_ptr_nonnull(p);
	p += strlen("\nSamples:\n");
	col = raw_column(p, name);
	ck_assert_msg(col >= 0, "no sample type %s in pprof -raw output", name);
	end = strstr(p, "\nLocations");
	ck_assert_ptr_nonnull(end);
	for (p = strchr(p, '\n') + 1; p && p < end; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *q = p;

		for (i = 0; i <= col; i++) {
			ck_assert_int_eq(sscanf(q, "%lld%n", &v, &used), 1);
			q += used;
		}
		sum += v;
	}
	return sum;
}

/* The build-id readelf sees in path, as hex, into id. */
static void readelf_build_id(const char *path, char *id, size_t len)
{
	char *line, *out = mh_test_join(dir, "readelf"), *text, *p;

	ck_assert_int_ge(asprintf(&line, "readelf -n '%s'", path), 0);
	ck_assert_int_eq(shell(line, out), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	p = strstr(text, "Build ID: ");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + strlen("Build ID: "), "%127[0-9a-f]", id), 1);
	ck_assert_int_lt(strlen(id), len);
	free(text);
	free(line);
	free(out);
}

START_TEST(pprof_sums_match_report)
{
	char *pb = mh_test_join(dir, "heap.pb.gz"), *raw_path = mh_test_join(dir, "raw");
	char *line, *raw, build_id[128];
	struct totals t;

	if (!mh_test_have_program("go")) {
		mh_test_skip("pprof_sums_match_report", "go is not installed (Debian golang-go)");
		goto out;
	}
	if (!record_example("pprof_sums_match_report"))
		goto out;
	read_totals(&t);
	report_to("pprof", pb);
	ck_assert_int_ge(asprintf(&line, "HOME='%s' GOCACHE='%s/gocache' go tool pprof -raw '%s'",
				  dir, dir, pb), 0);
	ck_assert_msg(shell(line, raw_path) == 0, "go tool pprof could not read the profile");
	free(line);
	raw = mh_test_read_file(raw_path, NULL);
	ck_assert_ptr_nonnull(raw);
	ck_assert_int_eq(raw_sum(raw, "alloc_space"), t.bytes_allocated);
	ck_assert_int_eq(raw_sum(raw, "alloc_objects"), t.alloc_calls);
	ck_assert_int_eq(raw_sum(raw, "inuse_space"), t.leaked_bytes);
	ck_assert_int_eq(raw_sum(raw, "inuse_objects"), t.leaked_blocks);
	/* Symbolized with file and line; the program's mapping has its build-id. */
	ck_assert_ptr_nonnull(strstr(raw, " leaf_alloc examples/leaky.c:"));
	readelf_build_id(example, build_id, sizeof(build_id));
	ck_assert_msg(strstr(raw, build_id), "build-id %s not in the mappings", build_id);
	free(raw);
out:
	free(pb);
	free(raw_path);
}
END_TEST

/* Scripts of this suite, relative to the source tree (make check runs from its top). */
#define SPEEDSCOPE_CHECK "tests/views/speedscope_check.py"
#define TIMELINE_CHECK "tests/views/timeline_check.py"
#define PAGE_CHECK "tests/views/page_check.js"
#define PYWORK "tests/views/pywork.py"
/* Where scripts/install-deps.sh puts the npm packages (ws for PAGE_CHECK). */
#define NODE_MODULES "vendor/node_modules"
/* The python3 whose allocations are traced (Debian's, not a wrapper script). */
#define PYTHON "/usr/bin/python3"
/* Largest HTML page allowed for the python3 trace, bytes. */
#define PAGE_MAX_BYTES (20LL << 20)
/* Fewest distinct stacks the python3 trace must have to be a fair test. */
#define PY_MIN_STACKS 10000

START_TEST(speedscope_weights_match_report)
{
	char *json = mh_test_join(dir, "heap.speedscope.json"), *sum_path = mh_test_join(dir, "sum");
	char *line, *text;
	struct totals t;
	long long sum;

	if (!mh_test_have_program("python3")) {
		mh_test_skip("speedscope_weights_match_report", "python3 is not installed");
		goto out;
	}
	ck_assert_msg(access(SPEEDSCOPE_CHECK, R_OK) == 0, "run from the source tree's top");
	if (!record_example("speedscope_weights_match_report"))
		goto out;
	read_totals(&t);
	report_to("speedscope", json);
	ck_assert_int_ge(asprintf(&line, "python3 %s '%s' leaf_alloc", SPEEDSCOPE_CHECK, json), 0);
	ck_assert_msg(shell(line, sum_path) == 0, "%s", mh_test_read_file(err_path, NULL));
	free(line);
	text = mh_test_read_file(sum_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "%lld", &sum), 1);
	ck_assert_int_eq(sum, t.bytes_allocated);
	free(text);
out:
	free(json);
	free(sum_path);
}
END_TEST

/* Sum of the last field of every line of a folded file, by awk. */
static long long awk_sum(const char *path)
{
	char *line, *out = mh_test_join(dir, "awk"), *text;
	long long sum;

	ck_assert_int_ge(asprintf(&line, "awk '{ s += $NF } END { printf \"%%d\\n\", s }' '%s'",
				  path), 0);
	ck_assert_int_eq(shell(line, out), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "%lld", &sum), 1);
	free(text);
	free(line);
	free(out);
	return sum;
}

/*
 * `memhook run --format F` writes what `memhook report --format F` writes
 * of the same trace, for the default options and for --value; folded
 * lines add up to the report's totals.
 */
START_TEST(run_and_report_agree)
{
	static const char *const formats[][3] = {
		{ "folded", NULL, NULL }, { "folded", "--value", "calls" },
		{ "folded", "--value", "leaked" }, { "text", NULL, NULL }, { "json", NULL, NULL },
	};
	char *run_out = mh_test_join(dir, "run.out"), *rep_out = mh_test_join(dir, "report.out");
	long long sums[3];
	struct totals t;
	size_t i;

	if (skip_unbuilt("run_and_report_agree"))
		goto out;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *run[] = { "run", "-q", "--trace", trace, "--format", formats[i][0],
				      "-o", run_out, formats[i][1], formats[i][2], "--", example, NULL };
		const char *rep[] = { "report", "--format", formats[i][0], "-o", rep_out, trace,
				      formats[i][1], formats[i][2], NULL };

		if (!formats[i][1]) {
			memmove(&run[8], &run[10], 3 * sizeof(run[0]));
			rep[6] = NULL;
		}
		ck_assert_int_eq(run_memhook(run, NULL), 0);
		ck_assert_int_eq(run_memhook(rep, NULL), 0);
		ck_assert_msg(mh_test_files_equal(run_out, rep_out), "run and report differ for %s %s",
			      formats[i][0], formats[i][2] ? formats[i][2] : "");
		if (i < 3)
			sums[i] = awk_sum(rep_out);
	}
	read_totals(&t);
	ck_assert_int_eq(sums[0], t.bytes_allocated);
	ck_assert_int_eq(sums[1], t.alloc_calls);
	ck_assert_int_eq(sums[2], t.leaked_bytes);
out:
	free(run_out);
	free(rep_out);
}
END_TEST

/*
 * examples/rss_growth 8 1 60: one stack grows 1 MiB per step, 60 ms
 * apart, then frees all. Its timeline must step through the live bytes
 * the program printed (checked by python3 with its json module).
 */
START_TEST(stack_timeline_follows_program)
{
	char *prog = mh_test_path("examples/rss_growth"), *stdout_path = mh_test_join(dir, "prog");
	char *json = mh_test_join(dir, "report.json"), *line;
	const char *argv[] = { memhook, "record", "-q", "--pagemap-interval", "100", "-o", trace,
			       "--", prog, "8", "1", "60", NULL };
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = stdout_path,
				   .stderr_path = err_path };

	if (skip_unbuilt("stack_timeline_follows_program"))
		goto out;
	if (!mh_test_have_program("python3")) {
		mh_test_skip("stack_timeline_follows_program", "python3 is not installed");
		goto out;
	}
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	report_to("json", json);
	ck_assert_int_ge(asprintf(&line, "python3 %s '%s' '%s' grow", TIMELINE_CHECK, json,
				  stdout_path), 0);
	ck_assert_msg(shell(line, out_path) == 0, "%s", mh_test_read_file(err_path, NULL));
	free(line);
out:
	free(prog);
	free(stdout_path);
	free(json);
}
END_TEST

/* True (after SKIP) when headless Chromium cannot be driven here. */
static bool skip_no_browser(const char *name)
{
	if (!mh_test_have_program("chromium")) {
		mh_test_skip(name, "chromium is not installed (Debian chromium)");
		return true;
	}
	if (!mh_test_have_program("node") || access(NODE_MODULES "/ws", R_OK)) {
		mh_test_skip(name, "node or the npm package ws is missing (scripts/install-deps.sh)");
		return true;
	}
	return false;
}

/* Open page in Chromium (page_check.js): no error, charts drawn, expect in the text. */
static void check_page(const char *page, const char *expect, const char *shot)
{
	char *line, *result = mh_test_join(dir, "page_check"), *text;
	int ret;

	ck_assert_int_ge(asprintf(&line, "NODE_PATH=%s node %s '%s' %s%s%s %s%s", NODE_MODULES,
				  PAGE_CHECK, page, expect ? "--expect '" : "", expect ? expect : "",
				  expect ? "'" : "", shot ? "--screenshot " : "", shot ? shot : ""), 0);
	ret = shell(line, result);
	text = mh_test_read_file(result, NULL);
	ck_assert_msg(ret == 0, "%s: %s", page, text ? text : "no output");
	free(text);
	free(line);
	free(result);
}

START_TEST(html_page_of_leaky_draws)
{
	char *page = mh_test_join(dir, "leaky.html"), *shot = mh_test_join(dir, "leaky.png");
	char *html;

	if (skip_no_browser("html_page_of_leaky_draws") || !record_example("html_page_of_leaky_draws"))
		goto out;
	report_to("html", page);
	html = mh_test_read_file(page, NULL);
	ck_assert_ptr_nonnull(html);
	/* Self-contained: no script, style or image is loaded from elsewhere. */
	ck_assert_ptr_null(strstr(html, "<script src"));
	ck_assert_ptr_null(strstr(html, "<link"));
	ck_assert_ptr_null(strstr(html, "<img"));
	/* The licences of the libraries it carries: d3 (ISC), d3-flame-graph, uPlot (MIT). */
	ck_assert_ptr_nonnull(strstr(html, "Permission to use, copy, modify, and/or distribute"));
	ck_assert_ptr_nonnull(strstr(html, "Apache License"));
	ck_assert_ptr_nonnull(strstr(html, "The MIT License"));
	free(html);
	check_page(page, "leaf_alloc", shot);
	ck_assert_int_eq(access(shot, R_OK), 0);
out:
	free(page);
	free(shot);
}
END_TEST

START_TEST(html_page_of_python_is_small)
{
	const char *env[] = { "PYTHONMALLOC=malloc", NULL };
	const char *rec[] = { "record", "-q", "-o", trace, "--", PYTHON, PYWORK, NULL };
	char *page = mh_test_join(dir, "python.html"), *folded = mh_test_join(dir, "folded");
	const char *rep[] = { "report", "--format", "folded", "--value", "calls", "-o", folded,
			      trace, NULL };
	size_t size;
	char *html;

	if (!mh_test_executable(PYTHON)) {
		mh_test_skip("html_page_of_python_is_small", PYTHON " is not installed");
		goto out;
	}
	if (skip_no_browser("html_page_of_python_is_small") ||
	    skip_unbuilt("html_page_of_python_is_small"))
		goto out;
	ck_assert_int_eq(run_memhook_env(rec, NULL, env), 0);
	ck_assert_int_eq(run_memhook(rep, NULL), 0);
	ck_assert_uint_ge(line_count(folded), PY_MIN_STACKS);
	report_to("html", page);
	html = mh_test_read_file(page, &size);
	ck_assert_ptr_nonnull(html);
	free(html);
	ck_assert_int_le((long long)size, PAGE_MAX_BYTES);
	check_page(page, NULL, NULL);
out:
	free(page);
	free(folded);
}
END_TEST

static Suite *views_suite(void)
{
	Suite *s = suite_create("views");
	TCase *tc = tcase_create("pprof");

	tcase_add_checked_fixture(tc, views_setup, views_teardown);
	tcase_add_test(tc, pprof_sums_match_report);
	suite_add_tcase(s, tc);
	tc = tcase_create("speedscope");
	tcase_add_checked_fixture(tc, views_setup, views_teardown);
	tcase_add_test(tc, speedscope_weights_match_report);
	suite_add_tcase(s, tc);
	tc = tcase_create("options");
	tcase_add_checked_fixture(tc, views_setup, views_teardown);
	tcase_add_test(tc, run_and_report_agree);
	suite_add_tcase(s, tc);
	tc = tcase_create("timelines");
	tcase_add_checked_fixture(tc, views_setup, views_teardown);
	tcase_add_test(tc, stack_timeline_follows_program);
	suite_add_tcase(s, tc);
	tc = tcase_create("html");
	tcase_add_checked_fixture(tc, views_setup, views_teardown);
	tcase_add_test(tc, html_page_of_leaky_draws);
	tcase_add_test(tc, html_page_of_python_is_small);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(views_suite());
}
