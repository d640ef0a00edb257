// SPDX-License-Identifier: MIT
/*
 * unwind_slots.c - auto mode's return-address-slot cache: stacks libunwind
 * found beyond a call site, each with the exact stack words its return
 * addresses were read from, served again without libunwind while the
 * site's frame is at the same place and those words still hold its
 * return addresses. This file keeps the entries; unwind_slots_prove.c
 * proves the slots.
 *
 * Why. Code built without frame pointers (Debian's python3, sqlite3,
 * cc1, git) makes its sites needs-libunwind (unwind.c), and a full
 * libunwind unwind per allocation. Most allocations repeat a stack, so a
 * needs-libunwind site first asks a cache of libunwind's
 * earlier answers, keyed by the *site frame*: the stack address S of the
 * word holding the site's return address and that address. The walk to
 * the site gives both exactly (our own code keeps frame pointers), and the
 * program's RBP at the call, which our outermost frame saved. An entry
 * holds libunwind's frames from the site outward, f_0 (the site) .. f_n-1,
 * with the stack word t_j each f_j was read from (or the few words that
 * may be t_j: "Proving the slots"). It answers a capture whose site frame
 * has the same S and site (and the same RBP, if the site's function keeps
 * a frame pointer: RBP + 16 is its CFA) while each of those words still
 * holds its f_j (one word s_j per frame hashes as f_1.. did: a keyed
 * 64-bit hash; the others, if any, equal the s_j word of their frame),
 * and then answers with them, after our frames from the walk.
 *
 *   Why that is libunwind's answer. On x86-64, libunwind reads a frame's
 *   return address from CFA - 8 of the frame below it, and the CFA of a
 *   frame is its SP plus a constant fixed by the return address (the CFI
 *   row there) or, in a frame-pointer function, RBP + 16, RBP being SP
 *   plus a constant there too. So a frame's SP and return address fix
 *   where the next return address is read. The site frame's SP is S + 8
 *   now as when the entry was made; its caller's return address is read
 *   from t_1, which holds f_1 as it did; so the caller's frame has the same
 *   SP and return address as then, and so on outward: the walk retraces
 *   the entry frame by frame, and ends where it ended (the end is a
 *   property of the last return address). Threads have their own stacks,
 *   so S names one thread's frame; longjmp and C++ exceptions unwind
 *   frames whose slots later calls overwrite (the value check sees it);
 *   a fork child has the same memory, so entries stay true in it.
 *
 *   Proving the slots. libunwind's fast trace gives return addresses, not
 *   where it read them (its per-frame registers come only through
 *   unw_step, which in Debian's libunwind 1.6 takes a global lock and two
 *   sigprocmask calls per frame: microseconds). The slots are therefore
 *   found in the stack and bounded: s_0 = S is exact; s_j is the first
 *   word above s_j-1 equal to f_j, so by induction s_j is at or below the
 *   true slot t_j (t_j > t_j-1 >= s_j-1 and t_j holds f_j). From the top
 *   of the stack down (in a thread, its static TLS, which glibc keeps
 *   above the stack in the same mapping, and where our own TLS holds
 *   return addresses), u_n-1 is the last word equal to f_n-1, and u_j-1
 *   the last word equal to f_j-1 below u_j: t_n-1 <= u_n-1, and if
 *   t_j <= u_j then t_j-1 < t_j holds f_j-1, so t_j-1 <= u_j-1. So t_j is
 *   one of the words in [s_j, u_j] that hold f_j: most often s_j alone,
 *   but a frame may keep an old copy of a return address below its slot
 *   (left by a deeper call, or stored as data). The entry reads f_j at
 *   s_j and checks that every other such word (its copies, at most
 *   MH_SLOTS_COPIES_MAX in all) still holds f_j. The walk below retraces
 *   the frames as they were when the entry was made, so t_j is the same
 *   word as then: one of the words checked.
 *   An entry with a signal frame (libunwind reports glibc's sigreturn
 *   trampoline) is not made: the interrupted frame's registers come from
 *   the signal context, not from CFA - 8.
 *
 *   Where it is not sure, and what covers that. The step "same SP and
 *   return address, same CFA" fails for frames whose CFA is not a
 *   constant from SP or RBP at that point: alloca or variable-length
 *   arrays in a function without a frame pointer, and stack realignment
 *   (CFA read from memory). Such a frame at the same SP with a different
 *   size reads its caller's return address elsewhere; the entry is then
 *   wrong only if the old slot still holds the old value, which needs the
 *   same return addresses at shifted places above it. And libunwind can
 *   change its mind only through its caches (code unloaded and reloaded at
 *   the same address). So, as for the frame-pointer walk, a thread's
 *   answers from the cache are sampled and checked against a full
 *   libunwind unwind; on a difference that answer is libunwind's, every
 *   entry is dropped (the cache's epoch moves on) and the site marked
 *   no-slots (never cached again). The schedule (mh_slots_recheck_after):
 *   the thread's first answer, then one in about MH_UNWIND_RECHECK, the
 *   mean interval doubling after each check that agrees up to RECHECK_MAX
 *   (16 times that), back to MH_UNWIND_RECHECK once any thread found a
 *   difference (the epoch moved); each interval is drawn from half to one
 *   and a half times the mean, so that a loop whose period divides it
 *   cannot keep a stack out of the samples. Why it backs off: a check is
 *   a full unwind (microseconds on deep stacks), and at one in 256 the
 *   checks were most of the unwinds (gcc's cc1: 33.5k of 41.4k per
 *   compile; python3: 28.6k of 61.0k); what makes an answer wrong is the
 *   code of its frames, not how new its entry is, so learning is no
 *   reason to check sooner. What it costs: when a fraction p of the
 *   answers is wrong, a check finds one after 1/p checks on average, so
 *   about one interval of wrong answers (at most 1.5 * RECHECK_MAX) is
 *   served before the site is switched off, whatever p; at 256 it was
 *   about 256. The cache is asked before the site's verdict is looked
 *   up: entries are made only at sites that need libunwind, and verdicts
 *   never go back. An answer is always
 *   a stack libunwind gave when the entry was made, so there is no "new
 *   stack" to check. While a fork keeps libunwind closed the cache still
 *   answers; it learns nothing then.
 *   Entries are shared by all threads (unwind_slots.c says how a torn one
 *   is caught), and carry a memo where core.c keeps the stack's id, so a
 *   cached stack is interned without hashing.
 *
 * An entry keeps where its frames sat and a keyed 64-bit hash of them,
 * not the frames: a hit reads the words at those places, hashes them, and
 * answers with them when the hash is the entry's. An entry is two cache
 * lines; of each entry a lookup tries it reads the first, which holds the
 * site frame, the first 32 gaps and a check of the hash of the first
 * CHECK_AT frames, and turns most entries of other stacks down there
 * (gcc's cc1 tries 1.85 entries per answer); a hit reads the second too,
 * the other gaps, the hash and the memo. Big gaps and copies are rare and
 * kept apart. The first lines of all the entries to try are fetched at
 * once, after the line of their group's tags (a 256-byte entry read its
 * second line before turning an entry down, and a hit read three). The
 * group and a tag are chosen by the site frame and the word where the
 * site's caller keeps its return address (found through a per-thread
 * hint: where it was at this site last time), so that only entries of
 * stacks above that caller are read, and a busy site's stacks spread over
 * groups (by the site frame alone, cc1's busiest site overflowed its
 * group, and two busy sites meeting in one group under ASLR evicted each
 * other's entries: 7.9k to 125k libunwind unwinds per compile). The hint
 * also names the entry the thread last made or served at the site, with
 * its tag: when the tag agrees, that entry is read first, and a hit there
 * skips the tags (python3 repeats a site's last stack in about half its
 * captures). Which entry is read never matters to the answer: an entry
 * answers only if its site frame and every slot agree.
 *
 * Never allocates (one table mmap'd at setup), never prints, never writes
 * anything but its table, and reads only the calling thread's stack
 * between the site's slot and the top of that stack, and the first bytes
 * of code at return addresses libunwind reported inside libc's code.
 *
 * One table serves every thread. An entry is keyed by the stack address of
 * the site's slot, and a thread's stack is its own, so a thread only ever
 * matches entries made on its stack (by itself, or by a thread that had the
 * same stack before it: the proof below does not care who made it). Each
 * entry has a sequence number, odd while a thread rewrites it; a reader
 * that sees it change throws away what it read, and every stack word it
 * reads is bounded by its own stack's top first, so a torn entry costs a
 * miss, never a read outside the reader's stack.
 */
