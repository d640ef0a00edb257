// SPDX-License-Identifier: MIT
/*
 * unwind_slots.c - auto mode's return-address-slot cache: stacks libunwind
 * found beyond a call site, each with the exact stack words its return
 * addresses were read from, served again without libunwind while the
 * site's frame is at the same place and those words still hold its
 * return addresses. This file sets the table up and serves from it;
 * unwind_slots_learn.c makes its entries, once unwind_slots_prove.c has
 * proved their slots (unwind_slots_table.h: the table both see).
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
 *   t_j <= u_j then t_j-1 < t_j holds f_j-1, so t_j-1 <= u_j-1. A stack
 *   cut at the depth asked for goes on beyond f_n-1, and in a recursion
 *   the same return addresses sit in the slots further out: from the top,
 *   these were all counted as copies of the kept frames (python3: 20k of
 *   its 35k libunwind unwinds were of stacks that failed so, with 17 to
 *   some 350 copies). So the learning unwind asks libunwind for as many
 *   frames as its buffer holds, and the frames beyond the cut, f_n ..
 *   f_N-1 up to the first signal frame (if any), start the same chain:
 *   u_N-1 is the last word equal to f_N-1 below the top, u_k-1 the last
 *   equal to f_k-1 below u_k, each above s_n-1 (t_k > t_n-1 >= s_n-1),
 *   and u_n-1 the last word equal to f_n-1 below u_n: the same induction,
 *   on the same premise (each frame's slot lies in this stack, above its
 *   callee's: CFA - 8 above the callee's SP), now also for frames the
 *   entry does not keep. If one of them is not found there, the premise
 *   fails out there, and the chain starts from the top as without them
 *   (which needs it of the kept frames only). So t_j is one of the words
 *   in [s_j, u_j] that hold f_j: most often s_j alone,
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
 *   same return addresses at shifted places above it. A frame beyond a
 *   cut whose slot is not where the premise puts it (a frame libunwind
 *   guessed without call-frame information, a switch of stacks that is
 *   not a signal frame), while a word above holds its return address,
 *   may set a bound below a kept frame's slot. And libunwind can
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
 * once, after the lines of their group's tags and ways (a 256-byte entry
 * read its second line before turning an entry down, and a hit read
 * three). The group and a tag are chosen by the site frame and the word
 * where the site's caller keeps its return address (found through a
 * per-thread hint: where it was at this site last time), so that only
 * entries of stacks above that caller are read, and a busy site's stacks
 * spread over groups (by the site frame alone, cc1's busiest site overflowed its
 * group, and two busy sites meeting in one group under ASLR evicted each
 * other's entries: 7.9k to 125k libunwind unwinds per compile). The hint
 * also names the entry the thread last made or served at the site, with
 * its tag: when the tag agrees, that entry is read first, and a hit there
 * skips the tags (python3 repeats a site's last stack in about half its
 * captures). Before the hint, a guess: the entry that answered at this
 * site right after the thread's last answer, the last time; a program
 * repeats its sequences of stacks, and many stacks share a site and its
 * caller (git log -p: 4 entries a group, weighted by use; the site's last
 * entry was right for 9% of its answers, and each wrong try read about
 * 12 frames before it failed). A right guess also skips the hint and the
 * tags, and their cache misses: the lines of a group's tags and ways lie
 * at random in tables of 64 KiB. A thread keeps 8192 guesses, 16 to a
 * cache line, and drops the one of the line it used least recently: cc1
 * goes through between 4096 and 8192 pairs of a site and a last answer
 * over and over, and its guess was right for 24% of its captures with
 * 512 guesses one to a place, 94% now (8 to a line, 92%; 8 to a line
 * dropped at random, 73%; 16384 one to a place, 82%); python3's 87% to
 * 92% (with the addresses), 93% now; git log -p's 80%, 92% now. Under
 * cachegrind, the cache's instructions in cc1 -O2 of 300 small functions
 * went from 1.34G to 0.89G, its D1 read misses from 6.8M to 4.7M and
 * those of a 512 KiB L2 from 4.7M to 3.7M (the whole run's: 7.50G to
 * 7.05G, 27.6M to 24.5M, 9.5M to 8.7M); python3's barely moved.
 * Which entry is read never matters to the answer: an entry answers only
 * if its site frame and every slot agree.
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
#include "preload/unwind_slots_table.h"

#include <errno.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/ownmaps.h"
#include "preload/sys.h"
#include "preload/thread_blocks.h"
#include "common/compiler.h"

/*
 * Site hints per thread, in sets of HINT_WAYS (one cache line; powers of
 * two), then its guesses: a pool block (not static TLS: thread_blocks.h)
 * taken on first need; without one (none left, thread ended) the thread
 * is not served from the cache: libunwind answers.
 */
