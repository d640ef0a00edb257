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

/*
 * Decide, once per process image, whether the TSC may be used: reads the
 * first processor's flags from /proc/cpuinfo and the current clocksource
 * with open/read (no stdio, no malloc), then calibrates the TSC's rate
 * against clock_gettime. Call before the first mh_clock_ns from a normal
 * context (not a signal handler). Idempotent.
 */
void mh_clock_setup(void);

/* True when mh_clock_ns() converts the TSC (set by mh_clock_setup). */
bool mh_clock_uses_tsc(void);

/* In a fork child: forget a conversion update the parent's other threads had under way. */
void mh_clock_fork_child(void);

/*
 * CLOCK_MONOTONIC now, in ns, read once every earlier instruction has
 * run (lfence before rdtsc): a stamp taken after a load that saw another
 * thread's stamped store is above that thread's stamp. Thread-safe,
 * async-signal-safe.
 */
__u64 mh_clock_ns(void);

/*
 * mh_clock_ns without the fence (about 5 to 20 ns less per read, more
 * when earlier loads miss the cache): the tick may be read before
 * earlier loads complete, so it orders nothing against other threads.
 * Within a thread values still never go back, and the tick is still read
 * after any interrupt taken before the call. For a process in which one
 * thread alone stamps records (preload/core.c, docs/DESIGN.md).
 * Thread-safe, async-signal-safe.
 */
__u64 mh_clock_ns_unordered(void);

#endif /* MEMHOOK_PRELOAD_CLOCK_H */
