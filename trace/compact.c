// SPDX-License-Identifier: MIT
/*
 * compact.c - the compact encoding of chunk payloads (compact.h,
 * docs/FORMAT.md "Compact encoding").
 *
 * An ALLOC record is 48 bytes, but what it says is a few bytes of news:
 * the thread did something some nanoseconds after its last event, near
 * its last address, from a stack it used a moment ago. Each (pid, tid)
 * therefore keeps its previous timestamp, its previous address and a
 * move-to-front list of its recent stack ids; an event is written as a tag
 * byte (operation, kind, "another thread") and LEB128 varints of the
 * differences. A stack id outside the list is an index into the chunk's
 * table of stack ids, with its 8 bytes the first time. An address seen
 * before in the chunk is a reference: a free names its allocation
 * relative to the previous free's (blocks die in the order they were
 * born), an allocation a block freed a moment ago by its rank among its
 * size class's last frees (glibc's tcache is LIFO per class). zstd then
 * sees a short, repetitive byte stream instead of 8-byte words. Records of every
 * other type, and event records of a size or kind the encoding cannot
 * express, are copied after a zero tag byte.
 *
 * Both sides start every chunk with empty tables, so a chunk decodes on
 * its own (a reader may start anywhere, a truncated file keeps its whole
 * chunks). The decoder trusts nothing: every read is bounds-checked and
 * every reference checked against the tables built so far. Never prints;
 * allocates only when a chunk holds more threads or stacks than any
 * chunk before it on this coder.
 */
#include "trace/compact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace/compact_table.h"
#include "trace/records.h"

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
	__u64 recent[RECENT];		/* its last stack ids, most recent first */
	__u32 pid, tid;
};

struct mh_trace_compact {
	struct thread *threads;		/* by index, this chunk */
	__u32 thread_count, thread_cap;
	__u64 *stacks;			/* decoder: stack ids by index, this chunk */
	__u32 stack_count, stack_cap;
	__u64 *addrs;			/* decoder: every address so far, this chunk */
	__u8 *classes;			/* size class of the allocation at each address, 0: none */
	__u32 addr_count, addr_cap;
	struct freed_lists freed;	/* this chunk's last freed addresses by size class */
	struct table thread_index;	/* encoder: (pid, tid) -> thread index */
	struct table stack_index;	/* encoder: stack id -> stack index */
	struct table addr_index;	/* encoder: address -> its latest position in addrs */
	unsigned char *scratch;		/* encoder: PARTS areas of scratch_part_bytes */
	size_t scratch_part_bytes;
	__u64 free_next;		/* position after the previous free's allocation */
	__u32 gen;			/* the chunk being coded */
	__u32 copies;			/* decoder: records of the chunk stored as they are */
	__u32 unit_ns;			/* the trace's time unit: stamps are coded in it */
	bool v4;			/* decoder: the trace is of version 4 */
	unsigned parts;			/* decoder: parts in the trace's version */
	unsigned char part[PARTS];	/* decoder: where the trace's version puts each part */
};

/* Per-chunk cursor state besides the tables. */
struct chunk {
	struct thread *cur;		/* thread of the previous event, NULL before the first */
	__u64 last_ts;			/* of the previous event of any thread, in time units: */
					/* a new thread's start */
	__u64 last_addr;
};

void mh_trace_compact_set_version(struct mh_trace_compact *c, unsigned version)
{
	c->v4 = version < 5;
	c->parts = version < 5 ? PARTS_V4 : version < 6 ? PARTS_V5 : PARTS;
	for (unsigned i = 0; i < PARTS; i++)
		c->part[i] = (unsigned char)i;
	if (version < 6) {
		c->part[P_ADDR_ALLOC] = c->part[P_ADDR_FREED] = c->part[P_ADDR_NEW] = P_ADDR;
		c->part[P_STACK_ID] = P_STACK;
	}
}

struct mh_trace_compact *mh_trace_compact_new(void)
{
	struct mh_trace_compact *c = calloc(1, sizeof(*c));

