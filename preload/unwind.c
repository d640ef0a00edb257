// SPDX-License-Identifier: MIT
/*
 * unwind.c - capture call stacks: with libunwind (DWARF call-frame
 * information, right for any code that has it), along the frame-pointer
 * chain (about a quarter of the cost, right only where every frame keeps
 * a frame pointer), or "auto": the frame-pointer walk wherever it has been
 * checked to give libunwind's exact answer, libunwind elsewhere.
 *
 * Never allocates through malloc (its tables are mmap'd by raw system
 * call), never prints (but in a measurement build, -DMH_UNWIND_DUMP: the
 * main thread's counters to stderr at exit), never blocks: it runs
 * inside the target's malloc.
 *
 * The auto rule. A capture's *site* is its first return address outside
 * the caller's own code (the preload): the return address into the
 * function that called malloc. A lock-free mmap'd table (unwind_sites.c)
 * holds one verdict per site: unknown, fp-safe or needs-libunwind.
 * Verdicts only go forward (unknown -> fp-safe -> needs-libunwind); when
 * two threads judge a site differently, needs-libunwind wins.
 *
 *   - needs-libunwind: libunwind alone (the frame-pointer walk goes only
 *     as far as the site, through the preload's own frames).
 *   - unknown: both walks run. The site becomes fp-safe if the
 *     frame-pointer result is exactly libunwind's (same frames, same
 *     count, same truncation), else needs-libunwind; the event always
 *     uses libunwind's answer.
 *   - fp-safe: the frame-pointer walk answers, except that it is checked
 *     against libunwind (and the site demoted on any difference, the
 *     event then using libunwind's answer) when
 *       - the walk gives a stack this process never verified (a hash of
 *         the result, mh_stack_key, computed by the walk as it reads the
 *         frames, is looked up in a table of verified results): a new
 *         path into a known site, new code deeper in the chain, a signal
 *         frame, are all new stacks, and new stacks are rare;
 *         (a thread remembers the keys of the RECENT results it served
 *         lately, so a program cycling through a few hundred stacks
 *         skips the lookup; each keeps a memo, so core.c does not hash
 *         and intern that stack again);
 *       - every MH_UNWIND_RECHECK-th fp-served capture of the thread, in
 *         case a wrong walk happens to equal a verified stack;
 *       - the chain's end is not cached (below).
 *
 * The chain's end. A frame-pointer chain ends where a frame's saved frame
 * pointer is not a frame (outside the thread's stack, misaligned, or not
 * above the previous one): in every thread that is the outermost frames,
 * libc's start-up code or the thread-start function, built without frame
 * pointers, below which libunwind still finds one or two frames
 * (__libc_start_main, _start; clone3). So the walk is completed with the
 * frames libunwind found below that end, cached per thread: an entry is
 * keyed by the last frame's stack address, saved frame pointer and return
 * address, and holds up to MH_UNWIND_TAIL_MAX return addresses with the
 * stack slots they were found in; it is used only while every slot still
 * holds its return address. A chain that ends higher up, with more frames
 * below it than that (code without frame pointers mid-stack: a callback
 * from glibc's qsort, an interpreter), makes its site needs-libunwind.
 *
 * What the checks catch, and why the site is the key: whether the walk is
 * right depends on every frame of the chain. A frame of code built without
 * frame pointers (glibc, libstdc++'s operator new, -O2 code) either ends
 * the chain (its register holds no stack address: the walk stops short) or
 * leaves its caller's frame pointer in place, so the walk skips its
 * caller's return address; a signal frame hides the interrupted function.
 * Each of these gives a result that differs from libunwind's, and that
 * result is new to the process, so it is checked. The verdict of the
 * site itself records whether the site's own function keeps a frame
 * pointer, which is what decides the second frame of every capture there.
 * Per thread, the walk never leaves [stack_lo, stack_hi) of the calling
 * thread, so it reads only live stack; on an alternate signal stack it
 * finds no frame of its own and the capture goes to libunwind. Verdicts are
 * keyed by address: code unloaded and replaced at the same address keeps
 * the old verdict until a check (its stacks are new) demotes it. A fork
 * child inherits the tables and the thread's cache, both still true of
 * its copy of the memory. Whatever the walk gets wrong costs only time:
 * the answer is libunwind's in every case the checks reach. The
 * exceptions: while a fork keeps libunwind closed for longer than a
 * capture waits (unw_local.c), or where a thread's stack has too little
 * left for libunwind (a small stack), a capture that needs libunwind keeps
 * only the frames up to the site and is marked truncated (to_site).
 *
 * The slot cache (unwind_slots.c). Code built without frame pointers
 * (Debian's python3, sqlite3, cc1, git) makes its sites needs-libunwind,
 * and a full libunwind unwind per allocation. Most allocations repeat a
 * stack, so such a site first asks a cache of libunwind's earlier answers
 * keyed by the site frame; unwind_slots.c argues why an answer is
 * libunwind's, and where it is not sure. A thread's answers are sampled
 * and checked against libunwind, one in MH_UNWIND_RECHECK at first, less
 * often while the checks agree (unwind_slots.c says how and why); on a
 * difference the site is marked no-slots. The cache is asked before the
 * site's verdict is looked up (entries are made only at sites that need
 * libunwind, and verdicts never go back), except at the sites the thread
 * last found fp-safe (FP_SITES of them, by address). Those the thread
 * remembers with the place of their verdict byte, and reads the byte
 * there without a lookup: a site's key, once in the table, is never
 * removed or moved, and every lookup of it probes the same path to the
 * same slot, so the byte read is the one mh_site_verdict would find.
 * While it says fp-safe, the walk goes on past the site without pausing;
 * else the capture takes the way above (slot cache, then the verdict).
 */
