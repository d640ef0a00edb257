// SPDX-License-Identifier: MIT
/*
 * linger.c - the helper of linger.h: a process made with clone(CLONE_VM),
 * sharing this process's memory (no page table is copied, and the
 * memory is torn down at the helper's exit, not at this process's) with a
 * copy of its file table. It closes every descriptor but the ones it holds
 * and the read end of a pipe whose write end only this process has; end
 * of file on that pipe means this process is gone, and the helper exits.
 *
 * Sharing the memory, the helper must never write what this process uses:
 * it runs on a stack of its own that also holds its arguments (both never
 * freed), with every signal blocked (no handler of this process runs in
 * it), and calls only close_range() and read(), which cannot fail there
 * (close_range() is tried here first), so errno, which it shares with the
 * thread that made it, is never written. Not a child anyone waits for:
 * once orphaned, init reaps it. Never prints.
 */
#include "kernel/linger.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
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

static int helper_main(void *arg)
{
	const struct linger_args *a = arg;
	unsigned int next = 0;
	ssize_t got;
	char byte;
	size_t i;

	for (i = 0; i < a->n; i++) {
		if ((unsigned int)a->keep[i] > next)
			(void)close_range(next, (unsigned int)a->keep[i] - 1, 0);
		next = (unsigned int)a->keep[i] + 1;
	}
	(void)close_range(next, ~0U, 0);
	/* End of file once this process's write end is closed: at its exit. */
	do
		got = read(a->pipe_rd, &byte, 1);
	while (got > 0);
	_exit(0);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int mh_klinger(const int *fds, size_t n)
{
	struct linger_args *a;
	sigset_t all, old;
	int pipefd[2], err;
	char *stack;
	size_t i;
	pid_t pid;

	if (n > MH_KLINGER_MAX_FDS)
		return -E2BIG;
	/* Before 5.9 there is no close_range(): the helper could not close what it must not hold. */
	if (close_range(~0U, ~0U, 0))
		return -errno;
	stack = mmap(NULL, LINGER_STACK_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC)) {
		err = -errno;
		munmap(stack, LINGER_STACK_BYTES);
		return err;
	}
	/* The arguments at the bottom of the stack: the helper's alone from here on. */
	a = (struct linger_args *)stack;
	for (i = 0; i < n; i++)
		a->keep[i] = fds[i];
	a->keep[n] = pipefd[0];
	a->n = n + 1;
	a->pipe_rd = pipefd[0];
	qsort(a->keep, a->n, sizeof(a->keep[0]), cmp_int);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* No exit signal: nobody here waits for it. */
	pid = clone(helper_main, stack + LINGER_STACK_BYTES, CLONE_VM, a);
	err = pid < 0 ? -errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pipefd[0]);
	if (err) {
		close(pipefd[1]);
		munmap(stack, LINGER_STACK_BYTES);
	}
	/* Else the stack stays, and pipefd[1] stays open, unused, until this process exits. */
	return err;
}
