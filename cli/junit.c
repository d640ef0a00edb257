// SPDX-License-Identifier: MIT
/*
 * junit.c - JUnit XML for CI systems (Jenkins, GitLab, GitHub actions
 * parsers): the common subset of the schema they all accept. Must always
 * be well-formed XML, whatever bytes the program names hold.
 */
#include "cli/junit.h"

#include <errno.h>
#include <inttypes.h>

#include "common/escape.h"

/* U+FFFD, written for each byte that is not valid UTF-8. */
#define REPLACEMENT_CHAR "\xef\xbf\xbd"

/*
 * Escape for XML text and attribute values: markup characters as
 * entities, newline, tab and CR as character references (attribute values
 * keep them), other control bytes XML 1.0 forbids as the text "\xNN", and
 * invalid UTF-8 as U+FFFD.
 */
static void put_escaped(FILE *out, const char *str)
{
	for (const char *s = str; s && *s;) {
		unsigned char c = (unsigned char)*s;
		int n = mh_utf8_len(s);

		if (!n) {
			fputs(REPLACEMENT_CHAR, out);
			s++;
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case '\n': case '\t': case '\r': fprintf(out, "&#%u;", c); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else
				fwrite(s, 1, (size_t)n, out);
		}
		s += n;
	}
}

int mh_junit_write(FILE *out, const char *suite, const struct mh_junit_case *cases, size_t count,
		   uint64_t events_lost)
{
	size_t failures = 0;
	double seconds = 0;

	for (size_t i = 0; i < count; i++) {
		failures += cases[i].failed;
		seconds += cases[i].seconds;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", out);
	fputs("  <testsuite name=\"", out);
	put_escaped(out, suite);
	fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", count,
		failures, seconds);
	fprintf(out, "    <properties>\n      <property name=\"events_lost\" value=\"%" PRIu64
		"\"/>\n    </properties>\n", events_lost);
	for (size_t i = 0; i < count; i++) {
		fputs("    <testcase classname=\"memhook.leaks\" name=\"", out);
		put_escaped(out, cases[i].name);
		fprintf(out, "\" time=\"%.3f\"", cases[i].seconds);
		if (!cases[i].failed) {
			fputs(">\n      <system-out>", out);
			put_escaped(out, cases[i].message);
			fputs("</system-out>\n    </testcase>\n", out);
			continue;
		}
		fputs(">\n      <failure type=\"leak\" message=\"", out);
		put_escaped(out, cases[i].message);
		fputs("\">", out);
		put_escaped(out, cases[i].details);
		fputs("</failure>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	return ferror(out) ? -EIO : 0;
}
