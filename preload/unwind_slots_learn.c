// SPDX-License-Identifier: MIT
/*
 * unwind_slots_learn.c - the slot cache's entries made: libunwind's frames
 * beyond a site, once unwind_slots_prove.c has found the stack words they
 * were read from, written into a way of their group (unwind_slots.c says
 * what an entry is and why it answers as libunwind would).
 *
 * Never allocates, never prints, never writes anything but the table and
 * the calling thread's hints, and reads only the calling thread's stack
 * (through mh_slots_prove).
 */
#include "preload/unwind_slots_table.h"

/* Where this thread's next entry goes in its group. */
static __thread unsigned int next_way __attribute__((tls_model("initial-exec")));

/*
 * gap[1..n) as an entry's gaps (slots_read): gaps[j - 1] the gap of frame
 * j, 0 for the next in big[]; false if more than BIG_MAX are above 255.
 */
static bool gaps_encode(const __u16 *gap, unsigned int n, __u8 *gaps, __u16 *big,
			unsigned int *bigs)
{
	unsigned int j;

	*bigs = 0;
	for (j = 1; j < n; j++) {
		gaps[j - 1] = gap[j] <= UINT8_MAX ? (__u8)gap[j] : 0;
		if (gap[j] <= UINT8_MAX)
			continue;
		if (*bigs == BIG_MAX)
			return false;
		big[(*bigs)++] = gap[j];
	}
	return true;
}

/* What an entry made of these would hold. */
struct slot_learning {
	const struct mh_site_frame *s;
	__u64 hash, rbp;
	unsigned int n, flags, bigs;
	__u16 check;		/* low bits of the hash of frames 1..CHECK_AT */
	const struct mh_slots_copies *c;
	__u8 gaps[MH_SLOTS_FRAMES - 1];
	__u16 big[BIG_MAX];
};

/*
 * The entry of group g (tag) that already holds this stack (another
 * thread's, or made before this thread's hint knew the site), or NULL.
 * Its copies must be at the same places: an entry whose copy was
 * overwritten since (a live frame's local) misses on every capture, and
 * is replaced by one without it.
 */
static struct slot_entry *already(__u64 g, __u16 tag, const struct slot_learning *l,
				  __u64 *key)
{
	__u64 match, seq;

	for (match = ways_tagged(&mh_slots.tags[g], tag); match; match &= match - 1) {
		struct slot_entry *e = way_entry(g, (unsigned int)__builtin_ctzll(match));
		const struct slot_extra *x;

		if (!e)
			continue;
		x = &mh_slots.extras[e - mh_slots.table];
		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (seq & 1 || e->slot != l->s->slot || e->ip0 != l->s->ip || e->n != l->n ||
		    e->flags != l->flags || e->hash != l->hash ||
		    (l->flags & ENTRY_RBP_KEYED && entry_rbp(e, x, l->n) != l->rbp) ||
		    e->copies != l->c->n ||
		    memcmp(x->copy_at, l->c->at, l->c->n * sizeof(*x->copy_at)) ||
		    e->epoch != __atomic_load_n(&mh_slots.epoch, __ATOMIC_ACQUIRE))
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
			continue;
		*key = seq;
		return e;
	}
	return NULL;
}

/*
 * Hand way w of group g its entry, the next one not handed out; NULL if
 * none is left. A thread that loses the race for the way takes the
 * winner's (its own is lost: at most as many as such races).
 */
static struct slot_entry *way_assign(__u64 g, unsigned int w)
{
	__u16 ref = 0;
	__u32 next;

