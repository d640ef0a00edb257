// SPDX-License-Identifier: MIT
/*
 * compact.c - the compact encoding of chunk payloads (compact.h,
 * docs/FORMAT.md "Compact encoding"): the coder's life and the encoder;
 * trace/compact_decode.c decodes.
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
 * relative to its thread's previous free's (blocks die in the order they
 * were born), an allocation a block freed a moment ago by its rank among
 * its size class's last frees (glibc's tcache is LIFO per class). zstd then
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
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace/compact_coder.h"
#include "trace/records.h"

void mh_trace_compact_set_version(struct mh_trace_compact *c, unsigned version)
{
	c->v4 = version < 5;
	c->large_classes = version >= MH_TRACE_VERSION_LARGE_CLASSES;
	c->thread_frees = version >= MH_TRACE_VERSION_THREAD_FREES;
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
		mh_trace_compact_set_time_unit(c, 1);
	}
	return c;
}

void mh_trace_compact_set_time_unit(struct mh_trace_compact *c, __u32 unit_ns)
{
	c->unit_ns = unit_ns ? unit_ns : 1;
	c->unit_shift = (unsigned)__builtin_ctz(c->unit_ns);
	c->unit_odd = c->unit_ns >> c->unit_shift;
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
	table_free(&c->thread_index);
	table_free(&c->stack_index);
	table_free(&c->addr_index);
	free(c);
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

/*
 * The three event records share their layout but for their length:
 * ts_ns, addr and size at the same offsets, and last the stack id (not
 * in FREE), tid and pid. The encoder reads each field from the record as
 * it codes it: a copy of them all into a struct event lived on the stack
 * (a store and a load each, and zeroes for the absent ones: callgrind).
 */
#define AT_TS offsetof(struct mh_rec_alloc, ts_ns)
#define AT_ADDR offsetof(struct mh_rec_alloc, addr)
#define AT_SIZE offsetof(struct mh_rec_alloc, size)
#define BACK_STACK (sizeof(struct mh_rec_alloc) - offsetof(struct mh_rec_alloc, stack_id))
#define BACK_TID (sizeof(struct mh_rec_alloc) - offsetof(struct mh_rec_alloc, tid))
_Static_assert(AT_TS == offsetof(struct mh_rec_free, ts_ns) &&
	       AT_TS == offsetof(struct mh_rec_realloc, ts_ns) &&
	       AT_ADDR == offsetof(struct mh_rec_free, addr) &&
	       AT_ADDR == offsetof(struct mh_rec_realloc, addr) &&
	       AT_SIZE == offsetof(struct mh_rec_free, size) &&
	       AT_SIZE == offsetof(struct mh_rec_realloc, size),
	       "event records keep ts_ns, addr and size at one offset");
_Static_assert(BACK_STACK == sizeof(struct mh_rec_realloc) - offsetof(struct mh_rec_realloc, stack_id) &&
	       BACK_TID == sizeof(struct mh_rec_free) - offsetof(struct mh_rec_free, tid) &&
	       BACK_TID == sizeof(struct mh_rec_realloc) - offsetof(struct mh_rec_realloc, tid) &&
	       offsetof(struct mh_rec_alloc, pid) == offsetof(struct mh_rec_alloc, tid) + 4 &&
	       offsetof(struct mh_rec_free, pid) == offsetof(struct mh_rec_free, tid) + 4 &&
	       offsetof(struct mh_rec_realloc, pid) == offsetof(struct mh_rec_realloc, tid) + 4,
	       "event records end with the stack id (but FREE), tid and pid");

/*
 * ts / odd, out of line: inlined, the compiler divided every stamp, by 1
 * for the default unit (a power of two), rather than test odd, and a
 * 64-bit division takes tens of cycles where the test takes one.
 */
static __attribute__((noinline, cold)) __u64 divide(__u64 ts, __u32 odd)
{
	return ts / odd;
}

static inline __u64 get64(const unsigned char *rec, size_t at)
{
	__u64 v;

	memcpy(&v, rec + at, sizeof(v));
	return v;
}

/* Switch to the thread (pid, tid): its index, and pid and tid when new. */
static void put_thread(struct mh_trace_compact *c, struct chunk *ck, __u32 pid, __u32 tid,
		      struct output *o)
{
	struct slot *slot;
	bool fresh;

	/* A new thread starts from the chunk's previous event: the last of the thread switched from. */
	ck->last_ts = ck->cur ? ck->cur->ts : 0;
	ck->last_addr = ck->cur ? ck->cur->addr : 0;
	slot = table_slot(&c->thread_index, c->gen, (__u64)pid << 32 | tid, &fresh);
	if (fresh)
		slot->index = c->thread_count;
	put_varint(o, P_THREAD, slot->index);
	if (fresh) {
		ck->cur = add_thread(c, ck, pid, tid, c->addr_count);
		put_varint(o, P_THREAD, pid);
		put_varint(o, P_THREAD, tid);
	} else {
		ck->cur = &c->threads[slot->index];
	}
}

