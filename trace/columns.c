// SPDX-License-Identifier: MIT
/*
 * columns.c - the column layout of chunk payloads (trace_columns.h,
 * docs/FORMAT.md "Column layout").
 *
 * Records of one type repeat the same fields: a timestamp a little larger
 * than the last one, an address, a size, a stack id, the same tid and pid.
 * Back to back they interleave into bytes zstd matches poorly; as columns,
 * with timestamps as differences and each word's eight bytes in eight
 * planes, the high bytes become long runs of zeros. Both directions make
 * two passes over the chunk and keep no state between chunks, so every
 * chunk stays readable on its own. Never allocates, never prints.
 */
#include "trace/columns.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "memhook/events.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "trace/records.h"

/* Words 0..COLUMN_WORDS-1 of a record go to columns, the rest to the tail area. */
#define COLUMN_WORDS 8
/* Records are sorted into columns by type modulo this. */
#define BUCKETS 256

/* Word 1 is a timestamp (stored as a difference) in every bucket but these. */
static bool word1_is_delta(unsigned bucket)
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

static unsigned words_of(__u64 hdr)
{
	return (unsigned)((hdr >> 32) / 8);	/* struct mh_rec_hdr: size in the high half */
}

/* Where each column starts: columns after the count header words, then the tails. */
static size_t column_starts(__u32 counts[BUCKETS][COLUMN_WORDS], size_t start,
			    size_t pos[BUCKETS][COLUMN_WORDS])
{
	for (unsigned b = 0; b < BUCKETS; b++) {
		for (unsigned i = 1; i < COLUMN_WORDS; i++) {
			pos[b][i] = start;
			start += counts[b][i];
		}
	}
	return start;
}

static void count_words(__u32 counts[BUCKETS][COLUMN_WORDS], unsigned bucket, unsigned words)
{
	for (unsigned i = 1; i < words && i < COLUMN_WORDS; i++)
		counts[bucket][i]++;
}

void mh_trace_columns_encode(const void *records, size_t bytes, __u32 count, __u32 unit_ns,
			     void *out)
{
	__u32 counts[BUCKETS][COLUMN_WORDS];
	size_t pos[BUCKETS][COLUMN_WORDS];
	const unsigned char *p = records;
	size_t nwords = bytes / 8, tail, off;
	__u64 last[BUCKETS] = { 0 }, hdr, v;
	__u32 n;

	memset(counts, 0, sizeof(counts));
	for (off = 0, n = 0; off < bytes && n < count; n++) {
		memcpy(&hdr, p + off, sizeof(hdr));
		count_words(counts, hdr & (BUCKETS - 1), words_of(hdr));
		off += words_of(hdr) * 8ULL;
	}
	tail = column_starts(counts, count, pos);
	for (off = 0, n = 0; off < bytes && n < count; n++) {
		const __u64 *w = (const __u64 *)(p + off);
		unsigned words = words_of(w[0]), b = w[0] & (BUCKETS - 1), i;

		scatter(out, nwords, n, w[0]);
		for (i = 1; i < words && i < COLUMN_WORDS; i++) {
			v = w[i];
			if (i == 1 && word1_is_delta(b)) {
				v = mh_time_units(v, unit_ns);
				v -= last[b];
				last[b] = mh_time_units(w[1], unit_ns);
			} else if (i == 2 && word2_is_start(b)) {
				v = last[b] - mh_time_units(v, unit_ns);
			}
			scatter(out, nwords, pos[b][i]++, v);
		}
		for (; i < words; i++)
			scatter(out, nwords, tail++, w[i]);
		off += words * 8ULL;
	}
}

/* Check the header words and count the columns. 0 or -EBADMSG. */
static int read_headers(const unsigned char *packed, size_t nwords, __u32 count,
			__u32 counts[BUCKETS][COLUMN_WORDS])
{
	size_t total = 0;
	__u64 hdr;

	if (count > nwords)
		return -EBADMSG;
	memset(counts, 0, sizeof(__u32) * BUCKETS * COLUMN_WORDS);
	for (__u32 n = 0; n < count; n++) {
		hdr = gather(packed, nwords, n);
		if (words_of(hdr) == 0 || (hdr >> 32) % 8 || words_of(hdr) > nwords - total)
			return -EBADMSG;
		total += words_of(hdr);
		count_words(counts, hdr & (BUCKETS - 1), words_of(hdr));
	}
	return total == nwords ? 0 : -EBADMSG;
}

int mh_trace_columns_decode(const void *packed, size_t bytes, __u32 count, unsigned version,
			    __u32 unit_ns, void *out)
{
	__u32 counts[BUCKETS][COLUMN_WORDS];
	size_t pos[BUCKETS][COLUMN_WORDS];
	size_t nwords = bytes / 8, tail;
	__u64 last[BUCKETS] = { 0 };
	bool spans = version >= MH_TRACE_VERSION_TIME_UNIT;
	__u64 *w = out;
	int err;

	if (bytes % 8)
		return -EBADMSG;
	err = read_headers(packed, nwords, count, counts);
	if (err)
		return err;
	tail = column_starts(counts, count, pos);
	for (__u32 n = 0; n < count; n++) {
		__u64 hdr = gather(packed, nwords, n);
		unsigned words = words_of(hdr), b = hdr & (BUCKETS - 1), i;

		w[0] = hdr;
		for (i = 1; i < words && i < COLUMN_WORDS; i++) {
			w[i] = gather(packed, nwords, pos[b][i]++);
			if (i == 1 && word1_is_delta(b)) {
				last[b] += w[1];
				w[1] = last[b] * unit_ns;
			} else if (i == 2 && spans && word2_is_start(b)) {
				w[2] = (last[b] - w[2]) * unit_ns;
			}
		}
		for (; i < words; i++)
			w[i] = gather(packed, nwords, tail++);
		w += words;
	}
	return 0;
}
