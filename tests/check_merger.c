// SPDX-License-Identifier: MIT
/*
 * check_merger.c - the merger's replay and reports (merger/replay.c,
 * merger/report*.c): heap counts as memcheck counts them (checked against
 * Valgrind on a program that logs its own calls), the heap peak and each
 * stack's share of it, leaks, temporary allocations, realloc chains,
 * several processes, and reports written from a real trace file
 * (truncated, with lost events).
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "../cli/trace_writer.h"
#include "../merger/replay.h"
#include "../merger/report.h"

#define PID 100
#define TID 100

static struct mh_replay *rp;

static void setup(void)
{
	rp = mh_replay_new();
	ck_assert_ptr_nonnull(rp);
}

static void teardown(void)
{
	mh_replay_free(rp);
	rp = NULL;
}

static uint64_t now_ns = 1000;

static void feed(const void *rec)
{
	ck_assert_int_eq(mh_replay_record(rp, rec), 0);
}

static void ev_alloc(uint32_t pid, uint32_t tid, uint64_t addr, uint64_t size, uint64_t stack,
		     int kind)
{
	struct mh_rec_alloc a = {
		.hdr = { MH_REC_ALLOC, kind, sizeof(a) },
		.ts_ns = now_ns++, .addr = addr, .size = size, .stack_id = stack,
		.tid = tid, .pid = pid,
	};

	feed(&a);
}

static void ev_free(uint32_t pid, uint32_t tid, uint64_t addr, int kind, uint64_t size)
{
	struct mh_rec_free f = {
		.hdr = { MH_REC_FREE, kind, sizeof(f) },
		.ts_ns = now_ns++, .addr = addr, .size = size, .tid = tid, .pid = pid,
	};

	feed(&f);
}

static void ev_realloc(uint32_t pid, uint64_t old, uint64_t addr, uint64_t size, uint64_t stack)
{
	struct mh_rec_realloc r = {
		.hdr = { MH_REC_REALLOC, MH_KIND_REALLOC, sizeof(r) },
		.ts_ns = now_ns++, .addr = addr, .size = size, .old_addr = old,
		.stack_id = stack, .tid = pid, .pid = pid,
	};

	feed(&r);
}

static void ev_exit(uint32_t pid, int status)
{
	struct mh_rec_exit e = {
		.hdr = { MH_REC_EXIT, 0, sizeof(e) },
		.ts_ns = now_ns++, .pid = pid, .reason = MH_EXIT_NORMAL, .status = status,
	};

	feed(&e);
}

static void ev_process(uint32_t pid, uint32_t ppid, uint32_t start, const char *path)
{
	struct {
		struct mh_rec_process r;
		char path[64];
	} rec = { { { MH_REC_PROCESS, 0, sizeof(rec) }, now_ns++, pid, ppid, start,
		    (uint32_t)strlen(path) }, "" };

	strcpy(rec.path, path);
	feed(&rec);
}

static struct mh_process *proc(uint32_t pid)
{
	struct mh_process *p;

	for (p = rp->procs; p; p = p->next) {
		if (p->pid == pid)
			return p;
	}
	ck_abort_msg("no process %u", pid);
	return NULL;
}

static struct mh_stack_stats *stack(uint32_t pid, uint64_t id)
{
	struct mh_stack_stats *st = mh_stack_stats_find(&proc(pid)->stacks, id);

	ck_assert_ptr_nonnull(st);
	return st;
}

START_TEST(test_counts_like_memcheck_rules)
{
	struct mh_process *p;

	ev_alloc(PID, TID, 0x1000, 10, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x2000, 20, 1, MH_KIND_CALLOC);
	ev_alloc(PID, TID, 0x3000, 64, 2, MH_KIND_POSIX_MEMALIGN);
	ev_free(PID, TID, 0, MH_KIND_FREE, 0);		/* free(NULL) */
	ev_free(PID, TID, 0x1000, MH_KIND_FREE, 0);
	ev_alloc(PID, TID, 0x7000000, 8192, 3, MH_KIND_MMAP);
	ev_free(PID, TID, 0x7000000, MH_KIND_MUNMAP, 8192);
	ev_free(PID, TID, 0x9999, MH_KIND_FREE, 0);	/* never allocated */
	ev_exit(PID, 0);
	mh_replay_finish(rp);

	p = proc(PID);
	ck_assert_uint_eq(p->alloc_calls, 3);
	ck_assert_uint_eq(p->frees, 1);
	ck_assert_uint_eq(p->bytes_allocated, 94);
	ck_assert_uint_eq(p->live_bytes, 84);
	ck_assert_uint_eq(p->live_blocks, 2);
	ck_assert_uint_eq(p->mmap_calls, 1);
	ck_assert_uint_eq(p->mmap_bytes, 8192);
	ck_assert_uint_eq(p->munmap_calls, 1);
	ck_assert_uint_eq(p->unmatched_frees, 1);
	ck_assert_ptr_null(mh_stack_stats_find(&p->stacks, 3));
	ck_assert(p->exited);
}
END_TEST

