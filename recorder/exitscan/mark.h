/* SPDX-License-Identifier: MIT */
/*
 * mark.h - classify the blocks still live at exit the way Valgrind
 * memcheck does: definitely lost, indirectly lost, possibly lost, still
 * reachable, by a conservative scan of the target's memory.
 *
 * Pure algorithm: the caller supplies the blocks, the root ranges and a
 * way to read the target's memory (process_vm_readv in the recorder, a
 * buffer in the tests). Never prints.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_MARK_H
#define MEMHOOK_RECORDER_EXITSCAN_MARK_H

#include <stdbool.h>
#include <stddef.h>

#include "memhook/events.h"

struct mh_reach_block {
	__u64 addr;		/* start of the block */
	__u64 size;		/* bytes requested */
	__u32 kind;		/* out: enum mh_leak_kind */
	__u32 clique;		/* private: index of the clique leader, or the block's mark state */
};

/* A range of the target's memory that is a root (module data, stack, TLS). */
struct mh_reach_range {
	__u64 start;		/* first byte */
	__u64 end;		/* one past the last byte */
};

struct mh_reach_memory {
	/*
	 * Copy [addr, addr + bytes) of the target into buf. Returns 0 or
	 * -errno; unreadable memory holds no pointers.
	 */
	int (*read)(void *ctx, __u64 addr, void *buf, size_t bytes);
	/*
	 * True if addr lies in read-only, file-backed memory where vtables
	 * live; enables memcheck's multiple-inheritance heuristic. May be NULL.
	 */
	bool (*is_vtable_addr)(void *ctx, __u64 addr);
	void *ctx;
};

/* Roots: ranges of target memory, plus values held outside it (registers). */
struct mh_reach_roots {
	const struct mh_reach_range *ranges;
	size_t range_count;
	const __u64 *values;
	size_t value_count;
};

/* Sort blocks by address, as mh_reach_classify leaves them. */
void mh_reach_sort(struct mh_reach_block *blocks, size_t count);

/*
 * Classify blocks[0..count) in place (kind), sorting them by address.
 * Roots are scanned word by word; a word pointing to the start of a block
 * (or, through memcheck's default heuristics stdstring, length64, newarray
 * and multipleinheritance, to a known interior offset) reaches it; any
 * other pointer into a block only possibly reaches it. Blocks left
 * unreached are grouped into cliques, leader first in address order: the
 * leader is definitely lost, the rest of its clique indirectly lost.
 * Blocks must not overlap. Returns 0 or -ENOMEM.
 */
int mh_reach_classify(struct mh_reach_block *blocks, size_t count,
		      const struct mh_reach_roots *roots, const struct mh_reach_memory *mem);

#endif /* MEMHOOK_RECORDER_EXITSCAN_MARK_H */
