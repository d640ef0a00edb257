// SPDX-License-Identifier: MIT
/*
 * clock.c - CLOCK_MONOTONIC ns for the preload's records, from the TSC
 * where that is safe (see clock.h), else from clock_gettime. The TSC is
 * converted by one function of it shared by all threads (segments, below),
 * never by per-thread bases: those differ by their pairing error (tens of
 * ns under a hypervisor), enough to stamp another thread's reuse of an
 * address before its release.
 *
 * Never allocates, never prints, never blocks: it runs inside malloc and
 * may run in a signal handler. The rate is calibrated lazily, from the
 * first reading taken at least CALIBRATE_NS after setup, so starting a
 * process costs nothing; until then readings come from clock_gettime.
 * Whether the TSC may be used at all is the machine's answer, asked once
 * by the recorder (common/tsc.h, the ring header's MH_RING_TSC): asking
 * it in each process cost 32-48 us of /proc/cpuinfo, sysfs and timed
 * system calls at every start.
 */
#include "preload/clock.h"

#include <time.h>

#include "common/compiler.h"

/* The conversion is re-anchored to clock_gettime once this much TSC time has passed, in ns. */
#define REFRESH_NS 1000000ULL
/* The rate is first measured over at least this long, in ns (error ~ 60 ns / this). */
#define CALIBRATE_NS 10000000ULL
/* Fixed-point shift of the ns-per-tick multiplier. */
#define MULT_SHIFT MH_CLOCK_MULT_SHIFT
/* A lag behind clock_gettime beyond this is stepped over at once, not slewed away, in ns. */
#define STEP_NS 2000
/* Most a re-anchoring may change the rate by, in parts per 2^16 (about 1000 ppm). */
#define SLEW_MAX_SHIFT 10
/*
 * Tries of a paired read, and the widest pair a new segment is made from,
 * ns: a wider one (its thread preempted mid-read) waits for the next try.
 * Made from such pairs, segments on a loaded VM read up to 13.5 us off
 * clock_gettime (tests/check_clock, 599 of 40,000 readings).
 */
#define PAIR_TRIES 4
#define PAIR_MAX_NS 1000
/* Segments kept: a reader holding an older one than this many refreshes back reads again. */
#define SEGMENTS MH_CLOCK_SEGMENTS

/* The conversion the inline read uses (clock.h); sh is shorthand for it. */
struct mh_clock_shared mh_clock_shared;
static struct mh_clock_shared *const sh = &mh_clock_shared;
__thread __u64 mh_clock_last_ns __attribute__((tls_model("initial-exec")));

static __u64 cal_tsc, cal_ns;	/* the calibration's start */
/* Non-zero while one thread makes the next segment (the others go on with the current one). */
static int anchoring;

__u64 mh_clock_gettime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/*
 * clock_gettime and the TSC at the same moment: the TSC read around it,
 * averaged, the narrowest of PAIR_TRIES tries. *window is that try's TSC
 * span: a vCPU preempted in between widens it, and the pair is then off
 * by up to half of it.
 */
static __u64 paired_read(__u64 *tsc, __u64 *window)
{
	__u64 ns = 0;

	*tsc = 0;
	*window = ~0ULL;
	for (int i = 0; i < PAIR_TRIES; i++) {
		__u64 a = mh_clock_rdtsc(), t = mh_clock_gettime_ns(), b = mh_clock_rdtsc();

		if (b - a < *window) {
			*window = b - a;
			*tsc = a + (b - a) / 2;
			ns = t;
		}
	}
	return ns;
}

void mh_clock_setup(bool tsc_usable)
{
	__u64 window;

	if (__atomic_load_n(&sh->tsc_ok, __ATOMIC_ACQUIRE) || !tsc_usable)
		return;
	cal_ns = paired_read(&cal_tsc, &window);
	__atomic_store_n(&sh->tsc_ok, true, __ATOMIC_RELEASE);
}

bool mh_clock_uses_tsc(void)
{
	return __atomic_load_n(&sh->tsc_ok, __ATOMIC_ACQUIRE);
}


