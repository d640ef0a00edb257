// SPDX-License-Identifier: MIT
/*
 * hotpath_steps.c - where the preload's in-process time per malloc+free
 * pair goes, for bench/run.sh: each step of the recording path timed on
 * its own, at stack depths 3, 15 and 30, in frames built with and without
 * frame pointers.
 *
 * Usage: hotpath_steps steps [ITERATIONS]   one row per step, ns per pair
 *        hotpath_steps pair [ITERATIONS]    one row: ns of thread CPU per
 *                                           malloc(64)+free pair, run
 *                                           natively or under memhook
 *
 * Links the preload's own objects (libmhpreload.a) and calls them the way
 * preload/core.c does for one malloc and one free:
 *   stack capture   mh_stack_capture(MH_UNWIND_AUTO) from the allocating
 *                   frame (x1: a free records no stack);
 *   timestamps      mh_clock_ns_unordered() (x2: one per record), as a
 *                   process stamps while one thread alone records; on an
 *                   indented row, not summed, mh_clock_ns(), the fenced
 *                   read every thread uses once a second one records;
 *   interning       mh_stack_hash + mh_stackids_intern of a known stack
 *                   (x1; core.c skips it when the capture came with a memo);
 *   buffer write    mh_ring_reserve + stores + mh_ring_commit of an ALLOC
 *                   and a FREE record into a ring this program created and
 *                   drains itself between batches (x2).
 * Each figure is the median over ROUNDS batches of thread CPU time. The
 * steps run hot in the cache, alone: the pair's in-process cost (memhook
 * minus native, run.sh subtracts) also holds the hooks' guard and errno
 * handling, the ring's waits, and the cache misses the steps cause each
 * other and the program.
 *
 * Never part of make check: it asserts no timing.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/tsc.h"
#include "preload/clock.h"
#include "preload/ring.h"
#include "preload/stackids.h"
#include "preload/unwind.h"
#include "recorder/ring_consumer.h"

#define DEFAULT_ITERATIONS 200000L
#define ROUNDS 7
#define RING_BYTES (4ULL << 20)
#define CONFIGS 6

static const int depths[3] = { 3, 15, 30 };

static long iterations = DEFAULT_ITERATIONS;
static struct mh_ring consumer, producer;
static struct mh_stackids *ids;
/* A stack already interned (the interning step looks it up), and its depth. */
static __u64 known[MH_STACK_CAPTURE_MAX];
static unsigned int known_n;
/* Pairs written between two drains; time spent draining in this batch. */
static long batch;
static __u64 drain_ns;

enum step { STEP_CAPTURE, STEP_CLOCK, STEP_CLOCK_FENCED, STEP_INTERN, STEP_WRITE, STEP_PAIR };