	if (c) {
		mh_trace_compact_set_version(c, MH_TRACE_VERSION);
		c->unit_ns = 1;
	}
	return c;
}

void mh_trace_compact_set_time_unit(struct mh_trace_compact *c, __u32 unit_ns)
{
	c->unit_ns = unit_ns ? unit_ns : 1;
}

void mh_trace_compact_free(struct mh_trace_compact *c)
{
	if (!c)
		return;
	free(c->threads);
	free(c->stacks);
	free(c->addrs);
	free(c->classes);
	free(c->scratch);
	free(c->thread_index.slots);
	free(c->stack_index.slots);
	free(c->addr_index.slots);
	free(c);
}

/* Forget the previous chunk: O(1) but for the rare wrap of gen. */
static void start_chunk(struct mh_trace_compact *c)
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
 * Room for the address list of a chunk of `bytes` bytes of records (at
 * most two addresses per event, at least 40 bytes per event): classes,
 * and addrs when decoding. 0 or -ENOMEM.
 */
static int positions_for(struct mh_trace_compact *c, size_t bytes, bool decoder)
{
	size_t n = bytes / 20 + 2;

	if (n <= c->addr_cap && (!decoder || c->addrs))
		return 0;
	free(c->addrs);
	free(c->classes);
	c->addr_cap = 0;
	c->addrs = decoder ? malloc(n * sizeof(*c->addrs)) : NULL;
	c->classes = malloc(n);
	if (!c->classes || (decoder && !c->addrs) || n > UINT32_MAX)
		return -ENOMEM;
	c->addr_cap = (__u32)n;
	return 0;
}

/* A thread first seen in this chunk starts from the chunk's previous event. */
static struct thread *add_thread(struct mh_trace_compact *c, const struct chunk *ck, __u32 pid,
				 __u32 tid)
{
	struct thread *t = &c->threads[c->thread_count++];

	memset(t, 0, sizeof(*t));
	t->ts = ck->last_ts;
	t->addr = ck->last_addr;
	t->new_addr = ck->last_addr;
	t->pid = pid;
	t->tid = tid;
	return t;
}

/* ---- encoder ---- */

/* Where each part is being written. */
struct output {
	unsigned char *p[PARTS];
};

static inline void put_varint(struct output *o, enum part part, __u64 v)
{
	unsigned char *p = o->p[part];

	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	o->p[part] = p;
}

static inline void put_byte(struct output *o, enum part part, unsigned char b)
{
	*o->p[part]++ = b;
}

/*
 * A timestamp difference: its low byte, mostly clock noise that no coder
 * can shrink, apart from the rest, which zstd then codes well.
 */
static inline void put_ts(struct output *o, __u64 delta)
{
	__u64 v = zigzag(delta);

	put_byte(o, P_TS, (unsigned char)v);
	put_varint(o, P_TS_HIGH, v >> 8);
}

/* Switch to the event's thread: its index, and pid and tid when new. -ENOMEM or 0. */
static int put_thread(struct mh_trace_compact *c, struct chunk *ck, const struct event *e,
		      struct output *o)
{
	struct slot *slot;
	bool fresh;

	if (RESERVE(c, thread))
		return -ENOMEM;
	slot = table_slot(&c->thread_index, c->gen, (__u64)e->pid << 32 | e->tid, &fresh);
	if (!slot)
		return -ENOMEM;
	if (fresh)
		slot->index = c->thread_count;
	put_varint(o, P_THREAD, slot->index);
	if (fresh) {
		ck->cur = add_thread(c, ck, e->pid, e->tid);
		put_varint(o, P_THREAD, e->pid);
		put_varint(o, P_THREAD, e->tid);
	} else {
		ck->cur = &c->threads[slot->index];
	}
	return 0;
}

