// SPDX-License-Identifier: MIT
/*
 * guest_firstopen.c - allocate (so that an LD_PRELOAD recorder is fully
 * up), then print the fds that open() and pipe() return. A program must
 * get the numbers it gets natively: the lowest free ones, not numbers
 * shifted by fds a recorder keeps in it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *p = malloc(100);
	int fd, pipefd[2];

	if (!p)
		return 1;
	strcpy(p, "hello");
	free(p);
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || pipe(pipefd))
		return 1;
	printf("open %d pipe %d %d\n", fd, pipefd[0], pipefd[1]);
	return 0;
}
