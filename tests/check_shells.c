// SPDX-License-Identifier: MIT
/*
 * check_shells.c - `memhook check` as a CI gate over the process trees CI
 * runs: pipes, subshells, bash lists, exec, nested sh -c, make recipes
 * (with -j2, and a recursive make that spawns make) and a program whose
 * fork children exit without exec or exec another program. The oracle is
 * valgrind memcheck with --trace-children=yes, run live on the same
 * command, one log file per process image (--log-file=vg.%p.%n).
 *
 * For each command:
 *   - memhook check --error-exitcode=42 exits 42 exactly when memcheck
 *     finds a definitely or indirectly lost block in some image, else 0;
 *     each FAILED line names a program memcheck blames;
 *   - every image memcheck summarized (it exited) is one image of
 *     memhook's JSON report with the same arguments and the same
 *     definitely and indirectly lost bytes and blocks; every image
 *     memhook reports as replaced by exec is an image memcheck saw end
 *     without a summary, and loses nothing. memcheck shows one image
 *     more per vfork/posix_spawn child (it turns vfork into fork, so the
 *     child's moment before exec looks like a copy of its parent): those
 *     are the only images of memcheck memhook may lack (docs/LEAKS.md);
 *   - the JUnit file, read by junitparser, has one test case per image,
 *     failed exactly for the images memcheck blames;
 *   - the loss records printed for each image come in memcheck's order
 *     (by kind, then the largest first) before its summary line, and are
 *     the JSON report's failing "loss_records" of that image.
 * Without --follow-forks, run, record + report and check say how many
 * child processes ran untraced: as many as memcheck saw besides the root.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/memcheck_images.h"
#include "tests/testutil.h"

/* Time limit of one run, in seconds (memcheck runs a million allocations). */
#define RUN_TIMEOUT_S 240
#define MAX_RECORDS 64
#define EXIT_LEAK 42
/* Debian's python3, which has python3-junitparser (not a pyenv shim). */
#define SYSTEM_PYTHON "/usr/bin/python3"

/* %L, %C, %F: the leaky, clean and fork-tree programs; %M: the Makefile. */
struct scenario {
	const char *name;
	const char *argv[8];
	int want;			/* exit status under memhook check --error-exitcode=42 */
	const char *named;		/* a program a FAILED line must name, NULL if none fails */
};

static const struct scenario scenarios[] = {
	{ "pipe", { "sh", "-c", "%L | cat" }, EXIT_LEAK, "check_leaky" },
	{ "subshell", { "sh", "-c", "(%L); true" }, EXIT_LEAK, "check_leaky" },
	{ "bash_list", { "bash", "-c", "%C; %L" }, EXIT_LEAK, "check_leaky" },
	{ "bash_clean", { "bash", "-c", "%C; true" }, 0, NULL },
	{ "bash_exec", { "bash", "-c", "exec %C" }, 0, NULL },
	{ "nested_sh", { "sh", "-c", "sh -c '%L | cat'; true" }, EXIT_LEAK, "check_leaky" },
	{ "make", { "make", "-s", "-j2", "-f", "%M", "test" }, EXIT_LEAK, "check_leaky" },
	{ "make_recursive", { "make", "-s", "-j2", "-f", "%M", "recurse" }, EXIT_LEAK,
	  "check_leaky" },
	{ "fork_tree", { "%F", "%L" }, EXIT_LEAK, "image_fork" },
};

static const char makefile[] =
	"test:\n"
	"\t%L | cat\n"
	"recurse:\n"
	"\t$(MAKE) -s -f %M test\n";

/* The end of a long text, short enough for a Check message. */
static const char *tail(const char *text)
{
	size_t len = strlen(text);

	return len > 2000 ? text + len - 2000 : text;
}

/* text with %L, %C, %F and %M replaced by their paths, malloc'd. */
static char *expand(const char *text)
{
	char *out = NULL, *rel;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	for (; *text; text++) {
		if (*text != '%' || !strchr("LCFM", text[1])) {
			fputc(*text, f);
			continue;
		}
		text++;
		if (*text == 'M') {
			rel = mh_test_join(mh_test_tmp, "Makefile");
		} else {
			rel = mh_test_artefact(*text == 'L' ? "tests/progs/check_leaky" :
					       *text == 'C' ? "tests/progs/check_clean" :
					       "tests/progs/image_fork");
		}
		fputs(rel, f);
		free(rel);
	}
	fclose(f);
	return out;
}

