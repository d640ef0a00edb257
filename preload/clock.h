/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the timestamps of the preload's records: CLOCK_MONOTONIC
 * nanoseconds, the clock the kernel stream uses (bpf_ktime_get_ns), read
 * cheaply.
 *
 * Where the TSC is invariant (constant_tsc and nonstop_tsc) and is the
 * kernel's own clocksource, a timestamp is rdtsc converted in-process to
 * CLOCK_MONOTONIC ns: each thread keeps a base pair (tsc, ns) taken with
 * clock_gettime and refreshed once more than about a millisecond of TSC
 * has passed, so a converted value stays within a microsecond of what
 * clock_gettime would have said (NTP slews CLOCK_MONOTONIC by at most 500
 * ppm, 0.5 us per ms). Elsewhere it is clock_gettime. Nothing in TSC units
 * ever leaves the process. Within a thread, timestamps never go back;
 * across threads, order is the ring's, not the timestamps'.
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

/* CLOCK_MONOTONIC now, in ns. Thread-safe, async-signal-safe. */
__u64 mh_clock_ns(void);

#endif /* MEMHOOK_PRELOAD_CLOCK_H */
