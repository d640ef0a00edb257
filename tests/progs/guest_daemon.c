// SPDX-License-Identifier: MIT
/*
 * guest_daemon.c - what a daemon does at start: close every fd from 3 to
 * 1023, then open its files and write them, allocating all along. Writes
 * FILES files of known content into the directory argv[1] and prints the
 * fd each one got. Built without unwind tables (tests/build.mk), so that
 * a DWARF unwinder finds no call-frame information for main and falls
 * back to its address-validating path while the program's fds come and
 * go. Each line goes through a buffer of LINE_BUF_BYTES + n bytes for
 * file n, so a trace can be checked for them. Natively and under memhook:
 * the same fds, the same files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FILES 6
#define LINES 200
#define FIRST_CLOSED 3
#define LAST_CLOSED 1023
/* Line buffers are LINE_BUF_BYTES + the file's number long: sizes no other block has. */
#define LINE_BUF_BYTES 1000

/* Allocate and free a few blocks of varying size: every one goes through the hooks. */
static void churn(unsigned int seed)
{
	void *p[8];

	for (unsigned int i = 0; i < 8; i++)
		p[i] = malloc(16 + (seed * 8 + i) % 300);
	for (unsigned int i = 0; i < 8; i++)
		free(p[i]);
}

static int write_file(const char *dir, unsigned int n)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/file%u", dir, n);
	churn(n);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	printf("file%u fd %d\n", n, fd);
	for (unsigned int line = 0; line < LINES; line++) {
		char *buf = malloc(LINE_BUF_BYTES + n);
		int len;

		if (!buf)
			return -1;
		len = snprintf(buf, LINE_BUF_BYTES, "file %u line %u\n", n, line);
		churn(line);
		if (write(fd, buf, (size_t)len) != len)
			return -1;
		free(buf);
	}
	return fd;
}

int main(int argc, char **argv)
{
	int fds[FILES];

	if (argc != 2)
		return 2;
	churn(0);
	for (int fd = FIRST_CLOSED; fd <= LAST_CLOSED; fd++)
		close(fd);
	for (unsigned int n = 0; n < FILES; n++) {
		fds[n] = write_file(argv[1], n);
		if (fds[n] < 0)
			return 1;
	}
	for (unsigned int n = 0; n < FILES; n++)
		close(fds[n]);
	return 0;
}