#define HINTS 256
#define HINT_WAYS 4
/*
 * Next-stack guesses per thread, in the same block after the hints: which
 * entry answered at a site the last time the thread's previous answer was
 * a given entry (see "The guess"). In sets of GUESS_WAYS (one cache line),
 * most recently used first; GUESSES a power of two. 32 KiB of them (cc1
 * needs more than 4096: atop this file) make a thread's block 36 KiB, its
 * pages touched as guesses land in them.
 */
#define GUESSES 8192
#define GUESS_WAYS 16
/* The longest mean interval between a thread's rechecks (see "Where it is not sure"). */
#define RECHECK_MAX (MH_UNWIND_RECHECK * 16)

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

/*
 * The guess: the entry that answered at site ip right after the thread's
 * answer from entry prev (1 + its index) the last time; key is a hash of
 * both (0: none). 16 bits each, 16 to a line: 8 to a line of 32 bits
 * were right for 92% of cc1's captures, took twice the lines, and a
 * 512 KiB L2 missed 6% more of the cache's reads.
 */
struct guess {
	__u16 key;
	__u16 entry;		/* 1 + its index (16 bits: mh_slots_setup) */
};

/* A thread's block: its hints, then its guesses, each set in a cache line. */
struct hints_block {
	struct site_hint hint[HINTS];
	struct guess guess[GUESSES] __attribute__((aligned(GUESS_WAYS * sizeof(struct guess))));
};

struct mh_slots_table mh_slots;
static __thread struct mh_thread_block hints __attribute__((tls_model("initial-exec")));
/* The entry of the thread's last answer from the cache (1 + its index), 0: none yet. */
static __thread __u32 last_answer __attribute__((tls_model("initial-exec")));
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
	unsigned int j;

	if (r) {
		memcpy(&k0, r, sizeof(k0));
		memcpy(&k1, r + 1, sizeof(k1));
	} else {
		k0 = (uintptr_t)&k0 ^ (__u64)getpid() << 32;
		k1 = k0 * 0x9e3779b97f4a7c15ULL;
	}
	mh_slots.key0 = k0;
	mh_slots.key1 = k1 | 1;
	for (j = 0; j < MH_SLOTS_FRAMES; j++)
		mh_slots.keys[j] = k0 + j * 0x9e3779b97f4a7c15ULL;
}

int mh_slots_setup(unsigned int log2)
{
	size_t bytes = (sizeof(struct slot_entry) + sizeof(struct slot_extra) + 2 * sizeof(__u16))
		       << log2;

	if (mh_slots.table)
		return 0;
	/* ways[] holds 1 + an entry's index in 16 bits. */
	if (log2 > 15)
		return -EINVAL;
	/* MAP_NORESERVE: pages are touched only as entries land in them. */
	mh_slots.table = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mh_slots.table == MAP_FAILED) {
		mh_slots.table = NULL;
		return -ENOMEM;
	}
	mh_ownmaps_note(mh_slots.table, bytes);
	/* Without it, no thread is served from the cache: libunwind answers. */
	(void)mh_thread_blocks_setup(&hints_pool, sizeof(struct hints_block));
	mh_slots.extras = (struct slot_extra *)(mh_slots.table + ((size_t)1 << log2));
	mh_slots.tags = (__u16 *)(mh_slots.extras + ((size_t)1 << log2));
	mh_slots.ways = mh_slots.tags + ((size_t)1 << log2);
	mh_slots.mask = ((__u64)1 << log2) - 1;
	pick_hash_keys();
	mh_slots_find_libc_text();
	return 0;
}


void mh_slots_thread_end(void)
{
	mh_thread_block_end(&hints_pool, &hints);
}

/* The calling thread's block; NULL without one. */
static inline struct hints_block *hints_block(void)
{
	struct hints_block *b = hints.at;

	if (mh_unlikely(!b))
		b = mh_thread_block_first(&hints_pool, &hints);
	return b;
}

/* The set of hints of b a site may be in. */
static inline struct site_hint *hint_set(struct hints_block *b, __u64 ip)
{
	return &b->hint[(ip * 0x9e3779b97f4a7c15ULL) >> 56 & (HINTS - 1) & ~(HINT_WAYS - 1)];
}

static inline struct site_hint *hint_find(struct hints_block *b, __u64 ip)
{
	struct site_hint *set = hint_set(b, ip);
	unsigned int w;

	for (w = 0; w < HINT_WAYS; w++)
		if (set[w].ip == ip)
			return &set[w];
	return NULL;
}

/*
 * The set of b's guesses where the guess of the thread's next entry at
 * site ip is kept, and its key there: both from ip and the thread's last
 * answer.
 */
