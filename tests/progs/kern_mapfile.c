// SPDX-License-Identifier: MIT
/*
 * kern_mapfile.c - map an existing file and read one byte of each of its
 * first PAGES pages, so the reads fault on the file (the kernel may map
 * neighbouring cached pages in the same fault); report the mapping
 * on fd 3 ("buf=", "len=", "tid=", then "done=1"), then wait to be killed
 * (the mapping stays, so the collector can still name the file).
 *
 * Usage: kern_mapfile FILE PAGES [wait]
 *   wait: first read one byte from stdin (lets a collector attach).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define REPORT_FD 3

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	volatile unsigned long sum = 0;
	size_t pages, len, i;
	char line[256], *buf, c;
	int fd, n;

	if (argc < 3)
		return 2;
	if (argc > 3 && !strcmp(argv[3], "wait") && read(0, &c, 1) != 1)
		return 1;
	pages = strtoull(argv[2], NULL, 10);
	len = pages * page;
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		return 1;
	buf = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (buf == MAP_FAILED || madvise(buf, len, MADV_RANDOM))
		return 1;
	for (i = 0; i < pages; i++)
		sum += buf[i * page];
	n = snprintf(line, sizeof(line), "buf=%llu\nlen=%zu\ntid=%ld\ndone=1\n",
		     (unsigned long long)(uintptr_t)buf, len, (long)syscall(SYS_gettid));
	if (write(REPORT_FD, line, n) != n)
		return 1;
	for (;;)
		pause();
}
