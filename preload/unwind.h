/* SPDX-License-Identifier: MIT */
/*
 * unwind.h - call-stack capture for the preload: libunwind, the
 * frame-pointer chain, or "auto", the frame-pointer walk checked against
 * libunwind per call site (the rule is explained atop unwind.c).
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_UNWIND_H
#define MEMHOOK_PRELOAD_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "memhook/events.h"

/* Most frames one capture returns: the depth limit plus room for frames to skip. */
#define MH_STACK_CAPTURE_MAX (MH_STACK_MAX_DEPTH + 16)
/*
 * In auto mode, a site served by the frame-pointer walk is re-checked once
 * per this many; slot-cache answers start there (unwind_slots.c).
 */
#define MH_UNWIND_RECHECK 256
/* Most frames below the end of a frame-pointer chain that auto mode caches per thread. */
#define MH_UNWIND_TAIL_MAX 4

/*
 * Two words a capture's caller may keep with one exact stack (core.c keeps
 * its stack id there): zero until the caller sets them, zeroed again
 * whenever the frames they were kept with change. A memo may be shared
 * between threads: the caller must write check as a function of id, of
 * what it keys the id by and of the reference's key (core.c: id ^ tag ^
 * key), and trust the memo only if check still agrees, so that a memo torn
 * by two writers is never taken for a valid one.
 */
struct mh_stack_memo {
	__u64 id;
	__u64 check;
};

/* mh_memo_ref.own when the capture does not know its own frames. */
#define MH_OWN_UNKNOWN (~0U)

/*
 * A capture's memo and the key of the frames it came with, and how many of
 * the first frames are in the code mh_stack_setup was told is its caller's
 * own (skip_lo..skip_hi), when the capture found that out on its way.
 */
struct mh_memo_ref {
	struct mh_stack_memo *at;	/* NULL: no memo for this capture */
	__u64 key;
	unsigned int own;		/* MH_OWN_UNKNOWN: count them */
};

enum mh_unwind {
	MH_UNWIND_LIBUNWIND = 0,	/* unw_backtrace, DWARF/CFI based */
	MH_UNWIND_FP = 1,		/* frame-pointer chain, bounds-checked */
	MH_UNWIND_AUTO = 2,		/* frame pointers where checked equal to libunwind */
};

/*
 * One-time setup of the unwinder: libunwind's per-thread cache and, for
 * MH_UNWIND_AUTO, the site and verified-stack tables (mmap'd). Leading
 * frames whose return address is inside [skip_lo, skip_hi) belong to the
 * caller's own code (the preload): auto mode keys a capture by the first
 * frame outside that range. Call once before the first capture, from a
 * context where malloc may be called. 0, or -errno if auto mode's tables
 * cannot be mapped; captures then use libunwind.
 */
int mh_stack_setup(enum mh_unwind mode, __u64 skip_lo, __u64 skip_hi);

/*
 * Capture the current call stack into ips (at most max entries). ips[0] is
 * the return address into the caller of mh_stack_capture; every entry is
 * a return address. Returns the number of entries; sets *truncated when
 * the stack was deeper than max. max is capped at MH_STACK_CAPTURE_MAX.
 * MH_UNWIND_AUTO returns what MH_UNWIND_LIBUNWIND would (see unwind.c for
 * how far that is checked). If memo is not NULL, *memo is set to the memo
 * of this exact stack when the capture was answered from a cache that
 * knows the stack unchanged, else memo->at to NULL. Thread-safe.
 * Async-signal-safe for MH_UNWIND_FP; the others are as safe as
 * libunwind's local unwinding.
 */
unsigned int mh_stack_capture(enum mh_unwind mode, __u64 *ips, unsigned int max, bool *truncated,
			      struct mh_memo_ref *memo);

/* What auto mode did on the calling thread, counted per capture. */
struct mh_unwind_stats {
	__u64 fp;		/* answered by the frame-pointer walk alone */
	__u64 libunwind;	/* answered by libunwind alone: the site needs it */
	__u64 checked;		/* answered after running both walkers */
	__u64 mismatched;	/* ...of which the two differed (libunwind's answer used) */
	__u64 sites_fp;		/* sites this thread judged fp-safe */
	__u64 sites_libunwind;	/* sites this thread judged to need libunwind */
	__u64 slots;		/* answered from the return-address-slot cache */
	__u64 slots_learned;	/* slot-cache entries made (after a libunwind capture) */
	__u64 slots_rechecked;	/* slot-cache answers checked against libunwind */
	__u64 slots_mismatched;	/* ...of which differed (site's cache then off) */
	__u64 slots_cold;	/* slot-cache misses: no entry for the site frame and caller */
	__u64 slots_changed;	/* ...an entry, but a slot further out changed */
	__u64 slots_unproved;	/* libunwind answers the slot cache could not learn */
};

/* The calling thread's counters since it started. Thread-safe. */
void mh_unwind_stats(struct mh_unwind_stats *out);

/*
 * The calling thread is ending: give back its per-thread memory. Captures
 * after it still work, without that memory. Async-signal-safe.
 */
void mh_unwind_thread_end(void);

#endif /* MEMHOOK_PRELOAD_UNWIND_H */
