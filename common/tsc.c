// SPDX-License-Identifier: MIT
/*
 * tsc.c - whether the TSC may stand in for CLOCK_MONOTONIC (tsc.h).
 *
 * Asked by the recorder when it creates the ring, and by the clock's
 * tests and hotpath_steps, which stamp without a recorder. Never
 * allocates, never calls stdio (open/read only).
 */
#include "common/tsc.h"

#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Bytes of /proc/cpuinfo read: the first processor's block is well within it. */
#define CPUINFO_BYTES 8192
/* Calls timed to tell a vDSO clock_gettime from a system call. */
#define PROBE_READS 8

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

/* The shortest of PROBE_READS clock_gettime calls, through the vDSO or not, in TSC ticks. */
static __u64 shortest(bool vdso)
{
	struct timespec ts;
	__u64 best = ~0ULL;

	for (int i = 0; i < PROBE_READS; i++) {
		__u64 t = mh_clock_rdtsc();

		if (vdso)
			clock_gettime(CLOCK_MONOTONIC, &ts);
		else
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		t = mh_clock_rdtsc() - t;
		best = t < best ? t : best;
	}
	return best;
}

/*
 * kvm-clock whose vDSO reads the TSC: the kernel does so only while the
 * host says the TSCs of all vCPUs are in step (PVCLOCK_TSC_STABLE_BIT);
 * otherwise clock_gettime is a system call. The flag's page may not be
 * mapped (reading it would raise SIGBUS), so the answer is taken from
 * the cost: the vDSO's read, at its best, takes well under half of the
 * system call's.
 */
static bool pvclock_in_vdso(void)
{
	return 2 * shortest(true) < shortest(false);
}

/*
 * Invariant TSC (constant rate, running in every C-state), and the kernel
 * itself keeps time with it (so it found the TSCs of all CPUs in step):
 * its clocksource is the TSC, or kvm-clock reading it (pvclock_stable).
 */
bool mh_tsc_usable(void)
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
		return !strcmp(buf, "tsc\n") || (!strcmp(buf, "kvm-clock\n") && pvclock_in_vdso());
	return true;
}
