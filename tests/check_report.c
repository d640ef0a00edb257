// SPDX-License-Identifier: MIT
/*
 * check_report.c - the merger's replay and reports (merger/replay/replay.c,
 * merger/report/): heap counts as memcheck counts them (checked against
 * Valgrind on a program that logs its own calls), the heap peak and each
 * stack's share of it, leaks, temporary allocations, realloc chains,
 * several processes, a fork child's stacks in the same order at every
 * run, and reports written from a real trace file (truncated, with lost
 * events).
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/merger_fixtures.h"

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

static void feed(const void *rec)
{
	mh_fx_feed(rp, rec);
}

static void ev_alloc(uint32_t pid, uint32_t tid, uint64_t addr, uint64_t size, uint64_t stack,
		     int kind)
{
	mh_fx_alloc(rp, pid, tid, addr, size, stack, kind);
}

static void ev_free(uint32_t pid, uint32_t tid, uint64_t addr, int kind, uint64_t size)
{
	mh_fx_free(rp, pid, tid, addr, kind, size);
}

static void ev_realloc(uint32_t pid, uint64_t old, uint64_t addr, uint64_t size, uint64_t stack)
{
	struct mh_rec_realloc r = {
		.hdr = { MH_REC_REALLOC, MH_KIND_REALLOC, sizeof(r) },
		.ts_ns = mh_fx_now_ns++, .addr = addr, .size = size, .old_addr = old,
		.stack_id = stack, .tid = pid, .pid = pid,
	};

	feed(&r);
}

static void ev_exit(uint32_t pid, int status)
{
	struct mh_rec_exit e = {
		.hdr = { MH_REC_EXIT, 0, sizeof(e) },
		.ts_ns = mh_fx_now_ns++, .pid = pid, .reason = MH_EXIT_NORMAL, .status = status,
	};

	feed(&e);
}

static void ev_process(uint32_t pid, uint32_t ppid, uint32_t start, const char *path)
{
	struct {
		struct mh_rec_process r;
		char path[64];
	} rec = { { { MH_REC_PROCESS, 0, sizeof(rec) }, mh_fx_now_ns++, pid, ppid, start,
		    (uint32_t)strlen(path) }, "" };

	strcpy(rec.path, path);
	feed(&rec);
}

static struct mh_process *proc(uint32_t pid)
{
	return mh_fx_proc(rp, pid);
}

static struct mh_stack_stats *stack(uint32_t pid, uint64_t id)
{
	return mh_fx_stack(rp, pid, id);
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
	peak_ts = mh_fx_now_ns - 1;
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

/*
 * 20,000 stacks in one process, used in rounds: the stack cache in
 * front of its table starts once the process is busy and grows as its
 * stacks outgrow it (replay.c). Every stack's calls and live bytes are
 * what was fed, whichever round, and the process's totals their sum.
 */
START_TEST(test_many_stacks_counted)
{
	const unsigned stacks = 20000, rounds = 3;
	uint64_t addr = 0x100000;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < stacks; i++) {
			ev_alloc(PID, TID, addr, 16 + i % 64,
				 (uint64_t)i * 0x9e3779b97f4a7c15ULL | 1, MH_KIND_MALLOC);
			addr += 0x100;
		}
	for (unsigned i = 0; i < stacks; i++) {
		struct mh_stack_stats *st = stack(PID, (uint64_t)i * 0x9e3779b97f4a7c15ULL | 1);

		ck_assert_uint_eq(st->alloc_calls, rounds);
		ck_assert_uint_eq(st->live_bytes, rounds * (16 + i % 64));
	}
	ck_assert_uint_eq(HASH_COUNT(mh_fx_proc(rp, PID)->stacks), stacks);
	ck_assert_uint_eq(mh_fx_proc(rp, PID)->alloc_calls, (uint64_t)stacks * rounds);
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

/*
 * A fork child's stacks come from its parent's block table, whose order
 * changes from run to run (a random multiplier); reports list a process's
 * stacks in their table's order (pprof's samples, the flame graph), so
 * the child's are sorted by id: the same at every run. Ids fall as
 * addresses rise, so neither table order nor address order passes.
 */
