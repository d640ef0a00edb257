// SPDX-License-Identifier: MIT
/*
 * check_lossy.c - lossy recording is honest. `memhook check --lossy
 * --ring-size 64K` on tests/progs/lossy_leak (one 4 KB leak, a million
 * short-lived blocks): the oracle is memcheck on the same program (4096
 * bytes definitely lost). memhook must never call more bytes definitely
 * lost than memcheck does (a block whose free was lost is "unknown"),
 * must not hide the real leak (unknown covers it), must state the same
 * number of lost events on check's stderr, in JUnit (parsed by python3's
 * xml module), in the JSON report (parsed by python3's json) and in the
 * text report, and must not fail the build on unknown blocks unless
 * --fail-on=unknown asks. A process that lost nothing keeps its verdicts.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

#define SYSTEM_PYTHON "/usr/bin/python3"

/* What check printed: the lost events and the lossy_leak verdict line. */
struct lossy_run {
	unsigned long long lost;	/* "memhook: N events were lost" */
	unsigned long long definite;	/* "definitely lost N bytes" of lossy_leak */
	unsigned long long unknown;	/* "leak kinds unknown (...): N bytes" */
};

static void parse_check_stderr(struct lossy_run *r)
{
	char *text = mh_test_read_file(err_path, NULL), *line, *p;

	ck_assert_ptr_nonnull(text);
	memset(r, 0, sizeof(*r));
	line = strstr(text, "memhook: ");
	for (; line; line = strstr(line + 1, "\nmemhook: ")) {
		if (sscanf(line + (*line == '\n'), "memhook: %llu events were lost", &r->lost) == 1)
			continue;
		if (!strstr(line, "lossy_leak) exited"))
			continue;
		p = strstr(line, "definitely lost ");
		ck_assert_ptr_nonnull(p);
		r->definite = strtoull(p + 16, NULL, 10);
		p = strstr(line, "leak kinds unknown (");
		if (p && (p = strstr(p, "): ")))
			r->unknown = strtoull(p + 3, NULL, 10);
	}
	free(text);
}

/*
 * memhook's count of program's allocation calls in a JSON report, for the
 * process whose command ends in name; -1 if absent.
 */
static long long json_alloc_calls(const char *json, const char *name)
{
	static const char script[] =
		"import sys, json\n"
		"d = json.load(open(sys.argv[1]))\n"
		"for p in [d] + d['children']:\n"
		"    if (p['process']['command'] or '').endswith(sys.argv[2]):\n"
		"        print(p['summary']['alloc_calls'])\n"
		"        break\n"
		"else:\n"
		"    print(-1)\n";
	const char *argv[] = { SYSTEM_PYTHON, "-c", script, json, name, NULL };
	char *text;
	long long n;

	ck_assert_int_eq(mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stdout_path = out_path }),
			 0);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(text);
	n = strtoll(text, NULL, 10);
	free(text);
	return n;
}

/* Run python3 with a script and arguments; its exit status (0: the checks held). */
static int python(const char *script, const char *a, const char *b)
{
	const char *argv[] = { SYSTEM_PYTHON, "-c", script, a, b, NULL };

	return mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stderr_path = out_path });
}

