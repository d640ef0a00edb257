/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the timestamps of the preload's records: CLOCK_MONOTONIC
 * nanoseconds, the clock the kernel stream uses (bpf_ktime_get_ns), read
 * cheaply.
 *
 * Where the TSC is invariant (constant_tsc and nonstop_tsc) and the
 * kernel's own clocksource reads it (tsc, or kvm-clock with the host's
 * "TSCs in step" flag), a timestamp is rdtsc converted in-process to
 * CLOCK_MONOTONIC ns by one piecewise-linear function shared by all
 * threads: once more than about a millisecond of TSC has passed since the
 * last piece began, one thread starts a new piece where the old one ends,
 * its rate set to close the gap to clock_gettime over the next
 * millisecond (a lag beyond 2 us is stepped over), so a converted value
 * stays within a few microseconds of what clock_gettime would have said.
 * Because the function is the same in every thread and never decreases,
 * two events are stamped in the order their TSC reads ran, whatever
 * threads they are on (clock_gettime itself adds an lfence and the
 * pvclock page's reads to each rdtsc). Elsewhere it is clock_gettime.
 * Nothing in TSC units ever leaves the process. Within a thread,
 * timestamps never go back.
 *
 * Never allocates, never prints; async-signal-safe.
 */
#ifndef MEMHOOK_PRELOAD_CLOCK_H
#define MEMHOOK_PRELOAD_CLOCK_H

#include <stdbool.h>
#include <linux/types.h>

#include "common/tsc.h"

/*
 * Once per process image: where tsc_usable (the ring header's
 * MH_RING_TSC, or common/tsc.h's answer), start calibrating the TSC's
 * rate against clock_gettime; until then and otherwise, readings come
 * from clock_gettime. Call from a normal context (not a signal handler).
 * Idempotent.
 */
void mh_clock_setup(bool tsc_usable);

/* True when mh_clock_ns() converts the TSC (set by mh_clock_setup). */
bool mh_clock_uses_tsc(void);

/* In a fork child: forget a conversion update the parent's other threads had under way. */
void mh_clock_fork_child(void);

/*
 * CLOCK_MONOTONIC now, in ns, read once every earlier instruction has
 * run (lfence before rdtsc): a stamp taken after a load that saw another
 * thread's stamped store is above that thread's stamp. Thread-safe,
 * async-signal-safe. mh_clock_read(true) is the same, inline.
 */
__u64 mh_clock_ns(void);

/*
 * mh_clock_ns without the fence (about 5 to 20 ns less per read, more
 * when earlier loads miss the cache): the tick may be read before
 * earlier loads complete, so it orders nothing against other threads.
 * Within a thread values still never go back, and the tick is still read
 * after any interrupt taken before the call. For a process in which one
 * thread alone stamps records (preload/core.c, docs/DESIGN.md).
 * Thread-safe, async-signal-safe. mh_clock_read(false) is the same, inline.
 */
__u64 mh_clock_ns_unordered(void);

/*
 * What the inline read below needs from clock.c; not for other users.
 * One piece of the conversion: ns = base_ns + (tsc - base_tsc) * mult >>
 * MH_CLOCK_MULT_SHIFT from base_tsc on. Every thread uses the same
 * pieces, so the converted clock is one increasing function of the TSC,
 * whichever thread reads it: two events are stamped in the order their
 * rdtsc ran.
 */
#define MH_CLOCK_SEGMENTS 4
#define MH_CLOCK_MULT_SHIFT 32

struct mh_clock_segment {
	__u64 base_tsc;
	__u64 base_ns;
	__u64 mult;
};

extern struct mh_clock_shared {
	bool tsc_ok;		/* the TSC may be used (setup decided) */
	__u64 refresh_ticks;	/* the conversion's refresh period, in ticks */
	/*
	 * segs[gen % MH_CLOCK_SEGMENTS] is current; 0: not calibrated yet
	 * (clock_gettime). Until then segs[0] is all zero, so the inline
	 * read finds it due (no TSC is within refresh_ticks of 0).
	 */
	__u64 gen;
	struct mh_clock_segment segs[MH_CLOCK_SEGMENTS];
} mh_clock_shared __attribute__((visibility("hidden")));

extern __thread __u64 mh_clock_last_ns
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

__u64 mh_clock_gettime_ns(void) __attribute__((visibility("hidden")));
__u64 mh_clock_refresh(__u64 tsc) __attribute__((visibility("hidden")));

/*
 * rdtsc once everything before it has run, as the vDSO reads it: an
 * allocation's stamp must not be taken before the allocator's own loads
 * that found the block free (another thread's release, stamped earlier),
 * nor a free's before the load that brought it the pointer (another
 * thread's allocation, stamped earlier: docs/DESIGN.md).
 */
static inline __u64 mh_clock_rdtsc_ordered(void)
{
#if defined(__x86_64__)
	__builtin_ia32_lfence();
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

/* Within a thread, values never go back. */
static inline __u64 mh_clock_monotonic(__u64 ns)
{
	if (ns < mh_clock_last_ns)
		return mh_clock_last_ns;
	mh_clock_last_ns = ns;
	return ns;
}

/* The value of segment g at tsc (an earlier tsc: its start, never below it). */
static inline __u64 mh_clock_seg_ns(const struct mh_clock_segment *g, __u64 tsc)
{
	__u64 d = tsc > g->base_tsc ? tsc - g->base_tsc : 0;

	return g->base_ns + (__u64)(((unsigned __int128)d * g->mult) >> MH_CLOCK_MULT_SHIFT);
}

/*
 * mh_clock_ns (ordered) or mh_clock_ns_unordered, inline. The tick is
 * read first, then the current segment: one made since is continuous
 * with the old at tsc. Without the TSC, clock_gettime alone (the TSC
 * reads of a paired read are only for calibrating, and each costs as
 * much as a third of clock_gettime under a hypervisor). Unordered, the
 * tick may also be read a few ns after the segment is loaded: a segment
 * another thread starts in between is then read past its start, which is
 * within a fraction of a ns of the new one there.
 */
static inline __attribute__((always_inline)) __u64 mh_clock_read(bool ordered)
{
	struct mh_clock_shared *c = &mh_clock_shared;
	struct mh_clock_segment s;
	__u64 g, tsc, d;

	if (__builtin_expect(!__atomic_load_n(&c->tsc_ok, __ATOMIC_RELAXED), 0))
		return mh_clock_monotonic(mh_clock_gettime_ns());
	tsc = ordered ? mh_clock_rdtsc_ordered() : mh_clock_rdtsc();
	g = __atomic_load_n(&c->gen, __ATOMIC_ACQUIRE);
	s = c->segs[g % MH_CLOCK_SEGMENTS];
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	/*
	 * A writer lapped this copy, a segment made after our tick (tsc -
	 * base_tsc wraps), one due or none yet: the slow path. Past this
	 * check, d is at most refresh_ticks, whose product with a segment's
	 * mult is about REFRESH_NS << MH_CLOCK_MULT_SHIFT (2^52): 64 bits do.
	 */
	d = tsc - s.base_tsc;
	if (__builtin_expect(__atomic_load_n(&c->gen, __ATOMIC_RELAXED) - g >=
				     MH_CLOCK_SEGMENTS - 2 ||
			     d > c->refresh_ticks, 0))
		return mh_clock_refresh(tsc);
	return mh_clock_monotonic(s.base_ns + (d * s.mult >> MH_CLOCK_MULT_SHIFT));
}

#endif /* MEMHOOK_PRELOAD_CLOCK_H */