static __u64 thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The consumer's part, not counted (drain_ns): everything written is read. */
static void drain(void)
{
	__u64 t0 = thread_ns();

	for (__u32 i = 0; i < producer.slot_count; i++)
		__atomic_store_n(&producer.slots[i].tail,
				 __atomic_load_n(&producer.slots[i].head, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	drain_ns += thread_ns() - t0;
}

/* One ALLOC and one FREE record, filled the way core.c fills them. */
static void write_pair(__u64 ts)
{
	struct mh_rec_alloc *a = mh_ring_reserve(&producer, sizeof(*a));
	struct mh_rec_free *f;

	a->ts_ns = ts;
	a->addr = (uintptr_t)&ts;
	a->size = 64;
	a->stack_id = ts;
	a->tid = 1;
	a->pid = 1;
	mh_ring_commit(a, (struct mh_rec_hdr){ .type = MH_REC_ALLOC, .kind = MH_KIND_MALLOC,
					       .size = sizeof(*a) });
	f = mh_ring_reserve(&producer, sizeof(*f));
	f->ts_ns = ts + 1;
	f->addr = (uintptr_t)&ts;
	f->size = 0;
	f->tid = 1;
	f->pid = 1;
	mh_ring_commit(f, (struct mh_rec_hdr){ .type = MH_REC_FREE, .kind = MH_KIND_FREE,
					       .size = sizeof(*f) });
}

/* The records of one pair, so a batch never outruns the slot between drains. */
#define PAIR_BYTES (sizeof(struct mh_rec_alloc) + sizeof(struct mh_rec_free))

/*
 * What the preload does in its own frames for one step, iteration i: in
 * a section of its own, which mh_stack_setup is told is the caller's own
 * code, as the preload's text is (so the capture's site is site_fp's or
 * site_nofp's call).
 */
static __attribute__((noinline, section("hotpath_own"))) __u64 own_step(enum step step, long i)
{
	__u64 ips[MH_STACK_CAPTURE_MAX];
	struct mh_memo_ref memo;
	bool truncated;

	switch (step) {
	case STEP_CAPTURE:
		return mh_stack_capture(MH_UNWIND_AUTO, ips, MH_STACK_CAPTURE_MAX, &truncated,
					&memo);
	case STEP_CLOCK:
		return mh_clock_ns_unordered() + mh_clock_ns_unordered();
	case STEP_CLOCK_FENCED:
		return mh_clock_ns() + mh_clock_ns();
	case STEP_INTERN:
		return mh_stackids_intern(ids, mh_stack_hash(1, known, known_n));
	case STEP_WRITE:
		if (i % batch == 0)
			drain();
		write_pair((__u64)i);
		return 0;
	default:
		return 0;
	}
}

extern char __start_hotpath_own[], __stop_hotpath_own[];

/*
 * The allocating function, once with frame pointers and once without:
 * iterations of the step, or of malloc(64) + free.
 */
#define SITE(name, attr)                                                      \
	static __attribute__((noinline, attr)) __u64 name(enum step step)     \
	{                                                                     \
		__u64 sink = 0;                                               \
		for (long i = 0; i < iterations; i++) {                       \
			if (step == STEP_PAIR) {                              \
				void *volatile p = malloc(64);                \
				free(p);                                      \
			} else {                                              \
				sink += own_step(step, i);                    \
			}                                                     \
		}                                                             \
		return sink;                                                  \
	}

/* depth - 1 frames of each kind above the site; the volatile keeps them real. */
#define DESCEND(name, site, attr)                                             \
	static __attribute__((noinline, attr)) __u64 name(int depth, enum step step) \
	{                                                                     \
		volatile int guard = depth;                                   \
		__u64 v;                                                      \
		if (depth <= 1)                                               \
			return site(step);                                    \
		v = name(depth - 1, step);                                    \
		return guard ? v : 0;                                         \
	}

SITE(site_fp, optimize("no-omit-frame-pointer"))
SITE(site_nofp, optimize("omit-frame-pointer"))
DESCEND(descend_fp, site_fp, optimize("no-omit-frame-pointer"))
DESCEND(descend_nofp, site_nofp, optimize("omit-frame-pointer"))

/* The step at depth frames: ns per pair, median of ROUNDS batches (drains not counted). */
static __u64 run_step(enum step step, bool fp, int depth)
{
	__u64 times[ROUNDS], sink = 0;

	/* The frames a capture at this depth gives: the site, depth - 1 more, main, libc's. */
	known_n = (unsigned int)depth + 3;
	if (step == STEP_INTERN)
		mh_stackids_intern(ids, mh_stack_hash(1, known, known_n));
	for (int r = 0; r < ROUNDS; r++) {
		__u64 t0, t1;

		drain_ns = 0;
		t0 = thread_ns();
		sink += fp ? descend_fp(depth, step) : descend_nofp(depth, step);
		t1 = thread_ns();
		times[r] = t1 - t0 - drain_ns;
	}
	qsort(times, ROUNDS, sizeof(times[0]), cmp_u64);
	__asm__ __volatile__("" : : "r"(sink));
	return times[ROUNDS / 2] / (__u64)iterations;
}

/* One row: the step at each depth, frame pointers first. */
static void row(const char *label, enum step step)
{
	printf("%-34s", label);
	for (int fp = 1; fp >= 0; fp--)
		for (int d = 0; d < 3; d++)
			printf(" %8llu", (unsigned long long)run_step(step, fp, depths[d]));
	printf("\n");
	fflush(stdout);
}

static int steps(void)
{
	int err;

	err = mh_ring_create(&consumer, RING_BYTES, 0);
	if (!err)
		err = mh_ring_attach(&producer, consumer.fd);
	if (err) {
		fprintf(stderr, "hotpath_steps: ring: %s\n", strerror(-err));
		return 1;
	}
	ids = mh_stackids_new(16);
	if (!ids || mh_stack_setup(MH_UNWIND_AUTO, (uintptr_t)__start_hotpath_own,
				   (uintptr_t)__stop_hotpath_own)) {
		fprintf(stderr, "hotpath_steps: stack tables: cannot map\n");
		return 1;
	}
	mh_clock_setup(mh_tsc_usable());
	batch = (long)(producer.slot_bytes / 2 / PAIR_BYTES);
	for (int i = 0; i < MH_STACK_CAPTURE_MAX; i++)
		known[i] = 0x400000 + 0x40 * (__u64)i;
	row("stack capture (x1)", STEP_CAPTURE);
	row(mh_clock_uses_tsc() ? "timestamps (x2, TSC, one thread)" :
				  "timestamps (x2, clock_gettime)", STEP_CLOCK);
	if (mh_clock_uses_tsc())
		row("  threads: fenced (not summed)", STEP_CLOCK_FENCED);
	row("interning (x1, hash + id set)", STEP_INTERN);
	row("buffer write (x2, reserve+commit)", STEP_WRITE);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2)
		iterations = atol(argv[2]);
	if (argc < 2 || iterations <= 0 || (strcmp(argv[1], "steps") && strcmp(argv[1], "pair"))) {
		fprintf(stderr, "usage: hotpath_steps steps|pair [ITERATIONS]\n");
		return 2;
	}
	if (!strcmp(argv[1], "pair")) {
		row("pair", STEP_PAIR);
		return 0;
	}
	return steps();
}