START_TEST(test_realloc_chain)
{
	struct mh_process *p;

	ev_realloc(PID, 0, 0x100, 10, 7);	/* realloc(NULL, 10) */
	ev_realloc(PID, 0x100, 0x200, 100, 7);	/* moves */
	ev_realloc(PID, 0x200, 0x200, 40, 8);	/* shrinks in place */
	ev_realloc(PID, 0x200, 0, 0, 8);	/* realloc(p, 0) frees */
	ev_realloc(PID, 0x300, 0, 50, 8);	/* a failed realloc: nothing */
	mh_replay_finish(rp);

	p = proc(PID);
	ck_assert_uint_eq(p->alloc_calls, 3);
	ck_assert_uint_eq(p->frees, 3);
	ck_assert_uint_eq(p->bytes_allocated, 150);
	ck_assert_uint_eq(p->live_bytes, 0);
	ck_assert_uint_eq(p->peak_live_bytes, 100);
	ck_assert_uint_eq(stack(PID, 7)->alloc_calls, 2);
	ck_assert_uint_eq(stack(PID, 7)->frees, 2);
	ck_assert_uint_eq(stack(PID, 8)->alloc_calls, 1);
	ck_assert_uint_eq(stack(PID, 8)->frees, 1);
	ck_assert_uint_eq(p->unmatched_frees, 0);
}
END_TEST

/*
 * The peak is the largest live heap; a stack's peak share is its live
 * bytes at that moment, not its own maximum.
 */
START_TEST(test_peak_is_global_moment)
{
	struct mh_process *p;
	uint64_t peak_ts;

	ev_alloc(PID, TID, 0xa0, 100, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0xb0, 50, 2, MH_KIND_MALLOC);
	peak_ts = now_ns - 1;
	ev_free(PID, TID, 0xa0, MH_KIND_FREE, 0);
	ev_alloc(PID, TID, 0xc0, 60, 2, MH_KIND_MALLOC);	/* stack 2 now 110, total 110 */
	ev_alloc(PID, TID, 0xd0, 30, 3, MH_KIND_MALLOC);	/* total 140 < 150 */
	mh_replay_finish(rp);

	p = proc(PID);
	ck_assert_uint_eq(p->peak_live_bytes, 150);
	ck_assert_uint_eq(p->peak_ts_ns, peak_ts);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 1)), 100);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 2)), 50);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 3)), 0);

	/* A new, higher peak moves every share. */
	ev_alloc(PID, TID, 0xe0, 20, 3, MH_KIND_MALLOC);	/* total 160 */
	ck_assert_uint_eq(p->peak_live_bytes, 160);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 1)), 0);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 2)), 110);
	ck_assert_uint_eq(mh_stack_peak_bytes(p, stack(PID, 3)), 50);
}
END_TEST

