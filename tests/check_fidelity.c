// SPDX-License-Identifier: MIT
/*
 * check_fidelity.c - memhook is invisible in the figures (docs/DESIGN.md,
 * docs/REPORT.md "Program RSS"), checked against truths outside memhook:
 *   - the program's peak RSS as a native run of it reaches it
 *     (/usr/bin/time -f %M), for a program that mallocs 200 MiB and
 *     touches one page, one making 1.6M small mallocs and frees, and
 *     python3 (PYTHONMALLOC=malloc) building dicts, lists and JSON, with
 *     the kernel stream and without;
 *   - a memory cgroup's verdict: the 200 MiB program fits 32 MiB natively,
 *     so it must under `memhook record` and `memhook check`;
 *   - the program's own /proc/self/status and /proc/self/smaps read in its
 *     last code, against the report's RSS at exit and memhook's own share
 *     of it;
 *   - a block whose only pointer lies in a page swapped out at exit: the
 *     program's own pagemap says the page is out, the program knows the
 *     block is reachable, and the exit scan must read the page to agree;
 *   - the program's getrusage() around reading a mapped file whose pages
 *     it dropped from the page cache, against the faults on the file's
 *     entry;
 *   - what the report says when streams are missing (an unprivileged
 *     run, no RSS data, a `memhook collect` trace), and that its timeline
 *     is in time order.
 * Tests that need what this machine lacks (the kernel stream, a v1 memory
 * cgroup, root, /usr/bin/time, python3) print "SKIP <name>: <reason>".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <check.h>

#include "tests/testutil.h"

/* Time limit of one command, s (python3 under memhook is the slowest). */
#define RUN_TIMEOUT_S 240
#define MIB (1LL << 20)
/* Peaks agree within this share of the native one, or within FLOOR bytes. */
#define PEAK_TOLERANCE_PCT 3
#define PEAK_TOLERANCE_FLOOR (2 * MIB)
/* RSS at exit agrees with the program's own reading within this many pages. */
#define EXIT_TOLERANCE_PAGES 2
#define PYTHON "/usr/bin/python3"
/* A dict/list/json workload: a native peak of about 40 MiB. */
#define PYTHON_WORKLOAD \
	"import json\n" \
	"d = {str(i): [i, str(i) * 3, {'k': i}] for i in range(30000)}\n" \
	"s = json.dumps(d)\n" \
	"back = json.loads(s)\n" \
	"print(len([x for x in back.values() if x[0] % 3 == 0]), len(s))\n"
#define ARGV_MAX 24

static const char *const python_env[] = { "PYTHONMALLOC=malloc", NULL };

static char *tmp_file(const char *name)
{
	return mh_test_join(mh_test_tmp, name);
}

/* argv with memhook's own arguments in front. */
static int memhook_status(const char *const *pre, const char *const *argv,
			  const char *const *env, const char *out_path)
{
	const char *full[ARGV_MAX];
	char *memhook = mh_test_artefact("memhook"), *err = tmp_file("memhook.err");
	size_t n = 0;
	int st;

	full[n++] = memhook;
	for (size_t i = 0; pre[i]; i++)
		full[n++] = pre[i];
	for (size_t i = 0; argv && argv[i] && n + 1 < ARGV_MAX; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	st = mh_test_run(&(struct mh_test_cmd){ .argv = full, .env = env,
						.stdout_path = out_path, .stderr_path = err,
						.timeout_s = RUN_TIMEOUT_S });
	ck_assert_msg(st >= 0, "memhook %s: %s", pre[0], strerror(-st));
	free(err);
	free(memhook);
	return st;
}

/* The kernel stream starts here (probed once). */
static bool kernel_available(void)
{
	static int known = -1;

	if (known < 0) {
		char *trace = tmp_file("probe.mht");
		const char *pre[] = { "record", "-q", "--kernel=on", "-o", trace, "--", "true",
				      NULL };

		known = memhook_status(pre, NULL, NULL, NULL) == 0;
		free(trace);
	}
	return known;
}

/* `memhook record --kernel=MODE [opts] -- argv`, then the JSON report's text. */
static char *record_json(const char *kernel, const char *const *opts, const char *const *argv,
			 const char *const *env)
{
	char *trace = tmp_file("t.mht"), *json_path = tmp_file("report.json"), *json;
	const char *pre[ARGV_MAX] = { "record", "-q", kernel, "-o", trace };
	const char *rep[] = { "report", "--format", "json", "--top", "1", trace, NULL };
	size_t n = 5;
	int st;

	for (size_t i = 0; opts && opts[i]; i++)
		pre[n++] = opts[i];
	pre[n++] = "--";
	pre[n] = NULL;
	st = memhook_status(pre, argv, env, NULL);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "memhook record %s: status %#x",
		      argv[0], st);
	st = memhook_status(rep, NULL, NULL, json_path);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "memhook report: status %#x", st);
	json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(json);
	free(json_path);
	free(trace);
	return json;
}

