// SPDX-License-Identifier: MIT
/*
 * clock.c - CLOCK_MONOTONIC ns for the preload's records, from the TSC
 * where that is safe (see clock.h), else from clock_gettime.
 *
 * Never allocates, never prints, never blocks: it runs inside malloc and
 * may run in a signal handler. The rate is calibrated lazily, from the
 * first reading taken at least CALIBRATE_NS after setup, so starting a
 * process costs nothing; until then readings come from clock_gettime.
 */
#include "preload/clock.h"

#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/compiler.h"

/* A thread re-reads clock_gettime once this much TSC time has passed, in ns. */
#define REFRESH_NS 1000000ULL
/* The rate is measured over at least this long, in ns (error ~ 60 ns / this). */
#define CALIBRATE_NS 10000000ULL
/* Fixed-point shift of the ns-per-tick multiplier. */
#define MULT_SHIFT 32
/* Bytes of /proc/cpuinfo read: the first processor's block is well within it. */
#define CPUINFO_BYTES 8192

struct thread_clock {
	__u64 base_tsc;		/* TSC at base_ns; 0: take the slow path */
	__u64 base_ns;		/* CLOCK_MONOTONIC ns at base_tsc */
	__u64 last_ns;		/* last value returned: never go back */
};

static __thread struct thread_clock tc __attribute__((tls_model("initial-exec")));

static bool tsc_ok;		/* the TSC may be used (setup decided) */
static __u64 cal_tsc, cal_ns;	/* the calibration's start */
static __u64 mult;		/* ns per tick << MULT_SHIFT; 0 until calibrated */
static __u64 refresh_ticks;	/* REFRESH_NS in ticks */

static __u64 gettime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

#if defined(__x86_64__)
static inline __u64 rdtsc(void)
{
	return __builtin_ia32_rdtsc();
}
#else
static inline __u64 rdtsc(void)
{
	return 0;
}
#endif

/* clock_gettime and the TSC at the same moment (the TSC read around it, averaged). */
static __u64 paired_read(__u64 *tsc)
{
	__u64 a = rdtsc(), ns = gettime_ns(), b = rdtsc();

	*tsc = a + (b - a) / 2;
	return ns;
}

/* Read up to size - 1 bytes of path, NUL-terminated; false if unreadable. */
static bool read_text(const char *path, char *buf, size_t size)
{
	ssize_t got, n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while ((size_t)n < size - 1 && (got = read(fd, buf + n, size - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	return n > 0;
}

static bool has_flag(const char *flags, const char *flag)
{
	size_t len = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += len) {
		if ((p == flags || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	}
	return false;
}

/*
 * Invariant TSC (constant rate, running in every C-state), and the kernel
 * itself keeps time with it (so it found the TSCs of all CPUs in step).
 */
static bool tsc_usable(void)
{
	static char buf[CPUINFO_BYTES];
	char *flags, *eol;

#if !defined(__x86_64__)
	return false;
#endif
	if (!read_text("/proc/cpuinfo", buf, sizeof(buf)))
		return false;
	flags = strstr(buf, "\nflags");
	if (!flags)
		return false;
	eol = strchr(flags + 1, '\n');
	if (eol)
		*eol = '\0';
	if (!has_flag(flags, "constant_tsc") || !has_flag(flags, "nonstop_tsc"))
		return false;
	/* Without sysfs (some containers) the flags have to do. */
	if (read_text("/sys/devices/system/clocksource/clocksource0/current_clocksource", buf,
		      sizeof(buf)))
		return !strcmp(buf, "tsc\n");
	return true;
}

void mh_clock_setup(void)
{
	if (__atomic_load_n(&tsc_ok, __ATOMIC_ACQUIRE) || !tsc_usable())
		return;
	cal_ns = paired_read(&cal_tsc);
	__atomic_store_n(&tsc_ok, true, __ATOMIC_RELEASE);
}

bool mh_clock_uses_tsc(void)
{
	return __atomic_load_n(&tsc_ok, __ATOMIC_ACQUIRE);
}

/* Once CALIBRATE_NS have passed since setup, fix the rate (first thread wins). */
static void calibrate(__u64 tsc, __u64 ns)
{
	__u64 m, expected = 0;

	if (ns - cal_ns < CALIBRATE_NS || tsc <= cal_tsc)
		return;
	m = ((ns - cal_ns) << MULT_SHIFT) / (tsc - cal_tsc);
	if (!m)
		return;
	refresh_ticks = (REFRESH_NS << MULT_SHIFT) / m;
	__atomic_compare_exchange_n(&mult, &expected, m, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

static __u64 monotonic(__u64 ns)
{
	if (ns < tc.last_ns)
		return tc.last_ns;
	tc.last_ns = ns;
	return ns;
}

/*
 * A fresh base for this thread. base_tsc is zeroed first so that a signal
 * handler interrupting us here takes this path too rather than mixing the
 * old and new halves of the pair.
 */
static __attribute__((noinline, cold)) __u64 refresh(void)
{
	__u64 tsc, ns;

	tc.base_tsc = 0;
	__asm__ __volatile__("" ::: "memory");
	ns = paired_read(&tsc);
	if (!__atomic_load_n(&mult, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&tsc_ok, __ATOMIC_ACQUIRE))
			calibrate(tsc, ns);
		return monotonic(ns);
	}
	tc.base_ns = ns;
	__asm__ __volatile__("" ::: "memory");
	tc.base_tsc = tsc;
	return monotonic(ns);
}

__u64 mh_clock_ns(void)
{
	__u64 m = __atomic_load_n(&mult, __ATOMIC_ACQUIRE), d;

	/*
	 * Without the TSC, clock_gettime alone: the TSC reads of a paired
	 * read are only for calibrating, and each costs as much as a third
	 * of clock_gettime under a hypervisor.
	 */
	if (mh_unlikely(!m)) {
		if (!__atomic_load_n(&tsc_ok, __ATOMIC_RELAXED))
			return monotonic(gettime_ns());
		return refresh();
	}
	d = rdtsc() - tc.base_tsc;
	if (mh_unlikely(d > refresh_ticks || !tc.base_tsc))
		return refresh();
	return monotonic(tc.base_ns + ((d * m) >> MULT_SHIFT));
}