#include "preload/unwind_slots.h"
#include "preload/unwind_slots_prove.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "preload/ownmaps.h"
#include "preload/sys.h"
#include "preload/thread_blocks.h"
#include "common/compiler.h"

/*
 * Entries in a group, where stacks with the same site frame and caller
 * go: their tags fill one cache line (64 ways took two; cc1 fills about
 * a quarter of the table, 8 entries a group).
 */
#define WAYS 32
/* Most gaps above 255 words an entry holds (in its extra). */
#define BIG_MAX 40
/*
 * Frames beyond the site after which a hit compares what it hashed so far
 * (of the entries of other stacks cc1 tries, 4 turns down 83% there, 3 66%).
 */
#define CHECK_AT 4
/*
 * Site hints per thread, in sets of HINT_WAYS (one cache line; powers of
 * two): a 4 KiB pool block (not static TLS: thread_blocks.h) taken on first
 * need; without one (none left, thread ended) the thread is not served
 * from the cache: libunwind answers.
 */
#define HINTS 256
#define HINT_WAYS 4
/* The longest mean interval between a thread's rechecks (see "Where it is not sure"). */
#define RECHECK_MAX (MH_UNWIND_RECHECK * 16)

enum {
	ENTRY_CUT = 1,		/* libunwind had frames left beyond the last one */
	ENTRY_RBP_KEYED = 2,	/* the site's function may keep its CFA in RBP */
};

