// SPDX-License-Identifier: MIT
/*
 * guest_rustlike.c - threads started the way Rust's std starts them: a
 * 2 MiB stack, then in the new thread pthread_getattr_np on itself (the
 * guard page), an alternate signal stack (mmap + sigaltstack) for the
 * stack-overflow handler, and work that grows vectors with realloc and
 * builds strings. Each worker also starts one nested worker. Prints one
 * checksum per worker and exits 0; memhook must not change a byte of it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WORKERS 8
#define RUST_STACK_BYTES (2 << 20)
#define VEC_LEN 4096

struct worker {
	unsigned int id;
	bool nested;
	uint64_t sum;
	uint64_t nested_sum;
};

static bool thread_start(void **alt, size_t *alt_size)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	stack_t ss;

	if (pthread_getattr_np(pthread_self(), &attr))
		return false;
	pthread_attr_getstack(&attr, &addr, &size);
	pthread_attr_destroy(&attr);
	*alt_size = (size_t)sysconf(_SC_SIGSTKSZ) + (size_t)sysconf(_SC_PAGESIZE);
	*alt = mmap(NULL, *alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*alt == MAP_FAILED)
		return false;
	ss = (stack_t){ .ss_sp = *alt, .ss_size = *alt_size };
	return !sigaltstack(&ss, NULL);
}

static void thread_end(void *alt, size_t alt_size)
{
	stack_t ss = { .ss_flags = SS_DISABLE };

	sigaltstack(&ss, NULL);
	munmap(alt, alt_size);
}

static uint64_t work(unsigned int id)
{
	uint64_t *v = NULL, sum = 0;
	size_t cap = 0, len = 0;
	char *s = NULL;
	size_t slen = 0;

	for (size_t i = 0; i < VEC_LEN; i++) {
		if (len == cap) {
			cap = cap ? 2 * cap : 4;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		v[len++] = i * (id + 1);
	}
	for (unsigned int i = 0; i < 200; i++) {
		char piece[32];
		int n = snprintf(piece, sizeof(piece), "%u-%u;", id, i);

		s = realloc(s, slen + (size_t)n + 1);
		if (!s)
			abort();
		memcpy(s + slen, piece, (size_t)n + 1);
		slen += (size_t)n;
	}
	for (size_t i = 0; i < len; i++)
		sum += v[i];
	for (size_t i = 0; i < slen; i++)
		sum = sum * 31 + (unsigned char)s[i];
	free(v);
	free(s);
	return sum;
}

static void *run(void *arg);

static bool spawn(pthread_t *t, struct worker *w)
{
	pthread_attr_t attr;
	bool ok;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, RUST_STACK_BYTES);
	ok = !pthread_create(t, &attr, run, w);
	pthread_attr_destroy(&attr);
	return ok;
}

static void *run(void *arg)
{
	struct worker *w = arg, *child = NULL;
	pthread_t t;
	void *alt;
	size_t alt_size;

	if (!thread_start(&alt, &alt_size))
		return NULL;
	if (!w->nested) {
		child = calloc(1, sizeof(*child));
		if (!child)
			abort();
		*child = (struct worker){ .id = w->id + 100, .nested = true };
		if (!spawn(&t, child))
			abort();
	}
	w->sum = work(w->id);
	if (child) {
		pthread_join(t, NULL);
		w->nested_sum = child->sum;
		free(child);
	}
	thread_end(alt, alt_size);
	return w;
}

int main(void)
{
	struct worker w[WORKERS];
	pthread_t t[WORKERS];

	for (unsigned int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ .id = i };
		if (!spawn(&t[i], &w[i]))
			return 1;
	}
	for (unsigned int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		printf("worker %u sum %llu nested %llu\n", i, (unsigned long long)w[i].sum,
		       (unsigned long long)w[i].nested_sum);
	}
	return 0;
}