static long long json_num(const char *json, const char *path)
{
	long long v = 0;
	int rc = mh_test_json_int(json, path, &v);

	ck_assert_msg(rc == 0, "%s: %s", path, rc == -EINVAL ? "null or not a number" :
		      strerror(-rc));
	return v;
}

/* Peak RSS of a native run, bytes, from /usr/bin/time -f %M. */
static long long native_peak(const char *const *argv, const char *const *env)
{
	char *out = tmp_file("time.out"), *text;
	const char *full[ARGV_MAX] = { "/usr/bin/time", "-f", "%M", "-o", out };
	size_t n = 5;
	long long kb;
	int st;

	for (size_t i = 0; argv[i] && n + 1 < ARGV_MAX; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	st = mh_test_run(&(struct mh_test_cmd){ .argv = full, .env = env,
						.timeout_s = RUN_TIMEOUT_S });
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "native %s: status %#x", argv[0], st);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	kb = atoll(text);
	ck_assert_int_gt(kb, 0);
	free(text);
	free(out);
	return kb * 1024;
}

struct peak_case {
	const char *name;
	const char *prog;		/* under <build>/tests/progs, or NULL for python3 */
	const char *arg;
};

static const struct peak_case peak_cases[] = {
	{ "untouched_200mib", "fid_untouched", "200" },
	{ "churn_1600k", "fid_churn", "1600000" },
	{ "python_dict_json", NULL, NULL },
};

/* Loop index: case * 2 + (0: --kernel=on, 1: --kernel=off). */
START_TEST(test_rss_peak_matches_native)
{
	const struct peak_case *pc = &peak_cases[_i / 2];
	const char *kernel = _i % 2 ? "--kernel=off" : "--kernel=on";
	const char *const *env = pc->prog ? NULL : python_env;
	char *rel = NULL, *exe = NULL, name[96], *json;
	const char *argv[4];
	long long native, peak, slack;

	snprintf(name, sizeof(name), "rss_peak_%s_%s", pc->name, kernel + 2);
	if (access("/usr/bin/time", X_OK)) {
		mh_test_skip(name, "/usr/bin/time is not installed (Debian package time)");
		return;
	}
	if (!pc->prog && access(PYTHON, X_OK)) {
		mh_test_skip(name, PYTHON " is not installed");
		return;
	}
	if (!(_i % 2) && !kernel_available()) {
		mh_test_skip(name, "the kernel stream cannot start here (needs root and BPF)");
		return;
	}
	if (pc->prog) {
		rel = mh_test_join("tests/progs", pc->prog);
		exe = mh_test_artefact(rel);
		argv[0] = exe;
		argv[1] = pc->arg;
		argv[2] = NULL;
	} else {
		argv[0] = PYTHON;
		argv[1] = "-c";
		argv[2] = PYTHON_WORKLOAD;
		argv[3] = NULL;
	}
	native = native_peak(argv, env);
	json = record_json(kernel, NULL, argv, env);
	peak = json_num(json, "summary.rss_peak_bytes");
	slack = native * PEAK_TOLERANCE_PCT / 100;
	if (slack < PEAK_TOLERANCE_FLOOR)
		slack = PEAK_TOLERANCE_FLOOR;
	printf("# %s: native peak %lld KiB, memhook's program RSS peak %lld KiB\n", name,
	       native >> 10, peak >> 10);
	ck_assert_msg(llabs(peak - native) <= slack,
		      "%s: RSS peak %lld KiB, native %lld KiB (allowed +-%lld KiB)", name,
		      peak >> 10, native >> 10, slack >> 10);
	free(json);
	free(exe);
	free(rel);
}
END_TEST