static int put_stack(struct mh_trace_compact *c, struct thread *t, __u64 id, struct output *o)
{
	struct slot *slot;
	unsigned at;
	bool fresh;

	for (at = 0; at < RECENT; at++) {
		if (t->recent[at] == id) {
			move_to_front(t->recent, at, id);
			put_varint(o, P_STACK, at);
			return 0;
		}
	}
	slot = table_slot(&c->stack_index, c->gen, id, &fresh);
	if (!slot)
		return -ENOMEM;
	if (fresh)
		slot->index = c->stack_count++;
	put_varint(o, P_STACK, RECENT + (__u64)slot->index);
	if (fresh) {
		memcpy(o->p[P_STACK_ID], &id, sizeof(id));
		o->p[P_STACK_ID] += sizeof(id);
	}
	move_to_front(t->recent, RECENT - 1, id);
	return 0;
}

/*
 * An address seen before in this chunk is a reference to its latest
 * position in the chunk's address list: for a freed address (a free, a
 * REALLOC's old address) the difference from the position after the
 * previous such reference (programs often free in the order they
 * allocated); an allocated one (of size class cls) is, when it is among
 * its class's last freed blocks, twice its rank there, else twice how
 * many addresses back it was, plus 1. Any other address is a difference: a freed one
 * from the thread's previous address, an allocated one from the thread's
 * previous allocated address new to the chunk (the heap's top moves on
 * while old blocks are freed in between). Sets *ref when it is a
 * reference. 0 or -ENOMEM.
 */
static int put_addr(struct mh_trace_compact *c, struct thread *t, __u64 addr, bool freed,
		    unsigned cls, bool *ref, struct output *o)
{
	struct slot *slot = table_slot(&c->addr_index, c->gen, addr, ref);
	unsigned k = 0;

	if (!slot)
		return -ENOMEM;
	*ref = !*ref;
	if (*ref && freed) {
		put_varint(o, P_ADDR, zigzag(slot->index - c->free_next));
		c->free_next = slot->index + 1ULL;
		freed_push(&c->freed, c->classes[slot->index], addr);
	} else if (*ref) {
		while (k < c->freed.count[cls] && c->freed.addr[cls][k] != addr)
			k++;
		if (k < c->freed.count[cls]) {
			put_varint(o, P_ADDR_ALLOC, 2 * k);
			freed_take(&c->freed, cls, k);
		} else {
			put_varint(o, P_ADDR_ALLOC, 2ULL * (c->addr_count - 1 - slot->index) + 1);
		}
	} else if (freed) {
		put_varint(o, P_ADDR_FREED, zigzag(addr - t->addr));
	} else {
		put_varint(o, P_ADDR_NEW, zigzag(addr - t->new_addr));
		t->new_addr = addr;
	}
	c->classes[c->addr_count] = (__u8)(freed ? 0 : cls);
	slot->index = c->addr_count++;
	t->addr = addr;
	return 0;
}

/* The REALLOC fields before the address. 0 or -ENOMEM. */
static int put_realloc(struct mh_trace_compact *c, struct thread *t, const struct event *e,
		       struct output *o)
{
	unsigned char *flags = o->p[P_TAG]++;
	bool ref;

	*flags = (e->old_addr ? RE_OLD_ADDR : 0) | (e->old_size ? RE_OLD_SIZE : 0);
	if (e->old_addr) {
		if (put_addr(c, t, e->old_addr, true, 0, &ref, o))
			return -ENOMEM;
		*flags |= ref ? RE_OLD_REF : 0;
	}
	if (e->old_size)
		put_varint(o, P_SIZE, e->old_size);
	return 0;
}

static int put_event(struct mh_trace_compact *c, struct chunk *ck, unsigned op, unsigned kind,
		     const struct event *e, struct output *o)
{
	unsigned char *tag = o->p[P_TAG]++;
	struct thread *t = ck->cur;
	bool ref;
	__u64 ts;

	*tag = (unsigned char)(op | kind << TAG_KIND_SHIFT);
	if (!t || t->pid != e->pid || t->tid != e->tid) {
		*tag |= TAG_THREAD;
		if (put_thread(c, ck, e, o))
			return -ENOMEM;
		t = ck->cur;
	}
	ts = mh_time_units(e->ts_ns, c->unit_ns);
	put_ts(o, ts - t->ts);
	t->ts = ts;
	if (op == OP_REALLOC && put_realloc(c, t, e, o))
		return -ENOMEM;
	if (put_addr(c, t, e->addr, op == OP_FREE, size_class(e->size), &ref, o))
		return -ENOMEM;
	*tag |= ref ? TAG_ADDR_REF : 0;
	put_varint(o, P_SIZE, e->size);
	ck->last_ts = ts;
	ck->last_addr = e->addr;
	return op == OP_FREE ? 0 : put_stack(c, t, e->stack_id, o);
}

