// SPDX-License-Identifier: MIT
/*
 * kern_swap.c - fill an anonymous buffer larger than its memory cgroup's
 * limit (so part of it is swapped out), then read every page once,
 * checking in /proc/self/pagemap just before each read whether that page
 * was swapped: the count of such pages is what the kernel collector's
 * swap-ins must match. Reports on fd 3, one "key=value" per line.
 *
 * With UNMAP_MEGABYTES, the first UNMAP_MEGABYTES of the buffer (swapped
 * out first) are unmapped unread before the rest is read: their pages
 * swapped out then are counted (unmapped_swapped), a page of another
 * mapping is touched, and munmap follows at once, so the thread's latest
 * user fault has no syscall between it and the swap entries munmap
 * drops. Those are no swap-ins: only the pages read from the rest are.
 *
 * Usage: kern_swap MEGABYTES [UNMAP_MEGABYTES]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define REPORT_FD 3
#define PM_SWAPPED (1ULL << 62)

static long page;
static int pm;

/*
 * The pages of [p, p + len) /proc/self/pagemap shows swapped out, each
 * checked just before it is read when touch is set; -1 on error.
 */
static long count_swapped(volatile char *p, size_t len, int touch)
{
	volatile unsigned long sum = 0;
	long swapped = 0;
	uint64_t entry;
	size_t i;

	for (i = 0; i < len; i += page) {
		uintptr_t addr = (uintptr_t)(p + i);

		if (pread(pm, &entry, sizeof(entry), addr / page * sizeof(entry)) != sizeof(entry))
			return -1;
		if (entry & PM_SWAPPED)
			swapped++;
		if (touch)
			sum += p[i];
	}
	return swapped;
}

static int report(const char *key, long long val)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s=%lld\n", key, val);

	return write(REPORT_FD, line, n) == n ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t len, cut = 0, i;
	long swapped_out = 0, swapped_in;
	volatile char *other;
	char *buf;

	if (argc != 2 && argc != 3)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	len = strtoull(argv[1], NULL, 10) << 20;
	if (argc == 3)
		cut = strtoull(argv[2], NULL, 10) << 20;
	if (cut >= len)
		return 2;
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (buf == MAP_FAILED || other == MAP_FAILED || pm < 0)
		return 1;
	madvise(buf, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len / page; i++)
		buf[i * page] = (char)i | 1;
	if (report("buf", (uintptr_t)buf) || report("len", len) ||
	    report("tid", syscall(SYS_gettid)))
		return 1;
	if (cut) {
		swapped_out = count_swapped(buf, cut, 0);
		*other = 1;	/* a user fault, then munmap with no syscall between */
		if (swapped_out < 0 || munmap(buf, cut))
			return 1;
	}
	swapped_in = count_swapped(buf + cut, len - cut, 1);
	if (swapped_in < 0 || (cut && report("unmapped_swapped", swapped_out)) ||
	    report("swapped_in", swapped_in))
		return 1;
	return 0;
}
