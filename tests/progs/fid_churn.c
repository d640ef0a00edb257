// SPDX-License-Identifier: MIT
/*
 * fid_churn.c - PAIRS (default 1600000) small mallocs and frees through a
 * window of 64 live blocks: the heap stays tiny while memhook's ring
 * fills many times over. Its native peak RSS is about a megabyte; memhook's
 * ring (64 MiB once full) must not show in the program's RSS.
 *
 * Usage: fid_churn [PAIRS]
 */
#include <stdlib.h>

#define WINDOW 64

int main(int argc, char **argv)
{
	long pairs = argc > 1 ? atol(argv[1]) : 1600000;
	void *live[WINDOW] = { 0 };

	for (long i = 0; i < pairs; i++) {
		void *p = malloc(16 + (size_t)(i % WINDOW));

		if (!p)
			return 1;
		free(live[i % WINDOW]);
		live[i % WINDOW] = p;
	}
	for (int k = 0; k < WINDOW; k++)
		free(live[k]);
	return 0;
}