START_TEST(test_leaks_per_stack)
{
	ev_alloc(PID, TID, 0x10, 7, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x20, 9, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x30, 11, 2, MH_KIND_MALLOC);
	ev_free(PID, TID, 0x20, MH_KIND_FREE, 0);
	ev_exit(PID, 3);
	mh_replay_finish(rp);

	ck_assert_uint_eq(stack(PID, 1)->live_bytes, 7);
	ck_assert_uint_eq(stack(PID, 1)->live_blocks, 1);
	ck_assert_uint_eq(stack(PID, 2)->live_bytes, 11);
	ck_assert_uint_eq(proc(PID)->live_bytes, 18);
	ck_assert_int_eq(proc(PID)->exit_status, 3);
}
END_TEST

START_TEST(test_temporary_per_thread)
{
	ev_alloc(PID, 1, 0x10, 8, 1, MH_KIND_MALLOC);
	ev_free(PID, 1, 0x10, MH_KIND_FREE, 0);		/* temporary */
	ev_alloc(PID, 1, 0x20, 8, 2, MH_KIND_MALLOC);
	ev_alloc(PID, 1, 0x30, 8, 2, MH_KIND_MALLOC);
	ev_free(PID, 1, 0x20, MH_KIND_FREE, 0);		/* 0x30 came between: not */
	ev_alloc(PID, 1, 0x40, 8, 3, MH_KIND_MALLOC);
	ev_alloc(PID, 2, 0x50, 8, 3, MH_KIND_MALLOC);	/* another thread */
	ev_free(PID, 1, 0x40, MH_KIND_FREE, 0);		/* temporary on thread 1 */
	ev_free(PID, 1, 0x50, MH_KIND_FREE, 0);		/* thread 1's last was 0x40 */
	mh_replay_finish(rp);

	ck_assert_uint_eq(stack(PID, 1)->temporary, 1);
	ck_assert_uint_eq(stack(PID, 2)->temporary, 0);
	ck_assert_uint_eq(stack(PID, 3)->temporary, 1);
	ck_assert_uint_eq(proc(PID)->temporary, 2);
}
END_TEST

START_TEST(test_size_histogram)
{
	struct mh_stack_stats *st;

	ev_alloc(PID, TID, 0x10, 0, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x20, 1, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x30, 1000, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x40, 1023, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x50, 1024, 1, MH_KIND_MALLOC);
	st = stack(PID, 1);
	ck_assert_uint_eq(st->size_hist[0], 1);
	ck_assert_uint_eq(st->size_hist[1], 1);
	ck_assert_uint_eq(st->size_hist[10], 2);	/* [512, 1024) */
	ck_assert_uint_eq(st->size_hist[11], 1);	/* [1024, 2048) */
}
END_TEST

START_TEST(test_processes_apart)
{
	ev_alloc(1, 1, 0x10, 5, 1, MH_KIND_MALLOC);
	ev_alloc(2, 2, 0x10, 7, 1, MH_KIND_MALLOC);	/* same address, other process */
	ev_free(2, 2, 0x10, MH_KIND_FREE, 0);
	mh_replay_finish(rp);

	ck_assert_uint_eq(proc(1)->live_bytes, 5);
	ck_assert_uint_eq(proc(2)->live_bytes, 0);
	ck_assert_uint_eq(proc(2)->frees, 1);
	ck_assert_uint_eq(proc(1)->unmatched_frees, 0);
}
END_TEST

/* A fork child holds its parent's live blocks; a new program (vfork + exec) does not. */
START_TEST(test_fork_child_inherits_live_blocks)
{
	struct mh_process *child, *other;

	ev_process(1, 0, MH_PROCESS_LAUNCHED, "/bin/parent");
	ev_alloc(1, 1, 0x10, 100, 1, MH_KIND_MALLOC);
	ev_alloc(1, 1, 0x20, 30, 2, MH_KIND_MALLOC);
	ev_process(2, 1, MH_PROCESS_FORKED, "/bin/parent");
	ev_free(2, 2, 0x10, MH_KIND_FREE, 0);
	ev_alloc(2, 2, 0x30, 5, 1, MH_KIND_MALLOC);
	ev_process(3, 1, MH_PROCESS_FORKED, "/bin/other");
	ev_free(3, 3, 0x10, MH_KIND_FREE, 0);
	mh_replay_finish(rp);

	child = proc(2);
	ck_assert_uint_eq(child->alloc_calls, 1);
	ck_assert_uint_eq(child->frees, 1);
	ck_assert_uint_eq(child->unmatched_frees, 0);
	ck_assert_uint_eq(child->live_bytes, 35);
	ck_assert_uint_eq(child->live_blocks, 2);
	ck_assert_uint_eq(child->peak_live_bytes, 130);
	ck_assert_uint_eq(stack(2, 2)->live_bytes, 30);
	ck_assert_uint_eq(stack(2, 1)->live_bytes, 5);
	/* The parent is untouched by its child's free. */
	ck_assert_uint_eq(proc(1)->live_bytes, 130);
	other = proc(3);
	ck_assert_uint_eq(other->unmatched_frees, 1);
	ck_assert_uint_eq(other->live_bytes, 0);
}
END_TEST

