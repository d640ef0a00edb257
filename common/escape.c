// SPDX-License-Identifier: MIT
/*
 * escape.c - write untrusted names as text (escape.h). Must never pass a
 * control byte or invalid UTF-8 through.
 */
#include "common/escape.h"

#include <stdbool.h>
#include <string.h>

int mh_utf8_len(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	int n, i;

	if (!s[0])
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		/* No overlong forms (E0 80-9F) and no surrogates (ED A0-BF). */
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		/* No overlong forms (F0 80-8F) and nothing above U+10FFFF (F4 90-BF). */
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* Is the character of n bytes at s printable as it is? */
static bool printable(const unsigned char *s, int n)
{
	if (n == 1)
		return s[0] >= 0x20 && s[0] != 0x7f;
	/* U+0080-U+009F (C2 80-9F): C1 controls, CSI among them. */
	return !(n == 2 && s[0] == 0xc2 && s[1] < 0xa0);
}

/* Escape s by chunks: put(chunk, bytes, arg) for each piece; stops when put returns false. */
static void escape(const char *str, bool (*put)(const char *chunk, size_t bytes, void *arg),
		   void *arg)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;

	while (s && *s) {
		int n = mh_utf8_len((const char *)s);

		if (n && printable(s, n)) {
			if (!put((const char *)s, (size_t)n, arg))
				return;
			s += n;
			continue;
		}
		n = n ? n : 1;
		for (int i = 0; i < n; i++, s++) {
			char esc[4] = { '\\', 'x', hex[*s >> 4], hex[*s & 15] };

			if (!put(esc, sizeof(esc), arg))
				return;
		}
	}
}

static bool put_file(const char *chunk, size_t bytes, void *arg)
{
	return fwrite(chunk, 1, bytes, arg) == bytes;
}

void mh_escape_fputs(const char *s, FILE *out)
{
	escape(s, put_file, out);
}

struct buf {
	char *p;
	size_t used, len;
};

static bool put_buf(const char *chunk, size_t bytes, void *arg)
{
	struct buf *b = arg;

	if (b->used + bytes >= b->len)
		return false;
	memcpy(b->p + b->used, chunk, bytes);
	b->used += bytes;
	return true;
}

const char *mh_escape_str(const char *s, char *out, size_t len)
{
	struct buf b = { .p = out, .len = len };

	if (!len)
		return out;
	escape(s, put_buf, &b);
	out[b.used] = '\0';
	return out;
}