/* The operation that encodes rec, or OP_COPY; fills *e for an event. */
static unsigned load_event(const void *rec, struct event *e)
{
	const struct mh_rec_hdr *h = rec;
	const struct mh_rec_alloc *a = rec;
	const struct mh_rec_free *f = rec;
	const struct mh_rec_realloc *re = rec;

	if (h->kind >= KIND_LIMIT)
		return OP_COPY;
	if (h->type == MH_REC_ALLOC && h->size == sizeof(*a)) {
		*e = (struct event){ a->ts_ns, a->addr, a->size, 0, 0, a->stack_id, a->pid, a->tid };
		return OP_ALLOC;
	}
	if (h->type == MH_REC_FREE && h->size == sizeof(*f)) {
		*e = (struct event){ f->ts_ns, f->addr, f->size, 0, 0, 0, f->pid, f->tid };
		return OP_FREE;
	}
	if (h->type == MH_REC_REALLOC && h->size == sizeof(*re)) {
		*e = (struct event){ re->ts_ns, re->addr, re->size, re->old_addr, re->old_size,
				     re->stack_id, re->pid, re->tid };
		return OP_REALLOC;
	}
	return OP_COPY;
}

/* Scratch areas of `bytes` bytes per part (none takes more: compact.h's bound). 0 or -ENOMEM. */
static int scratch_for(struct mh_trace_compact *c, size_t bytes)
{
	unsigned char *p;

	bytes += 16;
	if (bytes > c->scratch_part_bytes) {
		p = realloc(c->scratch, bytes * PARTS);
		if (!p)
			return -ENOMEM;
		c->scratch = p;
		c->scratch_part_bytes = bytes;
	}
	return 0;
}

/* Lengths, then the parts back to back, into out. Returns the bytes written. */
static size_t gather_parts(struct mh_trace_compact *c, const struct output *o, unsigned char *out)
{
	size_t at = PARTS * sizeof(__u32);
	__u32 len;

	for (unsigned i = 0; i < PARTS; i++) {
		len = (__u32)(o->p[i] - (c->scratch + i * c->scratch_part_bytes));
		memcpy(out + i * sizeof(len), &len, sizeof(len));
		memcpy(out + at, c->scratch + i * c->scratch_part_bytes, len);
		at += len;
	}
	return at;
}

size_t mh_trace_compact_encode(struct mh_trace_compact *c, const void *records, size_t bytes,
			       void *out)
{
	const unsigned char *in = records;
	struct chunk ck = { 0 };
	struct output o;
	struct mh_rec_hdr h;
	struct event e;
	unsigned op;
	size_t off, ahead = 0;

	if (scratch_for(c, bytes) || positions_for(c, bytes, false))
		return 0;
	for (unsigned i = 0; i < PARTS; i++)
		o.p[i] = c->scratch + i * c->scratch_part_bytes;
	start_chunk(c);
	for (off = 0; off < bytes; off += h.size) {
		memcpy(&h, in + off, sizeof(h));
		ahead = table_prefetch(&c->addr_index, in, bytes, off, ahead);
		op = load_event(in + off, &e);
		if (op == OP_COPY) {
			put_byte(&o, P_TAG, OP_COPY);
			memcpy(o.p[P_COPY], in + off, h.size);
			/* Its stamps as the decoder gives back the events': floored to the unit. */
			mh_rec_floor_stamps((struct mh_rec_hdr *)o.p[P_COPY], c->unit_ns);
			o.p[P_COPY] += h.size;
		} else if (put_event(c, &ck, op, h.kind, &e, &o)) {
			return 0;
		}
	}
	return gather_parts(c, &o, out);
}