	if (__atomic_load_n(&mh_slots.used, __ATOMIC_RELAXED) > mh_slots.mask)
		return NULL;
	next = __atomic_add_fetch(&mh_slots.used, 1, __ATOMIC_RELAXED);
	if (next - 1 > mh_slots.mask)
		return NULL;
	if (!__atomic_compare_exchange_n(&mh_slots.ways[g + w], &ref, (__u16)next, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return way_entry(g, w);
	return &mh_slots.table[next - 1];
}

/*
 * Claim a way of group g to rewrite (*w), its entry's sequence made odd;
 * NULL if another thread has it or no entry is left for it.
 */
static struct slot_entry *claim(__u64 g, __u64 *seq, unsigned int *w)
{
	__u64 empty = ways_tagged(&mh_slots.tags[g], 0);
	struct slot_entry *e;

	*w = empty ? (unsigned int)__builtin_ctzll(empty) : next_way++ % WAYS;
	e = way_entry(g, *w);
	if (!e && !(e = way_assign(g, *w)))
		return NULL;
	*seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if (*seq & 1 || !__atomic_compare_exchange_n(&e->seq, seq, *seq + 1, false,
						     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	__atomic_store_n(&mh_slots.tags[g + *w], 0, __ATOMIC_RELAXED);
	return e;
}

/*
 * Write the entry of l into e, the entry of way w of group g (tag),
 * claimed at seq, and publish it; the memo's key.
 */
static __u64 fill(struct slot_entry *e, const struct slot_learning *l, __u64 g, unsigned int w,
		  __u16 tag, __u64 seq)
{
	struct slot_extra *x = &mh_slots.extras[e - mh_slots.table];

	e->slot = l->s->slot;
	e->ip0 = l->s->ip;
	e->hash = l->hash;
	e->check = l->check;
	e->memo = (struct mh_stack_memo){ 0 };
	e->epoch = __atomic_load_n(&mh_slots.epoch, __ATOMIC_ACQUIRE);
	e->n = (__u8)l->n;
	e->flags = (__u8)l->flags;
	e->copies = (__u8)l->c->n;
	if (l->n < 2)
		memcpy(e->gaps, &l->rbp, sizeof(l->rbp));
	else
		memcpy(e->gaps, l->gaps, l->n - 1);
	memcpy(x->big, l->big, l->bigs * sizeof(*x->big));
	memcpy(x->copy_at, l->c->at, l->c->n * sizeof(*x->copy_at));
	memcpy(x->copy_of, l->c->of, l->c->n * sizeof(*x->copy_of));
	__atomic_store_n(&mh_slots.tags[g + w], tag, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
	return seq + 2;
}

struct mh_stack_memo *mh_slots_learn(const struct mh_site_frame *s, const __u64 *frames,
				     unsigned int n, const __u64 *beyond, unsigned int nb,
				     bool cut, __u64 *key)
{
	__u16 gap[MH_SLOTS_FRAMES];
	struct mh_slots_copies c;
	struct slot_learning l = { .s = s, .n = n, .rbp = s->rbp, .c = &c };
	struct slot_entry *e;
	unsigned int j, w;
	__u64 off1, seq, g;
	__u16 tag;

	if (!mh_slots.table || !n || n > MH_SLOTS_FRAMES || frames[0] != s->ip || s->slot >= s->stack_hi)
		return NULL;
	for (j = 0; j < n; j++)
		if (mh_slots_sigreturn_at(frames[j]))
			return NULL;
	for (j = 1; j < n; j++) {
		l.hash += frame_mix(frames[j], j);
		if (j == CHECK_AT)
			l.check = (__u16)l.hash;
	}
	if (!mh_slots_prove(s, frames, n, beyond, nb, l.hash, gap, &c) ||
	    !gaps_encode(gap, n, l.gaps, l.big, &l.bigs))
		return NULL;
	off1 = n > 1 ? gap[1] * sizeof(__u64) : 0;
	/* A frame-pointer function: its CFA is RBP + 16, so RBP must match too. */
	l.flags = (cut ? ENTRY_CUT : 0) | (l.bigs ? ENTRY_BIG : 0) |
		  (n < 2 || s->rbp + 2 * sizeof(__u64) == s->slot + off1 + sizeof(__u64) ?
			   ENTRY_RBP_KEYED : 0);
	g = group_of(s->slot, s->ip, off1, n > 1 ? frames[1] : 0, &tag);
	e = already(g, tag, &l, key);
	if (!e && (e = claim(g, &seq, &w)))
		*key = fill(e, &l, g, w, tag, seq);
	mh_slots_hint_put(s->ip, n > 1 ? gap[1] : 0, e, tag);
	return e ? &e->memo : NULL;
}