static long long json_number(const char *obj, const char *path)
{
	long long v = -1;

	ck_assert_msg(mh_test_json_int(obj, path, &v) == 0, "no number at %s", path);
	return v;
}

static char *json_text(const char *obj, const char *path)
{
	char *s = mh_test_json_string(mh_test_json_value(obj, path));

	ck_assert_msg(s != NULL, "no string at %s", path);
	return s;
}

/* One image of memhook's JSON report (the root object, or an element of "children"). */
static void memhook_image(const char *proc, struct image *im)
{
	const char *argv = mh_test_json_value(proc, "process.argv"), *arg;
	char *end = json_text(proc, "process.end"), *name = json_text(proc, "verdict.name"), *s;
	size_t i;

	memset(im, 0, sizeof(*im));
	im->match = -1;
	im->pid = (long)json_number(proc, "process.pid");
	ck_assert_msg(mh_test_json_element(argv, 0) != NULL, "image %s has no arguments", name);
	for (i = 0; (arg = mh_test_json_element(argv, i)); i++) {
		s = mh_test_json_string(arg);
		ck_assert_ptr_nonnull(s);
		key_add(im->key, sizeof(im->key), s);
		free(s);
	}
	snprintf(im->name, sizeof(im->name), "%s", name);
	im->judged = strcmp(end, "exec") != 0;
	im->bytes[0] = json_number(proc, "summary.leaks.definite.bytes");
	im->blocks[0] = json_number(proc, "summary.leaks.definite.blocks");
	im->bytes[1] = json_number(proc, "summary.leaks.indirect.bytes");
	im->blocks[1] = json_number(proc, "summary.leaks.indirect.blocks");
	free(end);
	free(name);
}

static void memhook_images(const char *json, struct images *out)
{
	const char *children = mh_test_json_value(json, "children"), *child;

	memset(out, 0, sizeof(*out));
	memhook_image(json, &out->v[out->n++]);
	for (size_t i = 0; (child = mh_test_json_element(children, i)); i++) {
		ck_assert_int_lt(out->n, MAX_IMAGES);
		memhook_image(child, &out->v[out->n++]);
	}
}

static bool same_losses(const struct image *a, const struct image *b)
{
	return !memcmp(a->bytes, b->bytes, sizeof(a->bytes)) &&
	       !memcmp(a->blocks, b->blocks, sizeof(a->blocks));
}

static bool blamed(const struct image *im)
{
	return im->judged && (im->blocks[0] || im->blocks[1]);
}

static void describe(char *buf, size_t size, const char *tool, const struct image *im)
{
	size_t used = strlen(buf);

	snprintf(buf + used, size - used, "\n  %s: [%s] %s definite %lld/%lld indirect %lld/%lld",
		 tool, im->key, im->judged ? "summarized" : "no summary", im->bytes[0], im->blocks[0],
		 im->bytes[1], im->blocks[1]);
}

/*
 * Pair memhook's images with memcheck's: same arguments, same state,
 * same losses (an image replaced by exec loses nothing). Returns the
 * number of images left unpaired where they must not be, each described
 * in why.
 */
static int pair_images(struct images *vg, struct images *mh, char *why, size_t size)
{
	int bad = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < mh->n; i++) {
			struct image *m = &mh->v[i];

			for (int j = 0; j < vg->n && m->match < 0; j++) {
				struct image *v = &vg->v[j];

				if (v->match >= 0 || strcmp(v->key, m->key) || v->judged != m->judged)
					continue;
				/* First pass: equal losses only, so equal arguments pair right. */
				if (!pass && m->judged && !same_losses(m, v))
					continue;
				m->match = j;
				v->match = i;
			}
		}
	}
	for (int i = 0; i < mh->n; i++) {
		struct image *m = &mh->v[i];

		if (m->match < 0 || (m->judged && !same_losses(m, &vg->v[m->match])) ||
		    (!m->judged && (m->blocks[0] || m->blocks[1]))) {
			bad++;
			describe(why, size, "memhook", m);
		}
	}
	for (int j = 0; j < vg->n; j++) {
		if (vg->v[j].match < 0 && vg->v[j].judged) {
			bad++;
			describe(why, size, "memcheck, unmatched", &vg->v[j]);
		}
	}
	return bad;
}

