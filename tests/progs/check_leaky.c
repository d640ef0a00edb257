// SPDX-License-Identifier: MIT
/*
 * check_leaky.c - leaks one 40-byte block from leaky_make_widget() and
 * exits 0: memhook check must fail it as definitely lost.
 */
#include <stdlib.h>
#include <string.h>

struct widget {
	char name[32];
	long id;
};

__attribute__((noinline)) static struct widget *leaky_make_widget(long id)
{
	struct widget *w = malloc(sizeof(*w));

	if (w) {
		strcpy(w->name, "widget");
		w->id = id;
	}
	return w;
}

__attribute__((noinline)) static long use_widget(void)
{
	struct widget *w = leaky_make_widget(7);

	return w ? w->id : 0;	/* the only pointer dies here */
}

/* Overwrite the stack below main so no stale copy of the pointer survives. */
__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char junk[4096];

	memset((char *)junk, 0, sizeof(junk));
}

int main(void)
{
	long id = use_widget();

	scrub_stack();
	return id == 7 ? 0 : 1;
}
