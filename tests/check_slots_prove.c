// SPDX-License-Identifier: MIT
/*
 * check_slots_prove.c - the slot cache's proof (preload/unwind_slots_prove.c)
 * on stacks made up in an array, each answer compared with the proof's
 * rule as "Proving the slots" (preload/unwind_slots.c) states it, word
 * after word: the first word equal to each frame above the previous one's,
 * then, from the top (or the bound a cut stack's frames beyond give) down,
 * every other word equal to each frame. Frames and their copies land at
 * every offset, so that no way of stepping through the words can skip one.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/unwind_slots_prove.h"
#include "tests/testutil.h"

#define WORDS 6000
#define TRIALS 3000

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned int below(unsigned int n)
{
	return (unsigned int)(mh_test_random(&rng) % n);
}

/* The rule, word after word. */
static bool reference(const __u64 *base, const __u64 *hi, const __u64 *frames, unsigned int n,
		      const __u64 *beyond, unsigned int nb, __u16 *gap, struct mh_slots_copies *c)
{
	const __u64 *at[MH_SLOTS_FRAMES], *p = base + 1, *u = hi, *q, *top;
	unsigned int j, k;

	at[0] = base;
	for (j = 1; j < n; j++) {
		while (p < hi && *p != frames[j])
			p++;
		if (p >= hi || p - at[j - 1] > MH_SLOTS_GAP_MAX)
			return false;
		gap[j] = (__u16)(p - at[j - 1]);
		at[j] = p++;
	}
	for (k = nb; k--;) {
		for (q = u - 1; q > at[n - 1] && *q != beyond[k]; q--)
			;
		if (q <= at[n - 1]) {
			u = hi;
			break;
		}
		u = q;
	}
	c->n = 0;
	for (j = n - 1; j > 0; j--) {
		top = at[j];
		for (q = u - 1; q > at[j]; q--) {
			if (*q != frames[j])
				continue;
			if (top == at[j])
				top = q;
			if (c->n == MH_SLOTS_COPIES_MAX || q - base > UINT16_MAX)
				return false;
			c->at[c->n] = (__u16)(q - base);
			c->of[c->n++] = (__u8)j;
		}
		u = top;
	}
	return true;
}

/* A made-up return address: never one of the filler words (those are even). */
static __u64 frame_value(unsigned int j)
{
	return 0x5550000001ULL + 2 * (__u64)j;
}

START_TEST(test_prove_matches_rule)
{
	static __u64 stack[WORDS];
	__u64 frames[MH_SLOTS_FRAMES], beyond[8];
	__u16 gap[MH_SLOTS_FRAMES], want_gap[MH_SLOTS_FRAMES];
	struct mh_slots_copies c, want;
	struct mh_site_frame s = { 0 };
	unsigned int t, i, j, n, nb, words, pos, copies, proved = 0, copied = 0;
	bool ok, want_ok;

	for (t = 0; t < TRIALS; t++) {
		words = 64 + below(WORDS - 64);
		for (i = 0; i < words; i++)
			stack[i] = mh_test_random(&rng) & ~1ULL;
		n = 1 + below(MH_SLOTS_FRAMES);
		nb = below(3) ? 0 : below(8);
		for (j = 0; j < n; j++)
			frames[j] = frame_value(j);
		for (j = 0; j < nb; j++)
			beyond[j] = frame_value(MH_SLOTS_FRAMES + j);
		stack[0] = frames[0];
		/* Frames in order, beyond ones after them; a few do not fit (not found). */
		for (j = 1, pos = 0; j < n + nb; j++) {
			pos += 1 + below(2 * words / (n + nb) + 1);
			if (pos < words)
				stack[pos] = j < n ? frames[j] : beyond[j - n];
		}
		/* Copies anywhere, of frames and of frames beyond (too many, sometimes). */
		copies = below(4) ? below(8) : below(40);
		for (i = 0; i < copies; i++) {
			j = below(n + nb);
			stack[1 + below(words - 1)] = j < n ? frames[j] : beyond[j - n];
		}
		memset(gap, 0, sizeof(gap));
		memset(want_gap, 0, sizeof(want_gap));
		memset(&c, 0, sizeof(c));
		memset(&want, 0, sizeof(want));
		s.slot = (uintptr_t)stack;
		s.ip = frames[0];
		s.stack_hi = (uintptr_t)(stack + words);
		want_ok = reference(stack, stack + words, frames, n, beyond, nb, want_gap, &want);
		/* A hash of its own per trial: the proof puts off a stack that just failed. */
		ok = mh_slots_prove(&s, frames, n, beyond, nb, mh_test_random(&rng), gap, &c);
		ck_assert_msg(ok == want_ok, "trial %u: proved %d, the rule %d", t, ok, want_ok);
		if (!ok)
			continue;
		proved++;
		copied += c.n > 0;
		ck_assert_mem_eq(gap + 1, want_gap + 1, (n - 1) * sizeof(gap[0]));
		ck_assert_uint_eq(c.n, want.n);
		ck_assert_mem_eq(c.at, want.at, c.n * sizeof(c.at[0]));
		ck_assert_mem_eq(c.of, want.of, c.n * sizeof(c.of[0]));
	}
	/* The trials reached both answers, and proofs with copies. */
	ck_assert_uint_gt(proved, TRIALS / 10);
	ck_assert_uint_lt(proved, TRIALS);
	ck_assert_uint_gt(copied, TRIALS / 20);
}
END_TEST

static Suite *prove_suite(void)
{
	Suite *s = suite_create("slots_prove");
	TCase *rule = tcase_create("Rule");

	tcase_add_test(rule, test_prove_matches_rule);
	suite_add_tcase(s, rule);
	return s;
}

int main(void)
{
	return mh_test_run_suite(prove_suite());
}
