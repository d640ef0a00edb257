// SPDX-License-Identifier: MIT
/*
 * check_unwind.c - MEMHOOK_UNWIND=auto (preload/unwind.c) records exactly
 * the stacks MEMHOOK_UNWIND=libunwind records, on programs where the
 * frame-pointer walk alone goes wrong: built -O2 -fomit-frame-pointer,
 * calling back through glibc's qsort, allocating through libstdc++'s
 * operator new, and in a second thread.
 *
 * Oracle: libunwind's own answer. Each program runs twice under
 * libmemhook.so without address-space randomization, once per mode; it is
 * deterministic, so the k-th block of each size it allocates must carry
 * the same frames in both runs, and both runs must send the same set of
 * distinct stacks. (That auto mode answers by frame pointers where it
 * can is checked in-process by check_stackids.c, through the statistics.)
 *
 * unwind_nofp and unwind_nofp_cxx are built without frame pointers, so
 * auto mode answers them from its return-address-slot cache: one leaf
 * reached by paths that put its frame at the same stack address (only the
 * return addresses above it differ), recursion of varying depth and path,
 * longjmp and C++ exceptions out of allocating frames, a signal handler
 * allocating, two threads at once, stacks that differ only several
 * frames above the leaf, where the frames above then sit at other places,
 * a frame holding a stale copy of a return address below its slot, and
 * a program's blocked and pending signals kept as they were.
 * Its "shifted" scenario is the case the cache's proof does not cover:
 * there the test checks that the cache's rechecks catch the wrong stacks
 * within a bound.
 */
#include <limits.h>

#include "preload/unwind.h"
#include "tests/preload_run.h"

struct program {
	const char *name;
	const char *arg;	/* its one argument, or NULL */
	__u64 sizes[6];		/* its marker sizes, 0-terminated */
};

static const struct program programs[] = {
	{ "unwind_paths", NULL, { 1001, 1002, 1003, 1008, 1009, 0 } },
	{ "unwind_paths_O2", NULL, { 1001, 1002, 1003, 1008, 1009, 0 } },
	{ "unwind_cxx", NULL, { 1004, 1005 * sizeof(int), 1006 + 1, 0 } },	/* a string adds its NUL */
	{ "unwind_nofp", "paths", { 2001, 0 } },
	{ "unwind_nofp", "recurse", { 2002, 0 } },
	{ "unwind_nofp", "longjmp", { 2003, 0 } },
	{ "unwind_nofp", "signal", { 2004, 0 } },
	{ "unwind_nofp", "threads", { 2005, 2006, 0 } },
	{ "unwind_nofp", "deep", { 2007, 0 } },
	{ "unwind_nofp", "big", { 2011, 0 } },
	{ "unwind_nofp", "copies", { 2008, 0 } },
	{ "unwind_nofp", "mask", { 2010, 0 } },
	{ "unwind_nofp_cxx", NULL, { 3001, 3002, 0 } },
};

static const struct mh_rec_stack *find_stack(const struct trace *t, __u64 id)
{
	for_each_rec(t, h)
		if (h->type == MH_REC_STACK && ((const struct mh_rec_stack *)h)->stack_id == id)
			return (const void *)h;
	return NULL;
}

static bool same_frames(const struct mh_rec_stack *a, const struct mh_rec_stack *b)
{
	return a->depth == b->depth && a->flags == b->flags &&
	       !memcmp(a + 1, b + 1, a->depth * sizeof(__u64));
}

/* The stack of the k-th ALLOC of size bytes, NULL if there are fewer. */
static const struct mh_rec_stack *kth_stack(const struct trace *t, __u64 size, unsigned int k)
{
	for_each_rec(t, h) {
		const struct mh_rec_alloc *a = (const void *)h;

		if (h->type == MH_REC_ALLOC && a->pid == (__u32)t->pid && a->size == size && !k--)
			return find_stack(t, a->stack_id);
	}
	return NULL;
}

/* Every stack a sent has the same frames as some stack b sent. */
static unsigned int stacks_missing(const struct trace *a, const struct trace *b)
{
	unsigned int missing = 0;

	for_each_rec(a, h) {
		bool found = false;

		if (h->type != MH_REC_STACK)
			continue;
		for_each_rec(b, g)
			if (g->type == MH_REC_STACK &&
			    same_frames((const void *)h, (const void *)g)) {
				found = true;
				break;
			}
		missing += !found;
	}
	return missing;
}

static bool run_mode(struct trace *t, const struct program *p, const char *mode,
		     const char *test)
{
	char var[64];
	const char *env[] = { var, NULL }, *argv[] = { p->arg, NULL };
	const char *prog = p->name;
	struct run_opts o = { .ring_bytes = BIG_RING, .env = env, .prog = prog, .no_aslr = true,
			      .argv = p->arg ? argv : NULL };

	snprintf(var, sizeof(var), "%s=%s", MH_ENV_UNWIND, mode);
	run_traced(t, &o);
	if (WIFEXITED(t->status) && WEXITSTATUS(t->status) == 126) {
		mh_test_skip(test, "cannot disable address randomization");
		trace_free(t);
		return false;
	}
	ck_assert_msg(WIFEXITED(t->status) && !WEXITSTATUS(t->status), "%s %s under %s: status %#x",
		      prog, p->arg ? p->arg : "", mode, t->status);
	ck_assert_str_eq(t->err, "");
	ck_assert_uint_eq(t->lost, 0);
	return true;
}

/*
 * p run under libunwind (ref) and under auto (got), false (skipped, both
 * freed) when that cannot be done here.
 */
static bool run_both(const struct program *p, const char *test, struct trace *ref,
		     struct trace *got)
{
	char *path = mh_test_join("tests/progs", p->name), *full = mh_test_path(path);
	bool ok = false;

