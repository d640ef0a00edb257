// SPDX-License-Identifier: MIT
/*
 * columns.c - the column layout of chunk payloads (trace_columns.h,
 * docs/FORMAT.md "Column layout").
 *
 * Records of one type repeat the same fields: a timestamp a little larger
 * than the last one, an address, a size, a stack id, the same tid and pid.
 * Back to back they interleave into bytes zstd matches poorly; as columns,
 * with timestamps as differences and each word's eight bytes in eight
 * planes, the high bytes become long runs of zeros. From version 8 on,
 * every fixed word of a known type has a column, each column has planes of
 * its own, a few fields are coded against a like field (a fault's address
 * against its vma), and the variable parts (paths, stack ips, bitmaps)
 * follow as they are, not split into planes. Both directions make two
 * passes over the chunk and keep no state between chunks, so every chunk
 * stays readable on its own. A column's values move between records and
 * planes eight at a time where they can, as one 8x8 byte transpose
 * (transpose8), not as 64 single bytes. Never allocates, never prints.
 */
#include "trace/columns.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "trace/records.h"

/* Before version 8: words 0..7 of every record go to columns, the rest to the tail. */
#define OLD_COLUMN_WORDS 8
/* Most columns a bucket has (version 8: KSYSCALL's 12 words). */
#define COLUMN_WORDS_MAX 12
/* Records are sorted into columns by type modulo this. */
#define BUCKETS 256
/* KRSS values are coded against the last one of the same member (mod this). */
#define RSS_MEMBERS 16
/* KFAULTs are coded against the last one of the same vma class (mod this). */
#define VMA_CLASSES 8
/* A column's values in and out of its planes a group at a time (transpose8). */
#define GROUP 8
/*
 * Columns of one chunk with a group of their own (in order, from the
 * header words); the others, and the last len % GROUP values of each,
 * go a byte at a time. A kernel chunk has at most 12 record types of at
 * most 11 columns, fewer with 8 values or more.
 */
#define GROUPS_MAX 128
/* Groups need the bytes of a word in memory order, lowest first. */
#define GROUPS_WORK (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* What a layout version does; see docs/FORMAT.md for each. */
struct layout {
	bool every_field;	/* version 8: the columns, planes and transforms above */
	bool spans;		/* version 7: span starts as lengths */
	bool file_names_fault;	/* version 9: a KFILE's ino is the next FILE fault's P ino */
	__u32 unit_ns;		/* stamps' unit, ns */
	size_t nwords;		/* words of the whole chunk */
};

/* The previous KFAULT of one vma class: its fields the next one is coded against. */
struct fault {
	__u64 vma, addr, ip, size, ino, dev_error;
};

/* Coding state along one chunk, the same in both directions. */
struct coder {
	__u64 stamp[BUCKETS];	/* previous stamp in units: per bucket (< 8), [0] for all (8) */
	struct fault fault[VMA_CLASSES]; /* by vma_class */
	__u64 file_ino;		/* previous KFILE's ino */
	__u64 sys_len;		/* previous KSYSCALL's args[1] */
	__u64 rss[RSS_MEMBERS];	/* previous KRSS bytes of each member */
};

/* Word 1 is a timestamp (stored as a difference) in every bucket but these. */
static bool word1_is_stamp(unsigned bucket)
{
	return bucket != MH_REC_STACK && bucket != MH_REC_LEAK;
}

/*
 * Word 2 is the start of the span word 1 ends (a reclaim, a syscall, a
 * scan): stored as the span's length in units (version 7 on), a byte or
 * two instead of a second absolute stamp's noisy low bytes.
 */
static bool word2_is_start(unsigned bucket)
{
	return bucket == (MH_REC_KRECLAIM & 0xff) || bucket == (MH_REC_KSYSCALL & 0xff) ||
	       bucket == MH_REC_SCAN_COST;
}

/* Leading words of a record of this bucket that go to columns (header included). */
static unsigned column_words(const struct layout *l, unsigned bucket)
{
	unsigned fixed = bucket < MH_REC_TYPE_LIMIT ? mh_rec_min_sizes[bucket] / 8 : 0;

	if (!l->every_field || !fixed)
		return OLD_COLUMN_WORDS;
	return fixed < COLUMN_WORDS_MAX ? fixed : COLUMN_WORDS_MAX;
}

static inline __u64 zigzag(__u64 d)
{
	return d << 1 ^ (__u64)((__s64)d >> 63);
}

static inline __u64 unzigzag(__u64 z)
{
	return z >> 1 ^ -(z & 1);
}

