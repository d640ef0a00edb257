// SPDX-License-Identifier: MIT
/*
 * kern_peaks.c - keep BASE pages of anonymous memory, then map, touch and
 * unmap a few short-lived regions (fewer pages each than the kernel
 * stream's report threshold, no other syscall between the touching and
 * the munmap), so the process's RSS peaks in one of them, peak_pages
 * above its VmRSS before them. Tells the kernel-collector tests on fd 3,
 * "key=value" per line: rss_kb (VmRSS before the regions), peak_pages,
 * and from and to, CLOCK_MONOTONIC ns around the regions.
 *
 * Usage: kern_peaks BASE_PAGES
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#define REPORT_FD 3

static char status[16384];

/* Map pages, write one byte in each, unmap: RSS up by pages, then back. */
static int spike(size_t pages, long page)
{
	char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < pages; i++)
		p[i * page] = 1;
	return munmap(p, pages * page);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	/* Largest in the middle: only the peak's own report can show it. */
	static const size_t sizes[] = { 6, 20, 3, 40, 9, 33, 2 };
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long from, to;
	size_t base, i, peak = 0;
	char line[256], *base_buf, *p;
	ssize_t got;
	int fd, n;

	if (argc != 2)
		return 2;
	base = strtoull(argv[1], NULL, 10);
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	fd = open("/proc/self/status", O_RDONLY);
	base_buf = mmap(NULL, base * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (fd < 0 || base_buf == MAP_FAILED || pread(fd, status, sizeof(status) - 1, 0) <= 0)
		return 1;
	memset(base_buf, 1, base * page);
	/* Fault in the code the regions run (a text fault maps up to 16 pages around it). */
	from = now_ns();
	if (spike(1, page))
		return 1;
	/* Touches no new page: the buffer was filled above. */
	got = pread(fd, status, sizeof(status) - 1, 0);
	from = now_ns();
	for (i = 0; got > 0 && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (spike(sizes[i], page))
			return 1;
		if (sizes[i] > peak)
			peak = sizes[i];
	}
	to = now_ns();
	if (got <= 0)
		return 1;
	status[got] = '\0';
	p = strstr(status, "VmRSS:");
	if (!p)
		return 1;
	n = snprintf(line, sizeof(line), "rss_kb=%ld\npeak_pages=%zu\nfrom=%llu\nto=%llu\n",
		     strtol(p + strlen("VmRSS:"), NULL, 10), peak, from, to);
	if (write(REPORT_FD, line, n) != n)
		return 1;
	return 0;
}