#include "preload/unwind.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload/ownmaps.h"
#include "preload/stack_bounds.h"
#include "preload/stackids.h"
#include "preload/sys.h"
#include "preload/thread_blocks.h"
#include "preload/unw_local.h"
#include "preload/unwind_sites.h"
#include "preload/unwind_slots.h"
#include "common/compiler.h"

/* Frames libunwind reports above mh_stack_capture's caller (see capture_unw). */
#define UNW_OWN_FRAMES 1
/* Stack unw_backtrace may use: it took 5 KiB in a thread's first captures. */
#define UNW_STACK_NEED 8192
/* Verified frame-pointer results: 2^20 ids of 8 bytes, touched as used. */
#define VERIFIED_LOG2 20
/* Captures a thread waits, after failing to find its stack bounds, before trying again. */
#define BOUNDS_RETRY_MIN 16
#define BOUNDS_RETRY_MAX 65536
/* Chain ends cached per thread. */
#define TAILS 4
/*
 * fp-safe sites a thread remembers with their verdict bytes, in its pool
 * block: 2 ways per set (a power of two), so that a few busy sites rarely
 * evict each other (one way each: alloc_bench's 4 sites collided in about
 * half the runs).
 */
#define FP_SITE_SETS_LOG2 3
#define FP_SITES (2U << FP_SITE_SETS_LOG2)
/* Slot-cache entries (of 128 bytes), shared by all threads, touched as used. */
#define SLOTS_LOG2 15
/* Most frames of our own above a site that the slot cache handles. */
#define OWN_MAX 16
/*
 * Verified fp results a thread remembers with their memos (a power of two),
 * 2 per set, in its pool block (not static TLS: thread_blocks.h) taken on
 * first need; without one (none left, thread ended) lookups, memo-less.
 */
#define RECENT 1024

/* Where a frame-pointer chain ended: the last frame it trusted. */
struct chain_end {
	uintptr_t frame;	/* stack address of that frame, 0 if none */
	uintptr_t saved_fp;	/* what that frame holds as its caller's frame pointer */
};

/* The frames libunwind found below a chain's end. */
struct tail {
	uintptr_t frame;	/* chain_end.frame; 0 for an empty entry */
	uintptr_t saved_fp;	/* chain_end.saved_fp */
	__u64 ret;		/* the chain's last return address */
	unsigned int n;
	__u64 ips[MH_UNWIND_TAIL_MAX];
	uintptr_t slots[MH_UNWIND_TAIL_MAX];	/* stack words that held ips[] */
};

/* A site the thread found fp-safe, and where the site table keeps its verdict. */
struct fp_site {
	__u64 site;		/* 0: none */
	const __u8 *verdict;
};

