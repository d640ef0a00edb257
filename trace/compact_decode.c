// SPDX-License-Identifier: MIT
/*
 * compact_decode.c - the decoder of the compact encoding (compact.h,
 * docs/FORMAT.md "Compact encoding"; the encoder and the format's idea
 * are in compact.c). It trusts nothing: no read passes its part's end
 * (each read tests it, or a window tests it once for all its events),
 * every reference is checked against the tables built so far, and a
 * chunk decodes to exactly the records and bytes its header promised,
 * or fails with -EBADMSG. Never prints; allocates only when a chunk holds
 * more threads, stacks or addresses than any before it on this coder.
 *
 * The decoder is the critical path of a report (the thread that reads
 * ahead of the replay). Each event is decoded by one of two copies of
 * the same code (get_event()): a fast one, for traces of all twelve
 * parts, in windows of events where the parts every event reads (tags,
 * timestamps, sizes) have room for an event's longest reads, which
 * then test nothing (window()); and a careful one, for the events
 * around the windows and traces of any version, which tests every
 * read. Any other read tests its part's end once, not at every byte,
 * where VARINT_MAX bytes are left. What changes at every event is kept
 * out of the coder, in a local the compiler keeps in registers.
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

/* Bytes of the longest varint: 64 bits, 7 a byte. */
#define VARINT_MAX 10

struct input {
	const unsigned char *p[PARTS], *end[PARTS];
	uintptr_t quick[PARTS];		/* p at most this: VARINT_MAX bytes left (0: never) */
	bool bad;			/* a read met its part's end or a varint past 64 bits */
};

/* A varint read near its part's end: its value, and its bytes (0: past the end or 64 bits). */
struct varint {
	__u64 v;
	size_t len;
};

static struct varint varint_near_end(const unsigned char *p, const unsigned char *end)
{
	struct varint r = { 0, 0 };

	for (unsigned shift = 0; shift < 64 && p + r.len < end; shift += 7) {
		unsigned char b = p[r.len++];

		r.v |= (__u64)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return r;
	}
	return (struct varint){ 0, 0 };
}

/*
 * A varint of part. unchecked: the caller made sure the part has
 * VARINT_MAX bytes left (window()). Else where it has, no byte needs a
 * test of the end either. Most varints are one or two bytes (sizes and
 * address differences often two), which take no loop.
 */
static inline __attribute__((always_inline)) __u64 get_varint(struct input *in, unsigned part,
							      bool unchecked)
{
	const unsigned char *p = in->p[part];
	struct varint r;
	__u64 v;

	if (unchecked || (uintptr_t)p <= in->quick[part]) {
		if (!(p[0] & 0x80)) {
			in->p[part] = p + 1;
			return p[0];
		}
		v = (p[0] & 0x7fU) | (__u64)(p[1] & 0x7f) << 7;
		if (!(p[1] & 0x80)) {
			in->p[part] = p + 2;
			return v;
		}
		for (unsigned i = 2; i < VARINT_MAX; i++) {
			v |= (__u64)(p[i] & 0x7f) << (7 * i);
			if (!(p[i] & 0x80)) {
				in->p[part] = p + i + 1;
				return v;
			}
		}
		in->bad = true;
		return 0;
	}
	r = varint_near_end(p, in->end[part]);
	in->p[part] = p + r.len;
	in->bad |= !r.len;
	return r.v;
}

/* A byte of part; unchecked as for get_varint(). */
static inline __attribute__((always_inline)) unsigned get_byte(struct input *in, unsigned part,
							       bool unchecked)
{
	if (!unchecked && in->p[part] == in->end[part]) {
		in->bad = true;
		return 0;
	}
	return *in->p[part]++;
}

static inline __u64 get_u64(struct input *in, unsigned part)
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

/*
 * What a slice's decoding changes at every event, out of the coder and
 * the cursor: in locals that never escape, which the compiler keeps in
 * registers, where through c each store to the address list (bytes,
 * which may alias anything) made it reload them all.
 */
struct decoding {
	struct input in;
	struct thread *t;		/* the previous event's, NULL before the chunk's first */
	__u64 *addrs;			/* c->addrs, c->classes, c->addr_count, c->free_next */
	__u8 *classes;
	__u64 free_next;		/* before version 10: after any thread's previous free */
	__u32 addr_count;
	__u32 unit_ns;
	bool v4, large_classes, thread_frees;
};

/*
 * Where the trace's version puts a part: in the fast copy, which only
 * traces of all twelve parts take, where it is named, a constant.
 */
#define PART(c, x, fast) ((fast) ? (unsigned)(x) : (unsigned)(c)->part[x])

