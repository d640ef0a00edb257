// SPDX-License-Identifier: MIT
/*
 * check_attribution_reports.c - the join of the two streams as reports
 * show it: the JSON fields of a synthetic trace (leak kinds included),
 * then real runs whose per-site faults and resident pages must equal the
 * program's own pagemap, and whose retained free heap must equal its own
 * smaps, before and after malloc_trim. The join itself, record by
 * record: check_attribution.c.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/merger_fixtures.h"
#include "memhook/kernel_events.h"

#define PAGE 4096ULL

/* ---- the JSON report from a trace file ---- */

/*
 * Process 9: stack 0x51 allocates [0x10000, +4096) (definitely lost) and
 * stack 0x52 [0x11000, +2048) (still reachable); a snapshot with both
 * pages present: 4096 and 2048 resident, retained 2048; RSS samples peak
 * at 5 MiB anon + 1 MiB file; one fault in 0x51's block. The program
 * mmaps 1 MiB at 0x900000 from stack 0x77 (one frame, 0xabc) and faults
 * there once.
 */
static char *write_trace(void)
{
	struct mh_trace_header hdr = mh_fx_header(9, PAGE);
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 20, 0x10000, 4096,
				  0x51, 9, 9 };
	struct mh_rec_rss_sample s = { { MH_REC_RSS_SAMPLE, 0, sizeof(s) }, 25, 5 << 20, 1 << 20,
				       0, 0, 9, 0 };
	struct mh_rec_kfault f = { .hdr = { MH_REC_KFAULT, 0, sizeof(f) }, .ts_ns = 26,
				   .addr = 0x10008, .ip = 0x4242, .tid = 9, .pid = 9,
				   .vma_class = MH_VMA_ANON };
	struct {
		struct mh_rec_pagemap r;
		uint64_t bits[1];
	} pm = { { { MH_REC_PAGEMAP, 0, sizeof(pm) }, 40, 0x10000, 2, 9, PAGE }, { 0x5 } };
	struct mh_rec_leak l = { { MH_REC_LEAK, 0, sizeof(l) }, 0x10000, 9, MH_LEAK_DEFINITE };
	struct mh_rec_exit ex = { { MH_REC_EXIT, 0, sizeof(ex) }, 50, 9, MH_EXIT_NORMAL, 0, 0 };
	struct {
		struct mh_rec_stack s;
		uint64_t ips[1];
	} st = { { { MH_REC_STACK, 0, sizeof(st) }, 0x77, 9, 1, 0 }, { 0xabc } };
	struct mh_rec_alloc mm = { { MH_REC_ALLOC, MH_KIND_MMAP, sizeof(mm) }, 22, 0x900000,
				   1 << 20, 0x77, 9, 9 };
	char *path = mh_test_join(mh_fx_tmpdir, "a.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);

	ck_assert_ptr_nonnull(w);
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	a.ts_ns = 21;
	a.addr = 0x11000;
	a.size = 2048;
	a.stack_id = 0x52;
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	mh_fx_append(w, MH_STREAM_ALLOC, &mm);
	mh_fx_append(w, MH_STREAM_SAMPLE, &s);
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	f.ts_ns = 27;
	f.addr = 0x900100;
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	mh_fx_append(w, MH_STREAM_SAMPLE, &pm);
	mh_fx_append(w, MH_STREAM_META, &l);
	l.addr = 0x11000;
	l.kind = MH_LEAK_REACHABLE;
	mh_fx_append(w, MH_STREAM_META, &l);
	mh_fx_append(w, MH_STREAM_META, &ex);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	return path;
}

/* The integer of the first "key": after text (stacks are array elements). */
static long long int_after(const char *text, const char *key)
{
	char quoted[64];
	const char *at;

	snprintf(quoted, sizeof(quoted), "\"%s\": ", key);
	at = strstr(text, quoted);
	ck_assert_msg(at != NULL, "no %s", key);
	return strtoll(at + strlen(quoted), NULL, 10);
}

