// SPDX-License-Identifier: MIT
/*
 * unw_local.c - libunwind's local unwinding, made fit to run inside
 * another program's malloc.
 *
 * Never allocates, never prints, never takes a lock the program may hold,
 * never keeps an fd in the program. What libunwind (1.6, Debian 12) would
 * otherwise do inside a hook, and what is done instead:
 *
 *   - The loader's lock. To find the unwind table of an address, libunwind
 *     calls dl_iterate_phdr, which holds the loader's write lock: a fork
 *     child of a threaded program can inherit it held for good, and a
 *     program's own dl_iterate_phdr callback may wait on a lock the
 *     allocating thread holds. libunwind's local-only build calls its
 *     lookup directly (not through the address space's accessors), so the
 *     preload interposes dl_iterate_phdr (hooks.c): while the calling
 *     thread is inside a capture, the call is answered here, lock-free,
 *     with the one object that holds the address libunwind looks for (the
 *     first word of the data it passes, in every libunwind release),
 *     found by mh_object_at. Every other caller gets glibc's.
 *
 *   - The validation pipe. Where call-frame information is missing,
 *     libunwind validates addresses by writing a byte from them into a
 *     pipe it opened at the lowest free fds when it initialised, and
 *     re-opened, again at the lowest free fds, whenever the program had
 *     closed it: a daemon that closes every fd and opens its files had
 *     its files replaced by that pipe. The local address space's memory
 *     accessor is replaced by one that validates with rt_sigprocmask (the
 *     kernel copies the set from the address before it rejects an invalid
 *     `how`: EFAULT or EINVAL, no fd, no side effect), and the pipe that
 *     libunwind 1.6 opened during our own initialisation is closed.
 *     libunwind then has no path left to that pipe.
 *
 *   - Its own locks across fork. libunwind takes internal mutexes (its
 *     memory pools) while unwinding. A fork child inheriting one held by a
 *     thread that no longer exists hangs in its first capture. A fork
 *     therefore waits (pthread_atfork prepare, at most FORK_WAIT_NS) until
 *     no other thread is inside libunwind, and captures that start
 *     meanwhile sleep until the fork is done, but at most ENTER_WAIT_NS:
 *     the forking thread may need a lock the allocating thread holds. Past
 *     that, the capture keeps only the frames it knows without libunwind
 *     (unwind.c, to_site).
 *
 *   - Its signal masking. libunwind 1.6 blocks every signal around each of
 *     its locked sections (its caches, its memory pools) and around each
 *     lookup of an address's unwind table, with a sigprocmask pair each
 *     time, so that a signal handler that unwinds never finds its own
 *     thread holding libunwind's lock: about 6 pairs per unwind (git log
 *     -p: 5,266 calls for 462 unwinds, at 1.1 us a call in a virtual
 *     machine; 2 of them per unwind now). A capture therefore blocks
 *     every signal the program may block (not SIGCANCEL and SIGSETXID,
 *     which glibc keeps for itself, as libunwind's own calls do) once, for
 *     its whole stay in libunwind (mh_unw_enter to mh_unw_leave), and the
 *     interposed sigprocmask (hooks.c) answers libunwind's calls, which
 *     then change nothing, from the mask the thread holds, exactly as the
 *     kernel would have: the same old set, no change; a call that would
 *     change the mask goes to the kernel. No handler runs on the thread
 *     while it is in libunwind, as before; signals only wait for the
 *     whole unwind (microseconds) instead of its locked parts.
 *
 *   - Its caches. Debian's libunwind is built without per-thread caches:
 *     asked for UNW_CACHE_PER_THREAD it keeps using its global cache, but
 *     without the lock (a race between two threads unwinding). The local
 *     address space keeps the default, UNW_CACHE_GLOBAL, locked; the
 *     lock's signal masking costs nothing inside a capture (above).
 *
 * The same library instance serves the program if it uses libunwind
 * itself; these changes keep its results and only take away the lock and
 * the fd.
 */
#include "preload/unw_local.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "preload/objects.h"
#include "preload/sys.h"

/*
 * libunwind 1.6 and later pass, as the accessor's arg on x86-64, the
 * context pointer with bit 0 set when the read must be validated; 1.6
 * opens its validation pipe when it initialises.
 */
#if defined(__x86_64__) && \
	UNW_VERSION_CODE(UNW_VERSION_MAJOR, UNW_VERSION_MINOR) >= UNW_VERSION_CODE(1, 6)
#define MH_OWN_ACCESS_MEM 1
#define AS_ARG_VALIDATE 0x1UL
#else
#define MH_OWN_ACCESS_MEM 0
#endif

/* Longest a fork waits for captures already inside libunwind, in ns. */
#define FORK_WAIT_NS 1000000000ULL
/*
 * Longest a capture waits for a fork to be done before it leaves libunwind
 * out, in ns. Bounded: the forking thread may need a lock the capturing
 * thread holds (glibc's stdio list lock, say), so this must never be a
 * wait for the fork to end.
 */
