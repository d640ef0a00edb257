// SPDX-License-Identifier: MIT
/*
 * junit.c - JUnit XML for CI systems (Jenkins, GitLab, GitHub actions
 * parsers): the common subset of the schema they all accept.
 */
#include "cli/junit.h"

#include <errno.h>

/* Escape for XML text and attribute values; drops control characters XML 1.0 forbids. */
static void put_escaped(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t' || c == '\r')
				fputc(c, out);
		}
	}
}

int mh_junit_write(FILE *out, const char *suite, const struct mh_junit_case *cases, size_t count)
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
	for (size_t i = 0; i < count; i++) {
		fputs("    <testcase classname=\"memhook.leaks\" name=\"", out);
		put_escaped(out, cases[i].name);
		fprintf(out, "\" time=\"%.3f\"", cases[i].seconds);
		if (!cases[i].failed) {
			fputs("/>\n", out);
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