/* ---- decoder ---- */

struct input {
	const unsigned char *p[PARTS], *end[PARTS];
	bool bad;			/* a read went past a part's end or a varint past 64 bits */
};

static inline __u64 get_varint(struct input *in, enum part part)
{
	const unsigned char *p = in->p[part], *end = in->end[part];
	__u64 v = 0;
	unsigned shift;

	/* Most varints are one byte. */
	if (p < end && !(*p & 0x80)) {
		in->p[part] = p + 1;
		return *p;
	}
	for (shift = 0; shift < 64 && p < end; shift += 7) {
		unsigned char b = *p++;

		v |= (__u64)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			in->p[part] = p;
			return v;
		}
	}
	in->bad = true;
	return 0;
}

static inline unsigned get_byte(struct input *in, enum part part)
{
	if (in->p[part] == in->end[part]) {
		in->bad = true;
		return 0;
	}
	return *in->p[part]++;
}

static inline __u64 get_u64(struct input *in, enum part part)
{
	__u64 v = 0;

	if (in->end[part] - in->p[part] < (long)sizeof(v)) {
		in->bad = true;
		return 0;
	}
	memcpy(&v, in->p[part], sizeof(v));
	in->p[part] += sizeof(v);
	return v;
}

/* A timestamp difference put by put_ts(), zigzagged. */
static inline __u64 get_ts(const struct mh_trace_compact *c, struct input *in)
{
	__u64 low;

	if (c->v4)
		return get_varint(in, P_TS);
	low = get_byte(in, P_TS);
	return low | get_varint(in, P_TS_HIGH) << 8;
}

/* The thread an event names. NULL for a reference to no thread, or out of memory (*err). */
static struct thread *get_thread(struct mh_trace_compact *c, struct chunk *ck, struct input *in,
				 int *err)
{
	__u64 i = get_varint(in, P_THREAD), pid, tid;

	if (i < c->thread_count)
		return &c->threads[i];
	if (i != c->thread_count)
		return NULL;
	pid = get_varint(in, P_THREAD);
	tid = get_varint(in, P_THREAD);
	if (in->bad || pid > UINT32_MAX || tid > UINT32_MAX)
		return NULL;
	*err = RESERVE(c, thread);
	return *err ? NULL : add_thread(c, ck, (__u32)pid, (__u32)tid);
}

/* The stack id a code names; sets in->bad for a reference to no stack. */
static __u64 get_stack(struct mh_trace_compact *c, struct thread *t, struct input *in, int *err)
{
	__u64 code = get_varint(in, P_STACK), id;

	if (code < RECENT) {
		id = t->recent[code];
		move_to_front(t->recent, (unsigned)code, id);
		return id;
	}
	code -= RECENT;
	if (code < c->stack_count) {
		id = c->stacks[code];
	} else if (code == c->stack_count) {
		*err = RESERVE(c, stack);
		id = get_u64(in, c->part[P_STACK_ID]);
		if (*err)
			return 0;
		c->stacks[c->stack_count++] = id;
	} else {
		in->bad = true;
		return 0;
	}
	move_to_front(t->recent, RECENT - 1, id);
	return id;
}

/*
 * An address put by put_addr(); sets in->bad for a reference to no
 * address. Inlined: called, it took 3% more of a report's CPU (9
 * alternating runs of perf stat on a 20M-event alloc_bench trace).
 */