/* A verified frame-pointer result the thread served, and the memo kept with it. */
struct recent {
	__u64 key;			/* the result's hash (as in the verified set); 0: none */
	struct mh_stack_memo memo;
};

/* A thread's pool block. */
struct unwind_block {
	struct fp_site fp_sites[FP_SITES];	/* sites last judged fp: no slot cache there */
	struct recent recent[RECENT];		/* results served lately, by key: no lookup */
};

/* What every capture reads comes first, in one cache line (me is aligned). */
struct unwind_thread {
	uintptr_t stack_lo, stack_hi;	/* the thread's stack, for the walker */
	unsigned int bounds_wait;	/* captures before looking for them again */
	unsigned int bounds_backoff;	/* ...and the wait after the next failure */
	unsigned int recheck;		/* fp-served captures until the next check */
	unsigned int slots_recheck;	/* slot-cache answers until the next check */
	struct mh_thread_block block;	/* a struct unwind_block */
	unsigned int next_tail;		/* round-robin replacement */
	struct tail tails[TAILS];
	struct mh_unwind_stats stats;
};

static __thread struct unwind_thread me __attribute__((tls_model("initial-exec"), aligned(64)));
/* What MH_UNWIND_AUTO runs as: libunwind until its tables are mapped. */
static enum mh_unwind auto_as = MH_UNWIND_LIBUNWIND;
static struct mh_stackids *verified;
static bool sites_ok;
static __u64 own_lo, own_hi;
/* Each thread's struct unwind_block. */
static struct mh_thread_blocks blocks;

/*
 * Bounds of this thread's own stack (stack_bounds.c: no lock, no lasting
 * fd), found once per thread. A capture made on another stack (an
 * alternate signal stack, a coroutine's) finds none; the next attempts
 * then wait exponentially more captures, so that a thread running on such
 * stacks does not read /proc/self/maps every time.
 */
static __attribute__((noinline, cold)) bool stack_bounds_find(uintptr_t sp)
{
	if (me.bounds_wait) {
		me.bounds_wait--;
		return false;
	}
	if (mh_stack_bounds(sp, &me.stack_lo, &me.stack_hi))
		return true;
	me.bounds_backoff = me.bounds_backoff ? 2 * me.bounds_backoff : BOUNDS_RETRY_MIN;
	if (me.bounds_backoff > BOUNDS_RETRY_MAX)
		me.bounds_backoff = BOUNDS_RETRY_MAX;
	me.bounds_wait = me.bounds_backoff;
	return false;
}

static inline bool stack_bounds(uintptr_t sp)
{
	return mh_likely(me.stack_hi) || stack_bounds_find(sp);
}

/* A frame-pointer walk in progress. */
struct fp_walk {
	const uintptr_t *fp;	/* the next frame to read */
	unsigned int n;		/* return addresses found */
	unsigned int site_n;	/* ...up to the site's, once past a known fp site */
	bool truncated;		/* stopped at max with frames left */
	bool done;
	bool fp_site;		/* went on past the site: one the thread knows is fp-safe */
	struct chain_end end;
	__u64 key;		/* mh_stack_key_step over ips[0..n) */
};

static inline bool own_ip(__u64 ip)
{
	return ip - own_lo < own_hi - own_lo;
}

/* The set of b's fp sites where site would be: 2 ways, the newer first. */
static inline struct fp_site *fp_site_set(struct unwind_block *b, __u64 site)
{
	return &b->fp_sites[2 * ((site * 0x9e3779b97f4a7c15ULL) >> (64 - FP_SITE_SETS_LOG2))];
}

/* Is site one the thread remembers, and still fp-safe? (see the slot cache, above) */
static inline bool fp_site_known(__u64 site)
{
	struct unwind_block *b = me.block.at;
	const struct fp_site *f;

	if (!b)
		return false;
	f = fp_site_set(b, site);
	if (f->site != site && (++f)->site != site)
		return false;
	return __atomic_load_n(f->verdict, __ATOMIC_RELAXED) == MH_VERDICT_FP;
}

