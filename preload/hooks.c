// SPDX-License-Identifier: MIT
/*
 * hooks.c - the libc names libmemhook.so interposes, as thin wrappers over
 * the recording core (core.h), plus the constructor and destructor.
 *
 * Never allocates through the allocator it wraps, never calls stdio, never
 * alters the program's allocations (no padding, no headers) and never
 * changes what a call returns or the errno it leaves.
 *
 * How calls map to records (the merger counts "total heap usage" from the
 * kinds, the way Valgrind memcheck counts):
 *   malloc, calloc (size nmemb * size), memalign, posix_memalign,
 *   aligned_alloc, valloc, pvalloc      ALLOC of that kind      1 alloc
 *   free, free_sized, free_aligned_sized FREE of that kind       1 free
 *   realloc(NULL, n) / reallocarray(NULL, ..)  ALLOC kind REALLOC[ARRAY]
 *   realloc(p, n), n > 0                FREE kind REALLOC of p, then
 *                                       ALLOC kind REALLOC of the result:
 *                                       1 free + 1 alloc, as memcheck counts
 *   realloc(p, 0)                       FREE kind REALLOC (glibc frees p)
 *   mmap, munmap, brk, sbrk             ALLOC/FREE of kind MMAP, MUNMAP, BRK,
 *                                       SBRK (not heap usage)
 *   mremap                              one REALLOC of kind MREMAP, after it
 *                                       succeeded (mappings are not heap blocks)
 * free(NULL) and calls that fail record nothing, except that a release
 * reserved before a call that then failed is published with address 0.
 *
 * pthread_setname_np is interposed too, so that a rename after a thread's
 * first event is recorded (MH_REC_THREAD again), and dl_iterate_phdr, so
 * that libunwind's lookups inside a capture take no loader lock, and
 * sigprocmask, so that libunwind's calls inside a capture cost no system
 * call when they change nothing (unw_local.c); the exit paths (_exit,
 * _Exit, quick_exit, and sigaction/signal for the fatal-signal handlers)
 * live in exit.c.
 *
 * Why realloc is two records and not one MH_REC_REALLOC: the release of p
 * must be ordered before the real call (another thread may be handed p the
 * moment realloc frees it), while the new block must be ordered after it
 * (it may be an address another thread freed while realloc ran). One
 * record cannot sit at both points. The FREE is stamped and reserved before
 * the call; if realloc fails it is published with address 0 (a no-op, like
 * free(NULL)), so a failed realloc changes nothing.
 *
 * free_sized and free_aligned_sized (C23) are exported even though glibc
 * 2.36 lacks them: a program that finds them calls ours, which forwards to
 * libc's if it has them (looked up on first use) and otherwise to free,
 * which C23 allows.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/bootstrap.h"
#include "preload/config.h"
#include "preload/core.h"
#include "preload/exit.h"
#include "preload/sys.h"
#include "preload/unw_local.h"
#include "common/compiler.h"

#define MH_EXPORT __attribute__((visibility("default")))

/* C23 names glibc 2.36 does not declare. */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t align, size_t size);

extern char **environ;

/* name, return type, parameter types: every function we forward to. */
#define REAL_FUNCTIONS(X)                                                    \
	X(malloc, void *, (size_t))                                          \
	X(calloc, void *, (size_t, size_t))                                  \
	X(realloc, void *, (void *, size_t))                                 \
	X(reallocarray, void *, (void *, size_t, size_t))                    \
	X(free, void, (void *))                                              \
	X(posix_memalign, int, (void **, size_t, size_t))                    \
	X(aligned_alloc, void *, (size_t, size_t))                           \
	X(memalign, void *, (size_t, size_t))                                \
	X(valloc, void *, (size_t))                                          \
	X(pvalloc, void *, (size_t))                                         \
	X(malloc_usable_size, size_t, (void *))                              \
	X(mmap, void *, (void *, size_t, int, int, int, off_t))              \
	X(munmap, int, (void *, size_t))                                     \
	X(mremap, void *, (void *, size_t, size_t, int, ...))                \
	X(brk, int, (void *))                                                \
	X(sbrk, void *, (intptr_t))                                          \
	X(pthread_setname_np, int, (pthread_t, const char *))                  \
	X(sigprocmask, int, (int, const sigset_t *, sigset_t *))              \
	X(dl_iterate_phdr, int, (int (*)(struct dl_phdr_info *, size_t, void *), void *))