/* Inlined: called from two copies of put_event(), a call took 20 instructions (callgrind). */
static inline __attribute__((always_inline)) void
put_stack(struct mh_trace_compact *c, struct thread *t, __u64 id, struct output *o)
{
	struct slot *slot;
	unsigned at;
	bool fresh;

	/* Unrolled: a search that misses was a fifth of the encoder's instructions (callgrind). */
#pragma GCC unroll 8
	for (at = 0; at < RECENT; at++) {
		if (t->recent[at] == id) {
			move_to_front(t->recent, at, id);
			put_varint(o, P_STACK, at);
			return;
		}
	}
	slot = table_slot(&c->stack_index, c->gen, id, &fresh);
	if (fresh)
		slot->index = c->stack_count++;
	put_varint(o, P_STACK, RECENT + (__u64)slot->index);
	if (fresh) {
		memcpy(o->p[P_STACK_ID], &id, sizeof(id));
		o->p[P_STACK_ID] += sizeof(id);
	}
	move_to_front(t->recent, RECENT - 1, id);
}

/*
 * An address seen before in this chunk is a reference to its latest
 * position in the chunk's address list: for a freed address (a free, a
 * REALLOC's old address) the difference from the position after the
 * thread's previous such reference (programs often free in the order
 * they allocated, each thread its own blocks: with one position for all
 * threads, two threads' frees in turn named each a few positions away,
 * and alloc_bench 2's freed references took 2.37 MB of 10.6 MB of
 * compressed parts, 0.61 MB with one per thread); an allocated one (of
 * size class cls) is, when it is among its class's last freed blocks,
 * twice its rank there, else twice how many addresses back it was, plus
 * 1. Any other address is a difference: a freed one from the thread's
 * previous address, an allocated one from the thread's previous
 * allocated address new to the chunk (the heap's top moves on while old
 * blocks are freed in between). Sets *ref when it is a reference.
 *
 * The address table's slots keep the address's latest position in the
 * chunk shifted by POS_SHIFT and, below, the size class of the allocation
 * there (0: freed, or none): a free finds its class in the slot it has
 * just read, not in an array as large as the chunk (a cache miss each).
 */
#define POS_SHIFT 8
#define POS_LIMIT (1U << (32 - POS_SHIFT))
_Static_assert(CLASSES <= 1 << POS_SHIFT, "a size class fits below the position");
_Static_assert(MH_CHUNK_MAX_RAW_BYTES / 20 + 2 <= POS_LIMIT, "a chunk's positions fit in a slot");

static inline __attribute__((always_inline)) void
put_addr(struct mh_trace_compact *c, struct thread *t, __u64 addr, bool freed, unsigned cls,
	 bool *ref, struct output *o)
{
	struct slot *slot = table_slot(&c->addr_index, c->gen, addr, ref);
	unsigned k = 0;

	*ref = !*ref;
	if (*ref && freed) {
		put_varint(o, P_ADDR, zigzag((slot->index >> POS_SHIFT) - t->free_next));
		t->free_next = (slot->index >> POS_SHIFT) + 1ULL;
		freed_push(&c->freed, slot->index & ((1U << POS_SHIFT) - 1), addr);
	} else if (*ref) {
		while (k < c->freed.count[cls] && freed_at(&c->freed, cls, k) != addr)
			k++;
		if (k < c->freed.count[cls]) {
			put_varint(o, P_ADDR_ALLOC, 2 * k);
			freed_take(&c->freed, cls, k);
		} else {
			put_varint(o, P_ADDR_ALLOC,
				   2ULL * (c->addr_count - 1 - (slot->index >> POS_SHIFT)) + 1);
		}
	} else if (freed) {
		put_varint(o, P_ADDR_FREED, zigzag(addr - t->addr));
	} else {
		put_varint(o, P_ADDR_NEW, zigzag(addr - t->new_addr));
		t->new_addr = addr;
	}
	slot->index = c->addr_count++ << POS_SHIFT | (freed ? 0 : cls);
	t->addr = addr;
}

/* The REALLOC fields before the address. */
static void put_realloc(struct mh_trace_compact *c, struct thread *t, const unsigned char *rec,
		       struct output *o)
{
	__u64 old_addr = get64(rec, offsetof(struct mh_rec_realloc, old_addr));
	__u64 old_size = get64(rec, offsetof(struct mh_rec_realloc, old_size));
	unsigned char *flags = o->p[P_TAG]++;
	bool ref;

