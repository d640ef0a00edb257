// SPDX-License-Identifier: MIT
/*
 * touch_pages.c - a page-fault-heavy workload for the kernel-stream bench
 * (bench/kernel_faults.sh): map anonymous memory a chunk at a time, write
 * one byte per page (one minor fault each: transparent huge pages are
 * refused for the chunk), unmap it, until TOTAL_MB have been touched.
 * Allocates almost nothing through malloc, so the kernel stream dominates.
 * Prints "pages=N" (pages touched, so faults taken), "touch_ms=T" (its
 * own time in the touching loop, CLOCK_MONOTONIC) and "cpu_ms=C" (the CPU
 * time it used, user + system, which waiting for a busy CPU does not
 * inflate) on stdout.
 *
 * Usage: touch_pages TOTAL_MB [CHUNK_MB]   (CHUNK_MB defaults to 64)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024ULL * 1024)

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned long long total, chunk, done = 0, pages = 0, off, start;
	long page = sysconf(_SC_PAGESIZE);
	struct rusage ru;
	char *buf;

	if (argc < 2)
		return 2;
	total = strtoull(argv[1], NULL, 10) * MIB;
	chunk = (argc > 2 ? strtoull(argv[2], NULL, 10) : 64) * MIB;
	if (!total || !chunk)
		return 2;
	start = now_ms();
	while (done < total) {
		buf = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return 1;
		/* Huge pages would take 512 pages per fault: refuse them (best effort). */
		(void)madvise(buf, chunk, MADV_NOHUGEPAGE);
		for (off = 0; off < chunk; off += page, pages++)
			buf[off] = (char)off;
		munmap(buf, chunk);
		done += chunk;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("pages=%llu\ntouch_ms=%llu\ncpu_ms=%llu\n", pages, now_ms() - start,
	       (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return 0;
}