static inline __attribute__((always_inline)) __u64
get_addr(struct mh_trace_compact *c, struct thread *t, struct input *in, bool freed, unsigned cls,
	 bool ref)
{
	enum part part = ref ? (freed ? P_ADDR : P_ADDR_ALLOC) : (freed ? P_ADDR_FREED : P_ADDR_NEW);
	__u64 v = get_varint(in, c->part[part]);

	if (ref && freed && !c->v4) {
		v = c->free_next + unzigzag(v);
		if (v >= c->addr_count) {
			in->bad = true;
			return 0;
		}
		c->free_next = v + 1;
		t->addr = c->addrs[v];
		freed_push(&c->freed, c->classes[v], t->addr);
	} else if (ref && !c->v4 && !(v & 1)) {
		if (v / 2 >= c->freed.count[cls]) {
			in->bad = true;
			return 0;
		}
		t->addr = c->freed.addr[cls][v / 2];
		freed_take(&c->freed, cls, (unsigned)(v / 2));
	} else if (!ref && (freed || c->v4)) {
		t->addr += unzigzag(v);
	} else if (!ref) {
		t->addr = t->new_addr += unzigzag(v);
	} else if ((v >>= !c->v4) < c->addr_count) {
		t->addr = c->addrs[c->addr_count - 1 - v];
	} else {
		in->bad = true;
		return 0;
	}
	/* Room for two addresses per event was made at the chunk's start. */
	c->classes[c->addr_count] = (__u8)(freed ? 0 : cls);
	c->addrs[c->addr_count++] = t->addr;
	return t->addr;
}

/* The REALLOC fields before the address. 0, -EBADMSG or -ENOMEM. */
static int get_realloc(struct mh_trace_compact *c, struct thread *t, struct input *in,
		       struct event *e)
{
	unsigned flags = get_byte(in, P_TAG);

	if ((flags & ~RE_FLAGS) || (flags & (RE_OLD_ADDR | RE_OLD_REF)) == RE_OLD_REF)
		return -EBADMSG;
	if (flags & RE_OLD_ADDR)
		e->old_addr = get_addr(c, t, in, true, 0, flags & RE_OLD_REF);
	if (flags & RE_OLD_SIZE)
		e->old_size = get_varint(in, P_SIZE);
	/* A field flagged as present decoded as zero cannot come from the encoder. */
	if (in->bad || (flags & RE_OLD_ADDR && !e->old_addr) || (flags & RE_OLD_SIZE && !e->old_size))
		return -EBADMSG;
	return 0;
}

/* Decode one event after its tag into *e. 0, -EBADMSG or -ENOMEM. */
static int get_event(struct mh_trace_compact *c, struct chunk *ck, unsigned tag, struct input *in,
		     struct event *e)
{
	unsigned op = tag & TAG_OP_MASK;
	struct thread *t = ck->cur;
	int err = 0;

	if (tag & TAG_THREAD) {
		t = get_thread(c, ck, in, &err);
		ck->cur = t;
	}
	if (!t)
		return err ? err : -EBADMSG;
	memset(e, 0, sizeof(*e));
	e->pid = t->pid;
	e->tid = t->tid;
	t->ts += unzigzag(get_ts(c, in));
	e->ts_ns = t->ts * c->unit_ns;
	if (op == OP_REALLOC) {
		err = get_realloc(c, t, in, e);
		if (err)
			return err;
	}
	/* The size first: the address may be a rank among its class's freed blocks. */
	e->size = get_varint(in, P_SIZE);
	e->addr = get_addr(c, t, in, op == OP_FREE, size_class(e->size), tag & TAG_ADDR_REF);
	ck->last_ts = t->ts;
	ck->last_addr = e->addr;
	if (op != OP_FREE && !err)
		e->stack_id = get_stack(c, t, in, &err);
	if (err)
		return err;
	return in->bad ? -EBADMSG : 0;
}

/*
 * Write the record of an event at out (8-byte aligned); returns its size.
 * Straight into out: a record built on the stack and memcpy'd out is read
 * back in 16-byte loads from 8-byte stores, which the store buffer cannot
 * forward; that stall took half of this decoder's cycles (perf annotate).
 */