/* Word k of a plane-split area of nwords words. */
static inline __u64 gather(const unsigned char *planes, size_t nwords, size_t k)
{
	__u64 v = 0;

	for (unsigned b = 0; b < 8; b++)
		v |= (__u64)planes[b * nwords + k] << (8 * b);
	return v;
}

static inline void scatter(unsigned char *planes, size_t nwords, size_t k, __u64 v)
{
	for (unsigned b = 0; b < 8; b++)
		planes[b * nwords + k] = (unsigned char)(v >> (8 * b));
}

/* Swap the off-diagonal blocks of words a and b, bits wide, where mask has them in b. */
#define SWAP_BLOCKS(a, b, bits, mask)                                                              \
	do {                                                                                      \
		__u64 t_ = ((a) >> (bits) ^ (b)) & (mask);                                         \
		(a) ^= t_ << (bits);                                                              \
		(b) ^= t_;                                                                        \
	} while (0)

/*
 * Eight words as an 8x8 byte matrix, transposed from in to out: byte b
 * of word j becomes byte j of word b (its own inverse). Three rounds,
 * each swapping the off-diagonal halves of ever smaller blocks (as
 * Hacker's Delight transposes a bit matrix): 4-byte halves of words 4
 * apart, 2-byte ones of words 2 apart, bytes of neighbours. Stored as
 * words, the result is the eight planes' bytes of eight consecutive
 * values: 8 stores instead of 64. in is read a word at a time into
 * registers: gcc otherwise reads it 16 bytes at a time, each read
 * spanning two of the 8-byte stores that just filled it, and waits for
 * them to reach the cache (a store-forwarding stall: the encoder ran 30%
 * slower than a byte at a time).
 */
static inline void transpose8(const __u64 in[GROUP], __u64 out[GROUP])
{
	__u64 a0 = in[0], a1 = in[1], a2 = in[2], a3 = in[3];
	__u64 a4 = in[4], a5 = in[5], a6 = in[6], a7 = in[7];

	__asm__("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6),
		"+r"(a7));
	SWAP_BLOCKS(a0, a4, 32, 0x00000000ffffffffULL);
	SWAP_BLOCKS(a1, a5, 32, 0x00000000ffffffffULL);
	SWAP_BLOCKS(a2, a6, 32, 0x00000000ffffffffULL);
	SWAP_BLOCKS(a3, a7, 32, 0x00000000ffffffffULL);
	SWAP_BLOCKS(a0, a2, 16, 0x0000ffff0000ffffULL);
	SWAP_BLOCKS(a1, a3, 16, 0x0000ffff0000ffffULL);
	SWAP_BLOCKS(a4, a6, 16, 0x0000ffff0000ffffULL);
	SWAP_BLOCKS(a5, a7, 16, 0x0000ffff0000ffffULL);
	SWAP_BLOCKS(a0, a1, 8, 0x00ff00ff00ff00ffULL);
	SWAP_BLOCKS(a2, a3, 8, 0x00ff00ff00ff00ffULL);
	SWAP_BLOCKS(a4, a5, 8, 0x00ff00ff00ff00ffULL);
	SWAP_BLOCKS(a6, a7, 8, 0x00ff00ff00ff00ffULL);
	out[0] = a0;
	out[1] = a1;
	out[2] = a2;
	out[3] = a3;
	out[4] = a4;
	out[5] = a5;
	out[6] = a6;
	out[7] = a7;
}

static unsigned words_of(__u64 hdr)
{
	return (unsigned)((hdr >> 32) / 8);	/* struct mh_rec_hdr: size in the high half */
}

/*
 * Where a column lives: its first word (in words from the start) and its
 * length, which is also the width of its planes. Before version 8 every
 * column is part of one plane-split area as wide as the chunk.
 */
struct column {
	__u32 start, len, next;		/* words; a chunk has at most 2M */
	__u32 group;			/* 1 + its group in columns.groups; 0: none */
};

struct columns {
	struct column col[BUCKETS][COLUMN_WORDS_MAX];	/* [b][0]: unused */
	struct column hdr;				/* the header words */
	__u32 tail;					/* next tail word */
	__u32 groups_used;
	__u64 groups[GROUPS_MAX][GROUP];		/* values on their way */
};

static void count_words(const struct layout *l, struct columns *c, unsigned bucket,
			unsigned words)
{
	unsigned n = column_words(l, bucket);

	for (unsigned i = 1; i < words && i < n; i++)
		c->col[bucket][i].len++;
}