/* Run argv with its process (and children) in cgroup dir; the wait status. */
static int run_in_cgroup(const char *dir, const char *const *argv)
{
	char *procs = mh_test_join(dir, "cgroup.procs");
	const char *full[ARGV_MAX] = { "sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", procs };
	size_t n = 4;
	int st;

	for (size_t i = 0; argv[i] && n + 1 < ARGV_MAX; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	st = mh_test_run(&(struct mh_test_cmd){ .argv = full, .timeout_s = RUN_TIMEOUT_S });
	free(procs);
	return st;
}

/* The 200 MiB program fits a 32 MiB memory cgroup natively: so it must under memhook. */
START_TEST(test_untouched_fits_small_cgroup)
{
	struct mh_test_swapcg cg;
	char *exe = mh_test_artefact("tests/progs/fid_untouched"), *memhook;
	char *trace = tmp_file("cg.mht");
	int st;

	mh_test_cgroup_make(&cg, "fidelity", 32 * MIB, false);
	if (cg.skip[0]) {
		mh_test_skip("untouched_fits_small_cgroup", cg.skip);
		goto out;
	}
	memhook = mh_test_artefact("memhook");
	st = run_in_cgroup(cg.cgroup_dir, (const char *[]){ exe, "200", NULL });
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		mh_test_skip("untouched_fits_small_cgroup", "the program does not fit natively");
	} else {
		st = run_in_cgroup(cg.cgroup_dir, (const char *[]){ memhook, "record", "-q", "-o",
								  trace, "--", exe, "200",
								  NULL });
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "memhook record in a 32 MiB cgroup: status %#x (native: 0)", st);
		st = run_in_cgroup(cg.cgroup_dir, (const char *[]){ memhook, "check", "--", exe,
								  "200", NULL });
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "memhook check in a 32 MiB cgroup: status %#x (native: 0)", st);
	}
	free(memhook);
	mh_test_cgroup_remove(&cg);
out:
	free(trace);
	free(exe);
}
END_TEST

/* The line of text holding needle (for a failure message), or "(none)"; in buf. */
static const char *line_of(const char *text, const char *needle, char *buf, size_t len)
{
	const char *hit = strstr(text, needle), *start = hit;

	if (!hit)
		return "(none)";
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)strcspn(start, "\n"), start);
	return buf;
}

static bool within_pages(long long a, long long b)
{
	return llabs(a - b) <= EXIT_TOLERANCE_PAGES * sysconf(_SC_PAGESIZE);
}

/*
 * The program reads its /proc/self/status and smaps in its last code
 * (tests/progs/fid_status.c): the report's RSS at exit is that less what
 * smaps shows in memhook's mappings, counter by counter; memhook's shared
 * memory is its ring. Loop index: 0 --kernel=on, 1 --kernel=off.
 */
START_TEST(test_rss_at_exit_matches_own_status)
{
	static const char *const members[3] = { "anon", "file", "shmem" };
	const char *kernel = _i ? "--kernel=off" : "--kernel=on";
	char *exe = mh_test_artefact("tests/progs/fid_status"), *out = tmp_file("status.txt");
	const char *argv[] = { exe, out, "8", NULL };
	long long status[3], own_smaps[3], prog[3], own;
	char *text, *json, path[64];

	if (!_i && !kernel_available()) {
		mh_test_skip("rss_at_exit_kernel_on", "the kernel stream cannot start here");
		goto out;
	}
	json = record_json(kernel, NULL, argv, NULL);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "%lld %lld %lld %lld %lld %lld", &status[0], &status[1],
				&status[2], &own_smaps[0], &own_smaps[1], &own_smaps[2]), 6);
	for (int m = 0; m < 3; m++) {
		snprintf(path, sizeof(path), "summary.rss_at_exit_%s_bytes", members[m]);
		prog[m] = json_num(json, path);
		printf("# %s %s: status %lld KiB, in memhook's mappings %lld KiB, report %lld KiB\n",
		       kernel + 2, members[m], status[m], own_smaps[m], prog[m] >> 10);
		fflush(stdout);
		ck_assert_msg(within_pages(prog[m], (status[m] - own_smaps[m]) * 1024),
			      "%s at exit: %lld KiB, the program's own reading less memhook's mappings %lld KiB",
			      members[m], prog[m] >> 10, status[m] - own_smaps[m]);
	}
	own = json_num(json, "summary.memhook_own.shmem_bytes");
	ck_assert_int_gt(own_smaps[2], 0);
	ck_assert_msg(within_pages(own, own_smaps[2] * 1024), "ring: memhook %lld KiB, smaps %lld KiB",
		      own >> 10, own_smaps[2]);
	free(text);
	free(json);