START_TEST(test_fork_child_stacks_in_id_order)
{
	const struct mh_stack_stats *st, *next;
	unsigned n = 0;

	ev_process(1, 0, MH_PROCESS_LAUNCHED, "/bin/parent");
	for (uint64_t i = 0; i < 200; i++)
		ev_alloc(1, 1, 0x100000 + 0x40 * i, 16, 1000 - i % 64, MH_KIND_MALLOC);
	ev_process(2, 1, MH_PROCESS_FORKED, "/bin/parent");
	mh_replay_finish(rp);
	for (st = proc(2)->stacks; st; st = next, n++) {
		next = st->hh.next;
		if (next)
			ck_assert_uint_lt(st->stack_id, next->stack_id);
	}
	ck_assert_uint_eq(n, 64);
	ck_assert_uint_eq(proc(2)->live_blocks, 200);
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
/*
 * An allocation at an address that is still live (its free was lost)
 * retires the old block first: 100 bytes from stack 1 at 0x10, then 50
 * from stack 2 at 0x10 -> one live block of 50 bytes, stack 2's; stack 1
 * counts one free of 100; a block elsewhere is untouched.
 */
START_TEST(test_alloc_over_live_block)
{
	struct mh_process *p;

	ev_alloc(PID, TID, 0x10, 100, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x900, 7, 1, MH_KIND_MALLOC);
	ev_alloc(PID, TID, 0x10, 50, 2, MH_KIND_MALLOC);
	mh_replay_finish(rp);
	p = proc(PID);
	ck_assert_uint_eq(p->double_allocs, 1);
	ck_assert_uint_eq(p->live_blocks, 2);
	ck_assert_uint_eq(p->live_bytes, 57);
	ck_assert_uint_eq(stack(PID, 1)->frees, 1);
	ck_assert_uint_eq(stack(PID, 1)->bytes_freed, 100);
	ck_assert_uint_eq(stack(PID, 1)->live_bytes, 7);
	ck_assert_uint_eq(stack(PID, 2)->live_bytes, 50);
}
END_TEST

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

/*
 * A small trace: process 42 "/bin/demo", stack 0x51 (2 frames) allocates
 * 3 x 100 bytes and frees one, stack 0x52 allocates 40 and frees it;
 * 3 events lost; exit status 1. closed says whether the END chunk is
 * written.
 */
static char *write_trace(bool closed)
{
	struct mh_trace_header hdr = mh_fx_header(42, 4096);
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
	char *path = mh_test_join(mh_fx_tmpdir, "t.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);
	int i;

	ck_assert_ptr_nonnull(w);
	mh_fx_append(w, MH_STREAM_META, &proc_rec);
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	st.s.stack_id = 0x52;
	st.ips[0] = 0x4321;
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	for (i = 0; i < 3; i++) {
		a.addr = 0x1000 + 0x100 * i;
		a.ts_ns++;
		mh_fx_append(w, MH_STREAM_ALLOC, &a);
	}
	f.addr = 0x1000;
	mh_fx_append(w, MH_STREAM_ALLOC, &f);
	a.addr = 0x9000;
	a.size = 40;
	a.stack_id = 0x52;
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	f.addr = 0x9000;
	mh_fx_append(w, MH_STREAM_ALLOC, &f);
	mh_fx_append(w, MH_STREAM_META, &lost);
	mh_fx_append(w, MH_STREAM_META, &ex);
	if (closed) {
		ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	} else {
		/* Flushed but never closed: a recorder that died. */
		ck_assert_int_eq(mh_trace_writer_flush(w), 0);
		/* The writer stays open on purpose until the process exits. */
	}
	return path;
}

START_TEST(test_json_report)
{
	char *trace = write_trace(true);
	char *json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_JSON, MH_KEY_LEAKED);

	ck_assert_int_eq(mh_fx_json_int(json, "version"), 1);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.alloc_calls"), 4);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.free_calls"), 2);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.bytes_allocated"), 340);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.peak_live_bytes"), 300);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaked_bytes"), 200);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaked_blocks"), 2);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.events_lost"), 3);
	ck_assert_int_eq(mh_fx_json_int(json, "process.pid"), 42);
	ck_assert_int_eq(mh_fx_json_int(json, "process.exit_status"), 1);
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
	char *text = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_TEXT, MH_KEY_LEAKED);

	ck_assert_ptr_nonnull(strstr(text, "WARNING: the trace is truncated"));
	ck_assert_ptr_nonnull(strstr(text, "WARNING: 3 events were lost"));
	ck_assert_ptr_nonnull(strstr(text, "total heap usage: 4 allocs, 2 frees, 340 bytes allocated"));
	ck_assert_ptr_nonnull(strstr(text, "leaked (in use at exit): 200 B in 2 blocks"));
	free(text);
	free(trace);
}
END_TEST

