// SPDX-License-Identifier: MIT
/*
 * alloc_bench.c - an allocation-heavy workload for bench/run.sh.
 *
 * Usage: alloc_bench [THREADS (1 or 2) [OPS_PER_THREAD [MAX_DEPTH [ROUND]]]]
 *        (defaults 1, 2000000, 30, 1)
 *
 * Each thread performs OPS_PER_THREAD malloc calls, each from the bottom of
 * a recursion 3 to MAX_DEPTH frames deep (the depth varies with the operation
 * number) through one of four leaf functions, so the recording sees about
 * a hundred distinct stacks of realistic depth. Sizes are mixed: mostly
 * 16..1024 bytes, every 16th 1..16 KiB, every 1024th 64 KiB. Each block
 * replaces the oldest in a window of 4096 live blocks, which is freed, so
 * every malloc (but the first 4096) comes with a free; all is freed at the
 * end. ROUND > 1 rounds every size up to a multiple of it (64 keeps
 * heaptrack 1.4's interpreter from aborting). Deterministic: the same arguments give the same calls. It prints
 * the totals (mallocs, frees, bytes) so runs can be checked for equality.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_OPS 2000000L
#define WINDOW 4096
#define MIN_DEPTH 3
#define MAX_DEPTH 30

static int max_depth = MAX_DEPTH;
static size_t round_to = 1;
#define LEAVES 4

struct worker {
	pthread_t thread;
	unsigned seed;
	long ops;
	void *window[WINDOW];
	long mallocs, frees;
	unsigned long long bytes;
};

typedef void *(*leaf_fn)(struct worker *w, size_t size);

/* A small xorshift generator: deterministic per thread, no libc state. */
static unsigned next_rand(unsigned *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t pick_size(struct worker *w, long i)
{
	unsigned r = next_rand(&w->seed);
	size_t size;

	if (i % 1024 == 0)
		size = 64 * 1024;
	else if (i % 16 == 0)
		size = 1024 + r % (15 * 1024);
	else
		size = 16 + r % 1009;
	return (size + round_to - 1) / round_to * round_to;
}

static void *take(struct worker *w, size_t size)
{
	char *p = malloc(size);

	if (!p)
		abort();
	p[0] = (char)size;
	w->mallocs++;
	w->bytes += size;
	return p;
}

static __attribute__((noinline)) void *leaf_parse(struct worker *w, size_t size)
{
	return take(w, size);
}

static __attribute__((noinline)) void *leaf_buffer(struct worker *w, size_t size)
{
	return take(w, size);
}

static __attribute__((noinline)) void *leaf_node(struct worker *w, size_t size)
{
	return take(w, size);
}

static __attribute__((noinline)) void *leaf_string(struct worker *w, size_t size)
{
	return take(w, size);
}

static const leaf_fn leaves[LEAVES] = { leaf_parse, leaf_buffer, leaf_node, leaf_string };

/* Recurse `depth` frames, then allocate; the volatile keeps the frames real. */
static __attribute__((noinline)) void *descend(struct worker *w, int depth, size_t size,
					       leaf_fn leaf)
{
	volatile int guard = depth;
	void *p;

	if (depth <= 1)
		return leaf(w, size);
	p = descend(w, depth - 1, size, leaf);
	return guard ? p : NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	long i;

	for (i = 0; i < w->ops; i++) {
		int depth = MIN_DEPTH + (int)((i * 7 + i / 13) % (max_depth - MIN_DEPTH + 1));
		void **slot = &w->window[i % WINDOW];

		if (*slot) {
			free(*slot);
			w->frees++;
		}
		*slot = descend(w, depth - 1, pick_size(w, i), leaves[(i / 3) % LEAVES]);
	}
	for (i = 0; i < WINDOW; i++) {
		if (w->window[i]) {
			free(w->window[i]);
			w->frees++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 1;
	long ops = argc > 2 ? atol(argv[2]) : DEFAULT_OPS;
	unsigned long long bytes = 0;
	long mallocs = 0, frees = 0;
	struct worker *w;
	int i;

	if (argc > 3)
		max_depth = atoi(argv[3]);
	if (argc > 4)
		round_to = (size_t)atol(argv[4]);
	if (nthreads < 1 || nthreads > 2 || ops < 1 || max_depth < MIN_DEPTH ||
	    max_depth > MAX_DEPTH || round_to < 1 || round_to > 4096) {
		fprintf(stderr, "usage: alloc_bench [THREADS (1 or 2) [OPS_PER_THREAD [MAX_DEPTH "
				"(%d..%d) [ROUND (1..4096)]]]]\n", MIN_DEPTH, MAX_DEPTH);
		return 2;
	}
	w = calloc((size_t)nthreads, sizeof(*w));
	if (!w)
		abort();
	for (i = 0; i < nthreads; i++) {
		w[i].seed = 2463534242u + (unsigned)i;
		w[i].ops = ops;
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]))
			abort();
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(w[i].thread, NULL);
		mallocs += w[i].mallocs;
		frees += w[i].frees;
		bytes += w[i].bytes;
	}
	printf("threads=%d mallocs=%ld frees=%ld bytes=%llu\n", nthreads, mallocs, frees, bytes);
	free(w);
	return 0;
}