out:
	free(out);
	free(exe);
}
END_TEST

/* The faults on the mapping entry named path, and its major faults; false if absent. */
static bool file_entry(const char *json, const char *path, long long *faults, long long *major)
{
	const char *maps = mh_test_json_value(json, "mappings"), *m;
	char want[512];

	snprintf(want, sizeof(want), "\"name\": \"%s\"", path);
	for (size_t i = 0; maps && (m = mh_test_json_element(maps, i)); i++) {
		const char *next = mh_test_json_element(maps, i + 1), *hit = strstr(m, want);

		if (!hit || (next && hit > next))
			continue;
		*faults = json_num(m, "faults");
		*major = json_num(m, "major_faults");
		return true;
	}
	return false;
}

/* A file mapping's minor and major faults are both on the file's entry, as rusage counts them. */
START_TEST(test_file_faults_one_home)
{
	char *exe = mh_test_artefact("tests/progs/fid_mapfile"), *file = tmp_file("mapped.dat");
	char *out = tmp_file("mapfile.out"), *text, *json, *trace = tmp_file("mf.mht");
	const char *pre[] = { "record", "-q", "--kernel=on", "-o", trace, "--", NULL };
	const char *rep[] = { "report", "--format", "json", trace, NULL };
	const char *argv[] = { exe, file, "16", NULL };
	long long minflt, majflt, faults, major;
	int dropped, st;

	if (!kernel_available()) {
		mh_test_skip("file_faults_one_home", "the kernel stream cannot start here");
		goto out;
	}
	st = memhook_status(pre, argv, NULL, out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "record: status %#x", st);
	text = mh_test_read_file(out, NULL);
	ck_assert_int_eq(sscanf(text, "%lld %lld %d", &minflt, &majflt, &dropped), 3);
	free(text);
	if (!dropped || !majflt) {
		mh_test_skip("file_faults_one_home", "the page cache kept the file (tmpfs?): no major fault");
		goto out;
	}
	free(out);
	out = tmp_file("mf.json");
	st = memhook_status(rep, NULL, NULL, out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "report: status %#x", st);
	json = mh_test_read_file(out, NULL);
	ck_assert_msg(file_entry(json, file, &faults, &major), "no mapping entry named %s", file);
	printf("# rusage minflt %lld majflt %lld; the file's entry: %lld faults, %lld major\n",
	       minflt, majflt, faults, major);
	ck_assert_int_eq(major, majflt);
	ck_assert_int_eq(faults, minflt + majflt);
	free(json);
out:
	free(trace);
	free(out);
	free(file);
	free(exe);
}
END_TEST

/* Swap for the swapped-pointer case: set up in the runner's process, undone even on failure. */
static struct mh_test_swapcg swapfix;

static void swap_setup(void)
{
	mh_test_swapcg_setup(&swapfix, "fidswap", 16, 256 * MIB);
}

static void swap_teardown(void)
{
	mh_test_swapcg_teardown(&swapfix);
}

/*
 * The only pointer to a block lies in a page swapped out at exit
 * (tests/progs/fid_swapped.c, which reads its own pagemap): the exit
 * scan must read that page, as memcheck does, and say so: the block is
 * still reachable, not definitely lost, and the page was brought back.
 */
START_TEST(test_scan_reads_swapped_pointer)
{
	char *exe = mh_test_artefact("tests/progs/fid_swapped");
	char *out = tmp_file("swapped.out"), *trace = tmp_file("sw.mht"), *text, buf[256];
	const char *pre[] = { "record", "-q", "--kernel=off", "-o", trace, "--", NULL };
	const char *rep[] = { "report", trace, NULL };
	const char *argv[] = { exe, NULL };
	const char *brought;
	long long pages = -1;
	int st;

	if (swapfix.skip[0]) {
		mh_test_skip("scan_reads_swapped_pointer", swapfix.skip);
		goto out;
	}
	st = memhook_status(pre, argv, NULL, out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "record: status %#x", st);
	text = mh_test_read_file(out, NULL);
	if (!strstr(text, "swapped 1")) {
		mh_test_skip("scan_reads_swapped_pointer", "MADV_PAGEOUT left the page in RAM");
		free(text);
		goto out;
	}
	free(text);
	st = memhook_status(rep, NULL, NULL, out);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "report: status %#x", st);
	text = mh_test_read_file(out, NULL);
	ck_assert_msg(strstr(text, "definitely lost: 0 B in 0 blocks"), "%s",
		      line_of(text, "definitely lost", buf, sizeof(buf)));
	/* The holder and the block it points to. */
	ck_assert_msg(strstr(line_of(text, "still reachable:", buf, sizeof(buf)), " in 2 blocks"),
		      "%s", buf);
	brought = strstr(text, "brought ");
	ck_assert_msg(brought && sscanf(brought, "brought %lld pages back", &pages) == 1 &&
			      pages >= 1,
		      "%s", line_of(text, "exit scan:", buf, sizeof(buf)));
	free(text);