/* What the JUnit file says of one test case. */
struct junit_case {
	char name[1200];
	bool failed;
	int records;			/* "in loss record" lines in its failure text */
};

/* Read the JUnit file with junitparser. Returns the number of cases, -1 to skip. */
static int junit_cases(const char *junit, struct junit_case *cases, int max)
{
	static const char script[] =
		"import sys, junitparser\n"
		"xml = junitparser.JUnitXml.fromfile(sys.argv[1])\n"
		"for suite in xml:\n"
		"    for case in suite:\n"
		"        text = ''.join((r.text or '') for r in case.result)\n"
		"        print('%d\\t%d\\t%s' % (bool(case.result), text.count('in loss record'),"
		" case.name))\n";
	char *out = mh_test_join(mh_test_tmp, "junit.out"), *text, *line, *save;
	const char *argv[] = { SYSTEM_PYTHON, "-c", script, junit, NULL };
	int n = 0, status;

	if (access(SYSTEM_PYTHON, X_OK) || mh_test_run(&(struct mh_test_cmd){
			.argv = (const char *[]){ SYSTEM_PYTHON, "-c", "import junitparser", NULL } })) {
		free(out);
		return -1;
	}
	status = mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stdout_path = out });
	ck_assert_msg(status == 0, "junitparser rejected %s (status %d)", junit, status);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int failed, records, used = 0;

		ck_assert_int_lt(n, max);
		ck_assert_int_eq(sscanf(line, "%d\t%d\t%n", &failed, &records, &used), 2);
		cases[n].failed = failed;
		cases[n].records = records;
		snprintf(cases[n].name, sizeof(cases[n].name), "%s", line + used);
		n++;
	}
	free(text);
	free(out);
	return n;
}

/* One loss record, as printed or as in the JSON report. */
struct loss {
	int kind;			/* 1 definite ... 4 reachable */
	long long bytes, blocks;
};

static int kind_of(const char *text)
{
	static const char *const names[] = { "definitely lost", "indirectly lost",
					     "possibly lost", "still reachable" };

	for (int k = 0; k < 4; k++) {
		if (!strncmp(text, names[k], strlen(names[k])))
			return k + 1;
	}
	return 0;
}

/* The kind of a JSON loss record's "kind". */
static int json_kind(const char *name)
{
	static const char *const names[] = { "definite", "indirect", "possible", "reachable" };

	for (int k = 0; k < 4; k++) {
		if (!strcmp(name, names[k]))
			return k + 1;
	}
	return 0;
}

/* "pid 7" or "pid 7 exec 1" at s into label; the rest after it. */
static const char *image_label(const char *s, char *label, size_t size)
{
	size_t n = strspn(s + 4, "0123456789");

	ck_assert_msg(!strncmp(s, "pid ", 4) && n, "not an image label: %.40s", s);
	n += 4;
	if (!strncmp(s + n, " exec ", 6))
		n += 6 + strspn(s + n + 6, "0123456789");
	snprintf(label, size, "%.*s", (int)n, s);
	return s + n;
}

/*
 * Check the loss records printed before one image's summary line: their
 * order (by kind, then the largest first; numbered 1 to n), the image
 * they name, and that they are the JSON report's failing records of it.
 */
static void check_group(const struct loss *printed, int n, const char *label, const char *json)
{
	const char *children = mh_test_json_value(json, "children"), *proc = json, *recs, *r;
	char *name = NULL;
	int i = 0, k;

	for (size_t c = 0; proc; proc = mh_test_json_element(children, c++)) {
		free(name);
		name = json_text(proc, "verdict.name");
		if (!strncmp(name, label, strlen(label)) && name[strlen(label)] == ':')
			break;
	}
	ck_assert_msg(proc != NULL, "%s: not in the JSON report", label);
	for (k = 1; k < n; k++) {
		ck_assert_msg(printed[k].kind > printed[k - 1].kind ||
			      (printed[k].kind == printed[k - 1].kind &&
			       printed[k].bytes <= printed[k - 1].bytes),
			      "%s: loss record %d (%lld bytes, kind %d) after %lld bytes of kind %d",
			      label, k + 1, printed[k].bytes, printed[k].kind, printed[k - 1].bytes,
			      printed[k - 1].kind);
	}
	recs = mh_test_json_value(proc, "loss_records");
	for (size_t e = 0; (r = mh_test_json_element(recs, e)); e++) {
		char *kind = json_text(r, "kind");
		const char *fails = mh_test_json_value(r, "fails");

		if (fails && !strncmp(fails, "true", 4)) {
			ck_assert_msg(i < n, "%s: JSON has more failing loss records than printed", label);
			ck_assert_int_eq(printed[i].kind, json_kind(kind));
			ck_assert_int_eq(printed[i].bytes, json_number(r, "bytes"));
			ck_assert_int_eq(printed[i].blocks, json_number(r, "blocks"));
			i++;
		}
		free(kind);
	}
	ck_assert_msg(i == n, "%s: %d loss records printed, %d failing ones in the JSON", label, n,
		      i);
	free(name);
}