static void ev_leak(uint32_t pid, uint64_t addr, uint32_t kind)
{
	struct mh_rec_leak l = { { MH_REC_LEAK, 0, sizeof(l) }, addr, pid, kind };

	feed(&l);
}

/* Verdicts join the blocks live at the end; a freed block's verdict is dropped. */
START_TEST(test_leak_kinds_per_stack)
{
	struct mh_process *p;

	ev_alloc(PID, TID, 0x10, 100, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x20, 20, 2, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x30, 3, 2, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x40, 4, 2, MH_KIND_MALLOC);
	ev_leak(PID, 0x10, MH_LEAK_DEFINITE);
	ev_leak(PID, 0x20, MH_LEAK_REACHABLE);
	ev_leak(PID, 0x40, MH_LEAK_INDIRECT);
	ev_free(PID, TID, 0x40, MH_KIND_FREE, 0);	/* after the scan */
	ev_exit(PID, 0);
	mh_replay_finish(rp);

	p = proc(PID);
	ck_assert_uint_eq(p->leak_kind_bytes[MH_LEAK_DEFINITE], 100);
	ck_assert_uint_eq(p->leak_kind_blocks[MH_LEAK_DEFINITE], 1);
	ck_assert_uint_eq(p->leak_kind_bytes[MH_LEAK_REACHABLE], 20);
	ck_assert_uint_eq(p->leak_kind_bytes[MH_LEAK_INDIRECT], 0);
	ck_assert_uint_eq(p->leak_kind_bytes[0], 3);	/* 0x30: no verdict */
	ck_assert_uint_eq(p->leak_kind_blocks[0], 1);
	ck_assert_uint_eq(stack(PID, 1)->leak_kind_bytes[MH_LEAK_DEFINITE], 100);
	ck_assert_uint_eq(stack(PID, 2)->leak_kind_bytes[MH_LEAK_REACHABLE], 20);
	ck_assert_uint_eq(stack(PID, 2)->leak_kind_bytes[0], 3);
}
END_TEST

/* Replay the calls merger_heap_calls printed under memcheck; compare totals. */
START_TEST(test_totals_match_valgrind)
{
	char *prog = mh_test_path("tests/progs/merger_heap_calls");
	char *dir, *out_path, *log, *line, *save;
	const char *argv[] = { prog, NULL };
	struct mh_vg_summary vg;
	unsigned long long a, b;
	size_t n;
	struct mh_process *p;
	int status;

	if (!mh_test_have_program("valgrind")) {
		mh_test_skip("test_totals_match_valgrind", "valgrind is not installed");
		return;
	}
	ck_assert_msg(mh_test_executable(prog), "%s not built", prog);
	dir = mh_test_tmpdir();
	out_path = mh_test_join(dir, "calls.txt");
	status = mh_test_valgrind(argv, out_path, 0, &vg);
	ck_assert_int_eq(status, 0);
	log = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(log);
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "A %llu %zu", &a, &n) == 2)
			ev_alloc(PID, TID, a, n, 1, MH_KIND_MALLOC);
		else if (sscanf(line, "R %llu %llu %zu", &a, &b, &n) == 3)
			ev_realloc(PID, a, b, n, 2);
		else if (sscanf(line, "F %llu", &a) == 1)
			ev_free(PID, TID, a, MH_KIND_FREE, 0);
		else
			ck_abort_msg("unexpected line '%s'", line);
	}
	mh_replay_finish(rp);
	p = proc(PID);
	ck_assert_int_eq((long long)p->alloc_calls, vg.allocs);
	ck_assert_int_eq((long long)p->frees, vg.frees);
	ck_assert_int_eq((long long)p->bytes_allocated, vg.bytes_allocated);
	ck_assert_int_eq((long long)p->live_bytes, vg.in_use_bytes);
	ck_assert_int_eq((long long)p->live_blocks, vg.in_use_blocks);
	free(log);
	mh_test_rmdir(dir);
	free(out_path);
	free(dir);
	free(prog);
}
END_TEST