static inline struct guess *guess_set(struct hints_block *b, __u64 ip, __u16 *key)
{
	__u64 x = (ip ^ last_answer * 0xc2b2ae3d27d4eb4fULL) * 0x9e3779b97f4a7c15ULL;

	*key = (__u16)(x >> 16) | 1;
	return &b->guess[x >> 32 & (GUESSES - 1) & ~(GUESS_WAYS - 1)];
}

/* The way of set whose key is key; GUESS_WAYS if none. */
static inline unsigned int guess_way(const struct guess *set, __u16 key)
{
	unsigned int w;

	for (w = 0; w < GUESS_WAYS && set[w].key != key; w++)
		;
	return w;
}

/*
 * Entry e answered (or was made) where way w of set guesses (GUESS_WAYS:
 * none did, the least recently used is dropped): the set's first guess now.
 */
static inline void guess_first(struct guess *set, unsigned int w, __u16 key, __u32 e)
{
	for (w = w < GUESS_WAYS ? w : GUESS_WAYS - 1; w; w--)
		set[w] = set[w - 1];
	set[0] = (struct guess){ .key = key, .entry = (__u16)e };
}

/* Entry e answered (or was made) at site ip: the guess for next time, and the last answer. */
static inline void guess_put(struct hints_block *b, __u64 ip, __u32 e)
{
	__u16 key;
	struct guess *set = guess_set(b, ip, &key);

	guess_first(set, guess_way(set, key), key, e);
	last_answer = e;
}

/* In place of the site's old hint, else of the set's ways in turn. */
void mh_slots_hint_put(__u64 ip, __u16 gap1, const struct slot_entry *e, __u16 tag)
{
	struct hints_block *b = hints_block();
	struct site_hint *set;
	unsigned int w;

	if (!b)
		return;
	set = hint_set(b, ip);
	for (w = 0; w < HINT_WAYS && set[w].ip != ip; w++)
		;
	if (w == HINT_WAYS)
		w = next_hint++ % HINT_WAYS;
	set[w] = (struct site_hint){ .ip = ip, .gap1 = gap1, .tag = tag, .last = e ? entry_ref(e) : 0 };
	if (e)
		guess_put(b, ip, entry_ref(e));
}

/*
 * Frames [j, stop) of an entry from their gaps, after the slot at *at: each
 * read in this thread's stack only (a torn entry's gaps may point
 * anywhere: false if a word lies above last, the stack's last word) into
 * out[j], and added to the hash *h as frame_mix does. With big, a gap of
 * 0 is the next of bigs[] (*nbig of them used); without, an entry that
 * has none: a 0 from a torn entry reads a word twice, which costs a wrong
 * hash, never a read outside the stack.
 */
static inline __attribute__((always_inline)) bool
hold_frames(const __u8 *gaps, unsigned int j, unsigned int stop, bool big, const __u16 *bigs,
	    unsigned int *nbig, uintptr_t *at, uintptr_t last, __u64 *out, __u64 *h)
{
	const __u64 k1 = mh_slots.key1, *keys = mh_slots.keys;
	uintptr_t a = *at;
	__u64 sum = *h, w;
	unsigned int g;

	for (; j < stop; j++) {
		g = gaps[j - 1];
		if (big && !g) {
			if (*nbig >= BIG_MAX)
				return false;
			g = bigs[(*nbig)++];
		}
		/* No wrap: at most MH_SLOTS_GAP_MAX words above a stack address. */
		a += (uintptr_t)g * sizeof(__u64);
		if (mh_unlikely(a > last))
			return false;
		w = *(const volatile __u64 *)a;
		out[j] = w;
		sum += mul_fold(w ^ keys[j], k1);
	}
	*at = a;
	*h = sum;
	return true;
}

/*
 * Read the words frames [1, en) of entry e (extra x) sat in, from the
 * site's slot at up, in this thread's stack only, into out[1..en),
 * hashing them as frame_mix does: true if the hash of frames 1..CHECK_AT
 * is the entry's check and that of all is its hash; false too if a word
 * lies above last, the stack's last word. A function of its own, both
 * parts inlined in it: inlined in its caller, or a call per part, its
 * keys and cursor were kept in memory. Entries without big gaps (nearly
 * all) take a loop without the test for one.
 */
