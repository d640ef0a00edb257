// SPDX-License-Identifier: MIT
/*
 * check_stackids.c - stack capture (preload/unwind.c), stack ids and
 * interning (preload/stackids.c): the same stack gives the same id and is
 * sent once, different stacks give different ids, both unwinders report
 * the return addresses the compiler itself reports
 * (__builtin_return_address) on a chain of frame-pointer functions, and
 * auto mode gives libunwind's answer, by the frame-pointer walk on such a
 * chain and despite it through glibc's qsort (built without frame
 * pointers), where the walk alone is wrong, and a capture's memo, once
 * its check word agrees, holds the id its caller kept for that stack.
 */
#include <check.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "preload/stackids.h"
#include "tests/testutil.h"

#define CHAIN 4

/* Filled by the chain: what each level's own return address is. */
static __u64 expect[CHAIN + 1];
static __u64 got[MH_STACK_MAX_DEPTH];
static unsigned int got_n;
static bool got_truncated;

static __attribute__((noinline)) void capture_here(enum mh_unwind mode, unsigned int max)
{
	expect[1] = (uintptr_t)__builtin_return_address(0);
	got_n = mh_stack_capture(mode, got, max, &got_truncated, NULL);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void level3(enum mh_unwind mode, unsigned int max)
{
	expect[2] = (uintptr_t)__builtin_return_address(0);
	capture_here(mode, max);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void level2(enum mh_unwind mode, unsigned int max)
{
	expect[3] = (uintptr_t)__builtin_return_address(0);
	level3(mode, max);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void level1(enum mh_unwind mode, unsigned int max)
{
	expect[4] = (uintptr_t)__builtin_return_address(0);
	level2(mode, max);
	__asm__ __volatile__("" ::: "memory");
}

/* One call site for every capture, so frames above the chain compare equal too. */
static __attribute__((noinline)) void run_chain(enum mh_unwind mode, unsigned int max)
{
	level1(mode, max);
	__asm__ __volatile__("" ::: "memory");
}

static void check_chain(enum mh_unwind mode)
{
	unsigned int i;

	mh_stack_setup(mode, 0, 0);
	level1(mode, MH_STACK_DEFAULT_DEPTH);
	ck_assert_uint_ge(got_n, CHAIN + 1);
	/* ips[0] is inside capture_here, just after its call. */
	ck_assert_uint_gt(got[0], (uintptr_t)capture_here);
	ck_assert_uint_lt(got[0], (uintptr_t)capture_here + 256);
	for (i = 1; i <= CHAIN; i++)
		ck_assert_uint_eq(got[i], expect[i]);
}

START_TEST(test_capture_fp)
{
	check_chain(MH_UNWIND_FP);
}
END_TEST

START_TEST(test_capture_libunwind)
{
	check_chain(MH_UNWIND_LIBUNWIND);
}
END_TEST

START_TEST(test_fp_agrees_with_libunwind)
{
	__u64 fp[MH_STACK_MAX_DEPTH];
	unsigned int fp_n, i;

	mh_stack_setup(MH_UNWIND_LIBUNWIND, 0, 0);
	run_chain(MH_UNWIND_FP, MH_STACK_DEFAULT_DEPTH);
	fp_n = got_n;
	memcpy(fp, got, sizeof(fp));
	run_chain(MH_UNWIND_LIBUNWIND, MH_STACK_DEFAULT_DEPTH);
	/* Past the test's own frames, code without frame pointers may end the fp walk. */
	ck_assert_uint_ge(fp_n, CHAIN + 2);
	for (i = 0; i <= CHAIN && i < got_n; i++)
		ck_assert_msg(fp[i] == got[i], "frame %u: fp %#llx libunwind %#llx", i,
			      (unsigned long long)fp[i], (unsigned long long)got[i]);
}
END_TEST

START_TEST(test_capture_truncates)
{
	enum mh_unwind mode = _i ? MH_UNWIND_FP : MH_UNWIND_LIBUNWIND;

	mh_stack_setup(mode, 0, 0);
	level1(mode, 3);
	ck_assert_uint_eq(got_n, 3);
	ck_assert(got_truncated);
	ck_assert_uint_eq(got[1], expect[1]);
	ck_assert_uint_eq(got[2], expect[2]);
	level1(mode, MH_STACK_MAX_DEPTH);
	ck_assert(!got_truncated);
}
END_TEST

/* One capture per mode from the same call site, so every frame must compare equal. */
struct modes {
	__u64 ips[3][MH_STACK_MAX_DEPTH];
	unsigned int n[3];
	bool truncated[3];
};

static __attribute__((noinline)) void capture_modes(struct modes *m)
{
	static const enum mh_unwind order[3] = { MH_UNWIND_AUTO, MH_UNWIND_LIBUNWIND,
						 MH_UNWIND_FP };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		capture_here(order[i], MH_STACK_DEFAULT_DEPTH);
		memcpy(m->ips[i], got, sizeof(got));
		m->n[i] = got_n;
		m->truncated[i] = got_truncated;
	}
	__asm__ __volatile__("" ::: "memory");
}

static bool modes_equal(const struct modes *m, unsigned int a, unsigned int b)
{
	return m->n[a] == m->n[b] && m->truncated[a] == m->truncated[b] &&
	       !memcmp(m->ips[a], m->ips[b], m->n[a] * sizeof(__u64));
}

struct auto_run {
	unsigned int rounds;
	unsigned int auto_differs;	/* auto's answer was not libunwind's */
	unsigned int fp_differs;	/* the plain frame-pointer walk's was not */
	struct mh_unwind_stats stats;
	struct mh_unwind_stats mid;	/* run_fp_then_qsort: after the qsort */
};

static struct auto_run *cur_run;

static __attribute__((noinline)) void chain_leaf(void)
{
	/*
	 * Not on the stack: it holds the stack's return addresses, copies
	 * of them below their slots for the next capture (the slot cache
	 * checks at most MH_SLOTS_COPIES_MAX: test_auto_cut_recursion). The
	 * threads of these tests run one at a time.
	 */
	static struct modes m;

	capture_modes(&m);
	cur_run->auto_differs += !modes_equal(&m, 0, 1);
	cur_run->fp_differs += !modes_equal(&m, 2, 1);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void chain_mid(int depth)
{
	if (depth)
		chain_mid(depth - 1);
	else
		chain_leaf();
	__asm__ __volatile__("" ::: "memory");
}

static int by_value(const void *a, const void *b)
{
	chain_leaf();
	return *(const int *)a - *(const int *)b;
}

/* In a thread: below its start function, libunwind finds only clone's frame. */
static void *run_fp_chain(void *arg)
{
	struct auto_run *r = arg;
	unsigned int i;

	cur_run = r;
	for (i = 0; i < r->rounds; i++)
		chain_mid((int)(i % 3));
	mh_unwind_stats(&r->stats);
	return NULL;
}

static void *run_qsort(void *arg)
{
	struct auto_run *r = arg;
	int v[64];
	unsigned int i, k;

	cur_run = r;
	for (k = 0; k < r->rounds; k++) {
		for (i = 0; i < 64; i++)
			v[i] = (int)((i * 37 + k) % 64);
		qsort(v, 64, sizeof(v[0]), by_value);
	}
	mh_unwind_stats(&r->stats);
	return NULL;
}

/* The fp chain, one qsort through the same site, the fp chain again. */
static void *run_fp_then_qsort(void *arg)
{
	struct auto_run *r = arg;
	int v[64];
	unsigned int i;

	cur_run = r;
	for (i = 0; i < r->rounds; i++)
		chain_mid((int)(i % 3));
	for (i = 0; i < 64; i++)
		v[i] = (int)(i * 37 % 64);
	qsort(v, 64, sizeof(v[0]), by_value);
	mh_unwind_stats(&r->mid);
	for (i = 0; i < r->rounds; i++)
		chain_mid((int)(i % 3));
	mh_unwind_stats(&r->stats);
	return NULL;
}

/* Deeper than a capture keeps, and all of it within what libunwind's buffer holds. */
#define CUT_RECURSION (MH_STACK_DEFAULT_DEPTH + 48)

/* qsort once (its site then needs libunwind), then a stack cut mid-recursion, round after round. */
static void *run_cut_recursion(void *arg)
{
	struct auto_run *r = arg;
	int v[64];
	unsigned int i;

	cur_run = r;
	for (i = 0; i < 64; i++)
		v[i] = (int)(i * 37 % 64);
	qsort(v, 64, sizeof(v[0]), by_value);
	mh_unwind_stats(&r->mid);
	for (i = 0; i < r->rounds; i++)
		chain_mid(CUT_RECURSION);
	mh_unwind_stats(&r->stats);
	return NULL;
}

static void run_in_thread(void *(*fn)(void *), struct auto_run *r)
{
	pthread_t t;

	ck_assert_int_eq(mh_stack_setup(MH_UNWIND_AUTO, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, fn, r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}

/* Frame pointers all the way down to the thread's start: the walk answers. */
START_TEST(test_auto_fast_on_fp_chain)
{
	struct auto_run r = { .rounds = 3000 };

	run_in_thread(run_fp_chain, &r);
	ck_assert_uint_eq(r.auto_differs, 0);
	ck_assert_uint_eq(r.stats.mismatched, 0);
	ck_assert_uint_eq(r.stats.sites_fp, 1);
	/* Three stacks checked once each, then a recheck every MH_UNWIND_RECHECK. */
	ck_assert_uint_ge(r.stats.fp, r.rounds - 3 - r.rounds / MH_UNWIND_RECHECK - 1);
	ck_assert_uint_eq(r.stats.fp + r.stats.checked + r.stats.libunwind, r.rounds);
}
END_TEST

/*
 * Memos as a caller keeps them (unwind.h): each capture's memo, once
 * trusted by its check word, must hold the id of that very stack (the
 * oracle: the hash of the frames the capture returned), whichever stacks
 * came in between. Stacks of equal and of different depths alternate.
 */
struct memo_run {
	unsigned int rounds;
	unsigned int with_memo, trusted, wrong;
};

static struct memo_run *cur_memo;

static __attribute__((noinline)) void memo_leaf(void)
{
	__u64 ips[MH_STACK_MAX_DEPTH], id;
	struct mh_memo_ref memo;
	unsigned int n;
	bool truncated;

	n = mh_stack_capture(MH_UNWIND_AUTO, ips, MH_STACK_DEFAULT_DEPTH, &truncated, &memo);
	id = mh_stack_hash(truncated, ips, n);
	if (memo.at) {
		cur_memo->with_memo++;
		if (memo.at->id && memo.at->check == (memo.at->id ^ memo.key)) {
			cur_memo->trusted++;
			cur_memo->wrong += memo.at->id != id;
		}
		memo.at->id = id;
		memo.at->check = id ^ memo.key;
	}
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void memo_mid(int depth)
{
	if (depth)
		memo_mid(depth - 1);
	else
		memo_leaf();
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void memo_alt(int depth)
{
	if (depth)
		memo_alt(depth - 1);
	else
		memo_leaf();
	__asm__ __volatile__("" ::: "memory");
}

static void *run_memos(void *arg)
{
	struct memo_run *r = arg;

	cur_memo = r;
	for (unsigned int i = 0; i < r->rounds; i++) {
		if (i % 2)
			memo_mid((int)(i / 2 % 3));
		else
			memo_alt((int)(i / 2 % 3));
	}
	return NULL;
}

START_TEST(test_auto_memo_per_stack)
{
	struct memo_run r = { .rounds = 6000 };
	pthread_t t;

	ck_assert_int_eq(mh_stack_setup(MH_UNWIND_AUTO, 0, 0), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, run_memos, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_gt(r.trusted, r.rounds / 2);
	ck_assert_msg(!r.wrong, "%u of %u trusted memos held another stack's id", r.wrong,
		      r.trusted);
}
END_TEST

/*
 * A site the thread found fp-safe, then demoted (through qsort the walk is
 * wrong there): the walk never answers it again, the stacks it had verified
 * included, whatever the thread remembers of the site.
 */
START_TEST(test_auto_demoted_site)
{
	struct auto_run r = { .rounds = 600 };

	run_in_thread(run_fp_then_qsort, &r);
	ck_assert_uint_eq(r.auto_differs, 0);
	ck_assert_uint_eq(r.stats.sites_fp, 1);
	ck_assert_uint_eq(r.stats.sites_libunwind, 1);
	ck_assert_uint_gt(r.mid.fp, 0);
	ck_assert_uint_eq(r.stats.fp, r.mid.fp);
	/* libunwind's answers, and the slot cache's of them. */
	ck_assert_uint_eq(r.stats.libunwind - r.mid.libunwind + r.stats.slots - r.mid.slots, r.rounds);
}
END_TEST

/*
 * A stack cut at the depth asked for, in a recursion that goes on beyond
 * it: the slot cache proves it with the frames libunwind found beyond the
 * cut (bounded from the stack's top alone, each kept frame had as many
 * copies as slots further out hold its return address, more than an
 * entry checks) and answers it from then on, as libunwind would.
 */
START_TEST(test_auto_cut_recursion)
{
	struct auto_run r = { .rounds = 200 };

	run_in_thread(run_cut_recursion, &r);
	ck_assert_uint_eq(r.auto_differs, 0);
	ck_assert_uint_eq(r.stats.slots_unproved, r.mid.slots_unproved);
	ck_assert_uint_ge(r.stats.slots - r.mid.slots, r.rounds - 1);
}
END_TEST

/* qsort's frames have no frame pointers: the walk is wrong, the checks catch it. */
START_TEST(test_auto_through_qsort)
{
	struct auto_run r = { .rounds = 20 };

	run_in_thread(run_qsort, &r);
	ck_assert_uint_gt(r.fp_differs, 0);
	ck_assert_uint_eq(r.auto_differs, 0);
	ck_assert_uint_eq(r.stats.sites_libunwind, 1);
	ck_assert_uint_eq(r.stats.fp, 0);
	ck_assert_uint_gt(r.stats.libunwind, 0);
}
END_TEST

START_TEST(test_hash_content)
{
	__u64 a[5] = { 0x401000, 0x401234, 0x7f0000001000, 0x7f0000002000, 0x7f0000003000 };
	__u64 b[5];
	__u64 id = mh_stack_hash(0, a, 5);

	memcpy(b, a, sizeof(a));
	ck_assert_uint_eq(mh_stack_hash(0, b, 5), id);
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_eq(id & 1, 1);
	b[3] ^= 0x10;
	ck_assert_uint_ne(mh_stack_hash(0, b, 5), id);
	ck_assert_uint_ne(mh_stack_hash(0, a, 4), id);
	b[3] = a[4];
	b[4] = a[3];
	ck_assert_uint_ne(mh_stack_hash(0, b, 5), id);
	ck_assert_uint_ne(mh_stack_hash(0, a, 0), 0);
	/* Another image, same addresses: another id. */
	ck_assert_uint_ne(mh_stack_hash(12345, a, 5), id);
}
END_TEST

/* The walker's key, frame by frame, is the one-call key of the same frames. */
START_TEST(test_key_content)
{
	__u64 a[5] = { 0x401000, 0x401234, 0x7f0000001000, 0x7f0000002000, 0x7f0000003000 };
	__u64 b[5], h = MH_STACK_KEY_START;
	__u64 key = mh_stack_key(a, 5, false);

	for (int i = 0; i < 5; i++)
		h = mh_stack_key_step(h, a[i]);
	ck_assert_uint_eq(mh_stack_key_end(h, 5, false), key);
	ck_assert_uint_eq(key & 1, 1);
	ck_assert_uint_ne(key, 1);
	ck_assert_uint_ne(mh_stack_key(a, 5, true), key);
	ck_assert_uint_ne(mh_stack_key(a, 4, false), key);
	memcpy(b, a, sizeof(a));
	b[3] = a[4];
	b[4] = a[3];
	ck_assert_uint_ne(mh_stack_key(b, 5, false), key);
	b[4] = a[4];
	b[3] = a[3] ^ 0x10;
	ck_assert_uint_ne(mh_stack_key(b, 5, false), key);
}
END_TEST

/* 200k stacks that differ in one frame: ids must not collide. */
START_TEST(test_hash_no_collisions)
{
	struct mh_stackids *db = mh_stackids_new(20);
	__u64 ips[8] = { 0x400000, 0x400100, 0x400200, 0x400300, 0, 0x400500, 0x400600, 0x400700 };
	unsigned int i;

	ck_assert_ptr_nonnull(db);
	for (i = 0; i < 200000; i++) {
		ips[4] = 0x7f1234560000 + 16 * i;
		ck_assert_int_eq(mh_stackids_intern(db, mh_stack_hash(0, ips, 8)), MH_INTERN_SEND);
	}
	ck_assert_uint_eq(mh_stackids_count(db), 200000);
	mh_stackids_free(db);
}
END_TEST

START_TEST(test_intern_once)
{
	struct mh_stackids *db = mh_stackids_new(10);
	__u64 ips[3] = { 1, 2, 3 };
	__u64 id = mh_stack_hash(0, ips, 3);

	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_SEND);
	/* Claimed, not yet sent: a second user sends a duplicate rather than wait. */
	ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_SEND);
	mh_stackids_sent(db, id);
	ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_KNOWN);
	ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_KNOWN);
	ck_assert_uint_eq(mh_stackids_count(db), 1);
	ips[2] = 4;
	ck_assert_int_eq(mh_stackids_intern(db, mh_stack_hash(0, ips, 3)), MH_INTERN_SEND);
	ck_assert_uint_eq(mh_stackids_count(db), 2);
	mh_stackids_free(db);
}
END_TEST

/* Ids in every level (each smaller one overflows): each sent once, then known. */
START_TEST(test_intern_two_levels)
{
	struct mh_stackids *db = mh_stackids_new(16);
	unsigned int i;

	ck_assert_ptr_nonnull(db);
	for (i = 0; i < 30000; i++) {
		__u64 ips[2] = { i, 99 };
		__u64 id = mh_stack_hash(0, ips, 2);

		ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_SEND);
		mh_stackids_sent(db, id);
	}
	for (i = 0; i < 30000; i++) {
		__u64 ips[2] = { i, 99 };

		ck_assert_int_eq(mh_stackids_intern(db, mh_stack_hash(0, ips, 2)), MH_INTERN_KNOWN);
	}
	ck_assert_uint_eq(mh_stackids_count(db), 30000);
	mh_stackids_free(db);
}
END_TEST

/*
 * A few hundred stacks touch a few pages of the process's 8 MiB set, not
 * one each: the kernel's count of this thread's page faults says how many.
 */
START_TEST(test_intern_few_pages)
{
	struct mh_stackids *db = mh_stackids_new(20);
	struct rusage before, after;
	__u64 ids[500];
	unsigned int i;

	ck_assert_ptr_nonnull(db);
	for (i = 0; i < 500; i++) {
		__u64 ips[2] = { i, 42 };

		ids[i] = mh_stack_hash(0, ips, 2);
	}
	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &before), 0);
	for (i = 0; i < 500; i++)
		if (mh_stackids_intern(db, ids[i]) == MH_INTERN_SEND)
			mh_stackids_sent(db, ids[i]);
	ck_assert_int_eq(getrusage(RUSAGE_THREAD, &after), 0);
	ck_assert_int_lt(after.ru_minflt - before.ru_minflt, 32);
	mh_stackids_free(db);
}
END_TEST

START_TEST(test_intern_full_table)
{
	struct mh_stackids *db = mh_stackids_new(4);
	__u64 id;

	ck_assert_ptr_nonnull(db);
	for (id = 3; id < 3 + 2 * 100; id += 2) {
		ck_assert_int_eq(mh_stackids_intern(db, id), MH_INTERN_SEND);
		mh_stackids_sent(db, id);
	}
	ck_assert_uint_eq(mh_stackids_count(db), 16);
	/* Ids that made it in stay known. */
	ck_assert_int_eq(mh_stackids_intern(db, 3), MH_INTERN_KNOWN);
	mh_stackids_free(db);
}
END_TEST

#define INTERN_THREADS 4
#define INTERN_IDS 50000

static struct mh_stackids *shared_db;
static unsigned int sends[INTERN_IDS];

static void *intern_all(void *arg)
{
	unsigned int i;

	for (i = 0; i < INTERN_IDS; i++) {
		__u64 ips[2] = { i, 77 };
		__u64 id = mh_stack_hash(0, ips, 2);

		if (mh_stackids_intern(shared_db, id) == MH_INTERN_SEND) {
			__atomic_fetch_add(&sends[i], 1, __ATOMIC_RELAXED);
			mh_stackids_sent(shared_db, id);
		}
	}
	return arg;
}

START_TEST(test_intern_concurrent)
{
	pthread_t t[INTERN_THREADS];
	unsigned int i, extra = 0;

	shared_db = mh_stackids_new(18);
	ck_assert_ptr_nonnull(shared_db);
	for (i = 0; i < INTERN_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, intern_all, NULL), 0);
	for (i = 0; i < INTERN_THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < INTERN_IDS; i++) {
		ck_assert_uint_ge(sends[i], 1);
		extra += sends[i] - 1;
	}
	ck_assert_uint_eq(mh_stackids_count(shared_db), INTERN_IDS);
	/* Duplicates only come from the claim-to-sent window; most ids go once. */
	ck_assert_uint_lt(extra, INTERN_IDS);
	mh_stackids_free(shared_db);
}
END_TEST

