// SPDX-License-Identifier: MIT
/*
 * check_oracle.c - memhook end to end against independent truths.
 *
 * Totals: each deterministic program in examples/ runs under Valgrind's
 * memcheck and under `memhook record`; the JSON report's allocation
 * calls, frees and bytes must equal memcheck's "total heap usage", and its
 * leaked bytes and blocks memcheck's "in use at exit" (both call glibc's
 * __libc_freeres at exit). Leak kinds of leaky are compared too.
 * Trace: the threads example (4 x 1M) must yield exactly its own 4M mallocs
 * and 4M frees, each free matching a live block, no address live twice
 * (read straight from the trace, streaming). Crash programs: what the trace
 * holds up to the crash. Unaffected: real programs produce byte-identical
 * output and the same exit status under `memhook record` as plain.
 *
 * The report fields read are named in report_field[] below (docs/REPORT.md).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>
#include <uthash.h>

#include "trace/reader.h"
#include "tests/testutil.h"

/* Time limits, in seconds (generous: valgrind and 8M-event runs are slow). */
#define RUN_TIMEOUT_S 240
#define ARGV_MAX 16

static char *tmp_file(const char *name)
{
	return mh_test_join(mh_test_tmp, name);
}

static char *example(const char *name)
{
	char *rel = mh_test_join("examples", name), *path = mh_test_artefact(rel);

	free(rel);
	return path;
}

/* `memhook record -o TRACE -- ARGV...`: its wait status. */
static int record(const char *trace, const char *const *argv, const char *out, const char *err)
{
	const char *full[ARGV_MAX + 6];
	char *memhook = mh_test_artefact("memhook");
	size_t i = 0, j;
	int status;

	full[i++] = memhook;
	full[i++] = "record";
	full[i++] = "-o";
	full[i++] = trace;
	full[i++] = "--";
	for (j = 0; argv[j] && j < ARGV_MAX; j++)
		full[i++] = argv[j];
	full[i] = NULL;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = full, .stdout_path = out,
						    .stderr_path = err, .timeout_s = RUN_TIMEOUT_S });
	free(memhook);
	ck_assert_msg(status >= 0, "memhook record %s: %s", argv[0], strerror(-status));
	return status;
}

/* `memhook report --format json TRACE`, which must succeed: the JSON text. */
static char *report_json(const char *trace)
{
	char *memhook = mh_test_artefact("memhook"), *out = tmp_file("report.json"),
	     *err = tmp_file("report.err"), *json, *msg;
	const char *argv[] = { memhook, "report", "--format", "json", trace, NULL };
	int status = mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stdout_path = out,
							.stderr_path = err,
							.timeout_s = RUN_TIMEOUT_S });

	msg = mh_test_read_file(err, NULL);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "memhook report failed (status %d): %s", status, msg ? msg : "");
	json = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(json);
	free(msg);
	free(memhook);
	free(out);
	free(err);
	return json;
}

static long long field(const char *json, const char *path)
{
	long long v = -1;
	int rc = mh_test_json_int(json, path, &v);

	ck_assert_msg(rc != -EINVAL, "report JSON: field %s is not an integer (null: no verdict)",
		      path);
	ck_assert_msg(rc == 0, "report JSON: field %s: %s", path, strerror(-rc));
	return v;
}

static bool need_valgrind(const char *test)
{
	if (mh_test_have_program("valgrind"))
		return true;
	mh_test_skip(test, "valgrind is not installed (scripts/install-deps.sh)");
	return false;
}

/* Deterministic programs and their arguments. */
struct oracle_prog {
	const char *name;	/* under <build>/examples/ */
	const char *args[4];
	bool prints_layout;	/* prints residency, which memcheck's heap changes */
};

static const struct oracle_prog oracle_progs[] = {
	{ .name = "leaky" },
	{ .name = "alloc_mix" },
	{ .name = "peak" },
	{ .name = "threads", .args = { "4", "2000", NULL } },
	{ .name = "uses_lib" },
	{ .name = "plugin_host" },
	{ .name = "inlined" },
	{ .name = "cxx_lost" },
	{ .name = "leaky-stripped" },
	{ .name = "rss_growth", .args = { "4", "1", "0", NULL } },
	{ .name = "fragmentation", .prints_layout = true },
	{ .name = "four_sites", .prints_layout = true },
};

