// SPDX-License-Identifier: MIT
/*
 * fuzz_columns_decode.c - libFuzzer entry for the column layout decoder
 * (trace/columns.c) on its own, below zstd and the chunk CRC, which
 * mutated traces seldom get through. Input: a byte choosing the version
 * (odd: 7's; else bit 1 set: the current one, clear: 8's), a byte choosing
 * the time unit (1 << (byte % 12) ns), the promised record count (__u32),
 * then the laid-out records, whose length (rounded down to 8) is the
 * promised record bytes. The decoder must return 0 or -EBADMSG, never
 * read or write outside its two buffers (AddressSanitizer checks both:
 * each is exactly that long), and at a unit of 1 ns (where stamps cannot
 * wrap when multiplied back) the records of a layout it accepts must lay
 * out and read back as themselves.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/trace.h"
#include "trace/columns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned version;
	__u32 count, unit;
	size_t bytes;
	unsigned char *packed, *out, *again;

	if (size < 6)
		return 0;
	version = data[0] % 2 ? 7 : data[0] & 2 ? MH_TRACE_VERSION : 8;
	unit = 1U << (data[1] % 12);
	memcpy(&count, data + 2, 4);
	bytes = (size - 6) / 8 * 8;
	/* Exact-size copies, so any over-read or over-write is outside an allocation. */
	packed = malloc(bytes ? bytes : 1);
	out = malloc(bytes ? bytes : 1);
	again = malloc(bytes ? bytes : 1);
	if (packed && out && again) {
		memcpy(packed, data + 6, bytes);
		if (mh_trace_columns_decode(packed, bytes, count, version, unit, out) == 0 &&
		    unit == 1) {
			mh_trace_columns_encode(out, bytes, count, version, unit, again);
			mh_trace_columns_decode(again, bytes, count, version, unit, packed);
			if (memcmp(packed, out, bytes))
				abort();
		}
	}
	free(packed);
	free(out);
	free(again);
	return 0;
}