#define REAL_FIELD(name, ret, params) ret(*name) params;
static struct {
	REAL_FUNCTIONS(REAL_FIELD)
	/* Looked up on first use only: see sized_free(). */
	void (*free_sized)(void *, size_t);
	void (*free_aligned_sized)(void *, size_t, size_t);
} real;

#define REAL_NAME(name, ret, params) #name,
static const char *const real_names[] = { REAL_FUNCTIONS(REAL_NAME) };

enum { UNRESOLVED, RESOLVING, RESOLVED };
static int resolve_state;
/* Set while this thread runs dlsym for resolve_real. */
static __thread int resolving_here __attribute__((tls_model("initial-exec")));

/*
 * Find the next definition of every name. dlsym may allocate: while it
 * runs, that thread's allocations come from the bootstrap arena (false is
 * returned to it); other threads wait for the answer.
 */
static __attribute__((noinline, cold)) bool resolve_real(void)
{
	int state = UNRESOLVED;
	void **slot = (void **)&real;
	size_t i;

	int guard = mh_self.guard;

	if (!__atomic_compare_exchange_n(&resolve_state, &state, RESOLVING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (state == RESOLVED || resolving_here)
			return state == RESOLVED;
		/* Another thread is in dlsym: only it may use the arena meanwhile. */
		while (__atomic_load_n(&resolve_state, __ATOMIC_ACQUIRE) != RESOLVED)
			sched_yield();
		return true;
	}
	/* Whatever dlsym allocates is the loader's business, not the program's. */
	mh_self.guard = 1;
	resolving_here = 1;
	for (i = 0; i < sizeof(real_names) / sizeof(real_names[0]); i++)
		__atomic_store_n(&slot[i], dlsym(RTLD_NEXT, real_names[i]), __ATOMIC_RELEASE);
	resolving_here = 0;
	mh_self.guard = guard;
	__atomic_store_n(&resolve_state, RESOLVED, __ATOMIC_RELEASE);
	return true;
}

/*
 * glibc before 2.40 has neither free_sized nor free_aligned_sized, and a
 * failed dlsym leaves a malloc'd error message behind (freed later, in the
 * trace, as a block nobody allocated). So they are looked up only by a
 * program that calls them; without them in libc, free does the job.
 */
static void *sized_free(void **slot, const char *name)
{
	static const char none[1];
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	/* Absent from libc: remember that, so it is looked up once. */
	if (!fn && !(fn = mh_core_real(slot, name)))
		__atomic_store_n(slot, (void *)none, __ATOMIC_RELEASE);
	return fn == (void *)none ? NULL : fn;
}

enum { START_NOT_TRIED, START_RUNNING, START_DONE };
static int start_state;

static void start_once(void);

/*
 * Enter the recording path: false means "just call the real function".
 * The first call made once libc is up (environ is set by libc's own
 * initializer) starts recording, so allocations made by the constructors
 * of libraries initialized before ours (libstdc++'s exception pool) are
 * recorded too, as memcheck records them.
 */
static inline bool hook_enter(void)
{
	/* Acquire: recording implies the real functions are resolved (start_once did it). */
	if (mh_unlikely(!__atomic_load_n(&mh_core_recording, __ATOMIC_ACQUIRE))) {
		if (__atomic_load_n(&start_state, __ATOMIC_ACQUIRE) != START_NOT_TRIED ||
		    mh_self.guard || !environ)
			return false;
		start_once();
		if (!__atomic_load_n(&mh_core_recording, __ATOMIC_RELAXED))
			return false;
	}
	if (mh_self.guard)
		return false;
	mh_self.guard = 1;
	return true;
}

/*
 * The calling thread's errno, looked up once: __errno_location is a call
 * through the PLT, twice per hooked call otherwise. Its address is fixed
 * relative to the thread pointer, as mh_self is, so a value kept here is
 * this thread's (a fork child's thread too, and a thread that reuses a
 * cached stack finds either none or the same address).
 */
static inline int *errno_at(void)
{
	int *e = mh_self.errno_at;

	if (mh_unlikely(!e))
		mh_self.errno_at = e = &errno;
	return e;
}

/* saved_errno: what errno_at() held once the real call returned (so it is looked up). */
static inline void hook_leave(int saved_errno)
{
	mh_guard_drop();
	*mh_self.errno_at = saved_errno;
}

static void *boot_calloc(size_t nmemb, size_t size, size_t align)
{
	size_t bytes;

	if (__builtin_mul_overflow(nmemb, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	return mh_boot_alloc(bytes, align);
}

/*
 * One allocating function: forward, then record the block it returned.
 * size and align are expressions over the parameters. The real function
 * is looked for only off the recording path (hook_enter).
 */
#define ALLOC_HOOK(name, kind, params, args, nmemb, size, align)              \
	MH_EXPORT void *name params                                           \
	{                                                                     \
		void *p;                                                      \
		if (!hook_enter()) {                                          \
			if (mh_unlikely(!real.name) && !resolve_real())       \
				return boot_calloc(nmemb, size, align);       \
			return real.name args;                                \
		}                                                             \
		p = real.name args;                                           \
		int saved = *errno_at();                                      \
		if (p)                                                        \
			mh_core_alloc(kind, p, (nmemb) * (size));             \
		hook_leave(saved);                                            \
		return p;                                                     \
	}

ALLOC_HOOK(malloc, MH_KIND_MALLOC, (size_t size), (size), 1, size, 0)
ALLOC_HOOK(calloc, MH_KIND_CALLOC, (size_t nmemb, size_t size), (nmemb, size), nmemb, size, 0)
ALLOC_HOOK(aligned_alloc, MH_KIND_ALIGNED_ALLOC, (size_t align, size_t size), (align, size), 1,
	   size, align)
ALLOC_HOOK(memalign, MH_KIND_MEMALIGN, (size_t align, size_t size), (align, size), 1, size, align)
ALLOC_HOOK(valloc, MH_KIND_VALLOC, (size_t size), (size), 1, size, (size_t)sysconf(_SC_PAGESIZE))
ALLOC_HOOK(pvalloc, MH_KIND_PVALLOC, (size_t size), (size), 1, size, (size_t)sysconf(_SC_PAGESIZE))

MH_EXPORT int posix_memalign(void **memptr, size_t align, size_t size)
{
	int err, saved;

	if (!hook_enter()) {
		if (mh_unlikely(!real.posix_memalign) && !resolve_real()) {
			*memptr = mh_boot_alloc(size, align);
			return *memptr ? 0 : ENOMEM;
		}
		return real.posix_memalign(memptr, align, size);
	}
	err = real.posix_memalign(memptr, align, size);
	saved = *errno_at();
	if (!err)
		mh_core_alloc(MH_KIND_POSIX_MEMALIGN, *memptr, size);
	hook_leave(saved);
	return err;
}

/*
 * One releasing function: record, then forward. The arena's blocks are
 * never released. real_call is the forwarding expression.
 */
#define FREE_HOOK(name, kind, params, size, real_call)                        \
	MH_EXPORT void name params                                            \
	{                                                                     \
		if (!p || mh_unlikely(mh_boot_owns(p)))                       \
			return;                                               \
		if (!hook_enter()) {                                          \
			if (mh_unlikely(!real.free))                          \
				resolve_real();                               \
			real_call;                                            \
			return;                                               \
		}                                                             \
		int saved = *errno_at();                                      \
		mh_core_free(kind, p, size);                                  \
		real_call;                                                    \
		hook_leave(saved);                                            \
	}

FREE_HOOK(free, MH_KIND_FREE, (void *p), 0, real.free(p))
#define SIZED(name) ((__typeof__(real.name))sized_free((void **)&real.name, #name))
FREE_HOOK(free_sized, MH_KIND_FREE_SIZED, (void *p, size_t size), size,
	  SIZED(free_sized) ? SIZED(free_sized)(p, size) : real.free(p))
FREE_HOOK(free_aligned_sized, MH_KIND_FREE_ALIGNED_SIZED, (void *p, size_t align, size_t size),
	  size, SIZED(free_aligned_sized) ? SIZED(free_aligned_sized)(p, align, size) : real.free(p))
#undef SIZED

/* An arena block cannot be resized in place: move it to the real heap. */
static void *boot_realloc(void *p, size_t size)
{
	size_t old = mh_boot_size(p);
	void *q = malloc(size);

	if (q)
		memcpy(q, p, old < size ? old : size);
	return q;
}

/*
 * realloc and reallocarray: release of p before, new block after (see the
 * comment at the top). bytes is the new size; valid is false when
 * nmemb * size overflowed, so the call fails and releases nothing.
 */
static void *resize(enum mh_alloc_kind kind, void *p, size_t nmemb, size_t size)
{
	struct mh_rec_free *rec;
	size_t bytes;
	bool valid = !__builtin_mul_overflow(nmemb, size, &bytes);
	void *q;
	int saved;

	if (p && mh_boot_owns(p))
		return valid ? boot_realloc(p, bytes) : NULL;
#define REAL_RESIZE() (kind == MH_KIND_REALLOC ? real.realloc(p, size) :             \
						 real.reallocarray(p, nmemb, size))
	if (!hook_enter()) {
		if (mh_unlikely(!real.realloc) && !resolve_real())
			return valid ? mh_boot_alloc(bytes, 0) : NULL;
		return REAL_RESIZE();
	}
	rec = p ? mh_core_free_begin(kind, p, 0) : NULL;
	q = REAL_RESIZE();
#undef REAL_RESIZE
	saved = *errno_at();
	/* glibc's realloc(p, 0) frees p and returns NULL. */
	mh_core_free_end(rec, kind, q || (valid && !bytes));
	if (q)
		mh_core_alloc(kind, q, bytes);
	hook_leave(saved);
	return q;
}

MH_EXPORT void *realloc(void *p, size_t size)
{
	return resize(MH_KIND_REALLOC, p, 1, size);
}

MH_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	return resize(MH_KIND_REALLOCARRAY, p, nmemb, size);
}

MH_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (mh_boot_owns(p))
		return mh_boot_size(p);
	if (mh_unlikely(!real.malloc_usable_size))
		resolve_real();
	return real.malloc_usable_size(p);
}