/*
 * examples/self_kill mallocs 1000 blocks of 512 bytes and SIGKILLs itself
 * (its own account). No exit-time scan can run: the report keeps the
 * blocks as leaked, leaves every leak kind null, and says why.
 */
START_TEST(test_sigkill_leak_kinds_unknown)
{
	char *memhook = mh_test_path("memhook"), *prog = mh_test_path("examples/self_kill");
	char *trace = mh_test_join(mh_fx_tmpdir, "k.mht");
	const char *rec[] = { memhook, "record", "-q", "--kernel=off", "-o", trace, "--", prog,
			      NULL };
	struct mh_test_cmd cmd = { .argv = rec };
	char *json = NULL, *text = NULL;
	const char *v;

	if (!mh_test_executable(memhook) || !mh_test_executable(prog)) {
		mh_test_skip("sigkill_leak_kinds_unknown", "memhook or examples/self_kill not built");
		goto out;
	}
	ck_assert_int_ge(mh_test_run(&cmd), 0);	/* it ran; its status is the child's fate */
	json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_JSON, MH_KEY_LEAKED);
	text = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_TEXT, MH_KEY_LEAKED);
	ck_assert_ptr_nonnull(strstr(json, "\"end\": \"signal\""));
	ck_assert_int_eq(mh_fx_json_int(json, "process.signal"), SIGKILL);
	ck_assert_int_ge(mh_fx_json_int(json, "summary.leaked_bytes"), 1000 * 512);
	ck_assert_int_ge(mh_fx_json_int(json, "summary.leaked_blocks"), 1000);
	v = mh_test_json_value(json, "summary.leaks.definite.bytes");
	ck_assert_msg(v && !strncmp(v, "null", 4), "definite bytes not null: %.20s", v ? v : "-");
	v = mh_test_json_value(json, "process.leak_kinds_unknown");
	ck_assert_msg(v && !strncmp(v, "\"killed by SIGKILL", 18), "no SIGKILL reason: %.80s",
		      v ? v : "-");
	ck_assert_ptr_nonnull(strstr(text, "leak kinds unknown: killed by SIGKILL"));
out:
	free(json);
	free(text);
	free(memhook);
	free(prog);
	free(trace);
}
END_TEST

START_TEST(test_folded_report)
{
	char *trace = write_trace(true);
	char *text = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_FOLDED, MH_KEY_ALLOCATED);

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
	mh_fx_append(w, MH_STREAM_META, m);
}

/*
 * A library is unloaded and another one loaded at the same address: each
 * stack is named with the module map of the moment it was first used,
 * although all META records reach the file after the ALLOC records.
 */
