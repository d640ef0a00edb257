/* SPDX-License-Identifier: MIT */
/*
 * sys.h - raw system calls the recording core uses for its own memory and
 * clock, so that none of them goes through an interposed libc name (our
 * own mmap hook would record them, and the wrapped allocator must never
 * serve the core).
 *
 * Everything here is async-signal-safe, never allocates and never prints.
 */
#ifndef MEMHOOK_PRELOAD_SYS_H
#define MEMHOOK_PRELOAD_SYS_H

#include <errno.h>
#include <linux/types.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* mmap without our hook; MAP_FAILED with errno set on failure. */
static inline void *mh_sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* munmap without our hook; 0 or -1 with errno set. */
static inline int mh_sys_munmap(void *addr, size_t len)
{
	return (int)syscall(SYS_munmap, addr, len);
}

/* CLOCK_MONOTONIC in ns (a vDSO call: no system call, no allocation). */
static inline __u64 mh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

#endif /* MEMHOOK_PRELOAD_SYS_H */
