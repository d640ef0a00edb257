/* SPDX-License-Identifier: MIT */
/*
 * suppress.h - leak suppressions in the two formats CI users already
 * have: LeakSanitizer's "leak:PATTERN" lines and Valgrind's .supp entries
 * of kind Memcheck:Leak (fun:/obj: frames, "..." wildcards,
 * match-leak-kinds). Never prints; a bad file is an error with its line.
 */
#ifndef MEMHOOK_MERGER_LEAKS_SUPPRESS_H
#define MEMHOOK_MERGER_LEAKS_SUPPRESS_H

#include <stddef.h>

/* One symbolized frame as the matcher sees it; any field may be NULL. */
struct mh_supp_frame {
	const char *function;	/* symbol as in the binary (mangled for C++) */
	const char *demangled;	/* demangled name, or NULL when the same */
	const char *file;	/* source file */
	const char *module;	/* path of the ELF module */
};

struct mh_suppressions;

/* An empty set. NULL with errno set on allocation failure. */
struct mh_suppressions *mh_suppressions_new(void);

/* Free a set. Accepts NULL. */
void mh_suppressions_free(struct mh_suppressions *s);

/*
 * Add the suppressions of a file, recognising its format by content.
 * Returns 0 or -errno: the open/read error, or -EINVAL for a malformed
 * file; error (at least 256 bytes) then holds one line naming the file,
 * the line number and the cause.
 */
int mh_suppressions_load(struct mh_suppressions *s, const char *path, char *error,
			 size_t error_bytes);

/*
 * The name of the first suppression matching a leak of kind (enum
 * mh_leak_kind) whose stack is frames[0..count), innermost first, with
 * frames[0] the allocation function itself (malloc, _Znwm, ...), as
 * Valgrind shows it. NULL if none matches.
 */
const char *mh_suppressions_match(const struct mh_suppressions *s,
				  const struct mh_supp_frame *frames, size_t count,
				  unsigned int kind);

/* Number of suppressions loaded. */
size_t mh_suppressions_count(const struct mh_suppressions *s);

#endif /* MEMHOOK_MERGER_LEAKS_SUPPRESS_H */
