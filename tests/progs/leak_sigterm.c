// SPDX-License-Identifier: MIT
/*
 * leak_sigterm.c - the program dies of SIGTERM (default action, raised by
 * itself) after losing a 123-byte block and keeping a 456-byte one in a
 * global. memcheck runs its leak check at the death by signal too.
 *
 * memcheck --leak-check=full (killed by SIGTERM):
 *   definitely lost: 123 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 0, possibly lost: 0
 *   still reachable: 456 bytes in 1 blocks
 */
#include <signal.h>
#include <stdlib.h>

#include "leak_scrub.h"

static char *kept;

__attribute__((noinline)) static void lose_one(void)
{
	memset(malloc(123), 0, 123);
}

int main(void)
{
	kept = malloc(456);
	lose_one();
	leak_scrub();
	raise(SIGTERM);
	return 0;
}