/* Report fields compared with memcheck's summary. */
struct vg_field {
	const char *json;
	size_t vg_offset;
};

#define VG(f) offsetof(struct mh_vg_summary, f)

static const struct vg_field total_fields[] = {
	{ .json = "summary.alloc_calls", .vg_offset = VG(allocs) },
	{ .json = "summary.free_calls", .vg_offset = VG(frees) },
	{ .json = "summary.bytes_allocated", .vg_offset = VG(bytes_allocated) },
	{ .json = "summary.leaked_bytes", .vg_offset = VG(in_use_bytes) },
	{ .json = "summary.leaked_blocks", .vg_offset = VG(in_use_blocks) },
};

static const struct vg_field kind_fields[] = {
	{ .json = "summary.leaks.definite.bytes", .vg_offset = VG(definite_bytes) },
	{ .json = "summary.leaks.definite.blocks", .vg_offset = VG(definite_blocks) },
	{ .json = "summary.leaks.indirect.bytes", .vg_offset = VG(indirect_bytes) },
	{ .json = "summary.leaks.indirect.blocks", .vg_offset = VG(indirect_blocks) },
	{ .json = "summary.leaks.possible.bytes", .vg_offset = VG(possible_bytes) },
	{ .json = "summary.leaks.possible.blocks", .vg_offset = VG(possible_blocks) },
	{ .json = "summary.leaks.reachable.bytes", .vg_offset = VG(reachable_bytes) },
	{ .json = "summary.leaks.reachable.blocks", .vg_offset = VG(reachable_blocks) },
};

static long long vg_get(const struct mh_vg_summary *vg, size_t offset)
{
	return *(const long long *)((const char *)vg + offset);
}

/*
 * Run prog under memcheck and under memhook; compare the given fields.
 * Both runs send stdout to a regular file and must exit alike.
 */
static void compare_with_memcheck(const struct oracle_prog *p, const struct vg_field *fields,
				  size_t nfields)
{
	char *exe = example(p->name);
	char *vg_out = tmp_file("vg.out"), *mh_out = tmp_file("mh.out"),
	     *mh_err = tmp_file("mh.err"), *trace = tmp_file("trace.mht"), *json, *err;
	const char *argv[ARGV_MAX] = { exe };
	struct mh_vg_summary vg;
	int vg_status, mh_status;
	size_t i;

	for (i = 0; p->args[i]; i++)
		argv[i + 1] = p->args[i];
	vg_status = mh_test_valgrind(argv, vg_out, RUN_TIMEOUT_S, &vg);
	ck_assert_msg(vg_status >= 0, "valgrind %s: %s", p->name, strerror(-vg_status));
	mh_status = record(trace, argv, mh_out, mh_err);
	err = mh_test_read_file(mh_err, NULL);
	ck_assert_msg(mh_status == vg_status, "%s: status %#x under memhook, %#x under memcheck: %s",
		      p->name, mh_status, vg_status, err ? err : "");
	free(err);
	ck_assert_msg(p->prints_layout || mh_test_files_equal(vg_out, mh_out), "%s: stdout differs",
		      p->name);
	json = report_json(trace);
	for (i = 0; i < nfields; i++) {
		long long want = vg_get(&vg, fields[i].vg_offset);
		long long got = field(json, fields[i].json);

		ck_assert_msg(got == want, "%s: %s = %lld, memcheck says %lld", p->name,
			      fields[i].json, got, want);
	}
	free(json);
	free(trace);
	free(mh_err);
	free(mh_out);
	free(vg_out);
	free(exe);
}

START_TEST(test_totals_match_memcheck)
{
	if (!need_valgrind("totals_match_memcheck"))
		return;
	compare_with_memcheck(&oracle_progs[_i], total_fields,
			      sizeof(total_fields) / sizeof(total_fields[0]));
}
END_TEST