/*
 * An entry, two cache lines. The first holds what every look at it
 * needs: the site frame, the low bits of the hash of the first CHECK_AT
 * frames beyond the site, and where the first frames' return addresses
 * sit, as gaps in stack words (frame j's slot is gaps[j - 1] words above
 * frame j - 1's; 0: the next gap of the extra's big[], a gap above 255),
 * so that an entry of another stack above the same caller is most often
 * rejected within it. The second holds the rest of the gaps, the hash of
 * all the frames beyond the site and the memo: what a hit reads too. The
 * frames themselves are not kept: a hit answers with the stack words it
 * read. An RBP-keyed entry's RBP is the caller's CFA - 16 (slot + gap 1
 * words - 1 word), or, without a caller, kept in gaps[].
 */
struct slot_entry {
	__u64 seq;		/* odd while being rewritten */
	uintptr_t slot;		/* the site's slot; 0 for an empty entry */
	__u64 ip0;		/* the site */
	__u32 epoch;		/* the cache's epoch when made */
	__u16 check;		/* low bits of the hash of frames 1..CHECK_AT */
	__u8 n;			/* frames, the site's being the first */
	__u8 flags;		/* ENTRY_* */
	__u8 gaps[MH_SLOTS_FRAMES - 1];
	__u8 copies;		/* words of the extra's copy_at[] */
	__u64 hash;		/* the hash (frame_mix) of frames 1..n - 1 */
	struct mh_stack_memo memo;
} __attribute__((aligned(128)));
_Static_assert(sizeof(struct slot_entry) == 128 && offsetof(struct slot_entry, gaps) == 32 &&
		       MH_SLOTS_FRAMES - 1 >= sizeof(__u64),
	       "an entry is two cache lines, 32 gaps in the first, room for an RBP");