/* ---- reports from a trace file ---- */

static char *tmpdir;

static void trace_setup(void)
{
	tmpdir = mh_test_tmpdir();
}

static void trace_teardown(void)
{
	mh_test_rmdir(tmpdir);
	free(tmpdir);
}

static void append(struct mh_trace_writer *w, int stream, const void *rec)
{
	ck_assert_int_eq(mh_trace_writer_append(w, stream, rec,
						((const struct mh_rec_hdr *)rec)->size), 0);
}

/*
 * A small trace: process 42 "/bin/demo", stack 0x51 (2 frames) allocates
 * 3 x 100 bytes and frees one, stack 0x52 allocates 40 and frees it;
 * 3 events lost; exit status 1. closed says whether the END chunk is
 * written.
 */
static char *write_trace(bool closed)
{
	struct mh_trace_header hdr = {
		.magic = MH_TRACE_MAGIC, .version = MH_TRACE_VERSION,
		.header_bytes = sizeof(hdr), .flags = MH_TRACE_LITTLE_ENDIAN,
		.page_size = 4096, .root_pid = 42, .pointer_bytes = 8,
	};
	struct {
		struct mh_rec_process r;
		char path[16];
	} proc_rec = { { { MH_REC_PROCESS, 0, sizeof(proc_rec) }, 10, 42, 1,
			 MH_PROCESS_LAUNCHED, 9 }, "/bin/demo" };
	struct {
		struct mh_rec_stack s;
		uint64_t ips[2];
	} st = { { { MH_REC_STACK, 0, sizeof(st) }, 0x51, 42, 2, 0 }, { 0x1234, 0x5678 } };
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 20, 0, 100, 0x51,
				  42, 42 };
	struct mh_rec_free f = { { MH_REC_FREE, MH_KIND_FREE, sizeof(f) }, 30, 0, 0, 42, 42 };
	struct mh_rec_lost lost = { { MH_REC_LOST, 0, sizeof(lost) }, 35, 3, MH_STREAM_ALLOC, 0 };
	struct mh_rec_exit ex = { { MH_REC_EXIT, 0, sizeof(ex) }, 50, 42, MH_EXIT_NORMAL, 1, 0 };
	char *path = mh_test_join(tmpdir, "t.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);
	int i;

	ck_assert_ptr_nonnull(w);
	append(w, MH_STREAM_META, &proc_rec);
	append(w, MH_STREAM_ALLOC, &st);
	st.s.stack_id = 0x52;
	st.ips[0] = 0x4321;
	append(w, MH_STREAM_ALLOC, &st);
	for (i = 0; i < 3; i++) {
		a.addr = 0x1000 + 0x100 * i;
		a.ts_ns++;
		append(w, MH_STREAM_ALLOC, &a);
	}
	f.addr = 0x1000;
	append(w, MH_STREAM_ALLOC, &f);
	a.addr = 0x9000;
	a.size = 40;
	a.stack_id = 0x52;
	append(w, MH_STREAM_ALLOC, &a);
	f.addr = 0x9000;
	append(w, MH_STREAM_ALLOC, &f);
	append(w, MH_STREAM_META, &lost);
	append(w, MH_STREAM_META, &ex);
	if (closed) {
		ck_assert_int_eq(mh_trace_writer_close(w), 0);
	} else {
		/* Flushed but never closed: a recorder that died. */
		ck_assert_int_eq(mh_trace_writer_flush(w), 0);
		/* The writer stays open on purpose until the process exits. */
	}
	return path;
}