/* Give col a group if it has a whole one and one is left (version 8 on). */
static void give_group(const struct layout *l, struct columns *c, struct column *col)
{
	if (GROUPS_WORK && l->every_field && col->len >= GROUP && c->groups_used < GROUPS_MAX)
		col->group = ++c->groups_used;
}

/* Lay the columns out after the count header words; the tail follows them. */
static void place_columns(const struct layout *l, struct columns *c, __u32 count)
{
	__u32 start = count;

	c->hdr = (struct column){ 0, count, 0, 0 };
	c->groups_used = 0;
	give_group(l, c, &c->hdr);
	for (unsigned b = 0; b < BUCKETS; b++) {
		for (unsigned i = 1; i < COLUMN_WORDS_MAX; i++) {
			c->col[b][i].start = c->col[b][i].next = start;
			start += c->col[b][i].len;
			give_group(l, c, &c->col[b][i]);
		}
	}
	c->tail = start;
}

/* Value k of col goes through col's group: it has one, and k is in a whole group of eight. */
static inline bool grouped(const struct column *col, __u32 k)
{
	return col->group && k < (col->len & ~(__u32)(GROUP - 1));
}

static inline void put(const struct layout *l, struct columns *c, unsigned char *out,
		       struct column *col, __u64 v)
{
	unsigned char *planes = out + col->start * 8ULL;
	__u32 k = col->next++ - col->start;
	__u64 *g;

	if (!l->every_field) {
		scatter(out, l->nwords, col->next - 1, v);
		return;
	}
	if (!grouped(col, k)) {
		scatter(planes, col->len, k, v);
		return;
	}
	g = c->groups[col->group - 1];
	g[k % GROUP] = v;
	if (k % GROUP == GROUP - 1) {
		__u64 p[GROUP];

		transpose8(g, p);
		for (unsigned b = 0; b < 8; b++)
			memcpy(planes + (size_t)b * col->len + k - (GROUP - 1), &p[b], 8);
	}
}

static inline __u64 get(const struct layout *l, struct columns *c, const unsigned char *in,
			struct column *col)
{
	const unsigned char *planes = in + col->start * 8ULL;
	__u32 k = col->next++ - col->start;
	__u64 *g;

	if (!l->every_field)
		return gather(in, l->nwords, col->next - 1);
	if (!grouped(col, k))
		return gather(planes, col->len, k);
	g = c->groups[col->group - 1];
	if (k % GROUP == 0) {
		__u64 p[GROUP];

		for (unsigned b = 0; b < 8; b++)
			memcpy(&p[b], planes + (size_t)b * col->len + k, 8);
		transpose8(p, g);
	}
	return g[k % GROUP];
}

/* The stamp difference word 1 is stored as; updates the coder. */
static __u64 code_stamp(const struct layout *l, struct coder *k, unsigned b, __u64 units)
{
	__u64 *last = &k->stamp[l->every_field ? 0 : b], d = units - *last;

	*last = units;
	k->stamp[b] = units;	/* the span's end, for word 2 */
	return l->every_field ? zigzag(d) : d;
}

static void remember_fault(struct fault *f, const __u64 *w)
{
	*f = (struct fault){ .vma = w[4], .addr = w[2], .ip = w[3], .size = w[5] - w[4],
			     .ino = w[7], .dev_error = w[8] };
}

/*
 * A KFAULT (w, 11 words) against the last one of its vma class (f):
 * addr against that one's when in the same vma, else against vma_start;
 * the vma's size instead of its end; the rest XOR or minus the same field.
 */
static void encode_fault(struct fault *f, const __u64 *w, __u64 *t)
{
	t[2] = w[4] == f->vma ? zigzag(w[2] - f->addr) : w[2] - w[4];
	t[3] = w[3] ^ f->ip;
	t[4] = w[4] ^ f->vma;
	t[5] = (w[5] - w[4]) ^ f->size;
	t[7] = zigzag(w[7] - f->ino);
	t[8] = w[8] ^ f->dev_error;
	remember_fault(f, w);
}

/* Undo encode_fault in place: word 10 (the class) is as it was. */
static void decode_fault(struct fault *f, __u64 *w)
{
	w[4] ^= f->vma;
	w[2] = w[4] == f->vma ? f->addr + unzigzag(w[2]) : w[2] + w[4];
	w[3] ^= f->ip;
	w[5] = (w[5] ^ f->size) + w[4];
	w[7] = f->ino + unzigzag(w[7]);
	w[8] ^= f->dev_error;
	remember_fault(f, w);
}

