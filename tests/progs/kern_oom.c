// SPDX-License-Identifier: MIT
/*
 * kern_oom.c - touch anonymous memory until the memory cgroup's OOM
 * killer ends it. Reports its pid on fd 3 first, then grows by MEGABYTES
 * in 1 MiB steps; exits 0 only if it was never killed.
 *
 * Usage: kern_oom MEGABYTES
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#define REPORT_FD 3
#define STEP (1UL << 20)

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t total, done, i;
	char line[64];
	int n;

	if (argc != 2)
		return 2;
	total = strtoull(argv[1], NULL, 10) * STEP;
	n = snprintf(line, sizeof(line), "pid=%d\n", (int)getpid());
	if (write(REPORT_FD, line, n) != n)
		return 1;
	for (done = 0; done < total; done += STEP) {
		char *p = mmap(NULL, STEP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED)
			return 1;
		for (i = 0; i < STEP; i += page)
			p[i] = 1;
	}
	return 0;
}
