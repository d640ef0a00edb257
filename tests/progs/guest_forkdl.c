// SPDX-License-Identifier: MIT
/*
 * guest_forkdl.c - fork while other threads keep the loader busy: THREADS
 * threads dlopen libz, compress a buffer through it (its allocations come
 * from inside libz) and dlclose it, in a loop, pausing PAUSE_US between
 * rounds (so that they leave the CPU to the forks), while main forks
 * CHILDREN children (or argv[1]) one after another. Each child allocates with stacks
 * it never used before, frees them, and leaves with _exit(i % 7), which
 * main checks (exit() would run the exit handlers, whose lock dlclose
 * holds while it runs libz's: a child forked then hangs, natively). Prints one line and exits 0 when every child ended as
 * expected.
 *
 * A child also holds the blocks the other threads had in flight when it
 * was forked (their pointers were on stacks that did not come along):
 * lost in the child, as memcheck would say too. They were all allocated
 * under load_loop, which a leak check of this program suppresses.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define CHILDREN 200
#define PLAIN_BYTES 4096
#define CHILD_BLOCKS 16
#define PAUSE_US 500
/* Small thread stacks: a leak checker reads every child's whole memory at its exit. */
#define THREAD_STACK_BYTES (256 << 10)

typedef int (*compress_fn)(unsigned char *, unsigned long *, const unsigned char *,
			   unsigned long, int);

struct loader {
	unsigned char plain[PLAIN_BYTES];
	unsigned char packed[PLAIN_BYTES * 2];
	unsigned long rounds;
};

static struct loader loaders[THREADS];
static volatile int stop;

static void *load_loop(void *arg)
{
	struct loader *l = arg;

	memset(l->plain, 'a' + (int)(l - loaders), sizeof(l->plain));
	while (!stop) {
		void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
		compress_fn fn;
		unsigned long len = sizeof(l->packed);

		if (!h)
			return NULL;
		fn = (compress_fn)dlsym(h, "compress2");
		if (fn)
			fn(l->packed, &len, l->plain, sizeof(l->plain), 6);
		dlclose(h);
		l->rounds++;
		usleep(PAUSE_US);
	}
	return l;
}

/* A different call path per child: the stack is new to the unwinder's caches. */
static void __attribute__((noinline)) child_work(unsigned int i, unsigned int depth)
{
	void *p[CHILD_BLOCKS];

	if (depth) {
		child_work(i, depth - 1);
		return;
	}
	for (unsigned int k = 0; k < CHILD_BLOCKS; k++)
		p[k] = malloc(24 + (i * CHILD_BLOCKS + k) % 500);
	for (unsigned int k = 0; k < CHILD_BLOCKS; k++)
		free(p[k]);
}

int main(int argc, char **argv)
{
	unsigned int children = argc > 1 ? (unsigned int)atoi(argv[1]) : CHILDREN;
	pthread_t t[THREADS];
	unsigned int bad = 0;

	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK_BYTES);
	for (unsigned int i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], &attr, load_loop, &loaders[i]))
			return 1;
	pthread_attr_destroy(&attr);
	for (unsigned int i = 0; i < children; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			child_work(i, i % 5);
			_exit((int)(i % 7));
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != (int)(i % 7))
			bad++;
	}
	stop = 1;
	for (unsigned int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("%u children, %u ended otherwise than expected\n", children, bad);
	return bad ? 1 : 0;
}