/* Words a record's coding replaces: the mask of their indices. */
#define CODED(i) (1U << (i))

/*
 * The coded column words of record w of bucket b (n: its column words):
 * t[i] for each i set in the mask returned; the others are stored as they
 * are. Every transform reads only words the decoder has already rebuilt.
 */
static unsigned encode_record(const struct layout *l, struct coder *k, unsigned b, unsigned n,
			      const __u64 *w, __u64 *t)
{
	unsigned coded = 0;

	if (n > 1 && word1_is_stamp(b)) {
		t[1] = code_stamp(l, k, b, mh_time_units(w[1], l->unit_ns));
		coded |= CODED(1);
	}
	if (n > 2 && l->spans && word2_is_start(b)) {
		t[2] = k->stamp[b] - mh_time_units(w[2], l->unit_ns);
		coded |= CODED(2);
	}
	if (!l->every_field)
		return coded;
	if (b == MH_REC_KFAULT && n > 10) {
		encode_fault(&k->fault[w[10] % VMA_CLASSES], w, t);
		coded |= CODED(2) | CODED(3) | CODED(4) | CODED(5) | CODED(7) | CODED(8);
	} else if (b == MH_REC_KFILE && n > 2) {
		t[2] = zigzag(w[2] - k->file_ino);
		k->file_ino = w[2];
		if (l->file_names_fault)
			k->fault[MH_VMA_FILE].ino = w[2];
		coded |= CODED(2);
	} else if (b == MH_REC_KSYSCALL && n > 4) {
		t[4] = w[4] ^ k->sys_len;	/* munmap's length is mmap's */
		k->sys_len = w[4];
		coded |= CODED(4);
	} else if (b == MH_REC_KRSS && n > 4) {
		__u64 *last = &k->rss[w[4] % RSS_MEMBERS];

		t[2] = zigzag(w[2] - *last);
		*last = w[2];
		coded |= CODED(2);
	}
	return coded;
}

/* Undo encode_record in place: w[1..n) holds the column words. */
static void decode_record(const struct layout *l, struct coder *k, unsigned b, unsigned n,
			  __u64 *w)
{
	if (n > 1 && word1_is_stamp(b)) {
		__u64 *last = &k->stamp[l->every_field ? 0 : b];

		*last += l->every_field ? unzigzag(w[1]) : w[1];
		k->stamp[b] = *last;
		w[1] = *last * l->unit_ns;
	}
	if (n > 2 && l->spans && word2_is_start(b))
		w[2] = (k->stamp[b] - w[2]) * l->unit_ns;
	if (!l->every_field)
		return;
	if (b == MH_REC_KFAULT && n > 10) {
		decode_fault(&k->fault[w[10] % VMA_CLASSES], w);
	} else if (b == MH_REC_KFILE && n > 2) {
		w[2] = k->file_ino += unzigzag(w[2]);
		if (l->file_names_fault)
			k->fault[MH_VMA_FILE].ino = w[2];
	} else if (b == MH_REC_KSYSCALL && n > 4) {
		w[4] = k->sys_len ^= w[4];
	} else if (b == MH_REC_KRSS && n > 4) {
		__u64 *last = &k->rss[w[4] % RSS_MEMBERS];

		w[2] = *last += unzigzag(w[2]);
	}
}

static void layout_of(struct layout *l, unsigned version, __u32 unit_ns, size_t bytes)
{
	l->every_field = version >= MH_TRACE_VERSION_FIELD_COLUMNS;
	l->spans = version >= MH_TRACE_VERSION_TIME_UNIT;
	l->file_names_fault = version >= MH_TRACE_VERSION_FILE_FAULT;
	l->unit_ns = unit_ns;
	l->nwords = bytes / 8;
}

/* Copy one tail word: as it is (version 8) or into the planes. */
static inline void put_tail(const struct layout *l, unsigned char *out, struct columns *c, __u64 v)
{
	if (l->every_field)
		memcpy(out + c->tail++ * 8ULL, &v, 8);
	else
		scatter(out, l->nwords, c->tail++, v);
}

static inline __u64 get_tail(const struct layout *l, const unsigned char *in, struct columns *c)
{
	__u64 v;

	if (!l->every_field)
		return gather(in, l->nwords, c->tail++);
	memcpy(&v, in + c->tail++ * 8ULL, 8);
	return v;
}

