// SPDX-License-Identifier: MIT
/*
 * leak_struct.c - a struct whose members point to three more blocks. One
 * such struct is lost (its members are indirectly lost), another is kept
 * in a global (all four blocks still reachable).
 *
 * memcheck --leak-check=full:
 *   definitely lost: 24 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 456 bytes in 3 blocks
 *   possibly lost: 0
 *   still reachable: 480 bytes in 4 blocks
 */
#include <stdlib.h>

#include "leak_scrub.h"

struct stats {
	long sent, received, errors;
};

struct conn {
	char *name;
	int *buf;
	struct stats *st;
};

static struct conn *kept;

__attribute__((noinline)) static struct conn *conn_new(void)
{
	struct conn *c = malloc(sizeof(*c));

	c->name = malloc(32);
	c->buf = malloc(100 * sizeof(int));
	c->st = calloc(1, sizeof(*c->st));
	strcpy(c->name, "conn");
	return c;
}

__attribute__((noinline)) static void lose_conn(void)
{
	struct conn *c = conn_new();

	c->buf[0] = 1;
}

int main(void)
{
	lose_conn();
	kept = conn_new();
	leak_scrub();
	return 0;
}