	if (!have_artefacts(test))
		goto out;
	if (!mh_test_executable(full)) {
		mh_test_skip(test, "the unwind test programs are not built");
		goto out;
	}
	if (!run_mode(ref, p, "libunwind", test))
		goto out;
	ok = run_mode(got, p, "auto", test);
	if (!ok)
		trace_free(ref);
out:
	free(full);
	free(path);
	return ok;
}

START_TEST(test_auto_equals_libunwind)
{
	const struct program *p = &programs[_i];
	struct trace ref, got;
	unsigned int s, k;

	if (!run_both(p, "auto_equals_libunwind", &ref, &got))
		return;
	for (s = 0; p->sizes[s]; s++) {
		for (k = 0;; k++) {
			const struct mh_rec_stack *a = kth_stack(&ref, p->sizes[s], k);
			const struct mh_rec_stack *b = kth_stack(&got, p->sizes[s], k);

			ck_assert_msg(!a == !b, "%s %s: %s blocks of %llu bytes", p->name,
				      p->arg ? p->arg : "", a ? "fewer" : "more",
				      (unsigned long long)p->sizes[s]);
			if (!a)
				break;
			ck_assert_msg(same_frames(a, b), "%s %s: block %u of %llu bytes: other frames",
				      p->name, p->arg ? p->arg : "", k,
				      (unsigned long long)p->sizes[s]);
		}
		/* Each size is allocated many times: every phase of a site's verdict is seen. */
		ck_assert_uint_ge(k, 30);
	}
	ck_assert_uint_eq(stacks_missing(&ref, &got), 0);
	ck_assert_uint_eq(stacks_missing(&got, &ref), 0);
	trace_free(&ref);
	trace_free(&got);
}
END_TEST

/*
 * unwind_nofp shifted: SHIFTED_ROUNDS blocks of 2009 bytes through
 * outer_small, then as many through outer_big, where the slot cache's
 * proof does not hold and its entry gives outer_small's stack again. The
 * rechecks must catch it: the first half all libunwind's, and in the
 * second, libunwind's from block SHIFTED_CAUGHT on, however far the
 * thread's checks have backed off in the first half (to RECHECK_MAX,
 * 16 * MH_UNWIND_RECHECK, drawn up to one and a half times that:
 * preload/unwind_slots.c). That some blocks differ shows the scenario
 * still reaches the case it is for.
 */
#define SHIFTED_ROUNDS 20000
#define SHIFTED_CAUGHT (SHIFTED_ROUNDS + 3 * 16 * MH_UNWIND_RECHECK / 2)

/* The stack ids of the blocks of size bytes, in order; their count. */
static unsigned int size_stacks(const struct trace *t, __u64 size, __u64 *ids, unsigned int max)
{
	unsigned int n = 0;

	for_each_rec(t, h) {
		const struct mh_rec_alloc *a = (const void *)h;

		if (h->type == MH_REC_ALLOC && a->pid == (__u32)t->pid && a->size == size &&
		    n < max)
			ids[n++] = a->stack_id;
	}
	return n;
}

START_TEST(test_recheck_catches_shifted)
{
	static const struct program p = { "unwind_nofp", "shifted", { 2009, 0 } };
	static __u64 ref_ids[2 * SHIFTED_ROUNDS + 1], got_ids[2 * SHIFTED_ROUNDS + 1];
	unsigned int k, n, differ = 0, first = UINT_MAX, last = 0;
	__u64 ref_id = 0, got_id = 0;
	bool same_ids = true;
	struct trace ref, got;

	if (!run_both(&p, "recheck_catches_shifted", &ref, &got))
		return;
	n = size_stacks(&ref, 2009, ref_ids, 2 * SHIFTED_ROUNDS + 1);
	ck_assert_uint_eq(n, 2 * SHIFTED_ROUNDS);
	ck_assert_uint_eq(size_stacks(&got, 2009, got_ids, 2 * SHIFTED_ROUNDS + 1), n);
	for (k = 0; k < n; k++) {
		/* Frames compared again only when either id changes: a few times. */
		if (!k || ref_ids[k] != ref_id || got_ids[k] != got_id) {
			const struct mh_rec_stack *a, *b;

			ref_id = ref_ids[k];
			got_id = got_ids[k];
			a = find_stack(&ref, ref_id);
			b = find_stack(&got, got_id);
			ck_assert_msg(a && b, "block %u: its stack was not sent", k);
			same_ids = same_frames(a, b);
		}
		if (!same_ids) {
			differ++;
			first = k < first ? k : first;
			last = k;
		}
	}
	ck_assert_msg(differ, "no block's stack differed: the scenario no longer reaches the "
		      "case the rechecks are for");
	ck_assert_msg(first >= SHIFTED_ROUNDS && last < SHIFTED_CAUGHT,
		      "blocks %u to %u (%u in all) had other frames than libunwind's", first, last,
		      differ);
	trace_free(&ref);
	trace_free(&got);
}
END_TEST

static Suite *unwind_suite(void)
{
	Suite *s = suite_create("unwind");
	TCase *equal = tcase_create("AutoEqualsLibunwind");
	TCase *recheck = tcase_create("Recheck");

	tcase_set_timeout(equal, 300);
	tcase_add_loop_test(equal, test_auto_equals_libunwind, 0,
			    sizeof(programs) / sizeof(programs[0]));
	suite_add_tcase(s, equal);
	tcase_set_timeout(recheck, 300);
	tcase_add_test(recheck, test_recheck_catches_shifted);
	suite_add_tcase(s, recheck);
	return s;
}

int main(void)
{
	return mh_test_run_suite(unwind_suite());
}
