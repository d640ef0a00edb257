// SPDX-License-Identifier: MIT
/*
 * fuzz_ring_reader.c - libFuzzer entry for the recorder's side of the
 * event ring (recorder/ring_consumer.c) and what the drainer does with the
 * records it reads (recorder/liveset.c): the input's first bytes overwrite
 * the shared header (sizes, flags: a program may write anything there),
 * the next ones the slot table (states, heads, tails, busy flags, owners),
 * the rest fills the slots. The ring is then drained the way the drainer
 * does it, merging the slots, every record handed out is applied to the
 * live set and its exit-scan ticket answered, and every byte handed out is
 * touched, so AddressSanitizer sees any access outside the mapping. A
 * corrupt slot must end the reading of that slot, never crash the reader.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/liveset.h"
#include "recorder/ring_consumer.h"

/* A small ring, so inputs wrap it. */
#define FUZZ_RING_BYTES 65536
/* Header bytes taken from the input (past magic and version: sizes, flags, futex words). */
#define FUZZ_HEADER_BYTES 256
/* Slot-table bytes taken from the input: the four slots of a 64 KiB ring. */
#define FUZZ_TABLE_BYTES (4 * sizeof(struct mh_slot_header))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply(struct mh_ring *ring, struct mh_liveset *ls, const unsigned char *buf,
		  size_t bytes)
{
	static volatile unsigned char sink;
	struct mh_exitscan_program prog;
	size_t off = 0;

	/* As the drainer does: the live set's slots for the whole batch, in groups. */
	for (size_t ahead = 0; ahead < bytes;)
		ahead = mh_liveset_prefetch(ls, buf, bytes, ahead, 8);
	while (off < bytes) {
		const struct mh_rec_hdr *rec = (const void *)(buf + off);

		for (size_t i = 0; i < rec->size; i++)
			sink ^= buf[off + i];
		if (mh_ring_record_error(rec))
			return;
		off += rec->size;
		if (rec->type == MH_REC_PROCESS) {
			(void)mh_liveset_admit(ls, (const void *)rec);
		} else if (rec->type == MH_REC_EXIT_SCAN) {
			(void)mh_liveset_take(ls, ((const struct mh_rec_exit_scan *)rec)->pid, &prog);
			mh_ring_answer(ring, ((const struct mh_rec_exit_scan *)rec)->ticket);
			free(prog.blocks);
			free(prog.regions);
		} else {
			/* One record at a time: each is checked above before it is applied. */
			struct mh_liveset_walk w = { .off = off - rec->size };

			mh_liveset_apply_events(ls, buf, off, &w);
		}
	}
}

/* Take up to max bytes of the input. */
static size_t take(const uint8_t **data, size_t *size, size_t max)
{
	size_t n = *size < max ? *size : max;

	*data += n;
	*size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *buf;
	struct mh_ring ring;
	struct mh_liveset *ls;
	const uint8_t *p = data;
	const char *why;
	size_t n;

	if (mh_ring_create(&ring, FUZZ_RING_BYTES, 0) || ring.slot_count != 4 ||
	    (!buf && !(buf = malloc(FUZZ_RING_BYTES))))
		abort();
	n = take(&data, &size, FUZZ_HEADER_BYTES);
	memcpy((unsigned char *)ring.hdr + 16, p, n);
	p = data;
	n = take(&data, &size, FUZZ_TABLE_BYTES);
	memcpy(ring.slots, p, n);
	memcpy(ring.data, data, size < FUZZ_RING_BYTES ? size : FUZZ_RING_BYTES);
	ls = mh_liveset_new();
	if (!ls)
		abort();
	for (int rounds = 0; rounds < 64; rounds++) {
		int err = mh_ring_read(&ring, buf, 4096, &n, &why);

		apply(&ring, ls, buf, n);
		mh_ring_release(&ring, n);
		if (rounds == 32)
			mh_ring_finish(&ring);
		if (!err && !n && rounds > 32)
			break;
	}
	(void)mh_ring_busy_slots(&ring);
	mh_liveset_free(ls);
	mh_ring_destroy(&ring);
	return 0;
}