/* Remember site as fp-safe (verdict: its byte), or forget it (verdict NULL). */
static void fp_site_note(__u64 site, const __u8 *verdict)
{
	struct unwind_block *b = me.block.at;
	struct fp_site *f;

	if (!b && !(b = mh_thread_block_first(&blocks, &me.block)))
		return;
	f = fp_site_set(b, site);
	if (f[0].site != site) {
		if (!verdict && f[1].site != site)
			return;	/* not remembered: nothing to forget */
		/* The older way goes: the site's own, else the one used less lately. */
		f[1] = f[0];
	}
	f[0] = (struct fp_site){ .site = verdict ? site : 0, .verdict = verdict };
}

/*
 * Walk the frame-pointer chain: each frame holds the caller's frame
 * pointer then the return address. A frame must be aligned, inside this
 * thread's stack and above the previous one, or the walk stops: code
 * built without frame pointers leaves garbage in the chain. With to_site,
 * pause after the first return address outside our own code (the site).
 */
static inline __attribute__((always_inline)) void walk_on(struct fp_walk *w, __u64 *ips,
								   unsigned int max, bool to_site)
{
	/*
	 * In registers: the stores to ips[] may alias anything, the walk's
	 * state among it. The chain's end is the last frame read (its saved
	 * frame pointer read again from it once, after the loop). A pointer
	 * to the next entry, not an index: one register move less a frame.
	 */
	uintptr_t lo = me.stack_lo, span = me.stack_hi - me.stack_lo - 2 * sizeof(uintptr_t);
	const uintptr_t *fp = w->fp, *last = NULL;
	__u64 *out = ips + w->n, *const stop = ips + max;
	__u64 key = w->key;
	bool paused = false;

	if (w->done)
		return;
	while ((uintptr_t)fp - lo <= span && !((uintptr_t)fp & (sizeof(uintptr_t) - 1))) {
		const uintptr_t *next = (const uintptr_t *)fp[0];
		uintptr_t ret = fp[1];

		if (!ret)
			break;
		if (out == stop) {
			w->truncated = true;
			break;
		}
		*out++ = ret;
		key = mh_stack_key_step(key, ret);
		last = fp;
		if (next <= fp)
			break;
		fp = next;
		if (to_site && !own_ip(ret)) {
			paused = true;
			break;
		}
	}
	if (last)
		w->end = (struct chain_end){ .frame = (uintptr_t)last, .saved_fp = last[0] };
	w->fp = fp;
	w->n = (unsigned int)(out - ips);
	w->key = key;
	w->done = !paused;
}

/* Frames up to the site's, after a walk with to_site: all it found if it paused or ended. */
static inline unsigned int walk_site_n(const struct fp_walk *w)
{
	return w->fp_site ? w->site_n : w->n;
}

/* Start a walk at mh_stack_capture's frame: its return address comes first. */
static __attribute__((noinline)) void capture_fp(struct fp_walk *w, __u64 *ips, unsigned int max,
						 bool to_site)
{
	const uintptr_t *fp = __builtin_frame_address(0);

	*w = (struct fp_walk){ .fp = (const uintptr_t *)fp[0], .key = MH_STACK_KEY_START };
	if (!stack_bounds((uintptr_t)fp))
		w->done = true;
	walk_on(w, ips, max, to_site);
	/*
	 * A site the thread knows fp-safe: note where it was and go on here
	 * (its verdict is what capture_auto would look up next).
	 */
	if (to_site && !w->done && fp_site_known(ips[w->n - 1])) {
		w->fp_site = true;
		w->site_n = w->n;
		walk_on(w, ips, max, false);
	}
}

/*
 * unw_backtrace reports return addresses starting with the one into its
 * caller (capture_unw); capture_unw's own frame is dropped so ips[0] is
 * the return address into mh_stack_capture's caller, as capture_fp gives;
 * with beyond, the next ones, up to MH_STACK_CAPTURE_MAX, go there (*nb),
 * for the slot cache's proof. False (ips untouched) if a fork is being
 * prepared for longer than libunwind waits to be let in (unw_local.c), or
 * if the thread's stack has less than UNW_STACK_NEED left (a small one):
 * see to_site.
 */
