// SPDX-License-Identifier: MIT
/*
 * linger.c - the helper of linger.h: a child made with clone() (as fork
 * makes one, copying memory and file table, but running no atfork handler,
 * so a preload library in this process never sees it). It closes every
 * descriptor but the ones it holds and the read end of a pipe whose write
 * end only this process has; end of file on that pipe means this process
 * is gone, and the helper exits. The helper makes system calls only.
 * Never prints.
 */
#include "kernel/linger.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

/* The helper's stack, bytes: it calls the kernel only. */
#define LINGER_STACK_BYTES (64U << 10)

struct linger_args {
	int keep[MH_KLINGER_MAX_FDS + 1];	/* ascending; the pipe's read end among them */
	size_t n;
	int pipe_rd;
};

/* Close every descriptor from first to last (inclusive) in the helper. */
static void close_span(unsigned int first, unsigned int last)
{
	if (first > last)
		return;
	if (close_range(first, last, 0) == 0)
		return;
	/* Before Linux 5.9: one at a time, up to the table's size. */
	for (; first <= last && first < 65536; first++)
		(void)close((int)first);
}

static int helper_main(void *arg)
{
	const struct linger_args *a = arg;
	unsigned int next = 0;
	ssize_t got;
	char byte;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if ((unsigned int)a->keep[i] > next)
			close_span(next, (unsigned int)a->keep[i] - 1);
		next = (unsigned int)a->keep[i] + 1;
	}
	close_span(next, ~0U);
	/* End of file once this process's write end is closed: at its exit. */
	do
		got = read(a->pipe_rd, &byte, 1);
	while (got > 0 || (got < 0 && errno == EINTR));
	_exit(0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int mh_klinger(const int *fds, size_t n)
{
	struct linger_args *a;
	int pipefd[2], err;
	char *stack;
	size_t i;
	pid_t pid;

	if (n > MH_KLINGER_MAX_FDS)
		return -E2BIG;
	a = malloc(sizeof(*a));
	stack = mmap(NULL, LINGER_STACK_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (!a || stack == MAP_FAILED || pipe2(pipefd, O_CLOEXEC)) {
		free(a);
		if (stack != MAP_FAILED)
			munmap(stack, LINGER_STACK_BYTES);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		a->keep[i] = fds[i];
	a->keep[n] = pipefd[0];
	a->n = n + 1;
	a->pipe_rd = pipefd[0];
	qsort(a->keep, a->n, sizeof(a->keep[0]), cmp_int);
	/* No exit signal: nobody here waits for it; once orphaned, init reaps it. */
	pid = clone(helper_main, stack + LINGER_STACK_BYTES, 0, a);
	err = pid < 0 ? -errno : 0;
	/* The helper has copies of both. */
	free(a);
	munmap(stack, LINGER_STACK_BYTES);
	close(pipefd[0]);
	if (err)
		close(pipefd[1]);
	/* Else pipefd[1] stays open, unused, until this process exits. */
	return err;
}