	*flags = (old_addr ? RE_OLD_ADDR : 0) | (old_size ? RE_OLD_SIZE : 0);
	if (old_addr) {
		put_addr(c, t, old_addr, true, 0, &ref, o);
		*flags |= ref ? RE_OLD_REF : 0;
	}
	if (old_size)
		put_varint(o, P_SIZE, old_size);
}

/*
 * The event record rec of h.size bytes, coded with op.
 * Inlined once per operation, op a constant in each copy: the tests of
 * op and their spills were a tenth of an event's instructions (callgrind).
 */
static inline __attribute__((always_inline)) void
put_event(struct mh_trace_compact *c, struct chunk *ck, unsigned op, const unsigned char *rec,
	  struct mh_rec_hdr h, struct output *o)
{
	/* A REALLOC's flags byte follows its tag: the others' tag is written last. */
	unsigned char *tagp = op == OP_REALLOC ? o->p[P_TAG]++ : NULL;
	unsigned char tag = (unsigned char)(op | h.kind << TAG_KIND_SHIFT);
	__u64 ids = get64(rec, h.size - BACK_TID), addr = get64(rec, AT_ADDR), size, ts;
	struct thread *t = ck->cur;
	bool ref;

	if (!t || t->ids != ids) {
		tag |= TAG_THREAD;
		put_thread(c, ck, (__u32)(ids >> 32), (__u32)ids, o);
		t = ck->cur;
	}
	/* floor(floor(ts / 2^shift) / odd) is floor(ts / unit_ns); the division is rare. */
	ts = get64(rec, AT_TS) >> c->unit_shift;
	if (c->unit_odd != 1)
		ts = divide(ts, c->unit_odd);
	put_ts(o, ts - t->ts);
	t->ts = ts;
	if (op == OP_REALLOC)
		put_realloc(c, t, rec, o);
	size = get64(rec, AT_SIZE);
	put_addr(c, t, addr, op == OP_FREE, size_class(size, true), &ref, o);
	tag |= ref ? TAG_ADDR_REF : 0;
	if (op == OP_REALLOC)
		*tagp = tag;
	else
		put_byte(o, P_TAG, tag);
	put_varint(o, P_SIZE, size);
	if (op != OP_FREE)
		put_stack(c, t, get64(rec, h.size - BACK_STACK), o);
}

