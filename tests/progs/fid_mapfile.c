// SPDX-License-Identifier: MIT
/*
 * fid_mapfile.c - write FILE (MIB MiB, default 16) to disk, drop it from
 * the page cache (fsync, then posix_fadvise DONTNEED), map it and read one
 * byte of each page: the reads take major faults (I/O) and minor ones
 * (pages readahead brought in). Around the reading loop, and nothing else,
 * getrusage(RUSAGE_SELF) counts them; print "minflt majflt dropped", where
 * dropped is 1 if the page cache really let go of the file (mincore said
 * no page of it was resident before the loop).
 *
 * Usage: fid_mapfile FILE [MIB]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

static int write_file(const char *path, size_t len)
{
	char block[65536];
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd < 0)
		return -1;
	memset(block, 'x', sizeof(block));
	for (size_t done = 0; done < len; done += sizeof(block)) {
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			return -1;
	}
	if (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
		return -1;
	return close(fd);
}

int main(int argc, char **argv)
{
	size_t len = (argc > 2 ? strtoull(argv[2], NULL, 10) : 16) << 20, page, pages;
	struct rusage before, after;
	volatile unsigned long sum = 0;
	unsigned char *vec;
	char *buf;
	int fd, dropped = 1;

	if (argc < 2 || write_file(argv[1], len))
		return 2;
	page = (size_t)sysconf(_SC_PAGESIZE);
	pages = len / page;
	fd = open(argv[1], O_RDONLY);
	buf = fd < 0 ? MAP_FAILED : mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	vec = malloc(pages);
	if (buf == MAP_FAILED || !vec || mincore(buf, len, vec))
		return 1;
	for (size_t i = 0; i < pages; i++)
		dropped &= !(vec[i] & 1);
	getrusage(RUSAGE_SELF, &before);
	for (size_t i = 0; i < pages; i++)
		sum += (unsigned char)buf[i * page];
	getrusage(RUSAGE_SELF, &after);
	printf("%ld %ld %d\n", after.ru_minflt - before.ru_minflt,
	       after.ru_majflt - before.ru_majflt, dropped);
	return 0;
}
