/* SPDX-License-Identifier: MIT */
/*
 * clock.h - the tool's one way to read a clock in nanoseconds. Every
 * timestamp the recorder and the collector write is CLOCK_MONOTONIC ns,
 * the clock the preload's records and the BPF programs use.
 */
#ifndef MEMHOOK_COMMON_CLOCK_H
#define MEMHOOK_COMMON_CLOCK_H

#include <time.h>

#include <linux/types.h>

/* clk in nanoseconds. Thread-safe and async-signal-safe. */
static inline __u64 mh_clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in nanoseconds: the trace's clock. */
static inline __u64 mh_clock_now_ns(void)
{
	return mh_clock_ns(CLOCK_MONOTONIC);
}

#endif /* MEMHOOK_COMMON_CLOCK_H */
