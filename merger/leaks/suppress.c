// SPDX-License-Identifier: MIT
/*
 * suppress.c - LeakSanitizer and Valgrind leak suppressions.
 *
 * LeakSanitizer: "leak:PATTERN" matches if PATTERN occurs in the
 * function, source file or module of any frame ('*' is a wildcard, '^'
 * and '$' anchor). Other sanitizer kinds in the same file are ignored.
 * Valgrind: { name / Memcheck:Leak / [match-leak-kinds: ...] / frames },
 * frames matched from the allocation function outwards; "fun:" against
 * the symbol (mangled or demangled), "obj:" against the module path,
 * "..." against any number of frames. Entries for other Valgrind error
 * kinds are skipped, as Valgrind itself would for a leak.
 */
#include "merger/leaks/suppress.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memhook/events.h"

/* Bit of a leak kind in a kind mask. */
#define KIND_BIT(kind) (1U << (kind))
#define ALL_KINDS (KIND_BIT(MH_LEAK_DEFINITE) | KIND_BIT(MH_LEAK_INDIRECT) | \
		   KIND_BIT(MH_LEAK_POSSIBLE) | KIND_BIT(MH_LEAK_REACHABLE))
/* Valgrind's limit on frames in one suppression. */
#define MAX_SUPP_FRAMES 500

enum frame_rule {
	RULE_FUN,	/* fun:GLOB */
	RULE_OBJ,	/* obj:GLOB */
	RULE_ANY,	/* ... */
};

struct supp_frame {
	enum frame_rule rule;
	char *glob;
};

struct supp {
	char *name;
	char *lsan_pattern;	/* LeakSanitizer entry if non-NULL */
	unsigned int kinds;	/* KIND_BIT mask */
	struct supp_frame *frames;
	size_t frame_count;
};

struct mh_suppressions {
	struct supp *entries;
	size_t count;
	size_t capacity;
};

/* The file being parsed, for error messages. */
struct parser {
	FILE *file;
	const char *path;
	unsigned int line_no;
	char *line;
	size_t line_cap;
	char *error;
	size_t error_bytes;
};

struct mh_suppressions *mh_suppressions_new(void)
{
	return calloc(1, sizeof(struct mh_suppressions));
}

static void supp_release(struct supp *e)
{
	free(e->name);
	free(e->lsan_pattern);
	for (size_t i = 0; i < e->frame_count; i++)
		free(e->frames[i].glob);
	free(e->frames);
}

void mh_suppressions_free(struct mh_suppressions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		supp_release(&s->entries[i]);
	free(s->entries);
	free(s);
}

size_t mh_suppressions_count(const struct mh_suppressions *s)
{
	return s->count;
}

/*
 * '*' and '?' only: Valgrind gives '[' and '\' no meaning in suppressions
 * (C++ names such as operator[] contain them), so fnmatch() would differ.
 */
static bool wildcard_match(const char *glob, const char *str)
{
	for (; *glob; glob++, str++) {
		if (*glob == '*') {
			for (const char *rest = str;; rest++) {
				if (wildcard_match(glob + 1, rest))
					return true;
				if (!*rest)
					return false;
			}
		}
		if (!*str || (*glob != '?' && *glob != *str))
			return false;
	}
	return !*str;
}

/* LeakSanitizer's template match: substring unless anchored by ^ or $. */
static bool lsan_match(const char *pattern, const char *str)
{
	size_t len = strlen(pattern);
	char glob[1024];
	bool anchored_start = pattern[0] == '^';
	bool anchored_end = len && pattern[len - 1] == '$';

	if (!str)
		return false;
	if (anchored_start)
		pattern++, len--;
	if (anchored_end)
		len--;
	if (len + 3 > sizeof(glob))
		return false;
	snprintf(glob, sizeof(glob), "%s%.*s%s", anchored_start ? "" : "*", (int)len, pattern,
		 anchored_end ? "" : "*");
	return wildcard_match(glob, str);
}

