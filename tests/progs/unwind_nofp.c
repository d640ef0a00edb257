// SPDX-License-Identifier: MIT
/*
 * unwind_nofp.c - allocations in code built without frame pointers
 * (-O2 -fomit-frame-pointer), for tests/check_unwind.c: every site needs
 * libunwind, so auto mode answers from its return-address-slot cache
 * (preload/unwind_slots.c) wherever it can. Each scenario reaches one
 * allocating leaf through PATHS functions of the same frame size, so the
 * leaf's frame lies at the same stack address whichever path led to it:
 * only the return addresses above it tell the paths apart. Each path is
 * taken three times in a row, then the next: a site's first capture
 * judges the site, its second fills the cache, the third is the thread's
 * first cached answer, which is always checked against libunwind; the
 * answers after that are checked only by the cache's own proof.
 *
 * Usage: unwind_nofp SCENARIO, one of
 *   paths    2001: PATHS paths into one leaf
 *   recurse  2002: recursion 0..70 deep, each level through one of two
 *            same-sized functions (deeper than the default 64 frames: cut)
 *   longjmp  2003: the leaf allocates, then a deeper frame longjmps out
 *   signal   2004: a signal raised at the end of each path; its handler
 *            allocates through the leaf
 *   threads  2005, 2006: two threads running the paths at once
 *   deep     2007: one chain of LINKS frames into the leaf, reached
 *            through one of two functions of different frame sizes: the
 *            stacks differ only beyond the first LINKS frames above the
 *            leaf, and there the return addresses sit at other places
 *   big      2011: the chain of "deep" under a frame above 2 KiB, under
 *            one of two frames of the same size above 2 KiB: two return
 *            addresses sit more than 255 stack words above the previous
 *   copies   2008: one function called from two sites of its caller in
 *            turn; from the first only, it copies its return address into
 *            its own frame, below the slot: from the second, that copy
 *            still holds the first site's return address, the slot the
 *            second's
 *   mask     2010: the paths with SIGUSR2 and SIGRTMIN + 3 blocked and
 *            SIGUSR2 pending: the thread's mask, read by the raw system
 *            call, is the same after every allocation, SIGUSR2 is not
 *            delivered meanwhile and is, once, when the program unblocks
 *            it (a capture blocks every signal while it is in libunwind:
 *            preload/unw_local.c). Exits 4 if not.
 *   shifted  2009: the case the slot cache's proof does not cover
 *            (preload/unwind_slots.c, "Where it is not sure"), to show
 *            that its rechecks catch it: SHIFTED_ROUNDS allocations
 *            through a function with a variable-length array called from
 *            outer_small, then as many from outer_big, whose frame is
 *            bigger by exactly what the array is made smaller: the leaf's
 *            frame stays where it was, and the word that held the return
 *            address into outer_small, now inside outer_big's unwritten
 *            pad, still holds it. Exits 3 if that layout is not reached.
 * Deterministic: the k-th block of a size has the same stack in every run.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 800
#define PATHS 4
#define MAX_DEPTH 70
#define LINKS 6

/* Per thread: with one shared pointer, two threads in leaf() freed one block twice. */
static __thread void *volatile sink;
volatile int mark;
static jmp_buf env;
static size_t signal_size;