static __attribute__((noinline)) bool capture_unw(__u64 *ips, unsigned int max, bool *truncated,
						  unsigned int *n, __u64 *beyond, unsigned int *nb)
{
	void *buf[MH_STACK_CAPTURE_MAX + UNW_OWN_FRAMES + 2];
	int want = (int)(beyond ? MH_STACK_CAPTURE_MAX : max) + UNW_OWN_FRAMES + 2, got, i;

	if (stack_bounds((uintptr_t)buf) && (uintptr_t)buf - me.stack_lo < UNW_STACK_NEED)
		return false;
	if (!mh_unw_enter())
		return false;
	got = unw_backtrace(buf, want);
	mh_unw_leave();
	*n = 0;
	for (i = UNW_OWN_FRAMES + 1; i < got && *n < max; i++)
		ips[(*n)++] = (uintptr_t)buf[i];
	*truncated = got > (int)max + UNW_OWN_FRAMES + 1;
	if (beyond)
		for (*nb = 0; i < got && *nb < MH_STACK_CAPTURE_MAX; i++)
			beyond[(*nb)++] = (uintptr_t)buf[i];
	return true;
}

static void site_judge(__u64 site, bool fp_ok)
{
	if (mh_site_mark(site, fp_ok ? MH_VERDICT_FP : MH_VERDICT_LIBUNWIND)) {
		if (fp_ok)
			me.stats.sites_fp++;
		else
			me.stats.sites_libunwind++;
	}
}

/*
 * Remember libunwind's frames below a chain end, with the stack words that
 * hold them: each found above the previous one, between the end's frame
 * and the top of the stack. False if one is not there (nothing cached).
 */
static bool tail_learn(const struct chain_end *end, __u64 ret, const __u64 *ips, unsigned int n)
{
	struct tail *t = &me.tails[me.next_tail];
	uintptr_t p = end->frame + 2 * sizeof(uintptr_t);
	unsigned int j;

	for (j = 0; j < n; j++, p += sizeof(uintptr_t)) {
		while (p + sizeof(uintptr_t) <= me.stack_hi && *(const __u64 *)p != ips[j])
			p += sizeof(uintptr_t);
		if (p + sizeof(uintptr_t) > me.stack_hi)
			return false;
		t->slots[j] = p;
		t->ips[j] = ips[j];
	}
	t->n = n;
	t->frame = end->frame;
	t->saved_fp = end->saved_fp;
	t->ret = ret;
	me.next_tail = (me.next_tail + 1) % TAILS;
	return true;
}

/*
 * Complete a chain that ended (not truncated) with its cached tail, if every slot still
 * holds its frame, the walk's key going on over the frames appended: one pass over the
 * entry. Truncation follows libunwind's: more than max frames in all.
 */
static inline bool tail_append(struct fp_walk *w, __u64 *ips, unsigned int max, bool *truncated)
{
	unsigned int i, j, fit;
	__u64 ret, key;

	if (!w->end.frame)	/* else the frame of a return address the walk kept: w->n > 0 */
		return false;
	ret = ips[w->n - 1];
	for (i = 0; i < TAILS; i++) {
		const struct tail *t = &me.tails[i];

		if (t->frame != w->end.frame || t->saved_fp != w->end.saved_fp || t->ret != ret)
			continue;
		/* Copied past w->n only: a stale slot leaves the walk's frames as they were. */
		fit = t->n < max - w->n ? t->n : max - w->n;
		key = w->key;
		for (j = 0; j < t->n && *(const __u64 *)t->slots[j] == t->ips[j]; j++) {
			if (j < fit) {
				ips[w->n + j] = t->ips[j];
				key = mh_stack_key_step(key, t->ips[j]);
			}
		}
		if (j < t->n)
			continue;
		w->n += fit;
		w->key = key;
		*truncated = fit < t->n;
		return true;
	}
	return false;
}

static bool same(const __u64 *a, unsigned int na, bool ta, const __u64 *b, unsigned int nb,
		 bool tb)
{
	return na == nb && ta == tb && !memcmp(a, b, na * sizeof(*a));
}

/*
 * Judge the site by libunwind's answer ref and the walk's ips: equal, or,
 * when the chain ended without a cached tail (complete false), equal up to
 * the chain's end with at most MH_UNWIND_TAIL_MAX frames below it, which
 * are then cached. Returns whether the walk was right.
 */