static bool frame_matches(const struct supp_frame *rule, const struct mh_supp_frame *f)
{
	if (rule->rule == RULE_OBJ)
		return f->module && wildcard_match(rule->glob, f->module);
	return (f->function && wildcard_match(rule->glob, f->function)) ||
	       (f->demangled && wildcard_match(rule->glob, f->demangled));
}

static bool frames_match(const struct supp *e, size_t rule, const struct mh_supp_frame *frames,
			 size_t count)
{
	if (rule == e->frame_count)
		return true;
	if (e->frames[rule].rule == RULE_ANY) {
		for (size_t skip = 0; skip <= count; skip++) {
			if (frames_match(e, rule + 1, frames + skip, count - skip))
				return true;
		}
		return false;
	}
	return count && frame_matches(&e->frames[rule], frames) &&
	       frames_match(e, rule + 1, frames + 1, count - 1);
}

static bool lsan_entry_matches(const struct supp *e, const struct mh_supp_frame *frames,
			       size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (lsan_match(e->lsan_pattern, frames[i].function) ||
		    lsan_match(e->lsan_pattern, frames[i].demangled) ||
		    lsan_match(e->lsan_pattern, frames[i].file) ||
		    lsan_match(e->lsan_pattern, frames[i].module))
			return true;
	}
	return false;
}

const char *mh_suppressions_match(const struct mh_suppressions *s,
				  const struct mh_supp_frame *frames, size_t count,
				  unsigned int kind)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct supp *e = &s->entries[i];

		if (!(e->kinds & KIND_BIT(kind)))
			continue;
		if (e->lsan_pattern ? lsan_entry_matches(e, frames, count) :
				      frames_match(e, 0, frames, count))
			return e->name;
	}
	return NULL;
}

static int fail(struct parser *p, const char *cause)
{
	snprintf(p->error, p->error_bytes, "%s:%u: %s", p->path, p->line_no, cause);
	return -EINVAL;
}

/* Next line with surrounding blanks removed, skipping blank and # lines. NULL at EOF. */
static char *next_line(struct parser *p)
{
	while (getline(&p->line, &p->line_cap, p->file) >= 0) {
		char *start = p->line, *end;

		p->line_no++;
		while (isspace((unsigned char)*start))
			start++;
		end = start + strlen(start);
		while (end > start && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*start && *start != '#')
			return start;
	}
	return NULL;
}

static struct supp *new_entry(struct mh_suppressions *s)
{
	if (s->count == s->capacity) {
		size_t grown = s->capacity ? 2 * s->capacity : 16;
		struct supp *entries = realloc(s->entries, grown * sizeof(*entries));

		if (!entries)
			return NULL;
		s->entries = entries;
		s->capacity = grown;
	}
	memset(&s->entries[s->count], 0, sizeof(struct supp));
	return &s->entries[s->count];
}

static int parse_kinds(struct parser *p, const char *list, unsigned int *kinds)
{
	static const struct { const char *name; unsigned int mask; } names[] = {
		{ "definite", KIND_BIT(MH_LEAK_DEFINITE) },
		{ "indirect", KIND_BIT(MH_LEAK_INDIRECT) },
		{ "possible", KIND_BIT(MH_LEAK_POSSIBLE) },
		{ "reachable", KIND_BIT(MH_LEAK_REACHABLE) },
		{ "all", ALL_KINDS },
		{ "none", 0 },
	};

	*kinds = 0;
	while (*list) {
		size_t len = strcspn(list, ", ");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (strlen(names[i].name) == len && !strncmp(names[i].name, list, len))
				break;
		}
		if (i == sizeof(names) / sizeof(names[0]))
			return fail(p, "unknown leak kind in match-leak-kinds");
		*kinds |= names[i].mask;
		list += len;
		list += strspn(list, ", ");
	}
	return 0;
}