START_TEST(test_leak_kinds_match_memcheck)
{
	static const struct oracle_prog kinds_progs[] = {
		{ .name = "leaky" },
		{ .name = "cxx_lost" },
		{ .name = "inlined" },
	};

	if (!need_valgrind("leak_kinds_match_memcheck"))
		return;
	compare_with_memcheck(&kinds_progs[_i], kind_fields,
			      sizeof(kind_fields) / sizeof(kind_fields[0]));
}
END_TEST

/* peak prints its own peak of requested bytes; the report must agree. */
START_TEST(test_peak_matches_program)
{
	char *exe = example("peak"), *out = tmp_file("out"), *trace = tmp_file("t.mht");
	const char *argv[] = { exe, NULL };
	long long want = -1;
	char *text, *json, *p;

	ck_assert_int_eq(record(trace, argv, out, NULL), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	p = strstr(text, "peak_live_bytes=");
	ck_assert_ptr_nonnull(p);
	want = atoll(p + strlen("peak_live_bytes="));
	json = report_json(trace);
	ck_assert_int_eq(field(json, "summary.peak_live_bytes"), want);
	free(json);
	free(text);
	free(trace);
	free(out);
	free(exe);
}
END_TEST

/* What a trace says about the heap of its root process. */
struct trace_scan {
	/* Which allocations are the program's own, as it documents them. */
	bool (*own)(const struct mh_rec_alloc *a);
	long long allocs, frees, own_allocs, own_frees, own_live_bytes, own_bytes;
	long long unmatched_frees, double_allocs;
	long long order_repairs;	/* the recorder's "ring.order_repairs", -1: none */
	long long promotions;		/* its "ring.promotions", -1: none */
	bool exited;
	unsigned exit_reason;
	int exit_status;
};

struct live_block {
	__u64 addr;
	bool own;
	__u64 size;
	UT_hash_handle hh;
};

static bool is_heap_alloc_kind(unsigned kind)
{
	return kind >= MH_KIND_MALLOC && kind <= MH_KIND_PVALLOC;
}

static bool is_heap_free_kind(unsigned kind)
{
	return kind == MH_KIND_FREE || kind == MH_KIND_FREE_SIZED ||
	       kind == MH_KIND_FREE_ALIGNED_SIZED;
}

static void scan_free(struct trace_scan *s, struct live_block **live, __u64 addr)
{
	struct live_block *b;

	if (!addr)
		return;
	HASH_FIND(hh, *live, &addr, sizeof(addr), b);
	if (!b) {
		s->unmatched_frees++;
		return;
	}
	s->frees++;
	if (b->own) {
		s->own_frees++;
		s->own_live_bytes -= (long long)b->size;
	}
	HASH_DEL(*live, b);
	free(b);
}

static void scan_alloc(struct trace_scan *s, struct live_block **live,
		       const struct mh_rec_alloc *a)
{
	struct live_block *b;

	HASH_FIND(hh, *live, &a->addr, sizeof(a->addr), b);
	if (b) {
		s->double_allocs++;
		return;
	}
	b = calloc(1, sizeof(*b));
	ck_assert_ptr_nonnull(b);
	b->addr = a->addr;
	b->size = a->size;
	b->own = s->own && s->own(a);
	s->allocs++;
	if (b->own) {
		s->own_allocs++;
		s->own_live_bytes += (long long)a->size;
		s->own_bytes += (long long)a->size;
	}
	HASH_ADD(hh, *live, addr, sizeof(b->addr), b);
}

/* Is info record i's key `key`? */
static bool info_is(const struct mh_rec_info *i, const char *key)
{
	return i->key_len == strlen(key) && !memcmp(i + 1, key, i->key_len);
}

/*
 * The recorder's count of allocations at a live address (drain.c), and of
 * threads moved to a large slot (session.c).
 */
static void note_info(struct trace_scan *s, const struct mh_rec_info *i)
{
	const char *value = (const char *)(i + 1) + i->key_len + 1;

	if (info_is(i, "ring.order_repairs"))
		s->order_repairs = strtoll(value, NULL, 10);
	if (info_is(i, "ring.promotions"))
		s->promotions = strtoll(value, NULL, 10);
}

static void scan_record(struct trace_scan *s, struct live_block **live,
			const struct mh_rec_hdr *h)
{
	const struct mh_rec_realloc *r = (const void *)h;
	const struct mh_rec_exit *e = (const void *)h;
	struct mh_rec_alloc moved;

	switch (h->type) {
	case MH_REC_ALLOC:
		if (is_heap_alloc_kind(h->kind))
			scan_alloc(s, live, (const void *)h);
		break;
	case MH_REC_FREE:
		if (is_heap_free_kind(h->kind))
			scan_free(s, live, ((const struct mh_rec_free *)(const void *)h)->addr);
		break;
	case MH_REC_REALLOC:
		if (h->kind == MH_KIND_MREMAP)
			break;
		scan_free(s, live, r->old_addr);
		if (r->addr) {
			memset(&moved, 0, sizeof(moved));
			moved.hdr = *h;
			moved.addr = r->addr;
			moved.size = r->size;
			scan_alloc(s, live, &moved);
		}
		break;
	case MH_REC_INFO:
		note_info(s, (const void *)h);
		break;
	case MH_REC_EXIT:
		s->exited = true;
		s->exit_reason = e->reason;
		s->exit_status = e->status;
		break;
	}
}

/* Stream through a trace; the reader holds one chunk at a time. */
static void scan_trace(const char *path, struct trace_scan *s)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	struct live_block *live = NULL, *b, *tmpb;
	const struct mh_rec_hdr *h;
	int rc;

	ck_assert_msg(r != NULL, "cannot open trace %s: %s", path, strerror(errno));
	while ((rc = mh_trace_reader_next(r, MH_STREAM_ANY, &h, NULL)) == 1)
		scan_record(s, &live, h);
	ck_assert_msg(rc == 0, "trace %s: %s", path, mh_trace_reader_error(r));
	mh_trace_reader_free(r);
	HASH_ITER(hh, live, b, tmpb) {
		HASH_DEL(live, b);
		free(b);
	}
}