/* What few entries need besides (big gaps, copies), out of the way of every lookup. */
struct slot_extra {
	__u16 copy_at[MH_SLOTS_COPIES_MAX];	/* stack words above the site's slot... */
	__u8 copy_of[MH_SLOTS_COPIES_MAX];	/* ...that hold these frames too (see mh_slots_prove) */
	__u16 big[BIG_MAX];		/* gaps above 255 words, in order */
};

/*
 * Where a site's caller keeps its return address: gap1 stack words above
 * the site's slot (0: no frame beyond the site). A property of the site's
 * code (its frame size there), learned per thread from the entries it
 * makes; only a hint, which selects the group to look in. With it, the
 * entry this thread last made or served at the site and that entry's tag:
 * a loop repeats its stacks, and that entry is tried first, without a
 * look at the group's tags, when the caller's word gives the same tag.
 */
struct site_hint {
	__u64 ip;
	__u16 gap1;
	__u16 tag;		/* the tag of last */
	__u32 last;		/* 1 + that entry's index; 0: none */
};

static struct slot_entry *table;
/* The extras of table[i] at extras[i]. */
static struct slot_extra *extras;
/* One tag per entry, a group's in one cache line: which entries to look at. */
static __u16 *tags;
static __u64 table_mask;
/* Keys of frames_hash, random per process (a fork child keeps them, with the table). */
static __u64 hash_key0, hash_key1;
/* Bumped to void every entry at once (mh_slots_flush). */
static __u32 epoch;
/* Where this thread's next entry goes in its group. */
static __thread unsigned int next_way __attribute__((tls_model("initial-exec")));
static __thread struct mh_thread_block hints __attribute__((tls_model("initial-exec")));
static struct mh_thread_blocks hints_pool;
/* Where this thread's next hint goes in its set. */
static __thread unsigned int next_hint __attribute__((tls_model("initial-exec")));
/* The thread's recheck schedule (mh_slots_recheck_after). */
static __thread struct {
	__u32 every;		/* mean answers between checks; 0 before the first */
	__u32 epoch;		/* the cache's epoch at the last check */
	__u64 rng;		/* xorshift state; 0 before the first */
} sched __attribute__((tls_model("initial-exec")));
/* The hash keys: the kernel's 16 random bytes for this process, else the clock. */
static void pick_hash_keys(void)
{
	const __u64 *r = (const __u64 *)getauxval(AT_RANDOM);
	__u64 k0, k1;

	if (r) {
		memcpy(&k0, r, sizeof(k0));
		memcpy(&k1, r + 1, sizeof(k1));
	} else {
		k0 = (uintptr_t)&k0 ^ (__u64)getpid() << 32;
		k1 = k0 * 0x9e3779b97f4a7c15ULL;
	}
	hash_key0 = k0;
	hash_key1 = k1 | 1;
}

int mh_slots_setup(unsigned int log2)
{
	size_t bytes = (sizeof(struct slot_entry) + sizeof(*extras) + sizeof(*tags)) << log2;

	if (table)
		return 0;
	/* MAP_NORESERVE: pages are touched only as entries land in them. */
	table = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		return -ENOMEM;
	}
	mh_ownmaps_note(table, bytes);
	/* Without it, no thread is served from the cache: libunwind answers. */
	(void)mh_thread_blocks_setup(&hints_pool, HINTS * sizeof(struct site_hint));
	extras = (struct slot_extra *)(table + ((size_t)1 << log2));
	tags = (__u16 *)(extras + ((size_t)1 << log2));
	table_mask = ((__u64)1 << log2) - 1;
	pick_hash_keys();
	mh_slots_find_libc_text();
	return 0;
}

/*
 * Frame j's part of an entry's hash: a keyed multiply whose halves are
 * folded (a different word gives an unrelated value), summed over the
 * frames. Two different frame lists hash the same with odds of about
 * 2^-64 whatever the stack holds, since the keys are random.
 */