static int add_frame(struct parser *p, struct supp *e, const char *line)
{
	struct supp_frame f = { 0 };
	struct supp_frame *frames;

	if (!strcmp(line, "..."))
		f.rule = RULE_ANY;
	else if (!strncmp(line, "fun:", 4))
		f.rule = RULE_FUN;
	else if (!strncmp(line, "obj:", 4))
		f.rule = RULE_OBJ;
	else
		return fail(p, "expected fun:, obj: or ... in a suppression");
	if (e->frame_count == MAX_SUPP_FRAMES)
		return fail(p, "too many frames in one suppression");
	if (f.rule != RULE_ANY && !(f.glob = strdup(line + 4)))
		return -ENOMEM;
	frames = realloc(e->frames, (e->frame_count + 1) * sizeof(*frames));
	if (!frames) {
		free(f.glob);
		return -ENOMEM;
	}
	e->frames = frames;
	e->frames[e->frame_count++] = f;
	return 0;
}

/* The body of a Valgrind entry, after its '{'. Adds it if it is a Memcheck leak. */
static int parse_valgrind_entry(struct parser *p, struct mh_suppressions *s)
{
	struct supp *e = new_entry(s);
	bool is_leak;
	char *line;
	int err = 0;

	if (!e)
		return -ENOMEM;
	if (!(line = next_line(p)) || !strcmp(line, "}"))
		return fail(p, "suppression without a name");
	if (!(e->name = strdup(line)))
		return -ENOMEM;
	if (!(line = next_line(p)))
		err = fail(p, "suppression without a tool:kind line");
	is_leak = !err && strstr(line, "Memcheck") && !strcmp(strchr(line, ':') ?: "", ":Leak");
	e->kinds = ALL_KINDS;
	while (!err && (line = next_line(p)) && strcmp(line, "}")) {
		if (!is_leak)
			continue;
		if (!strncmp(line, "match-leak-kinds:", 17))
			err = parse_kinds(p, line + 17 + strspn(line + 17, " "), &e->kinds);
		else
			err = add_frame(p, e, line);
	}
	if (!err && !line)
		err = fail(p, "suppression not closed by '}'");
	if (!err && is_leak && e->frame_count == 0)
		err = fail(p, "leak suppression without frames");
	if (err || !is_leak) {
		supp_release(e);
		return err;
	}
	s->count++;
	return 0;
}

/* One "kind:pattern" line of a LeakSanitizer file. */
static int parse_lsan_line(struct parser *p, struct mh_suppressions *s, const char *line)
{
	const char *colon = strchr(line, ':');
	struct supp *e;

	if (!colon || colon == line || !colon[1])
		return fail(p, "expected '{' or 'leak:PATTERN'");
	for (const char *c = line; c < colon; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_')
			return fail(p, "expected '{' or 'leak:PATTERN'");
	}
	if (strncmp(line, "leak:", 5))
		return 0;	/* another sanitizer's kind: not ours */
	if (!(e = new_entry(s)))
		return -ENOMEM;
	e->kinds = ALL_KINDS;
	e->name = strdup(line);
	e->lsan_pattern = strdup(colon + 1);
	if (!e->name || !e->lsan_pattern) {
		supp_release(e);
		return -ENOMEM;
	}
	s->count++;
	return 0;
}

int mh_suppressions_load(struct mh_suppressions *s, const char *path, char *error,
			 size_t error_bytes)
{
	struct parser p = { .path = path, .error = error, .error_bytes = error_bytes };
	char *line;
	int err = 0;

	p.file = fopen(path, "re");
	if (!p.file) {
		err = -errno;
		snprintf(error, error_bytes, "cannot read suppressions '%s': %s", path, strerror(-err));
		return err;
	}
	while (!err && (line = next_line(&p))) {
		if (!strcmp(line, "{"))
			err = parse_valgrind_entry(&p, s);
		else
			err = parse_lsan_line(&p, s, line);
	}
	if (!err && ferror(p.file)) {
		err = -EIO;
		snprintf(error, error_bytes, "cannot read suppressions '%s': %s", path, strerror(EIO));
	}
	free(p.line);
	fclose(p.file);
	return err;
}
