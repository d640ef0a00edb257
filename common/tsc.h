/* SPDX-License-Identifier: MIT */
/*
 * tsc.h - reading the TSC, and whether it may stand in for
 * CLOCK_MONOTONIC (the preload's stamps, preload/clock.h). The answer is
 * the machine's and its kernel's, the same for every process: the
 * recorder asks once and publishes it in the ring header (MH_RING_TSC),
 * so no traced process pays for /proc/cpuinfo, sysfs and the vDSO probe
 * at its start.
 *
 * Never allocates, never prints.
 */
#ifndef MEMHOOK_COMMON_TSC_H
#define MEMHOOK_COMMON_TSC_H

#include <stdbool.h>

#include <linux/types.h>

/* The TSC, unordered (0 where there is none). Thread-safe and async-signal-safe. */
static inline __u64 mh_clock_rdtsc(void)
{
#if defined(__x86_64__)
	return __builtin_ia32_rdtsc();
#else
	return 0;
#endif
}

/*
 * Invariant TSC (constant_tsc and nonstop_tsc in the first processor's
 * /proc/cpuinfo flags) and a kernel keeping time with it (clocksource
 * tsc, or kvm-clock whose vDSO reads it). Not thread-safe: a static
 * buffer holds the files read.
 */
bool mh_tsc_usable(void);

#endif /* MEMHOOK_COMMON_TSC_H */
