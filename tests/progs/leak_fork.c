// SPDX-License-Identifier: MIT
/*
 * leak_fork.c - a leak in a forked child. The parent keeps a 1000-byte
 * block in a global and forks; the child inherits it (still reachable in
 * the child too), loses a 33-byte block and calls exit(0). The parent
 * waits, frees its global block and loses a 44-byte block of its own.
 *
 * memcheck --leak-check=full, child (its summary has the child's pid):
 *   definitely lost: 33 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 1000 bytes in 1 blocks
 * parent:
 *   definitely lost: 44 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0, still reachable: 0
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leak_scrub.h"

static char *inherited;

__attribute__((noinline)) static void lose(size_t n)
{
	memset(malloc(n), 0, n);
}

int main(void)
{
	int status;
	pid_t pid;

	inherited = malloc(1000);
	memset(inherited, 0, 1000);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		lose(33);
		leak_scrub();
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	free(inherited);
	inherited = NULL;
	lose(44);
	leak_scrub();
	return WEXITSTATUS(status);
}
