// SPDX-License-Identifier: MIT
/*
 * json_writer.c - streaming JSON writer. Must never emit invalid JSON for any
 * input string: every byte that is not valid UTF-8 is replaced.
 */
#include "merger/report/json_writer.h"

#include <inttypes.h>

#include "common/escape.h"

void mh_json_init(struct mh_json *j, FILE *out)
{
	j->out = out;
	j->compact = false;
	j->depth = 0;
	j->has_items[0] = false;
}

static void indent(struct mh_json *j)
{
	int i;

	if (j->compact)
		return;
	fputc('\n', j->out);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

static void write_escaped(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', out);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', out);
			fputc(*s++, out);
		} else if (*s == '\n') {
			fputs("\\n", out);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", out);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(out, "\\u%04x", *s++);
		} else if ((n = mh_utf8_len((const char *)s)) > 0) {
			fwrite(s, 1, n, out);
			s += n;
		} else {
			fputs("\\ufffd", out);
			s++;
		}
	}
	fputc('"', out);
}

/* Comma, newline and indentation, then the key if any. */
static void member(struct mh_json *j, const char *key)
{
	if (j->has_items[j->depth])
		fputc(',', j->out);
	if (j->depth)
		indent(j);
	j->has_items[j->depth] = true;
	if (key) {
		write_escaped(j->out, key);
		fputs(j->compact ? ":" : ": ", j->out);
	}
}

static void open_scope(struct mh_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < MH_JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void close_scope(struct mh_json *j, char c)
{
	bool had = j->has_items[j->depth];

	if (j->depth)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->out);
}

void mh_json_object_begin(struct mh_json *j, const char *key)
{
	open_scope(j, key, '{');
}

void mh_json_object_end(struct mh_json *j)
{
	close_scope(j, '}');
}

void mh_json_array_begin(struct mh_json *j, const char *key)
{
	open_scope(j, key, '[');
}

void mh_json_array_end(struct mh_json *j)
{
	close_scope(j, ']');
}

void mh_json_uint(struct mh_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void mh_json_int(struct mh_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void mh_json_bool(struct mh_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->out);
}

void mh_json_null(struct mh_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->out);
}

void mh_json_string(struct mh_json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		write_escaped(j->out, s);
	else
		fputs("null", j->out);
}

void mh_json_hex(struct mh_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->out, "\"0x%" PRIx64 "\"", v);
}

void mh_json_finish(struct mh_json *j)
{
	fputc('\n', j->out);
}
