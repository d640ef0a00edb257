// SPDX-License-Identifier: MIT
/*
 * leak_tree.c - a complete binary tree of 15 nodes (24 bytes each), each
 * with an 8-byte label block, whose root pointer is lost: the root is
 * definitely lost, the other 14 nodes and all 15 labels indirectly lost.
 *
 * memcheck --leak-check=full:
 *   definitely lost: 24 bytes in 1 blocks (1 loss record)
 *   indirectly lost: 456 bytes in 29 blocks
 *   possibly lost: 0, still reachable: 0
 */
#include <stdio.h>
#include <stdlib.h>

#include "leak_scrub.h"

#define DEPTH 4

struct tree {
	struct tree *left, *right;
	char *label;
};

__attribute__((noinline)) static struct tree *build(int depth, int key)
{
	struct tree *t;

	if (depth == 0)
		return NULL;
	t = malloc(sizeof(*t));
	t->label = malloc(8);
	snprintf(t->label, 8, "n%d", key);
	t->left = build(depth - 1, 2 * key);
	t->right = build(depth - 1, 2 * key + 1);
	return t;
}

__attribute__((noinline)) static void lose_tree(void)
{
	struct tree *root = build(DEPTH, 1);

	root->label[0] = 'r';
}

int main(void)
{
	lose_tree();
	leak_scrub();
	return 0;
}