START_TEST(test_modules_at_the_time_of_use)
{
	struct mh_trace_header hdr = mh_fx_header(42, 4096);
	struct {
		struct mh_rec_stack s;
		uint64_t ips[2];
	} st = { { { MH_REC_STACK, 0, sizeof(st) }, 0x61, 42, 2, 0 }, { 0x7000500, 0x7000520 } };
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 30, 0x10, 8, 0x61,
				  42, 42 };
	struct mh_rec_module_unload u = { { MH_REC_MODULE_UNLOAD, 0, sizeof(u) }, 40, 0x7000000,
					  42, 0 };
	char *path = mh_test_join(mh_fx_tmpdir, "mods.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);
	char *text;

	ck_assert_ptr_nonnull(w);
	append_module(w, 20, 0x7000000, "/nonexistent/libfirst.so");
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	mh_fx_append(w, MH_STREAM_META, &u);
	append_module(w, 50, 0x7000000, "/nonexistent/libsecond.so");
	st.s.stack_id = 0x62;
	st.ips[0] = 0x7000600;
	st.ips[1] = 0x7000620;
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	a.ts_ns = 60;
	a.addr = 0x20;
	a.size = 16;
	a.stack_id = 0x62;
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);

	text = mh_fx_report(mh_fx_tmpdir, path, MH_REPORT_FOLDED, MH_KEY_ALLOCATED);
	ck_assert_msg(strstr(text, "libfirst.so+0x51f;libfirst.so+0x4ff 8\n") &&
		      strstr(text, "libsecond.so+0x61f;libsecond.so+0x5ff 16\n"), "%s", text);
	free(text);
	free(path);
}
END_TEST

/*
 * The format allows a record up to a chunk's size (16 MiB), larger than
 * the batches the master stream travels in: a 1.5 MiB INFO record (key
 * "pad") between two mallocs of 100 bytes must not cut the stream or
 * overrun a batch. 2 allocs, 200 bytes: the trace's own content.
 */
START_TEST(test_record_larger_than_a_batch)
{
	struct mh_trace_header hdr = mh_fx_header(42, 4096);
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 20, 0x1000, 100, 0,
				  42, 42 };
	size_t big = 3 << 19;
	struct mh_rec_info *info = calloc(1, big);
	char *path = mh_test_join(mh_fx_tmpdir, "big.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);
	char *json;

	ck_assert_ptr_nonnull(info);
	ck_assert_ptr_nonnull(w);
	*info = (struct mh_rec_info){ { MH_REC_INFO, 0, (uint32_t)big }, 21, 42, 3, 0 };
	memcpy(info + 1, "pad", 4);
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	mh_fx_append(w, MH_STREAM_ALLOC, info);
	a.addr = 0x2000;
	a.ts_ns = 22;
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	json = mh_fx_report(mh_fx_tmpdir, path, MH_REPORT_JSON, MH_KEY_LEAKED);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.alloc_calls"), 2);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.bytes_allocated"), 200);
	free(json);
	free(info);
	free(path);
}
END_TEST

START_TEST(test_missing_trace_is_an_error)
{
	struct mh_report_opts opts = { 0 };
	char *path = mh_test_join(mh_fx_tmpdir, "absent.mht"), why[MH_REPORT_ERROR_BYTES];

	ck_assert_int_eq(mh_report_generate(path, &opts, stdout, why), -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "absent.mht"));
	free(path);
}
END_TEST

static Suite *merger_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("Replay");
	TCase *tr = tcase_create("Reports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counts_like_memcheck_rules);
	tcase_add_test(tc, test_alloc_over_live_block);
	tcase_add_test(tc, test_realloc_chain);
	tcase_add_test(tc, test_peak_is_global_moment);
	tcase_add_test(tc, test_leaks_per_stack);
	tcase_add_test(tc, test_temporary_per_thread);
	tcase_add_test(tc, test_size_histogram);
	tcase_add_test(tc, test_many_stacks_counted);
	tcase_add_test(tc, test_processes_apart);
	tcase_add_test(tc, test_fork_child_inherits_live_blocks);
	tcase_add_test(tc, test_fork_child_stacks_in_id_order);
	tcase_add_test(tc, test_leak_kinds_per_stack);
	tcase_add_test(tc, test_totals_match_valgrind);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tr, mh_fx_tmpdir_setup, mh_fx_tmpdir_teardown);
	tcase_add_test(tr, test_json_report);
	tcase_add_test(tr, test_text_report_flags_loss_and_truncation);
	tcase_add_test(tr, test_folded_report);
	tcase_add_test(tr, test_sigkill_leak_kinds_unknown);
	tcase_add_test(tr, test_record_larger_than_a_batch);
	tcase_add_test(tr, test_modules_at_the_time_of_use);
	tcase_add_test(tr, test_missing_trace_is_an_error);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	return mh_test_run_suite(merger_suite());
}