/* A timestamp difference put by put_ts(), zigzagged. */
static inline __attribute__((always_inline)) __u64 get_ts(struct decoding *d, bool fast)
{
	__u64 low;

	if (!fast && d->v4)
		return get_varint(&d->in, P_TS, false);
	low = get_byte(&d->in, P_TS, fast);
	return low | get_varint(&d->in, P_TS_HIGH, fast) << 8;
}

/* A thread, or why there is none: -EBADMSG or -ENOMEM. */
struct thread_or_err {
	struct thread *t;
	int err;
};

/*
 * A thread new to the chunk, which starts from the chunk's previous
 * event: that of the previous event's thread (prev), if any; and where
 * the chunk's next address (number addr_count) goes.
 */
static struct thread_or_err new_thread(struct mh_trace_compact *c, const struct thread *prev,
				       __u64 pid, __u64 tid, __u32 addr_count)
{
	struct chunk ck = { .last_ts = prev ? prev->ts : 0, .last_addr = prev ? prev->addr : 0 };
	int err;

	if (pid > UINT32_MAX || tid > UINT32_MAX)
		return (struct thread_or_err){ NULL, -EBADMSG };
	err = RESERVE(c, thread);
	if (err)
		return (struct thread_or_err){ NULL, err };
	return (struct thread_or_err){ add_thread(c, &ck, (__u32)pid, (__u32)tid, addr_count), 0 };
}

/* The thread an event names, or -EBADMSG for a reference to no thread, or -ENOMEM. */
static inline __attribute__((always_inline)) struct thread_or_err
get_thread(struct mh_trace_compact *c, struct decoding *d)
{
	__u64 i = get_varint(&d->in, P_THREAD, false), pid, tid;

	if (i < c->thread_count)
		return (struct thread_or_err){ &c->threads[i], 0 };
	if (i != c->thread_count)
		return (struct thread_or_err){ NULL, -EBADMSG };
	pid = get_varint(&d->in, P_THREAD, false);
	tid = get_varint(&d->in, P_THREAD, false);
	if (d->in.bad)
		return (struct thread_or_err){ NULL, -EBADMSG };
	return new_thread(c, d->t, pid, tid, d->addr_count);
}

/* The stack id a code names; sets in->bad for a reference to no stack. */
static inline __attribute__((always_inline)) __u64
get_stack(struct mh_trace_compact *c, struct decoding *d, int *err, bool fast)
{
	__u64 code = get_varint(&d->in, P_STACK, false), id;
	struct thread *t = d->t;

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
		id = get_u64(&d->in, PART(c, P_STACK_ID, fast));
		if (*err)
			return 0;
		c->stacks[c->stack_count++] = id;
	} else {
		d->in.bad = true;
		return 0;
	}
	move_to_front(t->recent, RECENT - 1, id);
	return id;
}

/*
 * An address put by put_addr(), of an allocation of class cls (freed:
 * a freed address); sets in->bad for a reference to no address.
 */
static inline __attribute__((always_inline)) __u64
get_addr(struct mh_trace_compact *c, struct decoding *d, bool freed, unsigned cls, bool ref,
	 bool fast)
{
	bool v4 = !fast && d->v4;
	struct thread *t = d->t;
	__u64 v, a;

	/* A part each: a branch on ref first keeps them constants. */
	if (ref)
		v = get_varint(&d->in, PART(c, freed ? P_ADDR : P_ADDR_ALLOC, fast), false);
	else
		v = get_varint(&d->in, PART(c, freed ? P_ADDR_FREED : P_ADDR_NEW, fast), false);
	if (ref && freed && !v4) {
		/* Version 10 on, from the thread's previous free's; before, any thread's. */
		v = (d->thread_frees ? t->free_next : d->free_next) + unzigzag(v);
		if (v >= d->addr_count) {
			d->in.bad = true;
			return 0;
		}
		if (d->thread_frees)
			t->free_next = v + 1;
		else
			d->free_next = v + 1;
		a = d->addrs[v];
		freed_push(&c->freed, d->classes[v], a);
	} else if (ref && !v4 && !(v & 1)) {
		if (v / 2 >= c->freed.count[cls]) {
			d->in.bad = true;
			return 0;
		}
		a = freed_at(&c->freed, cls, (unsigned)(v / 2));
		freed_take(&c->freed, cls, (unsigned)(v / 2));
	} else if (!ref && (freed || v4)) {
		a = t->addr + unzigzag(v);
	} else if (!ref) {
		a = t->new_addr += unzigzag(v);
	} else if ((v >>= !v4) < d->addr_count) {
		a = d->addrs[d->addr_count - 1 - v];
	} else {
		d->in.bad = true;
		return 0;
	}
	t->addr = a;
	/* Room for two addresses per event was made at the chunk's start. */
	d->classes[d->addr_count] = (__u8)(freed ? 0 : cls);
	d->addrs[d->addr_count++] = a;
	return a;
}

