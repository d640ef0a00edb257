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
/* In auto mode, a site served by the frame-pointer walk is re-checked once per this many. */
#define MH_UNWIND_RECHECK 256
/* Most frames below the end of a frame-pointer chain that auto mode caches per thread. */
#define MH_UNWIND_TAIL_MAX 4

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
 * how far that is checked). Thread-safe. Async-signal-safe for
 * MH_UNWIND_FP; the others are as safe as libunwind's local unwinding.
 */
unsigned int mh_stack_capture(enum mh_unwind mode, __u64 *ips, unsigned int max, bool *truncated);

/* What auto mode did on the calling thread, counted per capture. */
struct mh_unwind_stats {
	__u64 fp;		/* answered by the frame-pointer walk alone */
	__u64 libunwind;	/* answered by libunwind alone: the site needs it */
	__u64 checked;		/* answered after running both walkers */
	__u64 mismatched;	/* ...of which the two differed (libunwind's answer used) */
	__u64 sites_fp;		/* sites this thread judged fp-safe */
	__u64 sites_libunwind;	/* sites this thread judged to need libunwind */
};

/* The calling thread's counters since it started. Thread-safe. */
void mh_unwind_stats(struct mh_unwind_stats *out);

#endif /* MEMHOOK_PRELOAD_UNWIND_H */