static __attribute__((noinline)) void leaf(size_t size)
{
	sink = malloc(size);
	free(sink);
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void jump_out(void)
{
	longjmp(env, 1);
}

/* What the end of a path does: allocate, or allocate and jump out, or raise. */
enum how { ALLOC, JUMP, RAISE };

static __attribute__((noinline)) void mid(size_t size, int k, enum how how)
{
	if (how == RAISE) {
		signal_size = size;
		raise(SIGUSR1);
	} else {
		leaf(size);
		if (how == JUMP)
			jump_out();
	}
	mark = k;
	__asm__ __volatile__("" ::: "memory");
}

/* Same frame, different code (a constant): the compiler cannot fold them into one. */
#define PATH(k)                                                                          \
	static __attribute__((noinline)) void path##k(size_t size, enum how how)         \
	{                                                                                \
		mid(size, k, how);                                                       \
		__asm__ __volatile__("" ::: "memory");                                   \
	}
PATH(0)
PATH(1)
PATH(2)
PATH(3)

static void (*const paths[PATHS])(size_t, enum how) = { path0, path1, path2, path3 };

static void run_paths(size_t size, enum how how)
{
	/* volatile: kept across longjmp. */
	volatile int i;

	for (i = 0; i < ROUNDS; i++) {
		if (how == JUMP && setjmp(env))
			continue;
		paths[i / 3 % PATHS](size, how);
	}
}

static __attribute__((noinline)) void rec_b(int depth, unsigned int pattern);

static __attribute__((noinline)) void rec_a(int depth, unsigned int pattern)
{
	if (!depth)
		leaf(2002);
	else if (pattern & 1)
		rec_a(depth - 1, pattern >> 1 | pattern << 31);
	else
		rec_b(depth - 1, pattern >> 1 | pattern << 31);
	mark = 1;
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void rec_b(int depth, unsigned int pattern)
{
	if (!depth)
		leaf(2002);
	else if (pattern & 1)
		rec_a(depth - 1, pattern >> 1 | pattern << 31);
	else
		rec_b(depth - 1, pattern >> 1 | pattern << 31);
	mark = 2;
	__asm__ __volatile__("" ::: "memory");
}

static void run_recurse(void)
{
	unsigned int pattern = 0x9e3779b9u;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		/* Three repeats first (see the top), then depths and paths that vary. */
		if (i > 2)
			pattern = pattern * 1103515245u + 12345u;
		rec_a(i < 3 ? 5 : i * 7 % (MAX_DEPTH + 1), pattern);
	}
}

/* The chain "deep" shares: LINKS frames of one size above the leaf. */
static __attribute__((noinline)) void chain(size_t size, int links)
{
	if (links)
		chain(size, links - 1);
	else
		leaf(size);
	mark = links;
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void via_small(size_t size)
{
	chain(size, LINKS - 1);
	mark = 1;
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void via_big(size_t size)
{
	volatile char pad[256];

	pad[0] = 1;
	chain(size, LINKS - 1);
	mark = pad[0];
	__asm__ __volatile__("" ::: "memory");
}

static void run_deep(void)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (i / 3 % 2)
			via_big(2007);
		else
			via_small(2007);
	}
}

/* "big": see the top. */
static __attribute__((noinline)) void via_huge(size_t size)
{
	volatile char pad[2600];

	pad[0] = 1;
	chain(size, LINKS - 1);
	mark = pad[0];
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void huge_a(size_t size)
{
	volatile char pad[3000];

	pad[0] = 1;
	via_huge(size);
	mark = pad[0];
	__asm__ __volatile__("" ::: "memory");
}

/* Same frame, different code: the compiler cannot fold it into huge_a. */
static __attribute__((noinline)) void huge_b(size_t size)
{
	volatile char pad[3000];

	pad[0] = 2;
	via_huge(size);
	mark = pad[0];
	__asm__ __volatile__("" ::: "memory");
}

static void run_big(void)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (i / 3 % 2)
			huge_b(2011);
		else
			huge_a(2011);
	}
}

/* "copies": see the top. cell[1] is left alone when keep is 0. */
static __attribute__((noinline)) void keeper(size_t size, int keep)
{
	volatile uintptr_t cell[2];

	if (keep)
		cell[1] = (uintptr_t)__builtin_return_address(0);
	leaf(size);
	__asm__ __volatile__("" : : "r"(cell) : "memory");
}

static void run_copies(void)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		/* Two call sites, each followed by its own store: not merged into one. */
		if (i / 3 % 2) {
			keeper(2008, 0);
			mark = 1;
		} else {
			keeper(2008, 1);
			mark = 2;
		}
		__asm__ __volatile__("" ::: "memory");
	}
}

/* "shifted": see the top. */
#define SHIFTED_ROUNDS 20000
#define SHIFTED_EXTRA 1024
#define SHIFTED_PAD 512

static uintptr_t shifted_at;

static __attribute__((noinline)) void shifted_leaf(size_t size)
{
	volatile char probe = 0;

	shifted_at = (uintptr_t)&probe;
	if (size)
		sink = malloc(size);
	free(sink);
	sink = NULL;
	__asm__ __volatile__("" ::: "memory");
}