static bool check(__u64 site, const __u64 *ips, unsigned int n, bool truncated, bool complete,
		  const struct chain_end *end, const __u64 *ref, unsigned int m, bool rtrunc)
{
	bool ok;

	me.stats.checked++;
	if (complete)
		ok = same(ips, n, truncated, ref, m, rtrunc);
	else
		ok = n && m >= n && m - n <= MH_UNWIND_TAIL_MAX && !rtrunc &&
		     !memcmp(ips, ref, n * sizeof(*ips)) && tail_learn(end, ips[n - 1], ref + n, m - n);
	if (ok) {
		/* Verified: this exact result may now be served by the walk alone. */
		__u64 id = mh_stack_key(ref, m, rtrunc);

		if (mh_stackids_intern(verified, id) == MH_INTERN_SEND)
			mh_stackids_sent(verified, id);
	} else {
		me.stats.mismatched++;
	}
	site_judge(site, ok);
	return ok;
}

void mh_unwind_thread_end(void)
{
	mh_thread_block_end(&blocks, &me.block);
	mh_slots_thread_end();
}

/*
 * Does the frame-pointer walk's answer need a check? (see the rule above)
 * key is the answer's mh_stack_key, which the walk computed as it went.
 * If not, *memo is the memo kept with this result in the thread's table of
 * recent results. Its key is the result's key, so a memo written for
 * another result (one that held the entry before, or a signal handler's,
 * interrupting us here) never passes the caller's check word as this
 * one's: an entry is only ever a hint, which the memo's check confirms.
 */
static inline bool must_check(__u64 key, struct mh_memo_ref *memo)
{
	struct unwind_block *b;
	struct recent *r;

	if (mh_unlikely(!me.recheck--)) {
		me.recheck = MH_UNWIND_RECHECK - 1;
		return true;
	}
	b = me.block.at;
	if (mh_unlikely(!b) && !(b = mh_thread_block_first(&blocks, &me.block)))
		return mh_stackids_intern(verified, key) == MH_INTERN_SEND;
	r = b->recent;
	/*
	 * Two ways per set, the newer first: a few hundred stacks in turn
	 * (alloc_bench's 112) rarely evict each other.
	 */
	r += (key >> 1) & (RECENT - 2);
	if (r->key != key && (++r)->key != key) {
		if (mh_unlikely(mh_stackids_intern(verified, key) == MH_INTERN_SEND))
			return true;
		r[0] = r[-1];
		r--;
		r->key = key;
		r->memo = (struct mh_stack_memo){ 0 };
	}
	memo->at = &r->memo;
	memo->key = key;
	return false;
}

/*
 * libunwind is closed (a fork, a small stack: capture_unw) and the
 * walk beyond the site is unchecked: keep the frames up to the site, all
 * in our own code but the site itself, which the frame pointers we keep
 * give exactly, and say the stack was cut.
 */
static inline unsigned int to_site(unsigned int site_n, bool *truncated)
{
	*truncated = true;
	return site_n;
}

/*
 * The site's frame, from a walk that stopped at the site: the slot of its
 * return address is in the last frame of ours, which also saved the
 * program's RBP. False if the walk did not reach the program.
 */
static inline bool site_frame(const struct fp_walk *w, const __u64 *ips, struct mh_site_frame *s)
{
	if (!w->n || own_ip(ips[w->n - 1]) || !w->end.frame || w->n > OWN_MAX)
		return false;
	*s = (struct mh_site_frame){ .slot = w->end.frame + sizeof(uintptr_t),
				     .ip = ips[w->n - 1],
				     .rbp = w->end.saved_fp,
				     .stack_hi = me.stack_hi };
	/*
	 * A thread's static TLS (ours included, which holds return addresses)
	 * lies above its stack in the same mapping: the frames end below it.
	 */
	if ((uintptr_t)&me > s->slot && (uintptr_t)&me < s->stack_hi)
		s->stack_hi = (uintptr_t)&me;
	return true;
}

/*
 * A slot-cache answer of n frames (own ones from the walk, then the
 * entry's), some checked against libunwind (mh_slots_recheck_after): on a
 * difference the site's cache is switched off and libunwind's answer used.
 */