MH_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;
	int saved;

	/* Inside dlsym: the raw call, nothing else is safe yet. */
	if (mh_unlikely(!real.mmap) && !resolve_real())
		return mh_sys_mmap(addr, len, prot, flags, fd, off);
	if (!hook_enter())
		return real.mmap(addr, len, prot, flags, fd, off);
	p = real.mmap(addr, len, prot, flags, fd, off);
	saved = *errno_at();
	if (p != MAP_FAILED)
		mh_core_alloc(MH_KIND_MMAP, p, len);
	hook_leave(saved);
	return p;
}

MH_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

MH_EXPORT int munmap(void *addr, size_t len)
{
	struct mh_rec_free *rec;
	int ret, saved;

	if (mh_unlikely(!real.munmap) && !resolve_real())
		return mh_sys_munmap(addr, len);
	if (!hook_enter())
		return real.munmap(addr, len);
	rec = mh_core_free_begin(MH_KIND_MUNMAP, addr, len);
	ret = real.munmap(addr, len);
	saved = *errno_at();
	mh_core_free_end(rec, MH_KIND_MUNMAP, ret == 0);
	hook_leave(saved);
	return ret;
}

MH_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *p;
	va_list ap;
	int saved;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (mh_unlikely(!real.mremap) && !resolve_real())
		return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, new_addr);
	if (!hook_enter())
		return real.mremap(old, old_len, new_len, flags, new_addr);
	p = real.mremap(old, old_len, new_len, flags, new_addr);
	saved = *errno_at();
	if (p != MAP_FAILED)
		mh_core_remap(MH_KIND_MREMAP, old, old_len, p, new_len);
	hook_leave(saved);
	return p;
}