out:
	free(trace);
	free(out);
	free(exe);
}
END_TEST

/* Unprivileged: the kernel stream's absence and its reason, in the header and the JSON warnings. */
START_TEST(test_unprivileged_names_missing_streams)
{
	static const char *const progs[] = { "tests/progs/fid_untouched", NULL };
	char *dir = mh_test_unprivileged_dir("unprivileged_names_missing_streams", progs);
	char *trace, *prog, *text, *line, *out, *json, *reason, buf[256];

	if (!dir)
		return;
	trace = mh_test_join(dir, "t.mht");
	prog = mh_test_join(dir, "fid_untouched");
	out = mh_test_join(dir, "out");
	ck_assert_int_eq(mh_test_run_unprivileged(dir, (const char *[]){ "record", "-q", "-o",
		trace, "--", prog, "1", NULL }, RUN_TIMEOUT_S), 0);
	ck_assert_int_eq(mh_test_run_unprivileged(dir, (const char *[]){ "report", trace, NULL },
						  RUN_TIMEOUT_S), 0);
	text = mh_test_read_file(out, NULL);
	line = strstr(text, "\nkernel stream: off: ");
	ck_assert_msg(line, "no 'kernel stream: off: <reason>' line; it says: %s",
		      line_of(text, "kernel stream", buf, sizeof(buf)));
	reason = line + strlen("\nkernel stream: off: ");
	ck_assert_msg(*reason && *reason != '\n', "the kernel stream is off without a reason");
	ck_assert_int_eq(mh_test_run_unprivileged(dir, (const char *[]){ "report", "--format",
		"json", trace, NULL }, RUN_TIMEOUT_S), 0);
	json = mh_test_read_file(out, NULL);
	ck_assert_msg(strstr(json, "\"kernel stream off: "), "no JSON warning for the kernel stream");
	free(json);
	free(out);
	free(text);
	free(prog);
	free(trace);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

/* Without RSS data (no samples, no kernel stream, no exit scan) no figure claims to be at the RSS peak. */
START_TEST(test_no_rss_no_rss_peak)
{
	char *trace = tmp_file("norss.mht"), *out = tmp_file("norss.txt"), *text, *json, buf[256];
	const char *pre[] = { "record", "-q", "--kernel=off", "--sample-interval", "0",
			      "--pagemap-interval", "20", "-o", trace, "--", NULL };
	const char *argv[] = { "sh", "-c", "sleep 0.3; kill -KILL $$", NULL };
	const char *rep[] = { "report", trace, NULL };
	const char *rep_json[] = { "report", "--format", "json", trace, NULL };
	int st = memhook_status(pre, argv, NULL, NULL);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGKILL, "status %#x", st);
	ck_assert_int_eq(memhook_status(rep, NULL, NULL, out), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_msg(strstr(text, "resident at +"), "no pagemap snapshot to test with");
	ck_assert_msg(!strstr(text, "RSS peak"), "an RSS figure without RSS data: %s",
		      line_of(text, "RSS peak", buf, sizeof(buf)));
	ck_assert_msg(strstr(text, "RSS samples: off: disabled by --sample-interval 0"),
		      "the missing samples are not named: %s",
		      line_of(text, "RSS samples", buf, sizeof(buf)));
	ck_assert_int_eq(memhook_status(rep_json, NULL, NULL, out), 0);
	json = mh_test_read_file(out, NULL);
	ck_assert_int_eq(mh_test_json_int(json, "summary.retained_free_heap_at_rss_peak_bytes",
					  &(long long){ 0 }), -EINVAL);
	ck_assert_int_eq(mh_test_json_int(json, "summary.rss_peak_bytes", &(long long){ 0 }),
			 -EINVAL);
	free(json);
	free(text);
	free(out);
	free(trace);
}
END_TEST

/* A collect trace has no allocation stream: it says so, and prints no heap figure. */
START_TEST(test_collect_has_no_heap_figures)
{
	char *trace = tmp_file("collect.mht"), *out = tmp_file("collect.txt"), *text, *json;
	char pid[16], buf[256];
	const char *rep[] = { "report", trace, NULL };
	const char *rep_json[] = { "report", "--format", "json", trace, NULL };
	pid_t child;
	int st;

	if (!kernel_available()) {
		mh_test_skip("collect_has_no_heap_figures", "the kernel stream cannot start here");
		goto out;
	}
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		execlp("sleep", "sleep", "1", (char *)NULL);
		_exit(127);
	}
	snprintf(pid, sizeof(pid), "%d", (int)child);
	st = memhook_status((const char *[]){ "collect", "-q", "-p", pid, "-o", trace, NULL }, NULL,
			    NULL, NULL);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "collect: status %#x", st);
	ck_assert_int_eq(memhook_status(rep, NULL, NULL, out), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_msg(strstr(text, "\nallocation stream: off: "), "not said: %s",
		      line_of(text, "allocation stream", buf, sizeof(buf)));
	ck_assert_msg(strstr(text, "heap: not recorded"), "no 'heap: not recorded'");
	ck_assert_msg(!strstr(text, "total heap usage"), "heap figures as if measured: %s",
		      line_of(text, "total heap usage", buf, sizeof(buf)));
	ck_assert_int_eq(memhook_status(rep_json, NULL, NULL, out), 0);
	json = mh_test_read_file(out, NULL);
	ck_assert_int_eq(mh_test_json_int(json, "summary.alloc_calls", &(long long){ 0 }), -EINVAL);
	ck_assert_msg(strstr(json, "\"allocation stream off: "), "no JSON warning");
	free(json);
	free(text);
out:
	free(out);
	free(trace);
}
END_TEST