#define ENTER_WAIT_NS 100000000ULL
/* Yields before that wait starts sleeping, and the sleep, in ns. */
#define FORK_YIELDS 100
#define FORK_SLEEP_NS 100000L
/* Pages a thread remembers as readable, as libunwind's own validator does. */
#define GOOD_PAGES 4
/* Bytes of the kernel's signal set: what rt_sigprocmask copies in. */
#define KERNEL_SIGSET_BYTES 8
/* An rt_sigprocmask `how` that no kernel accepts. */
#define NO_SUCH_HOW (-1)
/* A signal's bit in the kernel's signal set. */
#define SIG_BIT(sig) (1ULL << ((sig) - 1))
/*
 * What a thread's mask never holds through sigprocmask: SIGKILL and
 * SIGSTOP (the kernel drops them) and glibc's SIGCANCEL and SIGSETXID
 * (the first two real-time signals, which glibc drops from every set).
 */
#define NEVER_HELD (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP) | SIG_BIT(32) | SIG_BIT(33))

/* Threads between mh_unw_enter and mh_unw_leave. */
static int busy;
/* Set while a fork is being prepared: captures keep out of libunwind. */
static int fork_pending;
static __thread int inside __attribute__((tls_model("initial-exec")));
/* While a capture holds signals blocked: the mask before, and the one the kernel has. */
static __thread __u64 mask_before __attribute__((tls_model("initial-exec")));
static __thread __u64 mask_held __attribute__((tls_model("initial-exec")));
static __thread bool holding __attribute__((tls_model("initial-exec")));
static __thread uintptr_t good_pages[GOOD_PAGES] __attribute__((tls_model("initial-exec")));
static __thread unsigned int good_next __attribute__((tls_model("initial-exec")));
static uintptr_t page_mask;

/* Sleep until the fork is done (the parent or child handler wakes us) or ns pass. */
static void wait_fork_done(__u64 ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	(void)syscall(SYS_futex, &fork_pending, FUTEX_WAIT_PRIVATE, 1, &ts, NULL, 0);
}

static void fork_done(void)
{
	__atomic_store_n(&fork_pending, 0, __ATOMIC_RELEASE);
	(void)syscall(SYS_futex, &fork_pending, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* The thread's mask, through the raw call: glibc would drop bits of it. */
static bool kernel_mask(int how, const __u64 *set, __u64 *old)
{
	return !syscall(SYS_rt_sigprocmask, how, set, old, KERNEL_SIGSET_BYTES);
}

/* Block every signal the program may block, for a stay in libunwind (see the top). */
static void hold_signals(void)
{
	__u64 block = ~NEVER_HELD;

	holding = kernel_mask(SIG_BLOCK, &block, &mask_before);
	mask_held = mask_before | block;
}

static void release_signals(void)
{
	if (!holding)
		return;
	holding = false;
	/* Cannot fail: the set is the thread's own earlier mask. */
	(void)kernel_mask(SIG_SETMASK, &mask_before, NULL);
}

bool mh_unw_sigmask_answer(int how, const sigset_t *set, sigset_t *old)
{
	__u64 want;

	if (!holding)
		return false;
	if (set) {
		memcpy(&want, set, sizeof(want));
		if (how == SIG_SETMASK)
			want &= ~NEVER_HELD;
		else if (how == SIG_BLOCK)
			want = mask_held | (want & ~NEVER_HELD);
		else
			return false;
		if (want != mask_held)
			return false;
	}
	/* The kernel writes the first word of the caller's set only. */
	if (old)
		memcpy(old, &mask_held, sizeof(mask_held));
	return true;
}

void mh_unw_sigmask_changed(void)
{
	int saved = errno;

	/* A call that changed the mask went to the kernel: hold what it has now. */
	if (holding && !kernel_mask(SIG_BLOCK, NULL, &mask_held))
		release_signals();
	errno = saved;
}

bool mh_unw_enter(void)
{
	__u64 deadline = 0, now;
	int saved = errno;

	for (;;) {
		__atomic_add_fetch(&busy, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&fork_pending, __ATOMIC_SEQ_CST))
			break;
		__atomic_sub_fetch(&busy, 1, __ATOMIC_RELEASE);
		now = mh_now_ns();
		if (!deadline)
			deadline = now + ENTER_WAIT_NS;
		if (now >= deadline) {
			errno = saved;
			return false;
		}
		wait_fork_done(deadline - now);
	}
	if (!inside++)
		hold_signals();
	errno = saved;
	return true;
}

void mh_unw_leave(void)
{
	int saved = errno;

	if (!--inside)
		release_signals();
	__atomic_sub_fetch(&busy, 1, __ATOMIC_RELEASE);
	errno = saved;
}

bool mh_unw_inside(void)
{
	return inside != 0;
}

int mh_unw_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data)
{
	struct mh_object o;
	uintptr_t ip;

	memcpy(&ip, data, sizeof(ip));
	if (!mh_object_at(ip, &o))
		return 0;
	return callback(&o.info, sizeof(o.info), data);
}