/* Move the program break to end, recording growth or shrinkage from cur. */
static void *move_break(enum mh_alloc_kind kind, char *cur, char *end, intptr_t incr)
{
	struct mh_rec_free *rec = NULL;
	void *ret;
	bool ok;
	int saved;

	if (end < cur)
		rec = mh_core_free_begin(kind, end, (size_t)(cur - end));
	if (kind == MH_KIND_BRK) {
		ret = (void *)(intptr_t)real.brk(end);
		ok = ret == NULL;
	} else {
		ret = real.sbrk(incr);
		ok = ret != (void *)-1;
	}
	saved = errno;
	mh_core_free_end(rec, kind, ok);
	if (ok && end > cur)
		mh_core_alloc(kind, cur, (size_t)(end - cur));
	errno = saved;
	return ret;
}

MH_EXPORT int brk(void *end)
{
	int ret, saved;

	if (mh_unlikely(!real.brk))
		resolve_real();
	if (!hook_enter())
		return real.brk(end);
	ret = (int)(intptr_t)move_break(MH_KIND_BRK, real.sbrk(0), end, 0);
	saved = *errno_at();
	hook_leave(saved);
	return ret;
}

MH_EXPORT void *sbrk(intptr_t incr)
{
	char *cur;
	void *ret;
	int saved;

	if (mh_unlikely(!real.sbrk))
		resolve_real();
	if (!incr || !hook_enter())
		return real.sbrk(incr);
	cur = real.sbrk(0);
	ret = move_break(MH_KIND_SBRK, cur, cur + incr, incr);
	saved = *errno_at();
	hook_leave(saved);
	return ret;
}