/* The operation that encodes a record with header h: OP_COPY but for a valid event. */
static unsigned event_op(struct mh_rec_hdr h)
{
	if (h.kind >= KIND_LIMIT)
		return OP_COPY;
	if (h.type == MH_REC_ALLOC && h.size == sizeof(struct mh_rec_alloc))
		return OP_ALLOC;
	if (h.type == MH_REC_FREE && h.size == sizeof(struct mh_rec_free))
		return OP_FREE;
	if (h.type == MH_REC_REALLOC && h.size == sizeof(struct mh_rec_realloc))
		return OP_REALLOC;
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

/*
 * Room in the tables and the thread array for what the records that start
 * in the next `bytes` bytes can add: each is an event of at least
 * MIN_EVENT_BYTES with at most two addresses, a stack and a thread new
 * to the chunk. Made a group of records at a time, so that no record
 * stops half-coded for want of memory and the test is not one per
 * record. 0 or -ENOMEM, nothing coded yet of those records.
 */
#define MIN_EVENT_BYTES sizeof(struct mh_rec_free)
#define ROOM_BYTES 4096U

static int make_room(struct mh_trace_compact *c, size_t bytes)
{
	size_t n = bytes / MIN_EVENT_BYTES + 1;
	size_t cur = c->enc.cur ? (size_t)(c->enc.cur - c->threads) : 0;

	while (c->thread_count + n > c->thread_cap) {
		if (reserve((void **)&c->threads, c->thread_cap, &c->thread_cap, sizeof(*c->threads)))
			return -ENOMEM;
		/* The array moved: so did the thread of the previous event. */
		if (c->enc.cur)
			c->enc.cur = &c->threads[cur];
	}
	if (table_room(&c->thread_index, c->gen, n) || table_room(&c->stack_index, c->gen, n) ||
	    table_room(&c->addr_index, c->gen, 2 * n))
		return -ENOMEM;
	return 0;
}

int mh_trace_compact_open(struct mh_trace_compact *c, size_t bytes)
{
	/* At most two addresses per event, an event at least 40 bytes (positions_for()). */
	if (bytes / 20 + 2 > POS_LIMIT || scratch_for(c, bytes))
		return -ENOMEM;
	for (unsigned i = 0; i < PARTS; i++)
		c->at[i] = c->scratch + i * c->scratch_part_bytes;
	start_chunk(c);
	memset(&c->enc, 0, sizeof(c->enc));
	c->room = bytes;
	return 0;
}

/* Code the records at in from off on that start before end. Returns the offset past them. */
static inline __attribute__((always_inline)) size_t
put_records(struct mh_trace_compact *c, const unsigned char *in, size_t off, size_t end,
	    struct output *o)
{
	struct mh_rec_hdr h;

	for (; off < end; off += h.size) {
		memcpy(&h, in + off, sizeof(h));
		switch (event_op(h)) {
		case OP_ALLOC:
			put_event(c, &c->enc, OP_ALLOC, in + off, h, o);
			break;
		case OP_FREE:
			put_event(c, &c->enc, OP_FREE, in + off, h, o);
			break;
		case OP_REALLOC:
			put_event(c, &c->enc, OP_REALLOC, in + off, h, o);
			break;
		default:
			put_byte(o, P_TAG, OP_COPY);
			memcpy(o->p[P_COPY], in + off, h.size);
			/* Its stamps as the decoder gives back the events': floored to the unit. */
			mh_rec_floor_stamps((struct mh_rec_hdr *)o->p[P_COPY], c->unit_ns);
			o->p[P_COPY] += h.size;
		}
	}
	return off;
}

/* The lesser of off + step and end. */
static inline size_t up_to(size_t off, size_t step, size_t end)
{
	return end - off > step ? off + step : end;
}

/*
 * Records go in groups: room in the tables for ROOM_BYTES of them at a
 * time, the address slots prefetched for PREFETCH_BYTES / 2 at a time,
 * so that the loop over the records tests neither: the two tests took
 * 9 instructions a record (callgrind, alloc_bench's and python3's alloc
 * streams: 8.7 and 7.7 an event less).
 */
size_t mh_trace_compact_add(struct mh_trace_compact *c, const void *records, size_t bytes)
{
	const unsigned char *in = records;
	struct output o;
	size_t off = 0, ahead = 0, room_end;

	if (bytes > c->room)
		return 0;
	/*
	 * Unrolled, as in mh_trace_compact_close(): with constant indexes only, the
	 * compiler keeps the part pointers out of memory the output bytes
	 * could alias, and reloads them less (callgrind: 2 instructions an event).
	 */
#pragma GCC unroll 16
	for (unsigned i = 0; i < PARTS; i++)
		o.p[i] = c->at[i];
	while (off < bytes) {
		room_end = up_to(off, ROOM_BYTES, bytes);
		if (make_room(c, room_end - off))
			break;
		while (off < room_end) {
			ahead = table_prefetch(&c->addr_index, in, ahead,
					       up_to(off, PREFETCH_BYTES, bytes));
			off = put_records(c, in, off, up_to(off, PREFETCH_BYTES / 2, room_end), &o);
		}
	}
#pragma GCC unroll 16
	for (unsigned i = 0; i < PARTS; i++)
		c->at[i] = o.p[i];
	c->room -= off;
	return off;
}

/* Bytes part i of the open chunk holds so far. */
static inline __u32 part_len(const struct mh_trace_compact *c, unsigned i)
{
	return (__u32)(c->at[i] - (c->scratch + i * c->scratch_part_bytes));
}

size_t mh_trace_compact_size(const struct mh_trace_compact *c)
{
	size_t n = PARTS * sizeof(__u32);

	for (unsigned i = 0; i < PARTS; i++)
		n += part_len(c, i);
	return n;
}

/* Lengths, then the parts back to back, into out. Returns the bytes written. */
size_t mh_trace_compact_close(struct mh_trace_compact *c, void *out)
{
	unsigned char *to = out;
	size_t at = PARTS * sizeof(__u32);
	__u32 len;

#pragma GCC unroll 16
	for (unsigned i = 0; i < PARTS; i++) {
		len = part_len(c, i);
		memcpy(to + i * sizeof(len), &len, sizeof(len));
		memcpy(to + at, c->scratch + i * c->scratch_part_bytes, len);
		at += len;
	}
	return at;
}

unsigned mh_trace_compact_sections(const void *packed, size_t len,
				   size_t ends[MH_TRACE_COMPACT_SECTIONS])
{
	size_t at = PARTS * sizeof(__u32);
	__u32 part;

	_Static_assert(MH_TRACE_COMPACT_SECTIONS == PARTS + 1, "the lengths, then each part");
	if (len < at)
		return 0;
	ends[0] = at;
	for (unsigned i = 0; i < PARTS; i++) {
		memcpy(&part, (const unsigned char *)packed + i * sizeof(part), sizeof(part));
		if (part > len - at)
			return 0;
		at += part;
		ends[i + 1] = at;
	}
	return at == len ? MH_TRACE_COMPACT_SECTIONS : 0;
}

size_t mh_trace_compact_encode(struct mh_trace_compact *c, const void *records, size_t bytes,
			       void *out)
{
	if (mh_trace_compact_open(c, bytes) || mh_trace_compact_add(c, records, bytes) != bytes)
		return 0;
	return mh_trace_compact_close(c, out);
}
