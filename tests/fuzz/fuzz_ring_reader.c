// SPDX-License-Identifier: MIT
/*
 * fuzz_ring_reader.c - libFuzzer entry for the recorder's side of the
 * event ring (recorder/ring_consumer.c) and what the drainer does with the
 * records it reads (recorder/liveset.c): the input's first bytes overwrite
 * the shared header (cursors, sizes, flags: a program may write anything
 * there), the rest fills the data area. The ring is then drained the way
 * the drainer does it, every record that passes the checks is applied to
 * the live set, and every byte handed out is touched, so AddressSanitizer
 * sees any access outside the mapping. A corrupt ring must end the
 * reading, never crash it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/liveset.h"
#include "recorder/ring_consumer.h"

/* A small ring, so inputs wrap it. */
#define FUZZ_RING_BYTES 65536
/* Header bytes taken from the input (past magic and version: the cursors and more). */
#define FUZZ_HEADER_BYTES 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply(struct mh_liveset *ls, const unsigned char *buf, size_t bytes)
{
	static volatile unsigned char sink;
	struct mh_exitscan_program prog;
	size_t off = 0;

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
			free(prog.blocks);
			free(prog.regions);
		} else {
			(void)mh_liveset_apply(ls, rec);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mh_ring ring;
	static unsigned char *buf;
	size_t head_bytes = size < FUZZ_HEADER_BYTES ? size : FUZZ_HEADER_BYTES, n;
	struct mh_liveset *ls;
	const char *why;

	if (!ring.hdr && (mh_ring_create(&ring, FUZZ_RING_BYTES, 0) ||
			  !(buf = malloc(FUZZ_RING_BYTES))))
		abort();
	ring.tail = 0;
	memset(ring.data, 0, FUZZ_RING_BYTES);
	memcpy((unsigned char *)ring.hdr + 16, data, head_bytes);
	memcpy(ring.data, data + head_bytes,
	       size - head_bytes < FUZZ_RING_BYTES ? size - head_bytes : FUZZ_RING_BYTES);
	ls = mh_liveset_new();
	if (!ls)
		abort();
	for (int rounds = 0; rounds < 64; rounds++) {
		int err = mh_ring_read(&ring, buf, 4096, &n, &why);

		apply(ls, buf, n);
		mh_ring_release(&ring, n);
		if (err || !n)
			break;
	}
	(void)mh_ring_pending_bytes(&ring);
	mh_liveset_free(ls);
	return 0;
}