/* Its variable-length array makes it keep its frame by RBP. */
static __attribute__((noinline)) void shifted_mid(size_t size, size_t extra)
{
	volatile char buf[extra];

	buf[0] = 1;
	shifted_leaf(size);
	mark = buf[0];
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void outer_small(size_t size, size_t extra)
{
	shifted_mid(size, extra);
	mark = 1;
	__asm__ __volatile__("" ::: "memory");
}

static __attribute__((noinline)) void outer_big(size_t size, size_t extra)
{
	char pad[SHIFTED_PAD];

	/* Kept, never written. */
	__asm__ __volatile__("" : : "r"(pad) : "memory");
	shifted_mid(size, extra);
	mark = 2;
	__asm__ __volatile__("" ::: "memory");
}

static void (*volatile shifted_fn[2])(size_t, size_t) = { outer_small, outer_big };
static volatile size_t shifted_extra[2] = { SHIFTED_EXTRA, SHIFTED_EXTRA };

/* Both outer functions are called from this one call site. */
static __attribute__((noinline)) void shifted_call(void (*fn)(size_t, size_t), size_t size,
						   size_t extra)
{
	fn(size, extra);
	__asm__ __volatile__("" ::: "memory");
}

static int run_shifted(void)
{
	size_t shift, extra;
	uintptr_t small_at;
	int i;

	shifted_call(outer_small, 0, SHIFTED_EXTRA);
	small_at = shifted_at;
	shifted_call(outer_big, 0, SHIFTED_EXTRA);
	shift = small_at - shifted_at;
	if (shift > SHIFTED_EXTRA / 2)
		return 3;
	extra = SHIFTED_EXTRA - shift;
	shifted_call(outer_big, 0, extra);
	if (shifted_at != small_at)
		return 3;
	/* One call site for both halves: chosen by index, so not split into two. */
	shifted_extra[1] = extra;
	for (i = 0; i < 2 * SHIFTED_ROUNDS; i++) {
		int big = i >= SHIFTED_ROUNDS;

		shifted_call(shifted_fn[big], 2009, shifted_extra[big]);
	}
	return 0;
}

static void on_signal(int sig)
{
	leaf(signal_size);
	(void)sig;
}

static void *thread_main(void *arg)
{
	run_paths((size_t)(uintptr_t)arg, ALLOC);
	return NULL;
}

static int run_threads(void)
{
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(2005 + i)))
			return 1;
	for (i = 0; i < 2; i++)
		if (pthread_join(t[i], NULL))
			return 1;
	return 0;
}

static volatile sig_atomic_t usr2_seen;

static void on_usr2(int sig)
{
	(void)sig;
	usr2_seen++;
}

/* The thread's signal mask as the kernel has it: glibc's call would go through the preload. */
static unsigned long long kernel_mask(void)
{
	unsigned long long m = 0;

	syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, sizeof(m));
	return m;
}

static int run_mask(void)
{
	unsigned long long want;
	sigset_t set;
	int i;

	signal(SIGUSR2, on_usr2);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 3);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || raise(SIGUSR2))
		return 4;
	want = kernel_mask();
	for (i = 0; i < ROUNDS; i++) {
		paths[i / 3 % PATHS](2010, ALLOC);
		if (kernel_mask() != want || usr2_seen)
			return 4;
	}
	if (sigprocmask(SIG_UNBLOCK, &set, NULL))
		return 4;
	return usr2_seen == 1 ? 0 : 4;
}

int main(int argc, char **argv)
{
	const char *s = argc > 1 ? argv[1] : "";

	if (!strcmp(s, "paths")) {
		run_paths(2001, ALLOC);
	} else if (!strcmp(s, "recurse")) {
		run_recurse();
	} else if (!strcmp(s, "longjmp")) {
		run_paths(2003, JUMP);
	} else if (!strcmp(s, "signal")) {
		signal(SIGUSR1, on_signal);
		run_paths(2004, RAISE);
	} else if (!strcmp(s, "deep")) {
		run_deep();
	} else if (!strcmp(s, "big")) {
		run_big();
	} else if (!strcmp(s, "copies")) {
		run_copies();
	} else if (!strcmp(s, "mask")) {
		return run_mask();
	} else if (!strcmp(s, "shifted")) {
		return run_shifted();
	} else if (!strcmp(s, "threads")) {
		return run_threads();
	} else {
		return 2;
	}
	return 0;
}
