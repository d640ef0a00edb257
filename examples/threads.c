// SPDX-License-Identifier: MIT
/*
 * threads.c - N threads each doing M malloc/free pairs, half of the frees
 * made by another thread.
 *
 * Usage: threads [N_THREADS [OPS_PER_THREAD]]   (defaults 4 and 1000000)
 *
 * Thread t allocates block i with size 16 + 8 * (i % 64) bytes. Even blocks
 * it frees itself at once; odd blocks it pushes on the queue of thread
 * (t + 1) % N, which frees them the next time it drains its queue (a
 * mutex-protected list threaded through the blocks themselves, so the
 * queue allocates nothing). After a barrier each thread drains what is left.
 *
 * Its own calls: N * M mallocs and N * M frees, so a recording holds
 * exactly 2 * N * M alloc+free events from them (8,000,000 by default),
 * every free matches an earlier malloc of that address, and nothing is
 * leaked. Bytes allocated: N * (M / 64 * 64 * 268 + the partial cycle).
 * libc adds a few allocations of its own (pthread_create's thread
 * descriptors, the stdout buffer). The program prints its totals.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_THREADS 4
#define DEFAULT_OPS 1000000L
#define MAX_THREADS 256
#define SIZE_BASE 16
#define SIZE_STEP 8
#define SIZE_CLASSES 64
/* Drain the own queue every this many allocations. */
#define DRAIN_EVERY 64

struct block {
	struct block *next;
};

struct queue {
	pthread_mutex_t lock;
	struct block *head;
	long frees;		/* blocks freed by the owner of this queue */
} __attribute__((aligned(64)));

struct worker {
	pthread_t thread;
	int id;
	long ops;
	long own_frees;
	unsigned long long bytes;
};

static int nthreads;
static struct queue queues[MAX_THREADS];
static pthread_barrier_t done_producing;

static size_t block_size(long i)
{
	return SIZE_BASE + SIZE_STEP * (size_t)(i % SIZE_CLASSES);
}

static void queue_push(struct queue *q, struct block *b)
{
	pthread_mutex_lock(&q->lock);
	b->next = q->head;
	q->head = b;
	pthread_mutex_unlock(&q->lock);
}

static long queue_drain(struct queue *q)
{
	struct block *b, *next;
	long n = 0;

	pthread_mutex_lock(&q->lock);
	b = q->head;
	q->head = NULL;
	pthread_mutex_unlock(&q->lock);
	for (; b; b = next) {
		next = b->next;
		free(b);
		n++;
	}
	return n;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct queue *mine = &queues[w->id];
	struct queue *peer = &queues[(w->id + 1) % nthreads];
	long i;

	for (i = 0; i < w->ops; i++) {
		size_t size = block_size(i);
		struct block *b = malloc(size);

		if (!b)
			abort();
		w->bytes += size;
		if (i % 2 == 0) {
			free(b);
			w->own_frees++;
		} else {
			queue_push(peer, b);
		}
		if (i % DRAIN_EVERY == 0)
			w->own_frees += queue_drain(mine);
	}
	pthread_barrier_wait(&done_producing);
	w->own_frees += queue_drain(mine);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	unsigned long long bytes = 0;
	long ops = argc > 2 ? atol(argv[2]) : DEFAULT_OPS;
	long frees = 0;
	int i;

	nthreads = argc > 1 ? atoi(argv[1]) : DEFAULT_THREADS;
	if (nthreads < 1 || nthreads > MAX_THREADS || ops < 0) {
		fprintf(stderr, "usage: threads [N_THREADS (1..%d) [OPS_PER_THREAD]]\n",
			MAX_THREADS);
		return 2;
	}
	pthread_barrier_init(&done_producing, NULL, nthreads);
	for (i = 0; i < nthreads; i++) {
		pthread_mutex_init(&queues[i].lock, NULL);
		workers[i].id = i;
		workers[i].ops = ops;
	}
	for (i = 0; i < nthreads; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			abort();
	for (i = 0; i < nthreads; i++) {
		pthread_join(workers[i].thread, NULL);
		bytes += workers[i].bytes;
		frees += workers[i].own_frees;
	}
	printf("threads=%d ops_per_thread=%ld mallocs=%ld frees=%ld bytes=%llu\n", nthreads, ops,
	       nthreads * ops, frees, bytes);
	return frees == nthreads * ops ? 0 : 1;
}
