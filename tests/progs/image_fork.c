// SPDX-License-Identifier: MIT
/*
 * image_fork.c PROGRAM - three process images of one tree, each judged on
 * its own blocks (tests/check_shells.c). The parent loses a 100-byte
 * block and a 16-byte node holding the only pointer to a 64-byte block,
 * keeps a 200-byte block in a global, and forks twice. The first child
 * loses a 24-byte block and exits without exec: it is judged on what it
 * inherited too. The second keeps a 32-byte block in a global, loses a
 * 48-byte one and execs PROGRAM: nothing of it may reach the verdict on
 * PROGRAM. The parent waits for both and returns the second's status.
 *
 * memcheck --leak-check=full --trace-children=yes:
 *   parent: definitely lost 116 bytes in 2 blocks, indirectly lost 64
 *     bytes in 1 block, still reachable 200 bytes in 1 block
 *   first child: definitely lost 140 bytes in 3 blocks, indirectly lost
 *     64 bytes in 1 block, still reachable 200 bytes in 1 block
 *   second child: no summary before its exec; PROGRAM's own after it
 */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leak_scrub.h"

struct node {
	void *payload;
	long tag;
};

static char *kept, *kept_by_child;

__attribute__((noinline)) static void lose(size_t n)
{
	memset(malloc(n), 0, n);
}

__attribute__((noinline)) static void lose_node(void)
{
	struct node *n = malloc(sizeof(*n));

	n->payload = malloc(64);
	memset(n->payload, 0, 64);
	n->tag = 7;
}

int main(int argc, char **argv)
{
	int status = 0, code = 0;
	pid_t first, second;

	if (argc != 2)
		return 2;
	kept = malloc(200);
	memset(kept, 0, 200);
	lose(100);
	lose_node();
	leak_scrub();
	first = fork();
	if (first == 0) {
		lose(24);
		leak_scrub();
		exit(0);
	}
	second = fork();
	if (second == 0) {
		kept_by_child = malloc(32);
		memset(kept_by_child, 0, 32);
		lose(48);
		leak_scrub();
		execv(argv[1], (char *[]){ argv[1], NULL });
		_exit(127);
	}
	if (first < 0 || second < 0 || waitpid(first, &status, 0) != first)
		return 1;
	if (waitpid(second, &status, 0) != second || !WIFEXITED(status))
		return 1;
	code = WEXITSTATUS(status);
	leak_scrub();
	return code;
}