static char *report(const char *trace, enum mh_report_format format, enum mh_report_key key)
{
	struct mh_report_opts opts = { .format = format, .sort = key, .value = key };
	char *out_path = mh_test_join(tmpdir, "report.out");
	FILE *out = fopen(out_path, "w");
	char *text;

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(mh_report_generate(trace, &opts, out) == 0, "%s", mh_report_error());
	fclose(out);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(text);
	free(out_path);
	return text;
}

static long long json_int(const char *json, const char *path)
{
	long long v = -1;

	ck_assert_msg(mh_test_json_int(json, path, &v) == 0, "no %s in %s", path, json);
	return v;
}

START_TEST(test_json_report)
{
	char *trace = write_trace(true);
	char *json = report(trace, MH_REPORT_JSON, MH_KEY_LEAKED);

	ck_assert_int_eq(json_int(json, "version"), 1);
	ck_assert_int_eq(json_int(json, "summary.alloc_calls"), 4);
	ck_assert_int_eq(json_int(json, "summary.free_calls"), 2);
	ck_assert_int_eq(json_int(json, "summary.bytes_allocated"), 340);
	ck_assert_int_eq(json_int(json, "summary.peak_live_bytes"), 300);
	ck_assert_int_eq(json_int(json, "summary.leaked_bytes"), 200);
	ck_assert_int_eq(json_int(json, "summary.leaked_blocks"), 2);
	ck_assert_int_eq(json_int(json, "summary.events_lost"), 3);
	ck_assert_int_eq(json_int(json, "process.pid"), 42);
	ck_assert_int_eq(json_int(json, "process.exit_status"), 1);
	ck_assert_ptr_nonnull(strstr(json, "\"command\": \"/bin/demo\""));
	ck_assert_ptr_nonnull(strstr(json, "\"truncated\": false"));
	/* The leak's stack first, with its two frames. */
	ck_assert_ptr_nonnull(strstr(json, "\"id\": \"0x51\""));
	ck_assert_int_lt(strstr(json, "\"id\": \"0x51\"") - json,
			 strstr(json, "\"id\": \"0x52\"") - json);
	ck_assert_ptr_nonnull(strstr(json, "\"address\": \"0x5678\""));
	free(json);
	free(trace);
}
END_TEST

START_TEST(test_text_report_flags_loss_and_truncation)
{
	char *trace = write_trace(false);
	char *text = report(trace, MH_REPORT_TEXT, MH_KEY_LEAKED);

	ck_assert_ptr_nonnull(strstr(text, "WARNING: the trace is truncated"));
	ck_assert_ptr_nonnull(strstr(text, "WARNING: 3 events were lost"));
	ck_assert_ptr_nonnull(strstr(text, "total heap usage: 4 allocs, 2 frees, 340 bytes allocated"));
	ck_assert_ptr_nonnull(strstr(text, "leaked (in use at exit): 200 B in 2 blocks"));
	free(text);
	free(trace);
}
END_TEST

START_TEST(test_folded_report)
{
	char *trace = write_trace(true);
	char *text = report(trace, MH_REPORT_FOLDED, MH_KEY_ALLOCATED);

	/* Outermost first; frames without a module are raw addresses. */
	ck_assert_ptr_nonnull(strstr(text, "0x5678;0x1234 300\n"));
	ck_assert_ptr_nonnull(strstr(text, "0x5678;0x4321 40\n"));
	free(text);
	free(trace);
}
END_TEST

/* A MODULE record with a 1-segment range [start, start + 0x1000), bias = start. */
static void append_module(struct mh_trace_writer *w, uint64_t ts, uint64_t start, const char *path)
{
	uint64_t buf[32] = { 0 };
	struct mh_rec_module *m = (void *)buf;
	struct mh_module_segment *seg = (void *)(m + 1);
	size_t len = strlen(path);

	m->hdr.type = MH_REC_MODULE;
	m->hdr.size = MH_REC_PAD(sizeof(*m) + sizeof(*seg) + len + 1);
	m->ts_ns = ts;
	m->load_bias = start;
	m->pid = 42;
	m->segment_count = 1;
	m->path_len = len;
	seg->start = start;
	seg->size = 0x1000;
	memcpy(seg + 1, path, len);
	append(w, MH_STREAM_META, m);
}

