// SPDX-License-Identifier: MIT
/*
 * fuzz_compact_decode.c - libFuzzer entry for the compact chunk decoder
 * (trace/compact.c) on its own, below zstd and the chunk CRC, which
 * mutated traces seldom get through. Input: the promised record bytes
 * (__u32: bits 31 and 30 set for the current version's encoding, or with
 * bit 0 version 8's (as 6's and 7's), with bit 1 version 9's, bit 31 alone
 * for version 5's, bit 31 clear for version 4's; bits 20-29 the time unit
 * less 1, ns; the rest capped, bits 0 and 1 cleared with bits 31 and 30),
 * the promised record count (__u32), then
 * the encoded payload. The decoder must return 0 or an error, never read past the
 * payload or write past the promised bytes (AddressSanitizer checks both:
 * the output buffer is exactly that long).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/trace.h"
#include "trace/compact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Output bytes the fuzzer may ask for: a chunk's limit would make every run slow. */
#define FUZZ_MAX_RAW_BYTES (1U << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mh_trace_compact *c;
	static volatile unsigned char sink;
	__u32 raw_bytes, count;
	unsigned char *out, *packed;
	size_t len;

	if (size < 8)
		return 0;
	if (!c)
		c = mh_trace_compact_new();
	if (!c)
		return 0;
	memcpy(&raw_bytes, data, 4);
	memcpy(&count, data + 4, 4);
	mh_trace_compact_set_version(c, raw_bytes >> 30 != 3 ? (raw_bytes >> 31 ? 5 : 4) :
					raw_bytes & 1 ? 8 : raw_bytes & 2 ? 9 : MH_TRACE_VERSION);
	mh_trace_compact_set_time_unit(c, (raw_bytes >> 20 & 0x3ff) + 1);
	raw_bytes = (raw_bytes >> 30 == 3 ? raw_bytes & ~3U : raw_bytes) % FUZZ_MAX_RAW_BYTES;
	len = size - 8;
	/* Exact-size copies, so any over-read or over-write is outside an allocation. */
	out = malloc(raw_bytes ? raw_bytes : 1);
	packed = malloc(len ? len : 1);
	if (out && packed) {
		memcpy(packed, data + 8, len);
		if (mh_trace_compact_decode(c, packed, len, out, raw_bytes, count) == 0) {
			for (__u32 i = 0; i < raw_bytes; i++)
				sink ^= out[i];
		}
	}
	free(out);
	free(packed);
	return 0;
}
