/* SPDX-License-Identifier: MIT */
/*
 * escape.h - names are data: program names, paths and symbols come from
 * the traced program and may hold any bytes. These helpers write them so
 * that a terminal, a text report or an XML/JSON parser sees them as text:
 * no control byte reaches a terminal, no invalid UTF-8 reaches a parser.
 * Never allocates.
 */
#ifndef MEMHOOK_COMMON_ESCAPE_H
#define MEMHOOK_COMMON_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Length of the valid UTF-8 sequence at s: 1 to 4 bytes, or 0 when s
 * starts with NUL or an invalid sequence (a stray continuation byte, an
 * overlong form, a UTF-16 surrogate, a code point above U+10FFFF, a
 * truncated sequence).
 */
int mh_utf8_len(const char *s);

/*
 * Write s to out for a terminal or a text file: valid UTF-8 as is, but
 * control bytes (C0, DEL, and the C1 controls U+0080-U+009F) and bytes of
 * invalid UTF-8 as "\xNN". A NULL s writes nothing.
 */
void mh_escape_fputs(const char *s, FILE *out);

/*
 * mh_escape_fputs() into buf (always NUL-terminated; cut short, on a
 * whole character, when len is too small). Returns buf.
 */
const char *mh_escape_str(const char *s, char *buf, size_t len);

#endif /* MEMHOOK_COMMON_ESCAPE_H */