static inline __attribute__((always_inline)) unsigned int
slots_answer(const struct mh_site_frame *s, __u64 *ips, unsigned int n, unsigned int max,
	     bool *truncated, struct mh_memo_ref *memo, __u64 *ref)
{
	unsigned int m;
	bool rtrunc, ran;

	if (mh_likely(me.slots_recheck--)) {
		me.stats.slots++;
		return n;
	}
	ran = capture_unw(ref, max, &rtrunc, &m, NULL, NULL);
	if (!ran || same(ips, n, *truncated, ref, m, rtrunc)) {
		me.stats.slots_rechecked += ran;
		me.slots_recheck = mh_slots_recheck_after(ran);
		me.stats.slots++;
		return n;
	}
	me.stats.slots_rechecked++;
	me.stats.slots_mismatched++;
	mh_site_mark(s->ip, MH_VERDICT_NOSLOTS);
	mh_slots_flush();
	me.slots_recheck = mh_slots_recheck_after(false);
	memo->at = NULL;
	memo->own = MH_OWN_UNKNOWN;
	memcpy(ips, ref, m * sizeof(*ips));
	*truncated = rtrunc;
	return m;
}

/*
 * A site that needs libunwind: libunwind's answer, which the slot cache
 * then learns (s not NULL) when the walk's frames of ours, own[], are
 * libunwind's too; beyond[] takes its proof's frames (capture_unw).
 */
static inline __attribute__((always_inline)) unsigned int
capture_slots(__u64 *ips, unsigned int max, bool *truncated, struct mh_memo_ref *memo,
	      unsigned int site_n, const struct mh_site_frame *s, const __u64 *own, __u64 *beyond)
{
	unsigned int m, nb = 0;

	me.stats.libunwind++;
	if (!capture_unw(ips, max, truncated, &m, s ? beyond : NULL, &nb))
		return to_site(site_n, truncated);
	if (s && m >= site_n && !memcmp(own, ips, site_n * sizeof(*ips))) {
		memo->at = mh_slots_learn(s, ips + site_n - 1, m - (site_n - 1), beyond, nb,
					  *truncated, &memo->key);
		me.stats.slots_learned += memo->at != NULL;
		me.stats.slots_unproved += memo->at == NULL;
	}
	return m;
}

/*
 * Auto mode. Inlined into mh_stack_capture so that both walkers are called
 * from the same frame and report the same frames above it.
 */
static inline __attribute__((always_inline)) unsigned int
capture_auto(__u64 *ips, unsigned int max, bool *truncated, struct mh_memo_ref *memo)
{
	__u64 ref[MH_STACK_CAPTURE_MAX], own[OWN_MAX];
	struct mh_site_frame s;
	enum mh_slots_miss why;
	struct fp_walk w;
	const __u8 *at;
	unsigned int m, verdict, site_n;
	__u64 site;
	bool complete, rtrunc, cache;

	capture_fp(&w, ips, max, true);
	verdict = MH_VERDICT_FP;
	site_n = walk_site_n(&w);
	if (!w.fp_site) {
		/* No frame of the caller's: the walk found nothing (an alternate signal stack). */
		site = w.n && !own_ip(ips[w.n - 1]) ? ips[w.n - 1] : 0;
		cache = site_frame(&w, ips, &s);
		/* Entries are made only at sites that need libunwind: no verdict to look up. */
		if (cache) {
			if (mh_slots_serve(&s, ips + site_n - 1, max - (site_n - 1), &m, truncated,
					   memo, &why)) {
				/* The walk paused at the site: all frames before it are ours. */
				memo->own = site_n - 1;
				return slots_answer(&s, ips, site_n - 1 + m, max, truncated, memo,
						    ref);
			}
			ips[site_n - 1] = s.ip;
			if (why == MH_SLOTS_CHANGED)
				me.stats.slots_changed++;
			else
				me.stats.slots_cold++;
		}
		verdict = site ? mh_site_verdict(site, &at) : MH_VERDICT_LIBUNWIND;
		if (verdict == MH_VERDICT_FP)
			fp_site_note(site, at);
		else if (site)
			fp_site_note(site, NULL);
		if (verdict & MH_VERDICT_LIBUNWIND) {
			/*
			 * The walk's frames of ours, as the slot cache left them
			 * (it writes from ips[site_n - 1] on, restored above):
			 * copied only here, a copy on every capture cost a rep
			 * movsq each.
			 */
			if (cache)
				memcpy(own, ips, site_n * sizeof(*ips));
			return capture_slots(ips, max, truncated, memo, site_n,
					     cache && !(verdict & MH_VERDICT_NOSLOTS) ? &s : NULL,
					     own, ref);
		}
		walk_on(&w, ips, max, false);
	}
	site = ips[site_n - 1];
	*truncated = w.truncated;
	complete = w.truncated || tail_append(&w, ips, max, truncated);
	if (verdict == MH_VERDICT_FP && complete &&
	    !must_check(mh_stack_key_end(w.key, w.n, *truncated), memo)) {
		me.stats.fp++;
		/* Past the site's verdict, the walk had paused there: all frames before it are ours. */
		memo->own = site_n - 1;
		return w.n;
	}
	if (!capture_unw(ref, max, &rtrunc, &m, NULL, NULL))
		return to_site(site_n, truncated);
	check(site, ips, w.n, *truncated, complete, &w.end, ref, m, rtrunc);
	memcpy(ips, ref, m * sizeof(*ips));
	*truncated = rtrunc;
	return m;
}

