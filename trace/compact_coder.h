/* SPDX-License-Identifier: MIT */
/*
 * compact_coder.h - what both directions of the compact encoding share
 * (trace/compact.c encodes, trace/compact_decode.c decodes; nothing else
 * includes it): the tag byte and the parts, the per-thread and per-chunk
 * state, the coder itself, and the start of a chunk. Never prints.
 */
#ifndef MEMHOOK_TRACE_COMPACT_CODER_H
#define MEMHOOK_TRACE_COMPACT_CODER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/events.h"
#include "trace/compact_table.h"

/*
 * Tag byte: bits 0-1 the operation, bit 2 "a thread reference follows",
 * bit 3 "the address is a reference", bits 4-7 the kind.
 */
enum op { OP_COPY = 0, OP_ALLOC = 1, OP_FREE = 2, OP_REALLOC = 3 };
#define TAG_OP_MASK 0x3
#define TAG_THREAD 0x4
#define TAG_ADDR_REF 0x8
#define TAG_KIND_SHIFT 4
#define KIND_LIMIT 16

/* REALLOC flags byte: which of the optional fields follow, and how. */
#define RE_OLD_ADDR 0x1		/* old_addr is not 0: it follows */
#define RE_OLD_SIZE 0x2		/* old_size is not 0: it follows */
#define RE_OLD_REF 0x4		/* old_addr is a reference */
#define RE_FLAGS (RE_OLD_ADDR | RE_OLD_SIZE | RE_OLD_REF)

/*
 * The encoding's parts: each field kind is written to a part of its own
 * and the parts are stored one after the other (lengths first), so zstd
 * codes each with statistics of its own.
 */
enum part {
	P_TAG,		/* tag bytes, and each REALLOC's flags byte */
	P_COPY,		/* records stored as they are */
	P_THREAD,	/* thread references: index, and pid and tid for a new one */
	P_TS,		/* timestamp differences */
	P_ADDR,		/* freed addresses' references (before version 6: every address) */
	P_SIZE,		/* sizes, REALLOC old sizes */
	P_STACK,	/* stack codes, and the id of a new one */
	P_TS_HIGH,	/* timestamp differences but their low byte (version 5 on) */
	P_ADDR_ALLOC,	/* allocated addresses' references (version 6 on; before: P_ADDR) */
	P_ADDR_FREED,	/* freed addresses' differences (version 6 on; before: P_ADDR) */
	P_ADDR_NEW,	/* allocated addresses' differences (version 6 on; before: P_ADDR) */
	P_STACK_ID,	/* the ids of stacks new to the chunk (version 6 on; before: P_STACK) */
	PARTS,
};

/* Parts of a version 4 encoding: all before P_TS_HIGH; of version 5, before P_ADDR_ALLOC. */
#define PARTS_V4 P_TS_HIGH
#define PARTS_V5 P_ADDR_ALLOC

/* RECENT (compact_table.h): stack ids each thread keeps; codes below it name one. */

/* What the three event records carry, whatever their layout. */
struct event {
	__u64 ts_ns, addr, size, old_addr, old_size, stack_id;
	__u32 pid, tid;
};

struct thread {
	__u64 ts;			/* of its previous event, in time units */
	__u64 addr;			/* its previous address */
	__u64 new_addr;			/* its previous address new to the chunk, not freed */
	__u64 free_next;		/* position after its previous free's allocation */
	__u64 recent[RECENT];		/* its last stack ids, most recent first */
	union {
		struct {
			__u32 tid, pid;
		};
		__u64 ids;		/* encoder: as the records end, tid then pid */
	};
};

/* Per-chunk cursor state besides the tables. */
struct chunk {
	struct thread *cur;		/* thread of the previous event, NULL before the first */
	__u64 last_ts;			/* of the previous event of any thread, in time units: */
					/* a new thread's start (the encoder sets it and */
	__u64 last_addr;		/* last_addr from cur only when it switches threads) */
};