static __attribute__((noinline)) bool slots_hold(const struct slot_entry *e,
						 const struct slot_extra *x, unsigned int en,
						 uintptr_t at, uintptr_t last, __u64 *out)
{
	unsigned int mid = en > CHECK_AT ? CHECK_AT + 1 : en, nbig = 0;
	__u64 h = 0;

	if (mh_likely(!(e->flags & ENTRY_BIG))) {
		if (!hold_frames(e->gaps, 1, mid, false, NULL, NULL, &at, last, out, &h) ||
		    (mid < en && (__u16)h != e->check) ||
		    !hold_frames(e->gaps, mid, en, false, NULL, NULL, &at, last, out, &h))
			return false;
	} else if (!hold_frames(e->gaps, 1, mid, true, x->big, &nbig, &at, last, out, &h) ||
		   (mid < en && (__u16)h != e->check) ||
		   !hold_frames(e->gaps, mid, en, true, x->big, &nbig, &at, last, out, &h)) {
		return false;
	}
	return h == e->hash;
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
	const struct slot_extra *x = &mh_slots.extras[e - mh_slots.table];
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
	    e->epoch != __atomic_load_n(&mh_slots.epoch, __ATOMIC_ACQUIRE))
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
 * After the guess (mh_slots_serve): the entry the thread's hint names, if
 * its tag is the one looked for, then the group's other entries with
 * that tag. A function of its own: inlined, its registers were saved and
 * reloaded by every capture, which the guess mostly answers.
 */
static __attribute__((noinline)) bool
serve_scan(struct hints_block *b, struct slot_entry *guessed, const struct mh_site_frame *s,
	   __u64 *frames, unsigned int room, unsigned int *n, bool *truncated,
	   struct mh_memo_ref *memo, enum mh_slots_miss *why)
{
	struct site_hint *h;
	struct slot_entry *e, *first;
	__u64 match, m, g;
	bool scanned;
	__u16 tag;

	if (!(h = hint_find(b, s->ip)) ||
	    !lookup_key(s, h, s->stack_hi - s->slot - sizeof(__u64), &g, &tag))
		return false;
	/* One call of serve_from, inlined: a call per entry tried cost its set-up each. */
	e = first = h->last && h->tag == tag ? &mh_slots.table[h->last - 1] : NULL;
	for (scanned = false;;) {
		if (e && e != guessed) {
			__builtin_prefetch(&e->hash);
			if (serve_from(e, s, frames, room, n, truncated, memo, why)) {
				h->last = entry_ref(e);
				h->tag = tag;
				guess_put(b, s->ip, h->last);
				return true;
			}
		}
		if (!scanned) {
			scanned = true;
			match = ways_tagged(&mh_slots.tags[g], tag);
			/* The first line of every entry to try, at once: most are turned down there. */
			for (m = match; m; m &= m - 1)
				__builtin_prefetch(way_entry(g, (unsigned int)__builtin_ctzll(m)));
		}
		do {
			if (!match)
				return false;
			e = way_entry(g, (unsigned int)__builtin_ctzll(match));
			match &= match - 1;
		} while (e == first);
	}
}

/*
 * First the guess: the entry that answered here after the thread's last
 * answer, the last time (a program repeats its sequences of stacks: the
 * guess answered 94% of cc1's captures, 93% of python3's, 92% of git log
 * -p's; the site's last entry was right for 9% of git's). Then
 * serve_scan. Any entry may be tried: serve_from takes one only if its
 * site frame and every slot agree.
 */
bool mh_slots_serve(const struct mh_site_frame *s, __u64 *frames, unsigned int room,
		    unsigned int *n, bool *truncated, struct mh_memo_ref *memo,
		    enum mh_slots_miss *why)
{
	struct hints_block *b;
	struct slot_entry *guessed = NULL;
	struct guess *set;
	unsigned int w;
	__u16 key;
	__u32 e;

	*why = MH_SLOTS_COLD;
	if (!mh_slots.table || !(b = hints_block()))
		return false;
	set = guess_set(b, s->ip, &key);
	w = guess_way(set, key);
	if (w < GUESS_WAYS && (e = set[w].entry) - 1 <= mh_slots.mask) {
		guessed = &mh_slots.table[e - 1];
		if (serve_from(guessed, s, frames, room, n, truncated, memo, why)) {
			/* Often first already: python3 99.7% of right guesses, git 89%, cc1 26%. */
			if (w)
				guess_first(set, w, key, e);
			last_answer = e;
			return true;
		}
	}
	return serve_scan(b, guessed, s, frames, room, n, truncated, memo, why);
}

void mh_slots_flush(void)
{
	__atomic_add_fetch(&mh_slots.epoch, 1, __ATOMIC_ACQ_REL);
}

unsigned int mh_slots_recheck_after(bool agreed)
{
	__u32 now = __atomic_load_n(&mh_slots.epoch, __ATOMIC_ACQUIRE);
	__u64 x = sched.rng ? sched.rng : (mh_slots.key0 ^ (uintptr_t)&sched) | 1;

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