static inline __u64 mul_fold(__u64 a, __u64 b)
{
#ifdef __x86_64__
	__u64 hi;

	/* The same as below: there GCC kept the 128-bit product in memory, a store and a load. */
	__asm__("mulq %3" : "=a"(a), "=d"(hi) : "0"(a), "rm"(b) : "cc");
	return a ^ hi;
#else
	__uint128_t p = (__uint128_t)a * b;

	return (__u64)p ^ (__u64)(p >> 64);
#endif
}

static inline __u64 frame_mix(__u64 w, unsigned int j)
{
	return mul_fold(w ^ (hash_key0 + j * 0x9e3779b97f4a7c15ULL), hash_key1);
}

/* The group of a stack's entry and its tag (never 0): see "A hit touches". */
static inline __u64 group_of(uintptr_t slot, __u64 ip0, __u64 off1, __u64 ip1, __u16 *tag)
{
	__u64 k = (slot >> 3) ^ ip0;

	k ^= k >> 29;
	k *= 0x9e3779b97f4a7c15ULL;
	k = (k ^ (ip1 + off1)) * 0xc2b2ae3d27d4eb4fULL;
	*tag = (__u16)(k >> 48) | 1;
	return (k >> 32) & table_mask & ~(__u64)(WAYS - 1);
}

/* An entry as a hint names it: 1 + its index. */
static inline __u32 entry_ref(const struct slot_entry *e)
{
	return (__u32)(e - table) + 1;
}

void mh_slots_thread_end(void)
{
	mh_thread_block_end(&hints_pool, &hints);
}

/* The set of hints a site may be in; NULL without hints. */
static inline struct site_hint *hint_set(__u64 ip)
{
	struct site_hint *h = hints.at;

	if (mh_unlikely(!h) && !(h = mh_thread_block_first(&hints_pool, &hints)))
		return NULL;
	return &h[(ip * 0x9e3779b97f4a7c15ULL) >> 56 & (HINTS - 1) & ~(HINT_WAYS - 1)];
}

static inline struct site_hint *hint_find(__u64 ip)
{
	struct site_hint *set = hint_set(ip);
	unsigned int w;

	if (!set)
		return NULL;
	for (w = 0; w < HINT_WAYS; w++)
		if (set[w].ip == ip)
			return &set[w];
	return NULL;
}

/* Note a site's hint and its entry e (tag), in place of its old one, else of the set's ways in turn. */
static void hint_put(__u64 ip, __u16 gap1, const struct slot_entry *e, __u16 tag)
{
	struct site_hint *set = hint_set(ip);
	unsigned int w;

	if (!set)
		return;
	for (w = 0; w < HINT_WAYS && set[w].ip != ip; w++)
		;
	if (w == HINT_WAYS)
		w = next_hint++ % HINT_WAYS;
	set[w] = (struct site_hint){ .ip = ip, .gap1 = gap1, .tag = tag, .last = e ? entry_ref(e) : 0 };
}

/*
 * Read the words frames [1, en) of entry e (extra x) sat in, from the
 * site's slot at up, in this thread's stack only (a torn entry's gaps may
 * point anywhere), into out[1..en), hashing them as frame_mix does: true
 * if the hash of frames 1..CHECK_AT is the entry's check and that of all
 * is its hash; false too if a word lies above last, the stack's last word.
 * A function of its own, one loop for both parts: inlined in its caller,
 * or a call per part, its keys and cursor were kept in memory.
 */