/*
 * Walk check's stderr: groups of "N bytes in M blocks are KIND in loss
 * record I of T (LABEL: ...)" lines, each closed by LABEL's summary line.
 * Returns the number of FAILED summary lines.
 */
static int check_output(const char *err, const char *json)
{
	struct loss printed[MAX_RECORDS];
	char label[64], rec_label[64] = "";
	const char *line, *p;
	int n = 0, failed = 0;

	for (line = err; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		long long bytes, blocks;
		int used = 0, nth, total;

		if (strncmp(line, "memhook: ", 9))
			continue;
		if (sscanf(line, "memhook: %lld bytes in %lld blocks are %n", &bytes, &blocks,
			   &used) == 2 && used) {
			ck_assert_int_lt(n, MAX_RECORDS);
			printed[n] = (struct loss){ kind_of(line + used), bytes, blocks };
			p = strstr(line, " in loss record ");
			ck_assert_msg(p && sscanf(p, " in loss record %d of %d (%n", &nth, &total,
						  &used) == 2, "no record number: %.120s", line);
			ck_assert_int_eq(nth, n + 1);
			image_label(p + used, rec_label, sizeof(rec_label));
			n++;
			continue;
		}
		if (strncmp(line, "memhook: pid ", 13))
			continue;
		image_label(line + 9, label, sizeof(label));
		ck_assert_msg(!n || !strcmp(label, rec_label),
			      "records of %s closed by the summary of %s", rec_label, label);
		check_group(printed, n, label, json);
		p = strchr(line, '\n');
		failed += !!memmem(line, p ? (size_t)(p - line) : strlen(line), ": FAILED (", 10);
		n = 0;
	}
	ck_assert_msg(n == 0, "loss records without a summary line");
	return failed;
}

/* `memhook check --error-exitcode=42 [extra] -- argv`: its stderr, JSON and JUnit paths. */
static int memhook_check(const char *const *argv, const char *extra, char **err, char **json,
			 char **junit)
{
	char *memhook = mh_test_artefact("memhook"), *err_path = mh_test_join(mh_test_tmp, "mh.err");
	char *json_path = mh_test_join(mh_test_tmp, "report.json"), json_opt[600], junit_opt[600];
	const char *full[32] = { memhook, "check", "--error-exitcode=42" };
	int n = 3, status;

	*junit = mh_test_join(mh_test_tmp, "junit.xml");
	snprintf(json_opt, sizeof(json_opt), "--json=%s", json_path);
	snprintf(junit_opt, sizeof(junit_opt), "--junit=%s", *junit);
	full[n++] = json_opt;
	full[n++] = junit_opt;
	if (extra)
		full[n++] = extra;
	full[n++] = "--";
	for (; *argv; argv++)
		full[n++] = *argv;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = full, .stderr_path = err_path,
						    .timeout_s = RUN_TIMEOUT_S });
	ck_assert_msg(status >= 0 && WIFEXITED(status), "memhook check: status %d", status);
	*err = mh_test_read_file(err_path, NULL);
	*json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(*err);
	ck_assert_msg(*json != NULL, "no JSON report; stderr:\n%s", tail(*err));
	free(json_path);
	free(err_path);
	free(memhook);
	return WEXITSTATUS(status);
}