void mh_unw_fork_prepare(void)
{
	struct timespec nap = { 0, FORK_SLEEP_NS };
	unsigned int round = 0;
	__u64 deadline;
	int saved = errno;

	__atomic_store_n(&fork_pending, 1, __ATOMIC_SEQ_CST);
	/* This thread's own count, if a signal handler forks from inside a capture. */
	if (__atomic_load_n(&busy, __ATOMIC_ACQUIRE) == inside)
		return;
	deadline = mh_now_ns() + FORK_WAIT_NS;
	while (__atomic_load_n(&busy, __ATOMIC_ACQUIRE) != inside && mh_now_ns() < deadline) {
		if (round++ < FORK_YIELDS)
			sched_yield();
		else
			nanosleep(&nap, NULL);
	}
	errno = saved;
}

void mh_unw_fork_parent(void)
{
	int saved = errno;

	fork_done();
	errno = saved;
}

void mh_unw_fork_child(void)
{
	/* The other threads, and their counts, stayed behind in the parent. */
	__atomic_store_n(&busy, inside, __ATOMIC_RELAXED);
	__atomic_store_n(&fork_pending, 0, __ATOMIC_RELEASE);
}

#if MH_OWN_ACCESS_MEM
/* The word at addr is readable: see the top of the file. Keeps errno. */
static bool readable(uintptr_t addr)
{
	uintptr_t page = addr & page_mask;
	/* A word that crosses into the next page is checked whole, never cached. */
	bool within = ((addr + sizeof(unw_word_t) - 1) & page_mask) == page, ok;
	int saved = errno;
	unsigned int i;

	if (!addr)
		return false;
	for (i = 0; within && i < GOOD_PAGES; i++)
		if (good_pages[i] == page)
			return true;
	ok = syscall(SYS_rt_sigprocmask, NO_SUCH_HOW, (void *)addr, NULL, KERNEL_SIGSET_BYTES) < 0 &&
	     errno == EINVAL;
	errno = saved;
	if (ok && within) {
		good_pages[good_next] = page;
		good_next = (good_next + 1) % GOOD_PAGES;
	}
	return ok;
}

static int access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
	if (write) {
		memcpy((void *)addr, val, sizeof(*val));
		return 0;
	}
	if ((uintptr_t)arg & AS_ARG_VALIDATE && !readable(addr))
		return -UNW_EUNSPEC;
	memcpy(val, (const void *)addr, sizeof(*val));
	return 0;
}

/* The two lowest free fds, where libunwind 1.6 opens its pipe. */
static void lowest_free(int *a, int *b)
{
	int fd, *slot = a;

	*a = *b = -1;
	for (fd = 0; *b < 0 && fd < INT32_MAX; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		*slot = fd;
		slot = b;
	}
}

static bool has_flags(int fd, int access, int fl, int fd_flags)
{
	int got = fcntl(fd, F_GETFL), gotfd = fcntl(fd, F_GETFD);

	return got >= 0 && gotfd >= 0 && (got & O_ACCMODE) == access && (got & fl) == fl &&
	       (gotfd & fd_flags) == fd_flags;
}

/* rd and wr are the two ends of one pipe, as libunwind's pipe2(O_CLOEXEC | O_NONBLOCK) made them. */
static bool is_validation_pipe(int rd, int wr)
{
	struct stat a, b;

	return rd >= 0 && wr >= 0 && !fstat(rd, &a) && !fstat(wr, &b) && S_ISFIFO(a.st_mode) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
	       has_flags(rd, O_RDONLY, O_NONBLOCK, FD_CLOEXEC) &&
	       has_flags(wr, O_WRONLY, O_NONBLOCK, FD_CLOEXEC);
}

/* Initialise libunwind with our accessor; close the pipe 1.6 opened meanwhile. */
static void own_access_mem(void)
{
	unw_accessors_t *acc;
	int rd, wr, saved = errno;

	page_mask = ~((uintptr_t)sysconf(_SC_PAGESIZE) - 1);
	lowest_free(&rd, &wr);
	acc = unw_get_accessors(unw_local_addr_space);
	acc->access_mem = access_mem;
	if (is_validation_pipe(rd, wr)) {
		close(rd);
		close(wr);
	}
	errno = saved;
}
#else
static void own_access_mem(void)
{
}
#endif /* MH_OWN_ACCESS_MEM */

int mh_unw_local_setup(void)
{
	own_access_mem();
	/* The default, said once more: a program may have asked for another. */
	return unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_GLOBAL) ? -EINVAL : 0;
}
