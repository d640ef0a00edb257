// SPDX-License-Identifier: MIT
/*
 * preload_calls.c - a program of known allocation behaviour for
 * tests/check_preload.c. argv[1] picks the scenario:
 *   calls    every interposed allocation call once or more, mmap/munmap of one
 *            page, mremap of 8 KiB to 16 KiB, sbrk up and down one page;
 *            leaks 3 x 77 bytes
 *   threads  4 threads handing blocks to each other, so addresses freed by
 *            one thread are reused by another (tests ring ordering)
 *   dlopen   dlopen libz, allocate, dlclose, allocate again
 *   fork     the child allocates 5 x 111 bytes, the parent 1 x 222
 *   exec     allocate 1 x 333 bytes, exec itself as "exec2" (1 x 444 bytes)
 *   exec-closefds  the same, closing every fd above 2 before the exec
 *   churn    argv[2] malloc/free pairs (default 2,000,000)
 *   abort    allocate 1 x 555 bytes, then abort()
 *   _exit    allocate 1 x 666 bytes, then _exit(0)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* Keeps the compiler from folding allocation calls away. */
void *volatile sink;

static void calls(void)
{
	void *v[100], *q;
	char *p;
	int i;

	for (i = 0; i < 100; i++)
		v[i] = malloc(32);
	for (i = 0; i < 100; i++)
		free(v[i]);
	for (i = 0; i < 10; i++)
		free(calloc(4, 25));
	sink = NULL;
	p = realloc(sink, 10);
	p = realloc(p, 100);
	p = realloc(p, 100000);
	free(p);
	p = reallocarray(NULL, 8, 8);
	p = reallocarray(p, 16, 8);
	free(p);
	if (!posix_memalign(&q, 64, 100))
		free(q);
	free(aligned_alloc(64, 128));
	free(memalign(32, 50));
	free(valloc(10));
	for (i = 0; i < 3; i++)
		sink = malloc(77);
	q = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q != MAP_FAILED)
		munmap(q, 4096);
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q != MAP_FAILED) {
		q = mremap(q, 8192, 16384, MREMAP_MAYMOVE);
		if (q != MAP_FAILED)
			munmap(q, 16384);
	}
	p = malloc(5);
	sink = realloc(p, 0);
	free(NULL);
	/* Move the break up a page and back: glibc's malloc copes with foreign sbrk. */
	if (sbrk(4096) != (void *)-1)
		sbrk(-4096);
}

#define HANDOFF_THREADS 4
#define HANDOFF_ROUNDS 20000
#define HANDOFF_SLOTS 8

static void *slots[HANDOFF_SLOTS];

static void *handoff(void *arg)
{
	unsigned int seed = (unsigned int)(size_t)arg;
	int i;

	for (i = 0; i < HANDOFF_ROUNDS; i++) {
		void *mine = malloc(24 + rand_r(&seed) % 64);
		void *old = __atomic_exchange_n(&slots[rand_r(&seed) % HANDOFF_SLOTS], mine,
						__ATOMIC_ACQ_REL);

		free(old);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[HANDOFF_THREADS];
	int i;

	for (i = 0; i < HANDOFF_THREADS; i++)
		pthread_create(&t[i], NULL, handoff, (void *)(size_t)(i + 1));
	for (i = 0; i < HANDOFF_THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < HANDOFF_SLOTS; i++)
		free(slots[i]);
}

static int dlopen_twice(void)
{
	void *h = dlopen("libz.so.1", RTLD_NOW);

	if (!h)
		return 2;
	free(malloc(12));
	dlclose(h);
	free(malloc(13));
	return 0;
}

static int forked(void)
{
	pid_t pid = fork();
	int i, status;

	if (pid < 0)
		return 2;
	if (pid == 0) {
		for (i = 0; i < 5; i++)
			sink = malloc(111);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	sink = malloc(222);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static void churn(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		sink = malloc(48);
		free(sink);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "calls";

	if (!strcmp(mode, "calls"))
		calls();
	else if (!strcmp(mode, "threads"))
		threads();
	else if (!strcmp(mode, "dlopen"))
		return dlopen_twice();
	else if (!strcmp(mode, "fork"))
		return forked();
	else if (!strcmp(mode, "exec")) {
		sink = malloc(333);
		execl("/proc/self/exe", argv[0], "exec2", (char *)NULL);
		return 2;
	} else if (!strcmp(mode, "exec-closefds")) {
		/* As Python's subprocess does: close every inherited fd, then exec. */
		sink = malloc(333);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execl("/proc/self/exe", argv[0], "exec2", (char *)NULL);
		return 2;
	} else if (!strcmp(mode, "exec2"))
		sink = malloc(444);
	else if (!strcmp(mode, "abort")) {
		sink = malloc(555);
		abort();
	} else if (!strcmp(mode, "_exit")) {
		sink = malloc(666);
		_exit(0);
	} else if (!strcmp(mode, "churn"))
		churn(argc > 2 ? atol(argv[2]) : 2000000);
	else
		return 2;
	return 0;
}