/* The preload's own code, whose frames are dropped from the top of stacks. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char __etext[] __attribute__((visibility("hidden")));

static void fork_child(void)
{
	mh_unw_fork_child();
	mh_self.guard = 1;
	mh_core_fork_child();
	mh_guard_drop();
}

/*
 * libunwind looks up the object holding each address it unwinds through
 * with dl_iterate_phdr, which holds the loader's lock (see unw_local.c):
 * inside a capture, the lookup is answered without it. Everyone else,
 * the program included, gets glibc's.
 */
MH_EXPORT int dl_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data)
{
	if (mh_unw_inside())
		return mh_unw_iterate_phdr(callback, data);
	if (mh_unlikely(!real.dl_iterate_phdr) && !resolve_real())
		return 0;	/* only inside dlsym, on the thread resolving: nothing to report yet */
	return real.dl_iterate_phdr(callback, data);
}

/*
 * Inside a capture, libunwind's calls are answered from the mask the
 * thread holds when they would not change it (unw_local.c); every other
 * call is the real one. Before the real one is known (only on the thread
 * running dlsym for it): glibc's own sigprocmask, pthread_sigmask with
 * the error in errno.
 */
MH_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int ret;

	if (mh_unw_sigmask_answer(how, set, old))
		return 0;
	if (mh_unlikely(!real.sigprocmask) && !resolve_real()) {
		ret = pthread_sigmask(how, set, old);
		if (ret)
			errno = ret;
		ret = ret ? -1 : 0;
	} else {
		ret = real.sigprocmask(how, set, old);
	}
	mh_unw_sigmask_changed();
	return ret;
}

/*
 * A thread that renamed itself sends its new name now, so the rename is
 * recorded even if it never allocates again; after a rename of another
 * thread, every thread looks at its name again at its next event (there
 * is no portable way to learn the other thread's tid).
 */
MH_EXPORT int pthread_setname_np(pthread_t thread, const char *name)
{
	int ret, saved;

	if (mh_unlikely(!real.pthread_setname_np))
		resolve_real();
	ret = real.pthread_setname_np(thread, name);
	if (ret)
		return ret;
	/* Only a rename of another thread makes every thread look again. */
	if (!pthread_equal(thread, pthread_self())) {
		mh_core_names_changed();
	} else if (hook_enter()) {
		saved = *errno_at();
		mh_core_thread_sync();
		hook_leave(saved);
	}
	return ret;
}

/* Read the configuration and start recording; once per process image. */
static void start_once(void)
{
	struct mh_core_config cfg;
	int state = START_NOT_TRIED, saved = errno;
	const char *bad;
	Dl_info self;
	int err;

	if (!__atomic_compare_exchange_n(&start_state, &state, START_RUNNING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	resolve_real();
	mh_self.guard = 1;
	err = mh_config_load(&cfg, &bad);
	if (err == -EINVAL) {
		struct iovec msg[3] = {
			{ "memhook: malformed ", 19 },
			{ (void *)bad, strlen(bad) },
			{ ", not recording\n", 16 },
		};

		/* Best effort: there is no other channel this early. */
		(void)!writev(STDERR_FILENO, msg, 3);
	}
	if (err == -EPERM)
		mh_core_note_untraced(&cfg);
	if (err)
		goto out;
	cfg.skip_lo = (uintptr_t)__ehdr_start;
	cfg.skip_hi = (uintptr_t)__etext;
	if (!cfg.follow_exec)
		mh_config_strip_env(dladdr((void *)start_once, &self) ? self.dli_fname : NULL);
	if (mh_core_start(&cfg))
		goto out;
	/* Failing only loses the verdicts of the exit paths that could not be set up. */
	(void)mh_exit_setup();
	/* Failing only misnames a later exec or loses one whose program closed the fd. */
	if (cfg.follow_exec)
		(void)mh_config_mark_image(getpid(), mh_core_ring_path());
	/* Without the handler a child would write under its parent's pid. */
	if (pthread_atfork(mh_unw_fork_prepare, mh_unw_fork_parent, fork_child))
		mh_core_stop();
out:
	__atomic_store_n(&start_state, START_DONE, __ATOMIC_RELEASE);
	mh_guard_drop();
	errno = saved;
}

static __attribute__((constructor)) void preload_init(void)
{
	start_once();
}

/* The normal exit path goes on in exit.c, after the program's destructors. */
static __attribute__((destructor)) void preload_fini(void)
{
	mh_exit_destructor();
}