/* threads.c: malloc(16 + 8 * (i % 64)) */
static bool threads_own(const struct mh_rec_alloc *a)
{
	return a->hdr.kind == MH_KIND_MALLOC && a->size >= 16 && a->size <= 16 + 8 * 63 &&
	       a->size % 8 == 0;
}

/*
 * The cross-thread free stress test: 4 threads x 1M malloc/free pairs,
 * half of the blocks freed by another thread through a queue, so
 * addresses freed on one thread are reused on another at once. Each
 * thread writes its own slot of the ring and the recorder merges them by
 * time: any misordering shows as an allocation of a still-live address
 * (the test's own replay of the trace, and the recorder's repair count)
 * or a free of an unknown one. The oracle is the program's own count.
 * The workers fill their small slots at once and move to large ones
 * (ring.promotions): the order holds across those moves too.
 */
START_TEST(test_threads_trace_exact)
{
	char *exe = example("threads"), *out = tmp_file("out"), *trace = tmp_file("t.mht");
	const char *argv[] = { exe, "4", "1000000", NULL };
	struct trace_scan s = { .own = threads_own, .order_repairs = -1, .promotions = -1 };
	long long mallocs = -1, frees = -1, bytes = -1;
	char *text, *json;

	ck_assert_int_eq(record(trace, argv, out, NULL), 0);
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "threads=4 ops_per_thread=1000000 mallocs=%lld frees=%lld bytes=%lld",
				&mallocs, &frees, &bytes), 3);
	scan_trace(trace, &s);
	ck_assert_int_eq(s.own_allocs, mallocs);
	ck_assert_int_eq(s.own_frees, frees);
	ck_assert_int_eq(s.own_bytes, bytes);
	ck_assert_int_eq(s.own_live_bytes, 0);
	ck_assert_int_eq(s.own_allocs + s.own_frees, 8000000);
	ck_assert_int_eq(s.unmatched_frees, 0);
	ck_assert_int_eq(s.double_allocs, 0);
	ck_assert_int_eq(s.order_repairs, 0);
	ck_assert_int_ge(s.promotions, 1);
	json = report_json(trace);
	ck_assert_int_eq(field(json, "summary.leaked_bytes"), 0);
	ck_assert_int_eq(field(json, "summary.unmatched_frees"), 0);
	ck_assert_int_ge(field(json, "summary.alloc_calls"), mallocs);
	ck_assert_int_ge(field(json, "summary.bytes_allocated"), bytes);
	free(json);
	free(text);
	free(trace);
	free(out);
	free(exe);
}
END_TEST