START_TEST(test_json_fields)
{
	char *trace = write_trace();
	char *json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_JSON, MH_KEY_RSS);
	char *first = strstr(json, "\"stacks\"");
	const char *at;

	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.definite.bytes"), 4096);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.definite.blocks"), 1);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.reachable.bytes"), 2048);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.indirect.blocks"), 0);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.rss_peak_bytes"), 6 << 20);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.retained_free_heap_bytes"), 2048);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.faults"), 2);
	/* The mmap's fault is its mapping's, which names the mmap's stack. */
	at = strstr(json, "\"name\": \"mmap 0x77\"");
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(int_after(at, "faults"), 1);
	ck_assert_ptr_nonnull(strstr(at, "\"address\": \"0xabc\""));
	ck_assert_ptr_nonnull(first);
	/* Sorted by rss: 0x51 (4096 resident) first, with its figures. */
	ck_assert_ptr_nonnull(strstr(first, "\"id\": \"0x51\""));
	ck_assert_int_lt(strstr(first, "0x51") - first, strstr(first, "0x52") - first);
	ck_assert_ptr_nonnull(strstr(first, "\"leak_kind\": \"definite\""));
	ck_assert_int_eq(int_after(first, "resident_bytes"), 4096);
	ck_assert_int_eq(int_after(first, "faults"), 1);
	ck_assert_int_eq(int_after(strstr(first, "\"definite\""), "bytes"), 4096);
	ck_assert_ptr_nonnull(strstr(first, "\"leak_kind\": \"reachable\""));
	ck_assert_ptr_nonnull(strstr(json, "\"timeline\""));
	ck_assert_ptr_nonnull(strstr(json, "\"mappings\""));
	free(json);
	json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_TEXT, MH_KEY_RSS);
	ck_assert_ptr_nonnull(strstr(json, "retained free heap: 2.0 KiB"));
	ck_assert_ptr_nonnull(strstr(json, "malloc_trim"));
	free(json);
	free(trace);
}
END_TEST

/* ---- end to end: examples/four_sites measures its own residency ---- */

/* True if transparent huge pages are on for every mapping (one fault maps 512 pages). */
static bool thp_always(void)
{
	char *text = mh_test_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	bool always = text && strstr(text, "[always]");

	free(text);
	return always;
}

/* resident_pages the program printed for site, -1 if absent. */
static long long site_pages(const char *out, const char *site)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "site=%s ", site);
	at = strstr(out, key);
	at = at ? strstr(at, "resident_pages=") : NULL;
	return at ? strtoll(at + strlen("resident_pages="), NULL, 10) : -1;
}

/* Sum of the integer fields of the stack whose frames name site; -1 if no such stack. */
static long long site_sum(const char *json, const char *site, const char *const *fields)
{
	const char *stacks = mh_test_json_value(json, "stacks"), *el, *next;
	char want[64];
	size_t i, k;

	snprintf(want, sizeof(want), "\"function\": \"%s\"", site);
	for (i = 0; stacks && (el = mh_test_json_element(stacks, i)); i++) {
		const char *hit = strstr(el, want);
		long long sum = 0, v;

		next = mh_test_json_element(stacks, i + 1);
		if (!hit || (next && hit > next))
			continue;
		for (k = 0; fields[k]; k++) {
			ck_assert_msg(mh_test_json_int(el, fields[k], &v) == 0, "no %s", fields[k]);
			sum += v;
		}
		return sum;
	}
	return -1;
}

static long long site_faults(const char *json, const char *site)
{
	static const char *const fields[] = { "faults", "faults_during_alloc", NULL };

	return site_sum(json, site, fields);
}

static long long site_resident_pages(const char *json, const char *site)
{
	static const char *const fields[] = { "resident_bytes", NULL };
	long long bytes = site_sum(json, site, fields);

	return bytes < 0 ? -1 : (bytes + (long long)PAGE - 1) / (long long)PAGE;
}

/*
 * Record examples/<example> [arg] with extra record options, then report
 * in JSON; NULL (skipped) if not built. *out gets what the program printed.
 */
static char *example_run(const char *name, const char *example, const char *const *opts,
			 const char *arg, char **out)
{
	char *memhook = mh_test_path("memhook"), *prog = mh_test_join(mh_test_build_dir(), example);
	char *trace = mh_test_join(mh_fx_tmpdir, "ex.mht"), *out_path = mh_test_join(mh_fx_tmpdir, "ex.out");
	char *json_path = mh_test_join(mh_fx_tmpdir, "ex.json"), *json = NULL;
	const char *rec[16] = { memhook, "record", "-q", "-o", trace };
	const char *rep[] = { memhook, "report", "--format", "json", "-o", json_path, trace, NULL };
	struct mh_test_cmd cmd = { .argv = rec, .stdout_path = out_path };
	size_t n = 5, i;

	*out = NULL;
	if (!mh_test_executable(memhook) || !mh_test_executable(prog)) {
		mh_test_skip(name, "memhook or the example program not built");
		goto out;
	}
	for (i = 0; opts[i]; i++)
		rec[n++] = opts[i];
	rec[n++] = "--";
	rec[n++] = prog;
	rec[n++] = arg;
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	cmd = (struct mh_test_cmd){ .argv = rep };
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	*out = mh_test_read_file(out_path, NULL);
	json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(*out);
	ck_assert_ptr_nonnull(json);
out:
	free(memhook);
	free(prog);
	free(trace);
	free(out_path);
	free(json_path);
	return json;
}

