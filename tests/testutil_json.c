// SPDX-License-Identifier: MIT
/*
 * testutil_json.c - the suites' minimal JSON reader (testutil.h): a value
 * found by a dotted path, an array's elements, strings unescaped, integers.
 * Test code only: it may allocate and abort; it never parses more than the
 * path it is asked for.
 */
#include "tests/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * The JSON reader: a cursor over the text. skip_value() steps over any
 * value; find() walks one object level per path segment.
 */
static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

/* s at '"': the byte after the closing quote, or NULL. */
static const char *skip_string(const char *s)
{
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s ? s + 1 : NULL;
}

static const char *skip_value(const char *s, int depth)
{
	s = skip_ws(s);
	if (depth > 64 || !*s)
		return NULL;
	if (*s == '"')
		return skip_string(s);
	if (*s == '{' || *s == '[') {
		char close = *s == '{' ? '}' : ']';

		s = skip_ws(s + 1);
		if (*s == close)
			return s + 1;
		for (;;) {
			if (close == '}') {
				s = skip_ws(s);
				if (*s != '"' || !(s = skip_string(s)))
					return NULL;
				s = skip_ws(s);
				if (*s++ != ':')
					return NULL;
			}
			s = skip_value(s, depth + 1);
			if (!s)
				return NULL;
			s = skip_ws(s);
			if (*s == close)
				return s + 1;
			if (*s++ != ',')
				return NULL;
		}
	}
	/* number, true, false, null */
	if (!strchr("-0123456789tfn", *s))
		return NULL;
	while (*s && !strchr(",}] \t\r\n", *s))
		s++;
	return s;
}

/* In the object at s, the value of key (length len); NULL if absent. */
static const char *find_key(const char *s, const char *key, size_t len, int *err)
{
	s = skip_ws(s);
	if (*s != '{')
		return *err = -ENOENT, NULL;
	s = skip_ws(s + 1);
	while (*s == '"') {
		const char *k = s + 1, *end = skip_string(s);
		bool match;

		if (!end)
			break;
		match = (size_t)(end - 1 - k) == len && memcmp(k, key, len) == 0;
		s = skip_ws(end);
		if (*s++ != ':')
			break;
		if (match)
			return skip_ws(s);
		s = skip_value(s, 0);
		if (!s)
			break;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s == '}')
			return *err = -ENOENT, NULL;
		else
			break;
	}
	*err = -EBADMSG;
	return NULL;
}

/* The value at path, or NULL with *err set. */
static const char *find_path(const char *json, const char *path, int *err)
{
	const char *v = json, *seg = path, *dot;

	for (;; seg = dot + 1) {
		dot = strchr(seg, '.');
		v = find_key(v, seg, dot ? (size_t)(dot - seg) : strlen(seg), err);
		if (!v || !dot)
			return v;
	}
}

const char *mh_test_json_value(const char *json, const char *path)
{
	int err = 0;

	return find_path(json, path, &err);
}

const char *mh_test_json_element(const char *array, size_t i)
{
	const char *s = array ? skip_ws(array) : NULL;

	if (!s || *s != '[')
		return NULL;
	s = skip_ws(s + 1);
	if (*s == ']')
		return NULL;
	for (; i; i--) {
		s = skip_value(s, 0);
		if (!s)
			return NULL;
		s = skip_ws(s);
		if (*s != ',')
			return NULL;
		s = skip_ws(s + 1);
	}
	return s;
}

char *mh_test_json_string(const char *value)
{
	const char *s = value ? skip_ws(value) : NULL, *end = s && *s == '"' ? skip_string(s) : NULL;
	char *out, *o;

	if (!end)
		return NULL;
	out = o = malloc((size_t)(end - s));
	if (!out)
		abort();
	for (s++; s < end - 1; s++) {
		unsigned long u;
		char hex[5] = "";

		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			/* Tests compare ASCII: anything else becomes '?'. */
			memcpy(hex, s + 1, 4);
			u = strtoul(hex, NULL, 16);
			*o++ = u && u < 0x80 ? (char)u : '?';
			s += 4;
			break;
		default: *o++ = *s; break;	/* '"', '\\', '/' */
		}
	}
	*o = '\0';
	return out;
}

int mh_test_json_int(const char *json, const char *path, long long *out)
{
	const char *v;
	char *end;
	int err = 0;
	double d;

	v = find_path(json, path, &err);
	if (!v)
		return err;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (end != v && !errno && !strchr(".eE", *end))
		return 0;
	d = strtod(v, &end);
	if (end == v || errno || d != (double)(long long)d)
		return -EINVAL;
	*out = (long long)d;
	return 0;
}