static __attribute__((noinline)) bool slots_hold(const struct slot_entry *e,
						 const struct slot_extra *x, unsigned int en,
						 uintptr_t at, uintptr_t last, __u64 *out)
{
	const __u8 *gap = e->gaps, *stop = gap + (en > CHECK_AT ? CHECK_AT : en - 1);
	const __u64 k1 = hash_key1;
	__u64 kj = hash_key0, h = 0, w;
	unsigned int big = 0, g;

	for (;;) {
		for (; gap < stop; gap++) {
			g = *gap;
			if (mh_unlikely(!g)) {
				if (big >= BIG_MAX)
					return false;
				g = x->big[big++];
			}
			/* No wrap: at most MH_SLOTS_GAP_MAX words above a stack address. */
			at += (uintptr_t)g * sizeof(__u64);
			if (at > last)
				return false;
			w = *(const volatile __u64 *)at;
			*++out = w;
			/* frame_mix(w, j), its key carried from frame to frame. */
			kj += 0x9e3779b97f4a7c15ULL;
			h += mul_fold(w ^ kj, k1);
		}
		if (stop == e->gaps + en - 1)
			return h == e->hash;
		if ((__u16)h != e->check)
			return false;
		stop = e->gaps + en - 1;
	}
}

/* The RBP an RBP-keyed entry e (extra x) of n frames was made with (see struct slot_entry). */
static inline __u64 entry_rbp(const struct slot_entry *e, const struct slot_extra *x,
			      unsigned int n)
{
	__u64 rbp;

	if (n < 2) {
		memcpy(&rbp, e->gaps, sizeof(rbp));
		return rbp;
	}
	return e->slot + ((e->gaps[0] ? e->gaps[0] : x->big[0]) - 1) * sizeof(__u64);
}

/*
 * The entry's other copies of its frames, in this thread's stack only:
 * each must still hold the frame read for it (words[0..n)).
 */
static inline bool copies_hold(const struct slot_entry *e, const struct slot_extra *x,
			       unsigned int n, uintptr_t slot, uintptr_t room, const __u64 *words)
{
	unsigned int i, c = e->copies;
	uintptr_t off;

	if (mh_unlikely(c > MH_SLOTS_COPIES_MAX))
		return false;
	for (i = 0; i < c; i++) {
		off = (uintptr_t)x->copy_at[i] * sizeof(__u64);
		if (off > room || x->copy_of[i] >= n ||
		    *(const volatile __u64 *)(slot + off) != words[x->copy_of[i]])
			return false;
	}
	return true;
}

static inline __attribute__((always_inline)) bool
serve_from(struct slot_entry *e, const struct mh_site_frame *s, __u64 *frames, unsigned int room,
	   unsigned int *n, bool *truncated, struct mh_memo_ref *memo, enum mh_slots_miss *why)
{
	const struct slot_extra *x = &extras[e - table];
	uintptr_t words_room = s->stack_hi - s->slot - sizeof(__u64);
	__u64 words[MH_SLOTS_FRAMES], *out;
	unsigned int take, en, flags;
	bool trunc;
	__u64 seq;

	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	flags = e->flags;
	en = e->n;
	if (seq & 1 || e->slot != s->slot || e->ip0 != s->ip || !en || en > MH_SLOTS_FRAMES ||
	    (flags & ENTRY_RBP_KEYED && entry_rbp(e, x, en) != s->rbp) ||
	    e->epoch != __atomic_load_n(&epoch, __ATOMIC_ACQUIRE))
		return false;
	if (en > room || (flags & ENTRY_CUT && en == room)) {
		take = room;
		trunc = true;
	} else if (flags & ENTRY_CUT) {
		/* Frames beyond the cached ones would fit: they are not known. */
		return false;
	} else {
		take = en;
		trunc = false;
	}
	/* Straight into the answer when every frame fits. */
	out = en <= room ? frames : words;
	out[0] = s->ip;
	if (!slots_hold(e, x, en, s->slot, s->stack_hi - sizeof(__u64), out) ||
	    !copies_hold(e, x, en, s->slot, words_room, out)) {
		*why = MH_SLOTS_CHANGED;
		return false;
	}
	if (out != frames)
		memcpy(frames, words, take * sizeof(*frames));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
		return false;
	*n = take;
	*truncated = trunc;
	memo->at = &e->memo;
	memo->key = seq;
	return true;
}