static size_t store_event(void *out, unsigned op, unsigned kind, const struct event *e)
{
	switch (op) {
	case OP_ALLOC:
		*(struct mh_rec_alloc *)out = (struct mh_rec_alloc){
			{ MH_REC_ALLOC, (__u16)kind, sizeof(struct mh_rec_alloc) }, e->ts_ns,
			e->addr, e->size, e->stack_id, e->tid, e->pid };
		return sizeof(struct mh_rec_alloc);
	case OP_FREE:
		*(struct mh_rec_free *)out = (struct mh_rec_free){
			{ MH_REC_FREE, (__u16)kind, sizeof(struct mh_rec_free) }, e->ts_ns, e->addr,
			e->size, e->tid, e->pid };
		return sizeof(struct mh_rec_free);
	default:
		*(struct mh_rec_realloc *)out = (struct mh_rec_realloc){
			{ MH_REC_REALLOC, (__u16)kind, sizeof(struct mh_rec_realloc) }, e->ts_ns,
			e->addr, e->size, e->old_addr, e->old_size, e->stack_id, e->tid, e->pid };
		return sizeof(struct mh_rec_realloc);
	}
}

/* Bytes of the record an operation decodes to. */
static const size_t op_bytes[4] = {
	[OP_ALLOC] = sizeof(struct mh_rec_alloc),
	[OP_FREE] = sizeof(struct mh_rec_free),
	[OP_REALLOC] = sizeof(struct mh_rec_realloc),
};

/* Copy a record stored as it is. Returns its size, or 0 when it is not a whole, aligned one. */
static size_t copy_record(struct input *in, unsigned char *out, size_t room)
{
	const unsigned char *p = in->p[P_COPY];
	struct mh_rec_hdr h;

	if (in->end[P_COPY] - p < (long)sizeof(h))
		return 0;
	memcpy(&h, p, sizeof(h));
	if (h.size < sizeof(h) || h.size % MH_REC_ALIGN || h.size > room ||
	    h.size > (size_t)(in->end[P_COPY] - p))
		return 0;
	memcpy(out, p, h.size);
	in->p[P_COPY] += h.size;
	return h.size;
}

/* Point each part's cursor at its bytes. 0, or -EBADMSG when the lengths do not add up. */
static int split_parts(struct input *in, const unsigned char *packed, size_t len, unsigned parts)
{
	size_t at = parts * sizeof(__u32);
	__u32 n;

	for (unsigned i = parts; i < PARTS; i++)
		in->p[i] = in->end[i] = packed;
	if (len < at)
		return -EBADMSG;
	for (unsigned i = 0; i < parts; i++) {
		memcpy(&n, packed + i * sizeof(n), sizeof(n));
		if (n > len - at)
			return -EBADMSG;
		in->p[i] = packed + at;
		in->end[i] = packed + at + n;
		at += n;
	}
	in->bad = false;
	return at == len ? 0 : -EBADMSG;
}

__u32 mh_trace_compact_copies(const struct mh_trace_compact *c)
{
	return c->copies;
}

int mh_trace_compact_decode(struct mh_trace_compact *c, const void *packed, size_t len,
			    void *out, size_t raw_bytes, __u32 count)
{
	unsigned char *o = out;
	struct chunk ck = { 0 };
	struct input in;
	size_t used = 0, n;
	struct event e;
	unsigned tag;
	__u32 records;
	int err;

	if (split_parts(&in, packed, len, c->parts))
		return -EBADMSG;
	start_chunk(c);
	if (positions_for(c, raw_bytes, true))
		return -ENOMEM;
	for (records = 0; in.p[P_TAG] < in.end[P_TAG]; records++) {
		if (records == count)
			return -EBADMSG;
		tag = *in.p[P_TAG]++;
		if ((tag & TAG_OP_MASK) == OP_COPY) {
			n = tag ? 0 : copy_record(&in, o + used, raw_bytes - used);
			if (!n)
				return -EBADMSG;
			c->copies++;
		} else {
			if (raw_bytes - used < op_bytes[tag & TAG_OP_MASK])
				return -EBADMSG;
			err = get_event(c, &ck, tag, &in, &e);
			if (err)
				return err;
			n = store_event(o + used, tag & TAG_OP_MASK, tag >> TAG_KIND_SHIFT, &e);
		}
		used += n;
	}
	/* Every part read to its end: nothing hidden after the records. */
	for (unsigned i = 0; i < PARTS; i++)
		if (in.p[i] != in.end[i])
			return -EBADMSG;
	return used == raw_bytes && records == count ? 0 : -EBADMSG;
}