/*
 * A library is unloaded and another one loaded at the same address: each
 * stack is named with the module map of the moment it was first used,
 * although all META records reach the file after the ALLOC records.
 */
START_TEST(test_modules_at_the_time_of_use)
{
	struct mh_trace_header hdr = {
		.magic = MH_TRACE_MAGIC, .version = MH_TRACE_VERSION,
		.header_bytes = sizeof(hdr), .flags = MH_TRACE_LITTLE_ENDIAN,
		.page_size = 4096, .root_pid = 42, .pointer_bytes = 8,
	};
	struct {
		struct mh_rec_stack s;
		uint64_t ips[1];
	} st = { { { MH_REC_STACK, 0, sizeof(st) }, 0x61, 42, 1, 0 }, { 0x7000500 } };
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 30, 0x10, 8, 0x61,
				  42, 42 };
	struct mh_rec_module_unload u = { { MH_REC_MODULE_UNLOAD, 0, sizeof(u) }, 40, 0x7000000,
					  42, 0 };
	char *path = mh_test_join(tmpdir, "mods.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);
	char *text;

	ck_assert_ptr_nonnull(w);
	append_module(w, 20, 0x7000000, "/nonexistent/libfirst.so");
	append(w, MH_STREAM_ALLOC, &st);
	append(w, MH_STREAM_ALLOC, &a);
	append(w, MH_STREAM_META, &u);
	append_module(w, 50, 0x7000000, "/nonexistent/libsecond.so");
	st.s.stack_id = 0x62;
	st.ips[0] = 0x7000600;
	append(w, MH_STREAM_ALLOC, &st);
	a.ts_ns = 60;
	a.addr = 0x20;
	a.size = 16;
	a.stack_id = 0x62;
	append(w, MH_STREAM_ALLOC, &a);
	ck_assert_int_eq(mh_trace_writer_close(w), 0);

	text = report(path, MH_REPORT_FOLDED, MH_KEY_ALLOCATED);
	ck_assert_ptr_nonnull(strstr(text, "libfirst.so+0x4ff 8\n"));
	ck_assert_ptr_nonnull(strstr(text, "libsecond.so+0x5ff 16\n"));
	free(text);
	free(path);
}
END_TEST

START_TEST(test_missing_trace_is_an_error)
{
	struct mh_report_opts opts = { 0 };
	char *path = mh_test_join(tmpdir, "absent.mht");

	ck_assert_int_eq(mh_report_generate(path, &opts, stdout), -ENOENT);
	ck_assert_ptr_nonnull(strstr(mh_report_error(), "absent.mht"));
	free(path);
}
END_TEST

static Suite *merger_suite(void)
{
	Suite *s = suite_create("merger");
	TCase *tc = tcase_create("Replay");
	TCase *tr = tcase_create("Reports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counts_like_memcheck_rules);
	tcase_add_test(tc, test_realloc_chain);
	tcase_add_test(tc, test_peak_is_global_moment);
	tcase_add_test(tc, test_leaks_per_stack);
	tcase_add_test(tc, test_temporary_per_thread);
	tcase_add_test(tc, test_size_histogram);
	tcase_add_test(tc, test_processes_apart);
	tcase_add_test(tc, test_fork_child_inherits_live_blocks);
	tcase_add_test(tc, test_leak_kinds_per_stack);
	tcase_add_test(tc, test_totals_match_valgrind);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tr, trace_setup, trace_teardown);
	tcase_add_test(tr, test_json_report);
	tcase_add_test(tr, test_text_report_flags_loss_and_truncation);
	tcase_add_test(tr, test_folded_report);
	tcase_add_test(tr, test_modules_at_the_time_of_use);
	tcase_add_test(tr, test_missing_trace_is_an_error);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(merger_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