/* Bit w set for each of a group's ways whose tag is tag. */
static inline __u64 ways_tagged(const __u16 *group, __u16 tag)
{
	__u64 match = 0;
	unsigned int w;

#ifdef __SSE2__
	__m128i want = _mm_set1_epi16((short)tag);

	for (w = 0; w < WAYS; w += 16) {
		__m128i a = _mm_load_si128((const __m128i *)(group + w));
		__m128i b = _mm_load_si128((const __m128i *)(group + w + 8));

		a = _mm_packs_epi16(_mm_cmpeq_epi16(a, want), _mm_cmpeq_epi16(b, want));
		match |= (__u64)(unsigned int)_mm_movemask_epi8(a) << w;
	}
#else
	for (w = 0; w < WAYS; w++)
		match |= (__u64)(__atomic_load_n(&group[w], __ATOMIC_RELAXED) == tag) << w;
#endif
	return match;
}

/*
 * The key of a lookup: the site frame and what its thread's hint h says
 * is the caller's return address (the stack word gap1 above the site's
 * slot).
 */
static inline bool lookup_key(const struct mh_site_frame *s, const struct site_hint *h,
			      uintptr_t room, __u64 *g, __u16 *tag)
{
	__u64 off1 = h->gap1 * sizeof(__u64);

	if (off1 > room)
		return false;
	*g = group_of(s->slot, s->ip, off1, off1 ? *(const volatile __u64 *)(s->slot + off1) : 0,
		      tag);
	return true;
}

/*
 * First the entry the thread's hint names, if its tag is the one looked
 * for, then the group's other entries with that tag. Any entry may be
 * tried: serve_from takes one only if its site frame and every slot agree.
 */
bool mh_slots_serve(const struct mh_site_frame *s, __u64 *frames, unsigned int room,
		    unsigned int *n, bool *truncated, struct mh_memo_ref *memo,
		    enum mh_slots_miss *why)
{
	struct site_hint *h;
	struct slot_entry *e;
	__u64 match, m, g;
	bool scanned;
	__u16 tag;

	*why = MH_SLOTS_COLD;
	if (!table || !(h = hint_find(s->ip)) ||
	    !lookup_key(s, h, s->stack_hi - s->slot - sizeof(__u64), &g, &tag))
		return false;
	/* One call of serve_from, inlined: a call per entry tried cost its set-up each. */
	e = h->last && h->tag == tag ? &table[h->last - 1] : NULL;
	for (scanned = false;; e = &table[g + (unsigned int)__builtin_ctzll(match)],
	    match &= match - 1) {
		if (e) {
			__builtin_prefetch(&e->hash);
			if (serve_from(e, s, frames, room, n, truncated, memo, why)) {
				h->last = entry_ref(e);
				h->tag = tag;
				return true;
			}
		}
		if (!scanned) {
			scanned = true;
			match = ways_tagged(&tags[g], tag);
			if (e && (__u64)(e - &table[g]) < WAYS)
				match &= ~((__u64)1 << (e - &table[g]));
			/* The first line of every entry to try, at once: most are turned down there. */
			for (m = match; m; m &= m - 1)
				__builtin_prefetch(&table[g + (unsigned int)__builtin_ctzll(m)]);
		}
		if (!match)
			return false;
	}
}

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

	for (match = ways_tagged(&tags[g], tag); match; match &= match - 1) {
		struct slot_entry *e = &table[g + (unsigned int)__builtin_ctzll(match)];
		const struct slot_extra *x = &extras[e - table];

		seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		if (seq & 1 || e->slot != l->s->slot || e->ip0 != l->s->ip || e->n != l->n ||
		    e->flags != l->flags || e->hash != l->hash ||
		    (l->flags & ENTRY_RBP_KEYED && entry_rbp(e, x, l->n) != l->rbp) ||
		    e->copies != l->c->n ||
		    memcmp(x->copy_at, l->c->at, l->c->n * sizeof(*x->copy_at)) ||
		    e->epoch != __atomic_load_n(&epoch, __ATOMIC_ACQUIRE))
			continue;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
			continue;
		*key = seq;
		return e;
	}
	return NULL;
}