int mh_stack_setup(enum mh_unwind mode, __u64 skip_lo, __u64 skip_hi)
{
	/* Cannot fail in a way that matters: libunwind keeps its own defaults then. */
	(void)mh_unw_local_setup();
	own_lo = skip_lo;
	own_hi = skip_hi;
	if (mode != MH_UNWIND_AUTO || sites_ok)
		return 0;
	sites_ok = mh_sites_setup() == 0;
	verified = mh_stackids_new(VERIFIED_LOG2);
	(void)mh_thread_blocks_setup(&blocks, sizeof(struct unwind_block));
	/* Without it, sites that need libunwind simply always get it. */
	(void)mh_slots_setup(SLOTS_LOG2);
	if (sites_ok && verified) {
		auto_as = MH_UNWIND_AUTO;
		return 0;
	}
	return -ENOMEM;
}

__attribute__((noinline)) unsigned int mh_stack_capture(enum mh_unwind mode, __u64 *ips,
							 unsigned int max, bool *truncated,
							 struct mh_memo_ref *memo)
{
	/* Written in place: a local copied out whole is a 16-byte load of 2 unforwarded stores. */
	struct mh_memo_ref none, *m = memo ? memo : &none;
	unsigned int n;

	m->at = NULL;
	m->key = 0;
	m->own = MH_OWN_UNKNOWN;
	if (max > MH_STACK_CAPTURE_MAX)
		max = MH_STACK_CAPTURE_MAX;
	if (mode == MH_UNWIND_AUTO)
		mode = auto_as;
	if (mode == MH_UNWIND_AUTO) {
		n = capture_auto(ips, max, truncated, m);
	} else if (mode == MH_UNWIND_FP) {
		struct fp_walk w;

		capture_fp(&w, ips, max, false);
		n = w.n;
		*truncated = w.truncated;
	} else if (!capture_unw(ips, max, truncated, &n, NULL, NULL)) {
		struct fp_walk w;

		capture_fp(&w, ips, max, true);
		n = to_site(walk_site_n(&w), truncated);
	}
	/* Keep this frame real so both walkers see the same frames above it. */
	__asm__ __volatile__("" ::: "memory");
	return n;
}

void mh_unwind_stats(struct mh_unwind_stats *out)
{
	*out = me.stats;
}

#ifdef MH_UNWIND_DUMP
#include <stdio.h>
/* Measurement builds only (CFLAGS=-DMH_UNWIND_DUMP): the main thread's counters at exit. */
static __attribute__((destructor)) void dump_stats(void)
{
	struct mh_unwind_stats *t = &me.stats;
	char b[512];
	int len;

	len = snprintf(b, sizeof(b),
		       "unwind pid %d: fp %llu libunwind %llu checked %llu slots %llu learned %llu "
		       "unproved %llu cold %llu changed %llu rechecked %llu mismatched %llu\n",
		       getpid(), t->fp, t->libunwind, t->checked, t->slots, t->slots_learned,
		       t->slots_unproved, t->slots_cold, t->slots_changed, t->slots_rechecked,
		       t->slots_mismatched);
	if (len > 0)
		(void)!write(2, b, (size_t)len);
}
#endif
