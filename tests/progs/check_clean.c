// SPDX-License-Identifier: MIT
/*
 * check_clean.c - a leak-free program: a million allocations of mixed
 * sizes, every one freed. memhook check must report no leak of any kind.
 */
#include <stdio.h>
#include <stdlib.h>

#define ROUNDS 1000
#define LIVE 1000

int main(void)
{
	static void *slots[LIVE];

	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < LIVE; i++)
			slots[i] = malloc(16 + (size_t)(i * 7 + round) % 512);
		for (int i = 0; i < LIVE; i++)
			free(slots[i]);
	}
	printf("allocations=%d\n", ROUNDS * LIVE);
	return 0;
}