void mh_trace_columns_encode(const void *records, size_t bytes, __u32 count, unsigned version,
			     __u32 unit_ns, void *out)
{
	struct columns c;
	struct coder k;
	const unsigned char *p = records;
	struct layout l;
	__u64 hdr, t[COLUMN_WORDS_MAX];
	size_t off;
	__u32 n;

	layout_of(&l, version, unit_ns, bytes);
	memset(&c, 0, sizeof(c));
	memset(&k, 0, sizeof(k));
	for (off = 0, n = 0; off < bytes && n < count; n++) {
		memcpy(&hdr, p + off, sizeof(hdr));
		count_words(&l, &c, hdr & (BUCKETS - 1), words_of(hdr));
		off += words_of(hdr) * 8ULL;
	}
	place_columns(&l, &c, count);
	for (off = 0, n = 0; off < bytes && n < count; n++) {
		const __u64 *w = (const __u64 *)(p + off);
		unsigned words = words_of(w[0]), b = w[0] & (BUCKETS - 1), i, coded;
		unsigned cols = column_words(&l, b) < words ? column_words(&l, b) : words;

		coded = encode_record(&l, &k, b, cols, w, t);
		put(&l, &c, out, &c.hdr, w[0]);
		for (i = 1; i < cols; i++)
			put(&l, &c, out, &c.col[b][i], coded & CODED(i) ? t[i] : w[i]);
		for (; i < words; i++)
			put_tail(&l, out, &c, w[i]);
		off += words * 8ULL;
	}
}

/* Check the header words and count the columns. 0 or -EBADMSG. */
static int read_headers(const struct layout *l, const unsigned char *packed, __u32 count,
			struct columns *c)
{
	struct column hdrs = { 0, count, 0, 0 };
	size_t total = 0;
	__u64 hdr;

	if (count > l->nwords)
		return -EBADMSG;
	memset(c, 0, sizeof(*c));
	c->hdr.len = count;
	give_group(l, c, &hdrs);
	for (__u32 n = 0; n < count; n++) {
		hdr = get(l, c, packed, &hdrs);
		if (words_of(hdr) == 0 || (hdr >> 32) % 8 || words_of(hdr) > l->nwords - total)
			return -EBADMSG;
		total += words_of(hdr);
		count_words(l, c, hdr & (BUCKETS - 1), words_of(hdr));
	}
	return total == l->nwords ? 0 : -EBADMSG;
}

int mh_trace_columns_decode(const void *packed, size_t bytes, __u32 count, unsigned version,
			    __u32 unit_ns, void *out)
{
	struct columns c;
	struct coder k;
	struct layout l;
	__u64 *w = out;
	int err;

	if (bytes % 8 || bytes > MH_CHUNK_MAX_RAW_BYTES)
		return -EBADMSG;
	layout_of(&l, version, unit_ns, bytes);
	err = read_headers(&l, packed, count, &c);
	if (err)
		return err;
	place_columns(&l, &c, count);
	memset(&k, 0, sizeof(k));
	for (__u32 n = 0; n < count; n++) {
		__u64 hdr = get(&l, &c, packed, &c.hdr);
		unsigned words = words_of(hdr), b = hdr & (BUCKETS - 1), i;
		unsigned cols = column_words(&l, b) < words ? column_words(&l, b) : words;

		w[0] = hdr;
		for (i = 1; i < cols; i++)
			w[i] = get(&l, &c, packed, &c.col[b][i]);
		decode_record(&l, &k, b, cols, w);
		for (; i < words; i++)
			w[i] = get_tail(&l, packed, &c);
		w += words;
	}
	return 0;
}

unsigned mh_trace_columns_sections(const void *packed, size_t bytes, __u32 count,
				   size_t ends[MH_TRACE_COLUMNS_SECTIONS])
{
	struct columns c;
	struct layout l;
	unsigned n = 0;

	_Static_assert(MH_TRACE_COLUMNS_SECTIONS == 2 + BUCKETS * (COLUMN_WORDS_MAX - 1),
		       "the header words, each column, the variable parts");
	if (bytes % 8 || bytes > MH_CHUNK_MAX_RAW_BYTES)
		return 0;
	layout_of(&l, MH_TRACE_VERSION, 1, bytes);
	if (read_headers(&l, packed, count, &c))
		return 0;
	place_columns(&l, &c, count);
	ends[n++] = count * 8ULL;
	for (unsigned b = 0; b < BUCKETS; b++) {
		for (unsigned i = 1; i < COLUMN_WORDS_MAX; i++) {
			if (c.col[b][i].len)
				ends[n++] = (c.col[b][i].start + (size_t)c.col[b][i].len) * 8;
		}
	}
	if (ends[n - 1] < bytes)
		ends[n++] = bytes;
	return n;
}