static Suite *stackdb_suite(void)
{
	Suite *s = suite_create("stackids");
	TCase *capture = tcase_create("Capture");
	TCase *intern = tcase_create("Intern");

	tcase_add_test(capture, test_capture_fp);
	tcase_add_test(capture, test_capture_libunwind);
	tcase_add_test(capture, test_fp_agrees_with_libunwind);
	tcase_add_loop_test(capture, test_capture_truncates, 0, 2);
	tcase_add_test(capture, test_auto_fast_on_fp_chain);
	tcase_add_test(capture, test_auto_through_qsort);
	tcase_add_test(capture, test_auto_demoted_site);
	tcase_add_test(capture, test_auto_cut_recursion);
	tcase_add_test(capture, test_auto_memo_per_stack);
	suite_add_tcase(s, capture);

	tcase_add_test(intern, test_hash_content);
	tcase_add_test(intern, test_key_content);
	tcase_add_test(intern, test_hash_no_collisions);
	tcase_add_test(intern, test_intern_once);
	tcase_add_test(intern, test_intern_two_levels);
	tcase_add_test(intern, test_intern_few_pages);
	tcase_add_test(intern, test_intern_full_table);
	tcase_add_test(intern, test_intern_concurrent);
	suite_add_tcase(s, intern);
	return s;
}

int main(void)
{
	return mh_test_run_suite(stackdb_suite());
}
