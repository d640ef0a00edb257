/* SPDX-License-Identifier: MIT */
/*
 * roots.h - the leak scan's roots in a stopped process: the program's
 * and only the program's memory (docs/LEAKS.md "Roots").
 *
 * Never reads the process except through the given reader; never prints.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_ROOTS_H
#define MEMHOOK_RECORDER_EXITSCAN_ROOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/user.h>

#include <linux/types.h>

#include "common/procmaps.h"
#include "recorder/exitscan/mark.h"
#include "recorder/own.h"

#define MH_ROOT_REG_WORDS (sizeof(struct user_regs_struct) / sizeof(__u64))

/* One thread of the stopped process. */
struct mh_root_thread {
	pid_t tid;
	bool stopped;		/* in a ptrace stop: regs valid */
	bool requester;		/* the thread that asked for the scan, in memhook's exit path */
	__u64 sp;		/* stack pointer, 0 if unknown */
	__u64 regs[MH_ROOT_REG_WORDS];
};

struct mh_root_input {
	const struct mh_maps *maps;
	const struct mh_own_map *own;		/* memhook's own mappings and TLS */
	const struct mh_root_thread *threads;
	size_t thread_count;
	__u64 request_sp;			/* the requester's own mark: its caller's frames are above */
	const struct mh_reach_block *blocks;	/* live heap blocks, sorted by address */
	size_t block_count;
	const struct mh_reach_range *regions;	/* the program's own mmap and sbrk memory */
	size_t region_count;
	/* Read a word of the process: 0 or -errno. */
	int (*read)(void *ctx, __u64 addr, void *buf, size_t bytes);
	void *ctx;
};

/*
 * Fill roots (ranges and values, malloc'd; free with mh_roots_free()):
 * every readable, writable mapping of the program that is not heap
 * (mappings holding live blocks and [heap] give only the parts the
 * program mapped or grew itself), stacks from their thread's stack
 * pointer up (the requester's from its first frame outside memhook),
 * the stopped threads' registers (not the requester's: it is in
 * memhook's code); never memhook's own mappings nor the preload's TLS
 * block of any thread whose thread pointer is known. 0 or -ENOMEM.
 */
int mh_roots_collect(const struct mh_root_input *in, struct mh_reach_roots *roots);

void mh_roots_free(struct mh_reach_roots *roots);

#endif /* MEMHOOK_RECORDER_EXITSCAN_ROOTS_H */
