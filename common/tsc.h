/* SPDX-License-Identifier: MIT */
/*
 * tsc.h - whether the TSC may stand in for CLOCK_MONOTONIC (the
 * preload's stamps, preload/clock.h). The answer is the machine's and
 * its kernel's, the same for every process: the recorder asks once and
 * publishes it in the ring header (MH_RING_TSC), so no traced process
 * pays for /proc/cpuinfo, sysfs and the vDSO probe at its start.
 *
 * Never allocates, never prints.
 */
#ifndef MEMHOOK_COMMON_TSC_H
#define MEMHOOK_COMMON_TSC_H

#include <stdbool.h>

/*
 * Invariant TSC (constant_tsc and nonstop_tsc in the first processor's
 * /proc/cpuinfo flags) and a kernel keeping time with it (clocksource
 * tsc, or kvm-clock whose vDSO reads it). Not thread-safe: a static
 * buffer holds the files read.
 */
bool mh_tsc_usable(void);

#endif /* MEMHOOK_COMMON_TSC_H */