/*
 * Decode the event of tag, of operation op (not OP_COPY), into its
 * record at out (8-byte aligned, room for it made). 0, -EBADMSG or
 * -ENOMEM. The record is written field by field straight into out: one
 * built on the stack and memcpy'd out is read back in 16-byte loads from
 * 8-byte stores, which the store buffer cannot forward; that stall took
 * half of this decoder's cycles (perf annotate).
 */
static inline __attribute__((always_inline)) int
get_event(struct mh_trace_compact *c, struct decoding *d, unsigned tag, unsigned char *out,
	  unsigned op, bool fast)
{
	__u64 ts_ns, size, addr, old_addr = 0, old_size = 0, stack_id;
	bool ref = tag & TAG_ADDR_REF;
	__u16 kind = (__u16)(tag >> TAG_KIND_SHIFT);
	unsigned flags;
	struct thread *t;
	int err = 0;

	if (tag & TAG_THREAD) {
		struct thread_or_err te = get_thread(c, d);

		d->t = te.t;
		if (!te.t)
			return te.err;
	}
	/* The chunk's first event must name its thread; the fast copy starts after it. */
	t = d->t;
	if (!fast && !t)
		return -EBADMSG;
	t->ts += unzigzag(get_ts(d, fast));
	ts_ns = t->ts * d->unit_ns;
	if (op == OP_REALLOC) {
		flags = get_byte(&d->in, P_TAG, fast);
		if ((flags & ~RE_FLAGS) || (flags & (RE_OLD_ADDR | RE_OLD_REF)) == RE_OLD_REF)
			return -EBADMSG;
		if (flags & RE_OLD_ADDR)
			old_addr = get_addr(c, d, true, 0, flags & RE_OLD_REF, fast);
		if (flags & RE_OLD_SIZE)
			old_size = get_varint(&d->in, P_SIZE, fast);
		/* A field flagged as present decoded as zero cannot come from the encoder. */
		if (d->in.bad || (flags & RE_OLD_ADDR && !old_addr) ||
		    (flags & RE_OLD_SIZE && !old_size))
			return -EBADMSG;
	}
	/* The size first: the address may be a rank among its class's freed blocks. */
	size = get_varint(&d->in, P_SIZE, fast);
	if (op == OP_FREE) {
		addr = get_addr(c, d, true, 0, ref, fast);
		*(struct mh_rec_free *)out = (struct mh_rec_free){
			{ MH_REC_FREE, kind, sizeof(struct mh_rec_free) }, ts_ns, addr, size,
			t->tid, t->pid };
		return d->in.bad ? -EBADMSG : 0;
	}
	addr = get_addr(c, d, false, size_class(size, d->large_classes), ref, fast);
	stack_id = get_stack(c, d, &err, fast);
	if (err)
		return err;
	if (op == OP_ALLOC)
		*(struct mh_rec_alloc *)out = (struct mh_rec_alloc){
			{ MH_REC_ALLOC, kind, sizeof(struct mh_rec_alloc) }, ts_ns, addr, size,
			stack_id, t->tid, t->pid };
	else
		*(struct mh_rec_realloc *)out = (struct mh_rec_realloc){
			{ MH_REC_REALLOC, kind, sizeof(struct mh_rec_realloc) }, ts_ns, addr, size,
			old_addr, old_size, stack_id, t->tid, t->pid };
	return d->in.bad ? -EBADMSG : 0;
}

/*
 * Decode the event of tag (not a copy) at out: the bytes of its record,
 * or -EBADMSG or -ENOMEM. A copy of get_event() for each operation,
 * which makes it a constant there.
 */
static inline __attribute__((always_inline)) ssize_t
get_record(struct mh_trace_compact *c, struct decoding *d, unsigned tag, unsigned char *out,
	   bool fast)
{
	int err;

	switch (tag & TAG_OP_MASK) {
	case OP_ALLOC:
		err = get_event(c, d, tag, out, OP_ALLOC, fast);
		return err ? err : (ssize_t)sizeof(struct mh_rec_alloc);
	case OP_FREE:
		err = get_event(c, d, tag, out, OP_FREE, fast);
		return err ? err : (ssize_t)sizeof(struct mh_rec_free);
	default:
		err = get_event(c, d, tag, out, OP_REALLOC, fast);
		return err ? err : (ssize_t)sizeof(struct mh_rec_realloc);
	}
}