/* Record four_sites with extra options, then report in JSON; NULL (skipped) if not possible. */
static char *four_sites_run(const char *name, const char *const *opts, char **out)
{
	*out = NULL;
	if (thp_always()) {
		mh_test_skip(name, "transparent huge pages are 'always': one fault maps many pages");
		return NULL;
	}
	return example_run(name, "examples/four_sites", opts, NULL, out);
}

static const char *const four_sites[] = { "site_10", "site_50", "site_100", "site_0" };

/*
 * Each site's block gets one fault per page it makes resident (no huge
 * pages): the faults charged to its stack, in the block or during its
 * malloc, equal the resident pages the program read from its own pagemap.
 */
START_TEST(test_four_sites_faults_match_own_pagemap)
{
	static const char *const opts[] = { "--kernel=auto", NULL };
	char *out, *json = four_sites_run("four_sites_faults", opts, &out);
	long long kernel = 0;
	unsigned i;

	if (!json)
		return;
	ck_assert_int_eq(mh_test_json_int(json, "kernel_records", &kernel), 0);
	if (!kernel) {
		mh_test_skip("four_sites_faults", "no kernel stream: BPF is not permitted here");
		goto out;
	}
	for (i = 0; i < sizeof(four_sites) / sizeof(four_sites[0]); i++) {
		long long want = site_pages(out, four_sites[i]);
		long long got = site_faults(json, four_sites[i]);

		ck_assert_msg(want >= 0, "four_sites printed nothing for %s: %s", four_sites[i], out);
		ck_assert_msg(got >= want - 2 && got <= want + 2,
			      "%s: %lld faults charged, %lld pages resident", four_sites[i], got, want);
	}
out:
	free(out);
	free(json);
}
END_TEST

/*
 * Without the kernel, from pagemap snapshots alone: four_sites keeps its
 * blocks until exit, so the snapshot the recorder takes at the exit scan
 * (the last one: none is taken once the scan began) gives each stack the
 * resident pages the program counted, within 2 pages.
 */
START_TEST(test_four_sites_resident_match_own_pagemap)
{
	static const char *const opts[] = { "--kernel=off", "--pagemap-interval", "5", NULL };
	char *out, *json = four_sites_run("four_sites_resident", opts, &out);
	long long want[4], got[4];
	unsigned i;

	if (!json)
		return;
	for (i = 0; i < 4; i++) {
		want[i] = site_pages(out, four_sites[i]);
		got[i] = site_resident_pages(json, four_sites[i]);
		ck_assert_msg(want[i] >= 0, "four_sites printed nothing for %s: %s", four_sites[i], out);
	}
	for (i = 0; i < 4; i++)
		ck_assert_msg(got[i] >= want[i] - 2 && got[i] <= want[i] + 2,
			      "%s: %lld pages resident by the report, %lld by the program",
			      four_sites[i], got[i], want[i]);
	free(out);
	free(json);
}
END_TEST

/*
 * Record examples/fragmentation (with mode as its argument, or none) with
 * --kernel=off and the given pagemap interval, then report in JSON; NULL
 * (skipped) if not built. *out gets what the program printed.
 */
static char *fragmentation_run(const char *name, const char *mode, const char *interval,
			       char **out)
{
	const char *const opts[] = { "--kernel=off", "--pagemap-interval", interval, NULL };

	return example_run(name, "examples/fragmentation", opts, mode, out);
}

/*
 * The program's own figure from the line of its output that begins with
 * prefix ("live_bytes=" or "after_trim live_bytes="): the [heap] Rss in
 * bytes minus the live bytes it printed; *live gets the live bytes.
 */
static long long fragmentation_printed(const char *out, const char *prefix, long long *live)
{
	const char *at = strstr(out, prefix), *kb;

	ck_assert_msg(at != NULL, "fragmentation printed no '%s': %s", prefix, out);
	*live = strtoll(at + strlen(prefix), NULL, 10);
	kb = strstr(at, "heap_rss_kb=");
	ck_assert_msg(kb != NULL, "fragmentation printed no heap_rss_kb: %s", out);
	return strtoll(kb + strlen("heap_rss_kb="), NULL, 10) * 1024 - *live;
}

/*
 * The retained free heap of a snapshot point in timeline[] whose live heap
 * lies in [lo, hi); -1 if there is none. The last such point, or with
 * first_after_peak the first one after the point of most live heap: a
 * later one may have been read while the program moved on (a snapshot
 * takes a while on a loaded machine).
 */
