// SPDX-License-Identifier: MIT
/*
 * stack_bounds.c - where the calling thread's stack lies, for the
 * frame-pointer walker, found with no lock the program may hold.
 *
 * Never allocates, never prints, never keeps an fd (the maps file is open
 * for the length of one read loop, by raw system call, which is no
 * cancellation point), never calls pthread_getattr_np.
 *
 * Why not pthread_getattr_np: glibc's takes the thread's own lock, then
 * reallocs a CPU set while holding it; that realloc is ours, and the
 * capture inside it asked for the same lock again, so every thread that
 * calls pthread_getattr_np (each Rust thread does, at start) hung.
 *
 * The choice:
 *   - the main thread: the loader's __libc_stack_end is the top, and the
 *     stack limit bounds how far down it may grow, as before (no system
 *     call at all, and no stdio: glibc's own answer for the main thread
 *     reads /proc/self/maps through stdio and malloc);
 *   - any other thread: the mapping that holds sp, read once from
 *     /proc/self/maps by raw system calls into a buffer on the stack, cut
 *     at the thread's descriptor (pthread_self()): glibc puts the
 *     descriptor and static TLS at the top of every thread's stack block,
 *     its own or a user-supplied one, above every frame. That cut keeps a
 *     neighbouring mapping the kernel merged into the same line (which may
 *     be unmapped later) out of the bounds, and it rejects a stack that is
 *     not the thread's own: an alternate signal stack or a coroutine's
 *     stack does not hold the descriptor, so no bounds are given for it
 *     and the caller uses libunwind.
 * Everything in [lo, hi) then stays mapped and readable while the thread
 * lives: the stack block is unmapped only after the thread is gone.
 */
#include "preload/stack_bounds.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Set by the dynamic loader: the stack pointer the process started with. */
extern void *__libc_stack_end;

/*
 * Most bytes of main-thread stack taken on trust from the stack limit: a
 * capture deeper than that gets no bounds. Thread stacks lie far further
 * away (in the mmap area), so one never passes for the main thread's.
 */
#define MAIN_STACK_MAX (64UL << 20)
/* Bytes of /proc/self/maps read at a time. */
#define MAPS_CHUNK 512
/* Bytes kept of a maps line: "start-end perms", 2 * 16 hex digits and some. */
#define MAPS_HEAD 48

static bool main_thread_bounds(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t top = (uintptr_t)__libc_stack_end;
	struct rlimit lim;
	size_t size;

	/* A thread that forked is the main thread of the child, on its own stack. */
	if (syscall(SYS_gettid) != getpid() || sp >= top)
		return false;
	size = getrlimit(RLIMIT_STACK, &lim) || lim.rlim_cur > MAIN_STACK_MAX ? MAIN_STACK_MAX :
										   lim.rlim_cur;
	if (sp <= top - size)
		return false;
	*lo = top - size;
	*hi = top;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parse hex digits at *p up to a non-digit; false if there are none. */
static bool parse_hex(const char **p, uintptr_t *out)
{
	const char *s = *p;
	uintptr_t v = 0;
	int d;

	for (; (d = hex_digit(*s)) >= 0; s++)
		v = v << 4 | (uintptr_t)d;
	if (s == *p)
		return false;
	*p = s;
	*out = v;
	return true;
}

/* "start-end rwxp ..." -> start, end, readable; false if malformed. */
static bool parse_line(const char *line, uintptr_t *start, uintptr_t *end, bool *readable)
{
	const char *p = line;

	if (!parse_hex(&p, start) || *p++ != '-' || !parse_hex(&p, end) || *p++ != ' ')
		return false;
	*readable = *p == 'r';
	return true;
}

/* The readable mapping holding addr, from /proc/self/maps (sorted by address). */
static bool mapping_of(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	char buf[MAPS_CHUNK], head[MAPS_HEAD];
	long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
	bool found = false, done = false;
	unsigned int h = 0;
	long n;

	if (fd < 0)
		return false;
	while (!done && (n = syscall(SYS_read, fd, buf, sizeof(buf))) > 0) {
		for (long i = 0; i < n && !done; i++) {
			uintptr_t start, end;
			bool readable;

			if (buf[i] != '\n') {
				if (h < sizeof(head) - 1)
					head[h++] = buf[i];
				continue;
			}
			head[h] = '\0';
			h = 0;
			if (!parse_line(head, &start, &end, &readable) || start > addr) {
				done = true;
			} else if (addr < end) {
				found = readable;
				*lo = start;
				*hi = end;
				done = true;
			}
		}
	}
	(void)syscall(SYS_close, fd); /* our own fd, just read: nothing to do on failure */
	return found;
}

bool mh_stack_bounds(uintptr_t sp, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t self = (uintptr_t)pthread_self(), start, end;

	if (main_thread_bounds(sp, lo, hi))
		return true;
	if (!mapping_of(sp, &start, &end) || self <= sp || self > end)
		return false;
	*lo = start;
	*hi = self;
	return true;
}