/*
 * Events the fast copy may decode from here on: as many as the parts
 * every event reads (tags, timestamps, sizes) have room for at their
 * longest, that are left of the chunk's count, and whose records fit
 * bytes at their largest. Windows shrink as those parts near their
 * ends: the last few events of a chunk or slice take the careful copy.
 */
static size_t window(const struct input *in, size_t events, size_t bytes)
{
	static const struct { unsigned char part, most; } reads[] = {
		{ P_TAG, 2 },			/* the tag, a REALLOC's flags */
		{ P_TS, 1 },
		{ P_TS_HIGH, VARINT_MAX },
		{ P_SIZE, 2 * VARINT_MAX },	/* a REALLOC's old size, the size */
	};
	size_t w = bytes / sizeof(struct mh_rec_realloc), n;

	if (events < w)
		w = events;
	for (unsigned i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		n = (size_t)(in->end[reads[i].part] - in->p[reads[i].part]) / reads[i].most;
		if (n < w)
			w = n;
	}
	return w;
}

/* Bytes of the record an operation decodes to; 0: a copy, whose header gives its size. */
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

	for (unsigned i = 0; i < PARTS; i++) {
		in->p[i] = in->end[i] = packed;
		in->quick[i] = 0;
	}
	if (len < at)
		return -EBADMSG;
	for (unsigned i = 0; i < parts; i++) {
		memcpy(&n, packed + i * sizeof(n), sizeof(n));
		if (n > len - at)
			return -EBADMSG;
		in->p[i] = packed + at;
		in->end[i] = packed + at + n;
		in->quick[i] = n >= VARINT_MAX ? (uintptr_t)(in->end[i] - VARINT_MAX) : 0;
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
	struct thread *t;		/* the previous event's, NULL before the chunk's first */
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

/*
 * Decode records of the chunk into out until room is full or the chunk
 * ends: in windows of the fast copy (for a trace of all twelve parts),
 * each followed by one record of the careful copy, which also takes the
 * records stored as they are.
 */
ssize_t mh_trace_compact_decode_some(struct mh_trace_compact *c, struct mh_trace_compact_cursor *cur,
				     void *buf, size_t room, size_t *need)
{
	unsigned char *out = buf;
	bool modern = c->parts == PARTS;
	struct decoding d = {
		cur->in, cur->t, c->addrs, c->classes, c->free_next, c->addr_count,
		c->unit_ns, c->v4, c->large_classes, c->thread_frees,
	};
	size_t done = 0, w, left = cur->raw_bytes - cur->used;
	__u32 records = cur->records, count = cur->count;
	ssize_t n = 0;
	unsigned tag;

	for (;;) {
		w = modern && d.t ? window(&d.in, count - records,
					   (room < left ? room : left) - done) : 0;
		if (w) {
			/* A copy the fast loop alone reads: its parts' cursors become registers. */
			struct decoding f = d;
			unsigned char *o = out + done;
			size_t i;

			for (i = 0; i < w; i++) {
				tag = *f.in.p[P_TAG];
				if ((tag & TAG_OP_MASK) == OP_COPY)
					break;
				f.in.p[P_TAG]++;
				n = get_record(c, &f, tag, o, true);
				if (n < 0)
					break;
				o += n;
			}
			d = f;
			done = (size_t)(o - out);
			records += (__u32)i;
			if (n < 0)
				goto out;
		}
		if (d.in.p[P_TAG] == d.in.end[P_TAG])
			break;
		tag = *d.in.p[P_TAG];
		n = (ssize_t)next_bytes(&d.in, tag, left - done);
		if (!n || records == count) {
			n = -EBADMSG;
			goto out;
		}
		if ((size_t)n > room - done) {
			*need = (size_t)n;
			n = done ? 0 : -ENOSPC;
			goto out;
		}
		d.in.p[P_TAG]++;
		if (tag == OP_COPY) {
			memcpy(out + done, d.in.p[P_COPY], (size_t)n);
			d.in.p[P_COPY] += n;
			c->copies++;
		} else {
			n = get_record(c, &d, tag, out + done, false);
			if (n < 0)
				goto out;
		}
		done += (size_t)n;
		records++;
	}
	n = 0;
out:
	cur->in = d.in;
	cur->t = d.t;
	c->addr_count = d.addr_count;
	c->free_next = d.free_next;
	cur->used += done;
	cur->records = records;
	if (n < 0)
		return n;
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
