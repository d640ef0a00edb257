// SPDX-License-Identifier: MIT
/*
 * stamp.c - which of this process's stamps need the fence: the count of
 * stamping threads, and the solo token a thread takes to stamp unfenced
 * while it alone stamps (stamp.h; the argument is docs/DESIGN.md, "One
 * thread, no fence").
 *
 * Never allocates, never prints, never blocks; preserves errno. Runs inside
 * malloc, with the calling thread's slot marked busy, and may run in a
 * signal handler: the token is taken with raw system calls only.
 */
#include "preload/stamp.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The wait before a thread tries for the token again stops doubling here. */
#define ACQUIRE_AFTER_MAX (MH_STAMP_ACQUIRE_AFTER << 16)
/* Never try: no TSC (clock_gettime orders by itself), no membarrier. */
#define ACQUIRE_NEVER (~0ULL)

__thread struct mh_stamp_thread mh_stamp_me __attribute__((tls_model("initial-exec")));
struct mh_stamp_words mh_stamp_words = { .ordered = 1, .acquire_after = ACQUIRE_NEVER };

/* Threads of this image that stamped (each thread's token is its place in that count). */
static __u64 stampers __attribute__((aligned(64)));
/* The ring whose slots a thread taking the token looks at, and this process's pid. */
static struct mh_ring *stamp_ring;
static __u32 stamp_pid;
/* MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED done for this process. */
static int registered;

void mh_stamp_reset(struct mh_ring *r)
{
	struct mh_stamp_words *w = &mh_stamp_words;

	mh_stamp_me = (struct mh_stamp_thread){ 0 };
	stamp_ring = r;
	stamp_pid = (__u32)syscall(SYS_getpid);
	registered = 0;
	__atomic_store_n(&stampers, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&w->solo, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&w->acquire_after,
			 r->busy_xchg || !mh_clock_uses_tsc() ? ACQUIRE_NEVER : MH_STAMP_ACQUIRE_AFTER,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&w->ordered, r->busy_xchg, __ATOMIC_RELAXED);
}

/* The calling thread's first stamp: count it; the second thread to come orders all stamps. */
__attribute__((noinline, cold)) void mh_stamp_first(void)
{
	mh_stamp_me.token = __atomic_add_fetch(&stampers, 1, __ATOMIC_SEQ_CST);
	if (mh_stamp_me.token > 1)
		__atomic_store_n(&mh_stamp_words.ordered, 1, __ATOMIC_RELAXED);
}

/* Another thread took the token back, or could not be waited out: wait longer next time. */
static void back_off(void)
{
	__u64 *after = &mh_stamp_words.acquire_after, a = __atomic_load_n(after, __ATOMIC_RELAXED);

	/* Racy on purpose: a doubling lost to another thread's only delays the next try less. */
	if (a < ACQUIRE_AFTER_MAX)
		__atomic_store_n(after, 2 * a, __ATOMIC_RELAXED);
}

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * Take the token: publish it, make every other thread of the process run
 * a full barrier (or be switched out), then find no other slot of the
 * process busy. Failing, put it back (unless already taken back).
 */
static void acquire(void)
{
	__u64 token = mh_stamp_me.token;

	if (!registered && membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)) {
		__atomic_store_n(&mh_stamp_words.acquire_after, ACQUIRE_NEVER, __ATOMIC_RELAXED);
		return;
	}
	registered = 1;
	__atomic_store_n(&mh_stamp_words.solo, token, __ATOMIC_SEQ_CST);
	if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) ||
	    mh_ring_others_busy(stamp_ring, stamp_pid)) {
		__atomic_compare_exchange_n(&mh_stamp_words.solo, &token, 0, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
		back_off();
	}
#if defined(__x86_64__)
	/* The next unfenced tick runs after the loads of the slots above. */
	__builtin_ia32_lfence();
#endif
}

/*
 * A fenced stamp's rare path: another thread held the token when this
 * stamp read it (take it back, before this record's commit and before
 * the program can hand anything on), or this thread made enough fenced
 * stamps to try for the token.
 */
__attribute__((noinline, cold)) void mh_stamp_contend(__u64 solo)
{
	int saved = errno;

	mh_stamp_me.run = 0;
	if (solo) {
		__atomic_store_n(&mh_stamp_words.solo, 0, __ATOMIC_RELEASE);
		back_off();
	} else {
		acquire();
	}
	errno = saved;
}