START_TEST(lossy_check_is_honest)
{
	char *prog = mh_test_path("tests/progs/lossy_leak"), *junit = mh_test_join(dir, "j.xml");
	char *json = mh_test_join(dir, "j.json"), *kept = mh_test_join(dir, "k.mht");
	char *report = mh_test_join(dir, "r.txt"), lost[32], want[96], *text;
	char junit_opt[4200], json_opt[4200], trace_opt[4200];
	struct mh_vg_summary vg;
	struct lossy_run r;
	int code;

	if (skip_unbuilt("lossy_check_is_honest"))
		goto out;
	if (!mh_test_have_program("valgrind") || access(SYSTEM_PYTHON, X_OK)) {
		mh_test_skip("lossy_check_is_honest", "valgrind or python3 is not installed");
		goto out;
	}
	ck_assert_int_ge(mh_test_valgrind((const char *[]){ prog, NULL }, out_path, 300, &vg), 0);
	ck_assert_int_eq(vg.definite_bytes, 4096);

	snprintf(junit_opt, sizeof(junit_opt), "--junit=%s", junit);
	snprintf(json_opt, sizeof(json_opt), "--json=%s", json);
	snprintf(trace_opt, sizeof(trace_opt), "--trace=%s", kept);
	code = run_memhook((const char *[]){ "check", "--lossy", "--ring-size=64K", junit_opt,
					     json_opt, trace_opt, "--", prog, NULL }, NULL);
	/* Events were lost if memhook saw fewer calls than memcheck counted. */
	if (json_alloc_calls(json, "lossy_leak") == vg.allocs) {
		mh_test_skip("lossy_check_is_honest", "the 64K ring lost no event on this machine");
		goto out;
	}
	parse_check_stderr(&r);
	ck_assert_msg(r.lost > 0, "check did not say how many events were lost");
	/* Unknown blocks do not fail the build: the program's own status. */
	ck_assert_int_eq(code, 0);
	ck_assert_msg(r.definite <= (unsigned long long)vg.definite_bytes,
		      "memhook: %llu bytes definitely lost, memcheck: %lld", r.definite,
		      vg.definite_bytes);
	ck_assert_msg(r.definite + r.unknown >= (unsigned long long)vg.definite_bytes,
		      "the leak vanished: %llu definite + %llu unknown < %lld", r.definite, r.unknown,
		      vg.definite_bytes);

	/* The same count in JUnit, JSON and the text report. */
	snprintf(lost, sizeof(lost), "%llu", r.lost);
	ck_assert_msg(python("import sys, xml.etree.ElementTree as ET\n"
			     "root = ET.parse(sys.argv[1]).getroot()\n"
			     "p = root.find('.//property[@name=\"events_lost\"]')\n"
			     "assert p is not None and p.get('value') == sys.argv[2], p\n"
			     "case = root.find('.//testcase')\n"
			     "assert sys.argv[2] + ' events lost' in ET.tostring(case).decode()\n",
			     junit, lost) == 0, "JUnit lacks %s events lost", lost);
	ck_assert_msg(python("import sys, json\n"
			     "d = json.load(open(sys.argv[1]))\n"
			     "assert str(d['events_lost']) == sys.argv[2], d['events_lost']\n"
			     "assert d['summary']['leaks']['definite']['bytes'] is None\n",
			     json, lost) == 0, "JSON lacks %s events lost or has verdicts", lost);
	ck_assert_int_eq(run_memhook((const char *[]){ "report", "-o", report, kept, NULL }, NULL), 0);
	text = mh_test_read_file(report, NULL);
	snprintf(want, sizeof(want), "WARNING: %s events were lost", lost);
	ck_assert_msg(text && strstr(text, want) && strstr(text, "leak kinds unknown: allocation events were lost"),
		      "text report lacks '%s' or the unknown kinds", want);
	free(text);

	/* Asked to, unknown blocks fail it. */
	ck_assert_int_eq(run_memhook((const char *[]){ "check", "--lossy", "--ring-size=64K",
						       "--fail-on=definite,unknown", "--", prog,
						       NULL }, NULL), 23);
out:
	free(prog);
	free(junit);
	free(json);
	free(kept);
	free(report);
}
END_TEST

/* A process that ran after the losses keeps its verdicts: check_leaky's 40 bytes still fail. */
START_TEST(process_without_losses_keeps_verdicts)
{
	char *prog = mh_test_path("tests/progs/lossy_leak"), *leaky = mh_test_path("tests/progs/check_leaky");
	char script[1024], *text, *json = mh_test_join(dir, "j.json"), json_opt[4200];
	struct lossy_run r;
	int code;

	if (skip_unbuilt("process_without_losses_keeps_verdicts"))
		goto out;
	snprintf(script, sizeof(script), "%s; sleep 0.5; %s", prog, leaky);
	snprintf(json_opt, sizeof(json_opt), "--json=%s", json);
	code = run_memhook((const char *[]){ "check", "--lossy", "--ring-size=64K", json_opt, "--",
					     "sh", "-c", script, NULL }, NULL);
	/* lossy_leak makes 1000001 allocation calls (its header): fewer seen means losses. */
	if (json_alloc_calls(json, "lossy_leak") == 1000001) {
		mh_test_skip("process_without_losses_keeps_verdicts", "the ring lost no event");
		goto out;
	}
	parse_check_stderr(&r);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_msg(code == 23 && strstr(text, "40 bytes in 1 blocks are definitely lost"),
		      "check_leaky's leak was not judged (exit %d):\n%s", code, text);
	ck_assert_uint_eq(r.definite, 0);
	free(text);
out:
	free(prog);
	free(leaky);
	free(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lossy");
	TCase *tc = tcase_create("Honest");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, lossy_check_is_honest);
	tcase_add_test(tc, process_without_losses_keeps_verdicts);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
