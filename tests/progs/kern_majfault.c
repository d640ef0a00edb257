// SPDX-License-Identifier: MIT
/*
 * kern_majfault.c - write a file of N pages, drop it from the page cache,
 * map it and read every page with readahead off (MADV_RANDOM), so each
 * read needs I/O: a major fault. Reports on fd 3 the mapping and the major
 * faults the kernel charged it (getrusage ru_majflt) during the reads.
 *
 * Usage: kern_majfault FILE PAGES   (FILE is created and removed)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define REPORT_FD 3

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned long sum = 0;
	struct rusage before, after;
	size_t pages, len, i;
	char line[256], *buf, *block;
	int fd, n;

	if (argc != 3)
		return 2;
	pages = strtoull(argv[2], NULL, 10);
	len = pages * page;
	block = malloc(page);
	fd = open(argv[1], O_CREAT | O_TRUNC | O_RDWR, 0600);
	if (!block || fd < 0)
		return 1;
	memset(block, 0x5a, page);
	for (i = 0; i < pages; i++)
		if (write(fd, block, page) != page)
			return 1;
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return 1;
	buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (buf == MAP_FAILED || madvise(buf, len, MADV_RANDOM))
		return 1;
	getrusage(RUSAGE_SELF, &before);
	for (i = 0; i < pages; i++)
		sum += buf[i * page];
	getrusage(RUSAGE_SELF, &after);
	unlink(argv[1]);
	n = snprintf(line, sizeof(line), "buf=%llu\nlen=%zu\nmajflt=%ld\n",
		     (unsigned long long)(uintptr_t)buf, len, after.ru_majflt - before.ru_majflt);
	return write(REPORT_FD, line, n) == n ? 0 : 1;
}