/* Timeline points come in time order, snapshots among them. */
START_TEST(test_timeline_in_time_order)
{
	char *exe = mh_test_artefact("tests/progs/fid_churn"), *json;
	const char *opts[] = { "--pagemap-interval", "30", "--sample-interval", "10", NULL };
	const char *argv[] = { exe, "400000", NULL };
	const char *points, *pt;
	long long last = -1, t;
	size_t i, snapshots = 0;

	json = record_json("--kernel=off", opts, argv, NULL);
	points = mh_test_json_value(json, "timeline");
	ck_assert_ptr_nonnull(points);
	for (i = 0; (pt = mh_test_json_element(points, i)); i++) {
		const char *next = mh_test_json_element(points, i + 1);
		const char *snap = strstr(pt, "\"snapshot\": true");

		t = json_num(pt, "time_ns");
		ck_assert_msg(t >= last, "timeline point %zu at %lld ns after one at %lld ns", i, t,
			      last);
		snapshots += snap && (!next || snap < next);
		last = t;
	}
	printf("# %zu timeline points, %zu snapshots\n", i, snapshots);
	ck_assert_uint_ge(snapshots, 2);
	free(json);
	free(exe);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("fidelity");
	TCase *tc = tcase_create("ProgramRss");

	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 4 * RUN_TIMEOUT_S);
	tcase_add_loop_test(tc, test_rss_peak_matches_native, 0, 2 * N_OF(peak_cases));
	tcase_add_test(tc, test_untouched_fits_small_cgroup);
	tcase_add_loop_test(tc, test_rss_at_exit_matches_own_status, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("OneHomePerFault");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_test(tc, test_file_faults_one_home);
	suite_add_tcase(s, tc);
	tc = tcase_create("ScanReadsSwap");
	tcase_add_unchecked_fixture(tc, swap_setup, swap_teardown);
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_test(tc, test_scan_reads_swapped_pointer);
	suite_add_tcase(s, tc);
	tc = tcase_create("SaysWhatIsMissing");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_test(tc, test_unprivileged_names_missing_streams);
	tcase_add_test(tc, test_no_rss_no_rss_peak);
	tcase_add_test(tc, test_collect_has_no_heap_figures);
	tcase_add_test(tc, test_timeline_in_time_order);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