struct mh_trace_compact {
	struct chunk enc;		/* encoder: the open chunk's cursor */
	struct thread *threads;		/* by index, this chunk */
	__u32 thread_count, thread_cap;
	__u64 *stacks;			/* decoder: stack ids by index, this chunk */
	__u32 stack_count, stack_cap;
	__u64 *addrs;			/* decoder: every address so far, this chunk */
	__u8 *classes;			/* decoder: size class of the allocation at each address, */
					/* 0: none (the encoder keeps it in addr_index) */
	__u32 addr_count, addr_cap;
	struct freed_lists freed;	/* this chunk's last freed addresses by size class */
	struct table thread_index;	/* encoder: (pid, tid) -> thread index */
	struct table stack_index;	/* encoder: stack id -> stack index */
	struct table addr_index;	/* encoder: address -> its latest position in addrs */
	unsigned char *scratch;		/* encoder: PARTS areas of scratch_part_bytes */
	size_t scratch_part_bytes;
	unsigned char *at[PARTS];	/* encoder: where each part of the open chunk goes on */
	size_t room;			/* encoder: record bytes the open chunk may still take */
	__u64 free_next;		/* decoder, before version 10: after any thread's free */
	__u32 gen;			/* the chunk being coded */
	__u32 copies;			/* decoder: records of the chunk stored as they are */
	__u32 unit_ns;			/* the trace's time unit: stamps are coded in it */
	unsigned unit_shift;		/* encoder: unit_ns = unit_odd << unit_shift, */
	__u32 unit_odd;			/* a shift but for units not a power of two */
	bool v4;			/* decoder: the trace is of version 4 */
	bool large_classes;		/* size_class() has classes for large blocks */
	bool thread_frees;		/* frees are named from their thread's previous one */
	unsigned parts;			/* decoder: parts in the trace's version */
	unsigned char part[PARTS];	/* decoder: where the trace's version puts each part */
};

/* Forget the previous chunk: O(1) but for the rare wrap of gen. */
static inline void start_chunk(struct mh_trace_compact *c)
{
	bool wrap = ++c->gen == 0;

	table_clear(&c->thread_index, wrap);
	table_clear(&c->stack_index, wrap);
	table_clear(&c->addr_index, wrap);
	if (wrap)
		c->gen = 1;
	c->thread_count = 0;
	c->stack_count = 0;
	c->addr_count = 0;
	c->free_next = 0;
	c->copies = 0;
	memset(c->freed.count, 0, sizeof(c->freed.count));
}

/*
 * Room for the decoder's address list of a chunk of `bytes` bytes of
 * records (at most two addresses per event, at least 40 bytes per event):
 * addrs and classes. 0 or -ENOMEM.
 */
static inline int positions_for(struct mh_trace_compact *c, size_t bytes)
{
	size_t n = bytes / 20 + 2;

	if (n <= c->addr_cap)
		return 0;
	free(c->addrs);
	free(c->classes);
	c->addr_cap = 0;
	c->addrs = malloc(n * sizeof(*c->addrs));
	c->classes = malloc(n);
	if (!c->classes || !c->addrs || n > UINT32_MAX)
		return -ENOMEM;
	c->addr_cap = (__u32)n;
	return 0;
}

/*
 * A thread first seen in this chunk starts from the chunk's previous
 * event, its next free position at addr_count, where the chunk's next
 * address goes: its blocks allocated in the chunk are all from there on.
 */
static inline struct thread *add_thread(struct mh_trace_compact *c, const struct chunk *ck,
					__u32 pid, __u32 tid, __u32 addr_count)
{
	struct thread *t = &c->threads[c->thread_count++];

	memset(t, 0, sizeof(*t));
	t->ts = ck->last_ts;
	t->addr = ck->last_addr;
	t->new_addr = ck->last_addr;
	t->free_next = addr_count;
	t->pid = pid;
	t->tid = tid;
	return t;
}

#endif /* MEMHOOK_TRACE_COMPACT_CODER_H */
