// SPDX-License-Identifier: MIT
/*
 * kern_swap.c - fill an anonymous buffer larger than its memory cgroup's
 * limit (so part of it is swapped out), then read every page once,
 * checking in /proc/self/pagemap just before each read whether that page
 * was swapped: the count of such pages is what the kernel collector's
 * swap-ins must match. Reports on fd 3, one "key=value" per line.
 *
 * Usage: kern_swap MEGABYTES
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

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len, pages, i, swapped = 0;
	volatile unsigned long sum = 0;
	char line[256];
	uint64_t entry;
	ssize_t n;
	char *buf;
	int pm;

	if (argc != 2)
		return 2;
	len = strtoull(argv[1], NULL, 10) << 20;
	pages = len / page;
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (buf == MAP_FAILED || pm < 0)
		return 1;
	madvise(buf, len, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		buf[i * page] = (char)i | 1;
	n = snprintf(line, sizeof(line), "buf=%llu\nlen=%zu\ntid=%ld\n",
		     (unsigned long long)(uintptr_t)buf, len, (long)syscall(SYS_gettid));
	if (write(REPORT_FD, line, n) != n)
		return 1;
	for (i = 0; i < pages; i++) {
		uintptr_t addr = (uintptr_t)buf + i * page;

		if (pread(pm, &entry, sizeof(entry), addr / page * sizeof(entry)) != sizeof(entry))
			return 1;
		if (entry & PM_SWAPPED)
			swapped++;
		sum += buf[i * page];
	}
	n = snprintf(line, sizeof(line), "swapped_in=%zu\n", swapped);
	if (write(REPORT_FD, line, n) != n)
		return 1;
	return 0;
}