/* Crash programs: the trace holds what happened up to the end. */
struct crash_prog {
	const char *name;
	__u64 own_size;		/* the program's blocks all have this size */
	long long own_allocs;
	unsigned exit_reason;	/* enum mh_exit_reason */
	int exit_status;	/* exit code or signal */
};

static const struct crash_prog crash_progs[] = {
	{ "segv", 1000, 10, MH_EXIT_SIGNAL, SIGSEGV },
	{ "quick_exit", 2000, 5, MH_EXIT_NORMAL, 3 },
	{ "self_kill", 512, 1000, MH_EXIT_SIGNAL, SIGKILL },
};

static __u64 crash_size;

static bool crash_own(const struct mh_rec_alloc *a)
{
	return a->hdr.kind == MH_KIND_MALLOC && a->size == crash_size;
}

/* memhook record exits like its program, or with 128 + signal. */
static void assert_same_exit(const char *name, int plain, int recorded)
{
	if (WIFEXITED(plain)) {
		ck_assert_msg(WIFEXITED(recorded) && WEXITSTATUS(recorded) == WEXITSTATUS(plain),
			      "%s: plain exit status %#x, under memhook %#x", name, plain,
			      recorded);
		return;
	}
	ck_assert_msg(WIFSIGNALED(plain), "%s: plain run status %#x", name, plain);
	ck_assert_msg((WIFSIGNALED(recorded) && WTERMSIG(recorded) == WTERMSIG(plain)) ||
			      (WIFEXITED(recorded) &&
			       WEXITSTATUS(recorded) == 128 + WTERMSIG(plain)),
		      "%s: plain killed by signal %d, under memhook status %#x", name,
		      WTERMSIG(plain), recorded);
}

static int run_plain(const char *const *argv, const char *out)
{
	int status = mh_test_run(&(struct mh_test_cmd){ .argv = argv, .stdout_path = out,
							.timeout_s = RUN_TIMEOUT_S });

	ck_assert_msg(status >= 0, "%s: %s", argv[0], strerror(-status));
	return status;
}

START_TEST(test_crash_trace)
{
	const struct crash_prog *c = &crash_progs[_i];
	char *exe = example(c->name), *out = tmp_file("out"), *trace = tmp_file("t.mht");
	const char *argv[] = { exe, NULL };
	struct trace_scan s = { .own = crash_own };
	int plain, recorded;

	crash_size = c->own_size;
	plain = run_plain(argv, out);
	recorded = record(trace, argv, out, NULL);
	assert_same_exit(c->name, plain, recorded);
	scan_trace(trace, &s);
	ck_assert_int_eq(s.own_allocs, c->own_allocs);
	ck_assert_int_eq(s.own_frees, 0);
	ck_assert_int_eq(s.own_live_bytes, c->own_allocs * (long long)c->own_size);
	ck_assert_msg(s.exited, "%s: the trace holds no exit record", c->name);
	ck_assert_uint_eq(s.exit_reason, c->exit_reason);
	ck_assert_int_eq(s.exit_status, c->exit_status);
	free(trace);
	free(out);
	free(exe);
}
END_TEST

/* Real programs: "@" in an argument stands for the test's temp dir. */
struct real_prog {
	const char *tool;	/* skipped if not in $PATH; NULL for an example */
	const char *argv[ARGV_MAX];
};

static const char sample_c[] =
	"#include <stdio.h>\n"
	"static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n"
	"int main(void) { printf(\"%d\\n\", fib(20)); return 0; }\n";