static long long fragmentation_snapshot(const char *json, long long lo, long long hi,
					bool first_after_peak)
{
	const char *timeline = mh_test_json_value(json, "timeline"), *el;
	long long live, retained, peak = -1, found = -1;
	size_t i;

	ck_assert_ptr_nonnull(timeline);
	for (i = 0; (el = mh_test_json_element(timeline, i)); i++) {
		if (mh_test_json_int(el, "retained_free_heap_bytes", &retained) ||
		    mh_test_json_int(el, "live_heap_bytes", &live))
			continue;	/* not a snapshot point */
		if (live > peak) {
			peak = live;
			if (first_after_peak)
				found = -1;
		}
		if (live >= lo && live < hi && !(first_after_peak && found >= 0))
			found = retained;
	}
	return found;
}

/*
 * examples/fragmentation frees 7 of 8 small blocks and prints the Rss of
 * its [heap] while 8,000,000 bytes stay live there (plus its 8,000,000-byte
 * pointer array, an mmapped chunk). A residency snapshot taken in that
 * phase (live heap 16,000,000 bytes, within a page) must show a retained
 * free heap within 2% of the heap's Rss minus the 8,000,000 live bytes.
 */
START_TEST(test_fragmentation_retained_matches_own_smaps)
{
	char *out, *json = fragmentation_run("fragmentation_retained", NULL, "5", &out);
	long long live, found, want;

	if (!json)
		return;
	want = fragmentation_printed(out, "live_bytes=", &live);
	found = fragmentation_snapshot(json, live + 8000000, live + 8000000 + (long long)PAGE,
				       false);
	if (found < 0) {
		mh_test_skip("fragmentation_retained", "no residency snapshot while the heap was fragmented");
		goto out;
	}
	ck_assert_msg(found >= want - want / 50 && found <= want + want / 50,
		      "retained free heap %lld bytes, the program's heap Rss minus live bytes %lld",
		      found, want);
out:
	free(out);
	free(json);
}
END_TEST

/*
 * "examples/fragmentation trimmable" keeps the first eighth of its blocks
 * and the last one, plus a 100,000-byte marker until just before it calls
 * malloc_trim(0), and prints its [heap] Rss and live bytes before and
 * after the trim. A snapshot taken before the trim (live heap: the first
 * live bytes plus stdio's buffer, within two pages) must show a retained
 * free heap within 2% of the first Rss minus live bytes; the exit snapshot
 * (summary.retained_free_heap_bytes, after the trim) within 2% or four
 * pages of the second, and less than a quarter of the first.
 */
START_TEST(test_fragmentation_trim_drops_retained)
{
	char *out, *json = fragmentation_run("fragmentation_trim", "trimmable", "20", &out);
	long long live, live_after, before, after, found, got, tol;

	if (!json)
		return;
	before = fragmentation_printed(out, "live_bytes=", &live);
	after = fragmentation_printed(out, "after_trim live_bytes=", &live_after);
	ck_assert_msg(live - live_after > 2 * (long long)PAGE,
		      "the marker does not tell the phases apart: %s", out);
	ck_assert_int_eq(mh_test_json_int(json, "summary.retained_free_heap_bytes", &got), 0);
	tol = after / 50 > 4 * (long long)PAGE ? after / 50 : 4 * (long long)PAGE;
	ck_assert_msg(got >= after - tol && got <= after + tol,
		      "after malloc_trim: retained free heap %lld bytes, heap Rss minus live bytes %lld",
		      got, after);
	ck_assert_msg(got < before / 4,
		      "after malloc_trim the retained free heap %lld bytes did not drop from %lld",
		      got, before);
	found = fragmentation_snapshot(json, live, live + 2 * (long long)PAGE, true);
	if (found < 0) {
		mh_test_skip("fragmentation_trim_before", "no residency snapshot before malloc_trim");
		goto out;
	}
	ck_assert_msg(found >= before - before / 50 && found <= before + before / 50,
		      "before malloc_trim: retained free heap %lld bytes, heap Rss minus live bytes %lld",
		      found, before);
	ck_assert_msg(got < found / 4, "retained free heap %lld bytes after malloc_trim, %lld before",
		      got, found);
out:
	free(out);
	free(json);
}
END_TEST

static Suite *attribution_reports_suite(void)
{
	Suite *s = suite_create("attribution_reports");
	TCase *tr = tcase_create("Reports");

	tcase_add_checked_fixture(tr, mh_fx_tmpdir_setup, mh_fx_tmpdir_teardown);
	tcase_add_test(tr, test_json_fields);
	tcase_add_test(tr, test_four_sites_faults_match_own_pagemap);
	tcase_add_test(tr, test_four_sites_resident_match_own_pagemap);
	tcase_add_test(tr, test_fragmentation_retained_matches_own_smaps);
	tcase_add_test(tr, test_fragmentation_trim_drops_retained);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	return mh_test_run_suite(attribution_reports_suite());
}
