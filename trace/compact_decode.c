// SPDX-License-Identifier: MIT
/*
 * compact_decode.c - the decoder of the compact encoding (compact.h,
 * docs/FORMAT.md "Compact encoding"; the encoder and the format's idea
 * are in compact.c). It trusts nothing: every read is bounds-checked,
 * every reference checked against the tables built so far, and a chunk
 * decodes to exactly the records and bytes its header promised, or
 * fails with -EBADMSG. Never prints; allocates only when a chunk holds
 * more threads, stacks or addresses than any before it on this coder.
 */
#include "trace/compact.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace/compact_coder.h"
#include "trace/records.h"

struct input {
	const unsigned char *p[PARTS], *end[PARTS];
	bool bad;			/* a read went past a part's end or a varint past 64 bits */
};

static inline __u64 get_varint(struct input *in, enum part part)
{
	const unsigned char *p = in->p[part], *end = in->end[part];
	__u64 v = 0;
	unsigned shift;

	/*
	 * Most varints are one or two bytes (sizes and address differences
	 * often two): where the part has room for two, neither takes the
	 * loop, with its bounds test and shift per byte.
	 */
	if (end - p >= 2) {
		if (!(p[0] & 0x80)) {
			in->p[part] = p + 1;
			return p[0];
		}
		if (!(p[1] & 0x80)) {
			in->p[part] = p + 2;
			return (p[0] & 0x7fU) | (__u64)p[1] << 7;
		}
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
		t->addr = freed_at(&c->freed, cls, (unsigned)(v / 2));
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
	/* Each field store_event() writes for op, no more: a FREE has no stack. */
	e->old_addr = 0;
	e->old_size = 0;
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
	e->addr = get_addr(c, t, in, op == OP_FREE, size_class(e->size, c->large_classes),
			   tag & TAG_ADDR_REF);
	ck->last_ts = t->ts;
	ck->last_addr = e->addr;
	if (op != OP_FREE)
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

/* A chunk decoded a slice at a time: where its decoding stands. */
struct mh_trace_compact_cursor {
	struct input in;
	struct chunk ck;
	size_t used, raw_bytes;		/* bytes of records decoded so far / in all */
	__u32 records, count;		/* records decoded so far / in all */
};

struct mh_trace_compact_cursor *mh_trace_compact_cursor_new(void)
{
	return calloc(1, sizeof(struct mh_trace_compact_cursor));
}

void mh_trace_compact_cursor_free(struct mh_trace_compact_cursor *cur)
{
	free(cur);
}

int mh_trace_compact_begin(struct mh_trace_compact *c, struct mh_trace_compact_cursor *cur,
			   const void *packed, size_t len, size_t raw_bytes, __u32 count)
{
	memset(cur, 0, sizeof(*cur));
	cur->raw_bytes = raw_bytes;
	cur->count = count;
	if (split_parts(&cur->in, packed, len, c->parts))
		return -EBADMSG;
	start_chunk(c);
	if (positions_for(c, raw_bytes))
		return -ENOMEM;
	return 0;
}

/* Bytes of the next record (tag at *tag), or 0 when it cannot be one of the chunk's left bytes. */
static size_t next_bytes(const struct input *in, unsigned tag, size_t left)
{
	struct mh_rec_hdr h;

	if ((tag & TAG_OP_MASK) != OP_COPY)
		return op_bytes[tag & TAG_OP_MASK] <= left ? op_bytes[tag & TAG_OP_MASK] : 0;
	if (tag || in->end[P_COPY] - in->p[P_COPY] < (long)sizeof(h))
		return 0;
	memcpy(&h, in->p[P_COPY], sizeof(h));
	if (h.size < sizeof(h) || h.size % MH_REC_ALIGN || h.size > left ||
	    h.size > (size_t)(in->end[P_COPY] - in->p[P_COPY]))
		return 0;
	return h.size;
}

/* The chunk was all decoded: every part read to its end, nothing hidden after the records. */
static int check_end(const struct mh_trace_compact_cursor *cur)
{
	for (unsigned i = 0; i < PARTS; i++)
		if (cur->in.p[i] != cur->in.end[i])
			return -EBADMSG;
	return cur->used == cur->raw_bytes && cur->records == cur->count ? 0 : -EBADMSG;
}

ssize_t mh_trace_compact_decode_some(struct mh_trace_compact *c, struct mh_trace_compact_cursor *cur,
				     void *out, size_t room, size_t *need)
{
	unsigned char *o = out;
	struct input in = cur->in;
	/* The cursor's counts in locals: through cur, each was stored and reloaded at every record. */
	size_t done = 0, n, left = cur->raw_bytes - cur->used;
	__u32 records = cur->records, count = cur->count;
	struct event e;
	unsigned tag;
	int err = 0;

	while (in.p[P_TAG] < in.end[P_TAG]) {
		tag = *in.p[P_TAG];
		n = next_bytes(&in, tag, left - done);
		if (!n || records == count) {
			err = -EBADMSG;
			break;
		}
		if (n > room - done) {
			*need = n;
			err = done ? 0 : -ENOSPC;
			break;
		}
		in.p[P_TAG]++;
		if (tag == OP_COPY) {
			memcpy(o + done, in.p[P_COPY], n);
			in.p[P_COPY] += n;
			c->copies++;
		} else {
			err = get_event(c, &cur->ck, tag, &in, &e);
			if (err)
				break;
			store_event(o + done, tag & TAG_OP_MASK, tag >> TAG_KIND_SHIFT, &e);
		}
		done += n;
		records++;
	}
	cur->in = in;
	cur->used += done;
	cur->records = records;
	if (err)
		return err;
	return done ? (ssize_t)done : check_end(cur);
}

int mh_trace_compact_decode(struct mh_trace_compact *c, const void *packed, size_t len,
			    void *out, size_t raw_bytes, __u32 count)
{
	struct mh_trace_compact_cursor cur;
	size_t need;
	ssize_t n;
	int err = mh_trace_compact_begin(c, &cur, packed, len, raw_bytes, count);

	if (err)
		return err;
	n = mh_trace_compact_decode_some(c, &cur, out, raw_bytes, &need);
	if (n > 0)
		n = mh_trace_compact_decode_some(c, &cur, (unsigned char *)out + n, 0, &need);
	return n == -ENOSPC ? -EBADMSG : (int)n;
}
