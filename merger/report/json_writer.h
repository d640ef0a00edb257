/* SPDX-License-Identifier: MIT */
/*
 * json_writer.h - a streaming JSON writer: objects, arrays, keys and scalars
 * written as they come, commas and indentation handled, strings escaped
 * (RFC 8259: quote, backslash, control characters; invalid UTF-8 bytes
 * become U+FFFD). Holds no document in memory. Never prints elsewhere.
 */
#ifndef MEMHOOK_MERGER_REPORT_JSON_WRITER_H
#define MEMHOOK_MERGER_REPORT_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Deepest nesting the writer tracks. */
#define MH_JSON_MAX_DEPTH 32

struct mh_json {
	FILE *out;
	bool compact;			/* no newlines or indentation (set after init) */
	int depth;
	bool has_items[MH_JSON_MAX_DEPTH];
};

void mh_json_init(struct mh_json *j, FILE *out);

/*
 * key is the member name inside an object, NULL inside an array or at
 * the top level.
 */
void mh_json_object_begin(struct mh_json *j, const char *key);
void mh_json_object_end(struct mh_json *j);
void mh_json_array_begin(struct mh_json *j, const char *key);
void mh_json_array_end(struct mh_json *j);
void mh_json_uint(struct mh_json *j, const char *key, uint64_t v);
void mh_json_int(struct mh_json *j, const char *key, int64_t v);
void mh_json_bool(struct mh_json *j, const char *key, bool v);
void mh_json_null(struct mh_json *j, const char *key);
/* A string; NULL writes null. */
void mh_json_string(struct mh_json *j, const char *key, const char *s);
/* A "0x..." string, for addresses. */
void mh_json_hex(struct mh_json *j, const char *key, uint64_t v);

/* End the document with a newline. */
void mh_json_finish(struct mh_json *j);

#endif /* MEMHOOK_MERGER_REPORT_JSON_WRITER_H */