/* The scenario's argv with its paths, and its Makefile written. */
static void scenario_argv(const struct scenario *sc, char **argv)
{
	char *mk_path = mh_test_join(mh_test_tmp, "Makefile"), *mk = expand(makefile);
	FILE *f = fopen(mk_path, "w");
	int i;

	ck_assert_ptr_nonnull(f);
	fputs(mk, f);
	fclose(f);
	for (i = 0; sc->argv[i]; i++)
		argv[i] = expand(sc->argv[i]);
	argv[i] = NULL;
	free(mk);
	free(mk_path);
}

/* The JUnit file: one case per image of the JSON report, failed as memcheck blames it. */
static void check_junit(const char *junit, const struct images *mh, const struct images *vg)
{
	struct junit_case *cases = calloc(MAX_IMAGES + 1, sizeof(*cases));
	int n = junit_cases(junit, cases, MAX_IMAGES + 1);

	if (n < 0) {
		mh_test_skip("junit", "python3-junitparser is not installed (scripts/install-deps.sh)");
		free(cases);
		return;
	}
	ck_assert_int_eq(n, mh->n);
	for (int i = 0; i < mh->n; i++) {
		const struct image *m = &mh->v[i];
		bool want = m->match >= 0 && blamed(&vg->v[m->match]);
		int c;

		for (c = 0; c < n && strcmp(cases[c].name, m->name); c++)
			;
		ck_assert_msg(c < n, "no JUnit test case named '%s'", m->name);
		ck_assert_msg(cases[c].failed == want, "JUnit case '%s' %s", m->name,
			      want ? "passed: memcheck finds it leaking" : "failed: memcheck does not");
		ck_assert_msg(!want || cases[c].records > 0, "JUnit case '%s' carries no loss record",
			      m->name);
	}
	free(cases);
}

/* Each image memcheck blames is named on a FAILED line, as many lines as images. */
static void check_blame(const struct scenario *sc, const struct images *vg, const char *err,
			const char *json)
{
	int blamed_images = 0, failed_lines = check_output(err, json);

	for (int j = 0; j < vg->n; j++) {
		const char *key = vg->v[j].key, *space = strchr(key, ' ');
		char prog[256];

		if (!blamed(&vg->v[j]))
			continue;
		blamed_images++;
		snprintf(prog, sizeof(prog), "%.*s", space ? (int)(space - key) : 255, key);
		ck_assert_msg(strstr(err, prog), "%s: %s is not named:\n%s", sc->name, prog,
			      tail(err));
	}
	ck_assert_msg(failed_lines == blamed_images, "%s: %d FAILED lines, memcheck blames %d",
		      sc->name, failed_lines, blamed_images);
	if (sc->named)
		ck_assert_msg(strstr(err, sc->named) && strstr(err, "FAILED"), "%s: %s not named",
			      sc->name, sc->named);
}

START_TEST(test_each_image_judged_as_memcheck_does)
{
	const struct scenario *sc = &scenarios[_i];
	char *argv[8], *err, *json, *junit, why[2048] = "";
	struct images *vg = calloc(1, sizeof(*vg)), *mh = calloc(1, sizeof(*mh));
	int vg_status, code, blamed_images = 0;
	long pids;

	if (!mh_test_have_program("valgrind") || !mh_test_have_program("make") ||
	    !mh_test_have_program("bash")) {
		mh_test_skip(sc->name, "valgrind, make or bash is missing (scripts/install-deps.sh)");
		free(vg);
		free(mh);
		return;
	}
	scenario_argv(sc, argv);
	vg_status = memcheck_images((const char *const *)argv, mh_test_tmp, RUN_TIMEOUT_S, vg,
				    &pids);
	ck_assert_msg(WIFEXITED(vg_status) && WEXITSTATUS(vg_status) == 0,
		      "%s: status %#x under memcheck", sc->name, vg_status);
	code = memhook_check((const char *const *)argv, NULL, &err, &json, &junit);
	for (int j = 0; j < vg->n; j++)
		blamed_images += blamed(&vg->v[j]);
	ck_assert_msg(code == (blamed_images ? EXIT_LEAK : 0) && code == sc->want,
		      "%s: memhook check exited %d, memcheck blames %d images:\n%s", sc->name, code,
		      blamed_images, tail(err));
	memhook_images(json, mh);
	ck_assert_msg(!pair_images(vg, mh, why, sizeof(why)),
		      "%s: images differ from memcheck's (definite, indirect bytes/blocks):%s\n%s",
		      sc->name, why, tail(err));
	check_blame(sc, vg, err, json);
	check_junit(junit, mh, vg);
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	free(junit);
	free(json);
	free(err);
	free(vg);
	free(mh);
}
END_TEST