static const struct real_prog real_progs[] = {
	{ "python3", { "python3", "-c",
		       "import json\n"
		       "d = [{'k': i, 'v': str(i) * 3, 'l': list(range(i % 7))} for i in range(50000)]\n"
		       "s = json.dumps(sorted(d, key=lambda x: (-x['k'] % 977, x['v'])))\n"
		       "print(len(s), len(json.loads(s)), s[:80])\n", NULL } },
	{ "perl", { "perl", "-e",
		    "my %h; $h{$_} = [$_, $_ * 2, \"x\" x ($_ % 50)] for 1 .. 100000;"
		    "my $s = 0; $s += $h{$_}[1] for sort { $a <=> $b } keys %h; print \"$s\\n\";",
		    NULL } },
	{ "git", { "git", "diff", "--no-index", "@/in.c", "@/in2.c", NULL } },
	{ "sqlite3", { "sqlite3", ":memory:",
		       "create table t(a integer primary key, b text);"
		       "with recursive c(x) as (select 1 union all select x + 1 from c where x < 50000)"
		       " insert into t select x, hex(x * 7919) from c;"
		       "create index tb on t(b);"
		       "select count(*), sum(a), max(b), min(b) from t where b like '%A%';",
		       NULL } },
	{ "gcc", { "gcc", "-O2", "-S", "-o", "-", "@/in.c", NULL } },
	{ NULL, { "threads", "4", "100000", NULL } },
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Expand "@" to the temp dir and an example's name to its path. */
static void real_argv(const struct real_prog *p, char **argv)
{
	size_t i;

	for (i = 0; p->argv[i]; i++) {
		const char *a = p->argv[i];

		if (i == 0 && !p->tool)
			argv[i] = example(a);
		else if (a[0] == '@')
			argv[i] = mh_test_join(mh_test_tmp, a + 2);
		else
			argv[i] = strdup(a);
		ck_assert_ptr_nonnull(argv[i]);
	}
	argv[i] = NULL;
}

START_TEST(test_real_program_unaffected)
{
	const struct real_prog *p = &real_progs[_i];
	char *argv[ARGV_MAX] = { NULL }, *in = tmp_file("in.c"), *in2 = tmp_file("in2.c");
	char *plain_out = tmp_file("plain.out"), *rec_out = tmp_file("rec.out"),
	     *rec_err = tmp_file("rec.err"), *trace = tmp_file("t.mht"), *err;
	char name[64];
	int plain, recorded;
	size_t i;

	snprintf(name, sizeof(name), "real_program_unaffected(%s)", p->argv[0]);
	if (p->tool && !mh_test_have_program(p->tool)) {
		mh_test_skip(name, "not installed (scripts/install-deps.sh)");
		return;
	}
	write_file(in, sample_c);
	write_file(in2, "int main(void) { return 0; }\n");
	real_argv(p, argv);
	plain = run_plain((const char *const *)argv, plain_out);
	recorded = record(trace, (const char *const *)argv, rec_out, rec_err);
	err = mh_test_read_file(rec_err, NULL);
	assert_same_exit(p->argv[0], plain, recorded);
	ck_assert_msg(mh_test_files_equal(plain_out, rec_out),
		      "%s: stdout differs under memhook (stderr: %s)", p->argv[0], err ? err : "");
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(err);
	free(trace);
	free(rec_err);
	free(rec_out);
	free(plain_out);
	free(in2);
	free(in);
}
END_TEST

/* The oracle's own parsers, on fixed texts, before they judge anything. */
START_TEST(test_valgrind_parser)
{
	static const char log[] =
		"==7== HEAP SUMMARY:\n"
		"==7==     in use at exit: 1,644 bytes in 7 blocks\n"
		"==7==   total heap usage: 18 allocs, 11 frees, 6,220 bytes allocated\n"
		"==7== LEAK SUMMARY:\n"
		"==7==    definitely lost: 1,356 bytes in 5 blocks\n"
		"==7==    indirectly lost: 32 bytes in 1 blocks\n"
		"==7==      possibly lost: 0 bytes in 0 blocks\n"
		"==7==    still reachable: 256 bytes in 1 blocks\n";
	static const char freed[] =
		"==8==     in use at exit: 0 bytes in 0 blocks\n"
		"==8==   total heap usage: 1 allocs, 1 frees, 1,024 bytes allocated\n"
		"==8== All heap blocks were freed -- no leaks are possible\n";
	struct mh_vg_summary vg;

	ck_assert_int_eq(mh_test_valgrind_parse(log, &vg), 0);
	ck_assert_int_eq(vg.in_use_bytes, 1644);
	ck_assert_int_eq(vg.in_use_blocks, 7);
	ck_assert_int_eq(vg.allocs, 18);
	ck_assert_int_eq(vg.frees, 11);
	ck_assert_int_eq(vg.bytes_allocated, 6220);
	ck_assert_int_eq(vg.definite_bytes, 1356);
	ck_assert_int_eq(vg.definite_blocks, 5);
	ck_assert_int_eq(vg.indirect_bytes, 32);
	ck_assert_int_eq(vg.possible_blocks, 0);
	ck_assert_int_eq(vg.reachable_bytes, 256);
	ck_assert_int_eq(mh_test_valgrind_parse(freed, &vg), 0);
	ck_assert_int_eq(vg.bytes_allocated, 1024);
	ck_assert_int_eq(vg.definite_bytes, 0);
	ck_assert_int_eq(mh_test_valgrind_parse("no summary here", &vg), -EBADMSG);
}
END_TEST

START_TEST(test_json_reader)
{
	static const char json[] =
		"{\"format\": \"memhook-report\", \"warnings\": [\"a, \\\"b\\\"\", {\"x\": 1}],\n"
		" \"summary\": {\"alloc_calls\": 18, \"nested\": {\"deep\": -3}, \"f\": 2.5,"
		" \"big\": 1e3, \"s\": \"12\"}, \"leaked_bytes\": 7}";
	long long v = 0;

	ck_assert_int_eq(mh_test_json_int(json, "summary.alloc_calls", &v), 0);
	ck_assert_int_eq(v, 18);
	ck_assert_int_eq(mh_test_json_int(json, "summary.nested.deep", &v), 0);
	ck_assert_int_eq(v, -3);
	ck_assert_int_eq(mh_test_json_int(json, "summary.big", &v), 0);
	ck_assert_int_eq(v, 1000);
	ck_assert_int_eq(mh_test_json_int(json, "leaked_bytes", &v), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(mh_test_json_int(json, "summary.f", &v), -EINVAL);
	ck_assert_int_eq(mh_test_json_int(json, "summary.s", &v), -EINVAL);
	ck_assert_int_eq(mh_test_json_int(json, "summary.missing", &v), -ENOENT);
	ck_assert_int_eq(mh_test_json_int(json, "summary.alloc", &v), -ENOENT);
	ck_assert_int_eq(mh_test_json_int("{\"a\": {\"b\" 1}}", "a.b", &v), -EBADMSG);
}
END_TEST

START_TEST(test_run_timeout)
{
	const char *argv[] = { "sleep", "30", NULL };

	ck_assert_int_eq(mh_test_run(&(struct mh_test_cmd){ .argv = argv, .timeout_s = 1 }),
			 -ETIMEDOUT);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *oracle_suite(void)
{
	Suite *s = suite_create("oracle");
	TCase *tc;

	tc = tcase_create("OracleParsers");
	tcase_add_test(tc, test_valgrind_parser);
	tcase_add_test(tc, test_json_reader);
	tcase_add_test(tc, test_run_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("TotalsMatchMemcheck");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_loop_test(tc, test_totals_match_memcheck, 0, N_OF(oracle_progs));
	tcase_add_loop_test(tc, test_leak_kinds_match_memcheck, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("ProgramKnowledge");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_test(tc, test_peak_matches_program);
	tcase_add_test(tc, test_threads_trace_exact);
	tcase_add_loop_test(tc, test_crash_trace, 0, N_OF(crash_progs));
	suite_add_tcase(s, tc);

	tc = tcase_create("RealProgramsUnaffected");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 2 * RUN_TIMEOUT_S);
	tcase_add_loop_test(tc, test_real_program_unaffected, 0, N_OF(real_progs));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(oracle_suite());
}
