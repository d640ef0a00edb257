// SPDX-License-Identifier: MIT
/*
 * preload_calls.c - a program of known allocation behaviour for
 * tests/check_preload.c. argv[1] picks the scenario:
 *   calls    every interposed allocation call once or more, mmap/munmap of one
 *            page, mremap of 8 KiB to 16 KiB, sbrk up and down one page;
 *            leaks 3 x 77 bytes
 *   threads  4 threads handing blocks to each other, so addresses freed by
 *            one thread are reused by another (tests ring ordering)
 *   dlopen   dlopen libz, compress through it (allocations from inside
 *            libz), dlclose, allocate again
 *   fork     the child allocates 5 x 111 bytes, the parent 1 x 222
 *   exec     allocate 1 x 333 bytes, exec itself as "exec2" (1 x 444 bytes)
 *   exec-closefds  the same, closing every fd above 2 before the exec
 *   churn    argv[2] malloc/free pairs (default 2,000,000)
 *   abort    allocate 1 x 555 bytes, then abort()
 *   _exit    allocate 1 x 666 bytes, then _exit(0)
 *   exit7    allocate 1 x 777 bytes, return 7 from main
 *   quick_exit  allocate 1 x 888 bytes, then quick_exit(5)
 *   sigterm  allocate 1 x 999 bytes, then kill itself with SIGTERM
 *   segv     write through a null pointer
 *   sigquery every fatal signal reads as SIG_DFL; signal() and sigaction()
 *            install the program's own handlers, which run; exits 0 if all
 *            held, else the number of the first check that failed
 *   nohup    started with SIGHUP ignored: it still reads as ignored and
 *            raising it changes nothing; exits 0, else 2 or 3
 *   rename   renames itself (pthread_setname_np), another thread
 *            (pthread_setname_np from main) and itself again with
 *            prctl(PR_SET_NAME) followed by argv[2] malloc/free pairs
 *   errno    allocation calls of 4242 bytes leave errno as they found it
 *            (and a failing malloc leaves ENOMEM) in the main thread, a
 *            new thread and a fork child; exits 0 if all held, else the
 *            number of the first check that failed
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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
	int (*compress2)(unsigned char *, unsigned long *, const unsigned char *, unsigned long,
			 int);
	unsigned char in[256] = "memhook", out[512];
	unsigned long len = sizeof(out);
	void *h = dlopen("libz.so.1", RTLD_NOW);

	if (!h)
		return 2;
	compress2 = (__typeof__(compress2))dlsym(h, "compress2");
	if (!compress2 || compress2(out, &len, in, sizeof(in), 6))
		return 3;
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

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* What a program sees of the dispositions: the defaults, and its own handlers working. */
static int sigquery(void)
{
	static const int fatal[] = { SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGSEGV, SIGPIPE, SIGTERM };
	struct sigaction old, act = { .sa_handler = on_signal };
	unsigned int i;

	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		if (sigaction(fatal[i], NULL, &old) || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			return 10 + (int)i;
	}
	if (signal(SIGINT, on_signal) != SIG_DFL)
		return 2;
	raise(SIGINT);
	if (got_signal != SIGINT)
		return 3;
	sigemptyset(&act.sa_mask);
	if (sigaction(SIGUSR1, &act, &old) || old.sa_handler != SIG_DFL)
		return 4;
	raise(SIGUSR1);
	if (got_signal != SIGUSR1)
		return 5;
	/* Back to the default: reads as the default again. */
	if (signal(SIGUSR1, SIG_DFL) != on_signal || signal(SIGUSR1, SIG_DFL) != SIG_DFL)
		return 6;
	return 0;
}

static pthread_barrier_t named;

/* Allocates once under its first name, then again after main renamed it. */
static void *renamed_worker(void *unused __attribute__((unused)))
{
	sink = malloc(31);
	free(sink);
	pthread_barrier_wait(&named);
	pthread_barrier_wait(&named);
	sink = malloc(31);
	free(sink);
	return NULL;
}

/* Every rename happens after the thread's first event. */
static void rename_threads(long pairs)
{
	pthread_t t;

	churn(1);
	pthread_setname_np(pthread_self(), "mh-self-named");
	pthread_barrier_init(&named, NULL, 2);
	pthread_create(&t, NULL, renamed_worker, NULL);
	pthread_barrier_wait(&named);
	pthread_setname_np(t, "mh-other-named");
	pthread_barrier_wait(&named);
	pthread_join(t, NULL);
	prctl(PR_SET_NAME, "mh-prctl-named");
	churn(pairs);
}

/* Each call, with errno set to a value no call here sets: 0 if all left it, else which did not. */
static int errno_kept(void)
{
	/* volatile: a constant this large is a compile-time error. */
	volatile size_t huge = SIZE_MAX - 4096;
	void *p = NULL;

	errno = EXDEV;
	sink = malloc(4242);
	if (errno != EXDEV)
		return 1;
	free(sink);
	if (errno != EXDEV)
		return 2;
	sink = calloc(2, 2121);
	sink = realloc(sink, 2 * 4242);
	if (errno != EXDEV)
		return 3;
	if (posix_memalign(&p, 64, 4242) || errno != EXDEV)
		return 4;
	free(p);
	free(sink);
	free(NULL);
	if (errno != EXDEV)
		return 5;
	/* A failing call sets errno, and the hook leaves what the real call said. */
	sink = malloc(huge);
	if (sink || errno != ENOMEM)
		return 6;
	return 0;
}

static void *errno_thread(void *unused __attribute__((unused)))
{
	return (void *)(intptr_t)errno_kept();
}

static int errno_everywhere(void)
{
	pthread_t t;
	void *ret;
	pid_t pid;
	int rc, status;

	rc = errno_kept();
	if (rc)
		return rc;
	if (pthread_create(&t, NULL, errno_thread, NULL) || pthread_join(t, &ret))
		return 20;
	if (ret)
		return 10 + (int)(intptr_t)ret;
	pid = fork();
	if (pid < 0)
		return 21;
	if (pid == 0)
		_exit(errno_kept());
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 22;
	return WEXITSTATUS(status) ? 30 + WEXITSTATUS(status) : 0;
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
	} else if (!strcmp(mode, "exit7")) {
		sink = malloc(777);
		return 7;
	} else if (!strcmp(mode, "quick_exit")) {
		sink = malloc(888);
		quick_exit(5);
	} else if (!strcmp(mode, "sigterm")) {
		sink = malloc(999);
		kill(getpid(), SIGTERM);
		pause();
	} else if (!strcmp(mode, "segv")) {
		*(volatile int *)sink = 1;
	} else if (!strcmp(mode, "sigquery")) {
		return sigquery();
	} else if (!strcmp(mode, "nohup")) {
		struct sigaction old;

		if (sigaction(SIGHUP, NULL, &old) || old.sa_handler != SIG_IGN)
			return 2;
		raise(SIGHUP);
		return sigaction(SIGHUP, NULL, &old) || old.sa_handler != SIG_IGN ? 3 : 0;
	} else if (!strcmp(mode, "rename")) {
		rename_threads(argc > 2 ? atol(argv[2]) : 100000);
	} else if (!strcmp(mode, "errno")) {
		return errno_everywhere();
	} else if (!strcmp(mode, "churn"))
		churn(argc > 2 ? atol(argv[2]) : 2000000);
	else
		return 2;
	return 0;
}