/* Claim a way of group g to rewrite (its sequence made odd); NULL if another thread has it. */
static struct slot_entry *claim(__u64 g, __u64 *seq)
{
	__u64 empty = ways_tagged(&tags[g], 0);
	unsigned int w = empty ? (unsigned int)__builtin_ctzll(empty) : next_way++ % WAYS;
	struct slot_entry *e = &table[g + w];

	*seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	if (*seq & 1 || !__atomic_compare_exchange_n(&e->seq, seq, *seq + 1, false,
						     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	__atomic_store_n(&tags[g + w], 0, __ATOMIC_RELAXED);
	return e;
}

/*
 * Write the entry of l into way e of group g (tag), claimed at seq, and
 * publish it; the memo's key.
 */
static __u64 fill(struct slot_entry *e, const struct slot_learning *l, __u64 g, __u16 tag,
		  __u64 seq)
{
	struct slot_extra *x = &extras[e - table];

	e->slot = l->s->slot;
	e->ip0 = l->s->ip;
	e->hash = l->hash;
	e->check = l->check;
	e->memo = (struct mh_stack_memo){ 0 };
	e->epoch = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
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
	__atomic_store_n(&tags[g + (__u64)(e - &table[g])], tag, __ATOMIC_RELAXED);
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
	return seq + 2;
}

struct mh_stack_memo *mh_slots_learn(const struct mh_site_frame *s, const __u64 *frames,
				     unsigned int n, bool cut, __u64 *key)
{
	__u16 gap[MH_SLOTS_FRAMES];
	struct mh_slots_copies c;
	struct slot_learning l = { .s = s, .n = n, .rbp = s->rbp, .c = &c };
	struct slot_entry *e;
	unsigned int j;
	__u64 off1, seq, g;
	__u16 tag;

	if (!table || !n || n > MH_SLOTS_FRAMES || frames[0] != s->ip || s->slot >= s->stack_hi)
		return NULL;
	for (j = 0; j < n; j++)
		if (mh_slots_sigreturn_at(frames[j]))
			return NULL;
	for (j = 1; j < n; j++) {
		l.hash += frame_mix(frames[j], j);
		if (j == CHECK_AT)
			l.check = (__u16)l.hash;
	}
	if (!mh_slots_prove(s, frames, n, l.hash, gap, &c) ||
	    !gaps_encode(gap, n, l.gaps, l.big, &l.bigs))
		return NULL;
	off1 = n > 1 ? gap[1] * sizeof(__u64) : 0;
	/* A frame-pointer function: its CFA is RBP + 16, so RBP must match too. */
	l.flags = (cut ? ENTRY_CUT : 0) |
		  (n < 2 || s->rbp + 2 * sizeof(__u64) == s->slot + off1 + sizeof(__u64) ?
			   ENTRY_RBP_KEYED : 0);
	g = group_of(s->slot, s->ip, off1, n > 1 ? frames[1] : 0, &tag);
	e = already(g, tag, &l, key);
	if (!e && (e = claim(g, &seq)))
		*key = fill(e, &l, g, tag, seq);
	hint_put(s->ip, n > 1 ? gap[1] : 0, e, tag);
	return e ? &e->memo : NULL;
}

void mh_slots_flush(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_ACQ_REL);
}

unsigned int mh_slots_recheck_after(bool agreed)
{
	__u32 now = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
	__u64 x = sched.rng ? sched.rng : (hash_key0 ^ (uintptr_t)&sched) | 1;

	if (!sched.every || sched.epoch != now)
		sched.every = MH_UNWIND_RECHECK;
	else if (agreed && sched.every < RECHECK_MAX)
		sched.every *= 2;
	sched.epoch = now;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	sched.rng = x;
	/* Uniform in [every / 2, 3 * every / 2): a loop's period cannot hide a stack. */
	return sched.every / 2 + (unsigned int)(x % sched.every);
}