/*
 * The next segment, from a fresh (tsc, ns) pair: it starts where the
 * current one is at that tsc, so the function never jumps back, and its
 * rate is the long-run rate (measured from the calibration's start)
 * corrected to close the gap to clock_gettime over the next REFRESH_NS.
 * A lag beyond STEP_NS is closed at once (a jump forward). The first
 * segment starts at the pair itself. A pair wider than PAIR_MAX_NS makes
 * no segment: the current one stays due, and the next reading tries
 * again. Published by one store of gen; a reader (a signal handler too)
 * sees the old segment or the new, whole.
 */
static void anchor(__u64 tsc, __u64 ns, __u64 window)
{
	__u64 g = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE), m, at, fix, period;
	struct mh_clock_segment *next = &sh->segs[(g + 1) % SEGMENTS];

	if (tsc <= cal_tsc || ns <= cal_ns)
		return;
	m = (__u64)((((unsigned __int128)(ns - cal_ns)) << MULT_SHIFT) / (tsc - cal_tsc));
	if (!m || (((unsigned __int128)window * m) >> MULT_SHIFT) > PAIR_MAX_NS)
		return;
	at = g ? mh_clock_seg_ns(&sh->segs[g % SEGMENTS], tsc) : ns;
	if (at + STEP_NS < ns)
		at = ns;
	period = (REFRESH_NS << MULT_SHIFT) / m;
	if (!period)
		return;
	fix = (__u64)((((unsigned __int128)(at > ns ? at - ns : ns - at)) << MULT_SHIFT) / period);
	if (fix > m >> SLEW_MAX_SHIFT)
		fix = m >> SLEW_MAX_SHIFT;
	next->base_tsc = tsc;
	next->base_ns = at;
	next->mult = at > ns ? m - fix : m + fix;
	sh->refresh_ticks = period;
	__atomic_store_n(&sh->gen, g + 1, __ATOMIC_RELEASE);
}

/*
 * The value at tsc by the segment it falls in: the current one, or the
 * one before if the current one was made after tsc was read.
 */
static __u64 convert(__u64 tsc)
{
	__u64 g = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
	const struct mh_clock_segment *cur = &sh->segs[g % SEGMENTS];

	if (tsc < cur->base_tsc && g > 1)
		cur = &sh->segs[(g - 1) % SEGMENTS];
	return mh_clock_seg_ns(cur, tsc);
}

/*
 * Time for a new segment (or, before calibration, for the first): one
 * thread makes it, the others (and a signal handler interrupting it) do
 * not wait. Returns the value at tsc; before calibration, clock_gettime.
 */
__attribute__((noinline, cold)) __u64 mh_clock_refresh(__u64 tsc)
{
	__u64 g = __atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE);
	const struct mh_clock_segment *cur = &sh->segs[g % SEGMENTS];
	__u64 ptsc, ns, window;
	int idle = 0;

	/* Not due after all (a segment made after our tick, a lapped copy). */
	if (g && (tsc < cur->base_tsc || tsc - cur->base_tsc <= sh->refresh_ticks))
		return mh_clock_monotonic(convert(tsc));
	if (!g) {
		ns = mh_clock_gettime_ns();
		if (ns - cal_ns < CALIBRATE_NS)
			return mh_clock_monotonic(ns);
	}
	if (__atomic_compare_exchange_n(&anchoring, &idle, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED)) {
		ns = paired_read(&ptsc, &window);
		anchor(ptsc, ns, window);
		__atomic_store_n(&anchoring, 0, __ATOMIC_RELEASE);
	}
	if (!__atomic_load_n(&sh->gen, __ATOMIC_ACQUIRE))
		return mh_clock_monotonic(mh_clock_gettime_ns());
	return mh_clock_monotonic(convert(tsc));
}

void mh_clock_fork_child(void)
{
	/* The thread that was anchoring is not in the child. */
	__atomic_store_n(&anchoring, 0, __ATOMIC_RELEASE);
}

__u64 mh_clock_ns(void)
{
	return mh_clock_read(true);
}

__u64 mh_clock_ns_unordered(void)
{
	return mh_clock_read(false);
}
