// SPDX-License-Identifier: MIT
/*
 * rec_target.c - a program of known behaviour for tests/check_record.c:
 * allocates a little, writes known output, and ends the way its first
 * argument says.
 *
 *   rec_target exit N     malloc/free, print, exit(N)
 *   rec_target _exit N    malloc, _exit(N) without running atexit handlers
 *   rec_target segv       malloc, then write through a NULL pointer
 *   rec_target sigkill    allocate in a loop and SIGKILL itself mid-run
 *   rec_target print N    print N numbered lines, allocating for each
 *   rec_target cat        copy stdin to stdout
 *   rec_target pause      allocate, then wait for a signal (exit 0 on SIGUSR1)
 *   rec_target closefds  close every fd above 2, reopen fds 3-9 on /dev/zero
 *                         (as a program that closes what it inherited
 *                         and opens files of its own), then fork and exec
 *                         "rec_target exit 0"; exits with its status
 *   rec_target forkgrow N MS   fork; the child mallocs N MiB, writes every
 *                         page, holds it MS ms, frees it and exits 0; the
 *                         parent waits and exits with the child's status
 *   rec_target waits N    churn N allocations, then print how long that took
 *                         ("wall NS slept NS"): slept is the time off the
 *                         CPU and off the run queue, from the kernel's
 *                         schedstat (the time the program waited in a sleep)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void churn(int n)
{
	void *keep[64];
	int i;

	for (i = 0; i < n; i++) {
		keep[i % 64] = malloc((size_t)(16 + i % 200));
		if (i % 64 == 63)
			for (int k = 0; k < 64; k++)
				free(keep[k]);
	}
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec;
}

/* The calling thread's time on the CPU plus on the run queue, ns (the kernel's schedstat). */
static unsigned long long runnable_ns(void)
{
	unsigned long long run = 0, queued = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f || fscanf(f, "%llu %llu", &run, &queued) != 2) {
		fprintf(stderr, "rec_target: cannot read /proc/thread-self/schedstat\n");
		exit(2);
	}
	fclose(f);
	return run + queued;
}

/* churn(n), and how much of its time the thread slept. */
static int timed_churn(int n)
{
	unsigned long long t0, r0, wall, slept;

	t0 = mono_ns();
	r0 = runnable_ns();
	churn(n);
	wall = mono_ns() - t0;
	slept = wall - (runnable_ns() - r0);
	printf("wall %llu slept %llu\n", wall, (long long)slept < 0 ? 0ULL : slept);
	return 0;
}

static int print_lines(int n)
{
	char *line;
	int i;

	for (i = 0; i < n; i++) {
		line = malloc(64);
		snprintf(line, 64, "line %d of %d: %x\n", i, n, (unsigned)i * 2654435761u);
		fputs(line, stdout);
		free(line);
	}
	return 0;
}

static int cat(void)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (write(1, buf, (size_t)n) != n)
			return 1;
	return n < 0;
}

static int fork_grow(size_t mib, long hold_ms)
{
	struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
	long page = sysconf(_SC_PAGESIZE);
	int status;
	pid_t pid;
	char *p;

	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		p = malloc(mib << 20);
		if (!p)
			_exit(1);
		for (size_t i = 0; i < mib << 20; i += (size_t)page)
			p[i] = 1;
		nanosleep(&ts, NULL);
		free(p);
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* Lowest fd the closefds mode reopens, and one past its highest. */
#define CLOSEFDS_FIRST 3
#define CLOSEFDS_END 10

static int closefds_exec(const char *self)
{
	int status, fd;
	pid_t pid;

	fflush(stdout);
	for (fd = CLOSEFDS_FIRST; fd < 1024; fd++)
		close(fd);
	for (fd = CLOSEFDS_FIRST; fd < CLOSEFDS_END; fd++) {
		if (open("/dev/zero", O_RDWR) != fd)
			return 1;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execl(self, self, "exit", "0", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";
	int arg = argc > 2 ? atoi(argv[2]) : 0;

	if (!strcmp(mode, "exit")) {
		churn(1000);
		printf("exiting with %d\n", arg);
		exit(arg);
	}
	if (!strcmp(mode, "_exit")) {
		churn(1000);
		_exit(arg);
	}
	if (!strcmp(mode, "segv")) {
		churn(1000);
		*(volatile int *)(uintptr_t)argc = 1;	/* argc is small: never a valid address */
		return 0;
	}
	if (!strcmp(mode, "sigkill")) {
		churn(100000);
		kill(getpid(), SIGKILL);
		churn(100000);
		return 0;
	}
	if (!strcmp(mode, "print"))
		return print_lines(arg);
	if (!strcmp(mode, "cat"))
		return cat();
	if (!strcmp(mode, "pause")) {
		signal(SIGUSR1, on_usr1);
		churn(1000);
		printf("ready\n");
		fflush(stdout);
		while (!got_usr1)
			pause();
		return 0;
	}
	if (!strcmp(mode, "closefds"))
		return closefds_exec(argv[0]);
	if (!strcmp(mode, "waits"))
		return timed_churn(arg);
	if (!strcmp(mode, "forkgrow") && argc > 3)
		return fork_grow((size_t)atol(argv[2]), atol(argv[3]));
	fprintf(stderr, "rec_target: unknown mode '%s'\n", mode);
	return 2;
}