/* Every kind printed (--fail-on=all) still comes in memcheck's order, as in the JSON report. */
START_TEST(test_loss_records_in_memcheck_order)
{
	const struct scenario *sc = &scenarios[sizeof(scenarios) / sizeof(scenarios[0]) - 1];
	char *argv[8], *err, *json, *junit;

	scenario_argv(sc, argv);
	ck_assert_int_eq(memhook_check((const char *const *)argv, "--fail-on=all", &err, &json,
				       &junit), EXIT_LEAK);
	ck_assert_msg(strstr(err, "still reachable in loss record"), "no reachable record:\n%s",
		      tail(err));
	ck_assert_int_eq(check_output(err, json), 3);
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
	free(junit);
	free(json);
	free(err);
}
END_TEST

/* Run memhook with args; stderr's text (and stdout to out_path when given). */
static char *memhook_run(const char *const *args, const char *out_path)
{
	char *memhook = mh_test_artefact("memhook"), *err_path = mh_test_join(mh_test_tmp, "run.err");
	const char *full[32] = { memhook };
	char *text;
	int n = 1, status;

	for (; *args; args++)
		full[n++] = *args;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = full, .stderr_path = err_path,
						    .stdout_path = out_path,
						    .timeout_s = RUN_TIMEOUT_S });
	ck_assert_msg(status >= 0 && WIFEXITED(status), "memhook %s: status %d", full[1], status);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(text);
	free(err_path);
	free(memhook);
	return text;
}

/* Without --follow-forks, run, record + report and check count the children that ran untraced. */
START_TEST(test_untraced_children_counted)
{
	static const char *const cmds[][8] = {
		{ "sh", "-c", "%L | cat; %C; true" },
		{ "make", "-s", "-f", "%M", "test" },
	};
	char *argv[8], *trace = mh_test_join(mh_test_tmp, "t.mht");
	char *json_path = mh_test_join(mh_test_tmp, "untraced.json"), want[128], *text;
	struct images *vg = calloc(1, sizeof(*vg));
	struct scenario sc = { .name = "untraced" };
	long pids;

	if (!mh_test_have_program("valgrind") || !mh_test_have_program("make")) {
		mh_test_skip("untraced", "valgrind or make is missing (scripts/install-deps.sh)");
		goto out;
	}
	memcpy(sc.argv, cmds[_i], sizeof(sc.argv));
	scenario_argv(&sc, argv);
	ck_assert_int_ge(memcheck_images((const char *const *)argv, mh_test_tmp, RUN_TIMEOUT_S, vg,
					 &pids), 0);
	ck_assert_int_gt(pids, 1);
	snprintf(want, sizeof(want), "%ld child processes ran untraced", pids - 1);

	text = memhook_run((const char *[]){ "run", "--", argv[0], argv[1], argv[2], argv[3],
					     argv[4], NULL }, NULL);
	ck_assert_msg(strstr(text, want), "memhook run does not say '%s':\n%s", want, tail(text));
	free(text);
	text = memhook_run((const char *[]){ "check", "--no-follow-forks", "--", argv[0], argv[1],
					     argv[2], argv[3], argv[4], NULL }, NULL);
	ck_assert_msg(strstr(text, want), "memhook check does not say '%s':\n%s", want,
		      tail(text));
	free(text);
	free(memhook_run((const char *[]){ "record", "-q", "-o", trace, "--", argv[0], argv[1],
					   argv[2], argv[3], argv[4], NULL }, NULL));
	free(memhook_run((const char *[]){ "report", "--format", "json", trace, NULL }, json_path));
	text = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(json_number(text, "untraced_children"), pids - 1);
	free(text);
	for (int i = 0; argv[i]; i++)
		free(argv[i]);
out:
	free(vg);
	free(json_path);
	free(trace);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("shells");
	TCase *tc = tcase_create("SameImagesAsMemcheck");

	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 3 * RUN_TIMEOUT_S);
	tcase_add_loop_test(tc, test_each_image_judged_as_memcheck_does, 0, N_OF(scenarios));
	tcase_add_test(tc, test_loss_records_in_memcheck_order);
	tcase_add_loop_test(tc, test_untraced_children_counted, 0, 2);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
