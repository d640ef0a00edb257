// SPDX-License-Identifier: MIT
/*
 * kern_entry.c - say where this process began: print the dynamic loader's
 * load address (AT_BASE) and its entry point, the first instruction the
 * process ran after exec (so its first page fault), read from the loader's
 * own ELF header in memory. Then allocate and free N blocks, so a
 * recording has an allocation stream.
 *
 * Usage: kern_entry [N]   (N defaults to 10; output on stdout, "key=value")
 */
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

int main(int argc, char **argv)
{
	uintptr_t base = getauxval(AT_BASE);
	const ElfW(Ehdr) *ld = (const void *)base;
	int n = argc > 1 ? atoi(argv[1]) : 10, i;
	void *volatile p;

	if (!base)
		return 1;	/* linked statically: there is no loader */
	for (i = 0; i < n; i++) {
		p = malloc(100 + i);
		free(p);
	}
	printf("base=%llu\nentry=%llu\nblocks=%d\n", (unsigned long long)base,
	       (unsigned long long)(base + ld->e_entry), n);
	return 0;
}
