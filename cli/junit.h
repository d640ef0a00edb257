/* SPDX-License-Identifier: MIT */
/*
 * junit.h - a JUnit XML report for `memhook check`: one test case per
 * traced process image, failed when it has leaks of a kind --fail-on
 * names.
 */
#ifndef MEMHOOK_CLI_JUNIT_H
#define MEMHOOK_CLI_JUNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct mh_junit_case {
	const char *name;	/* the process image: "pid 687 exec 1: ./leaky" */
	bool failed;
	const char *message;	/* one-line verdict, for the failure element */
	const char *details;	/* the leak records, for the failure body; may be NULL */
	double seconds;		/* how long the process ran */
};

/*
 * Write a <testsuites> document with one <testsuite name=suite> holding
 * cases[0..count), and the events lost in the recording as the suite's
 * property "events_lost". A passed case carries its message as
 * system-out. Strings are escaped for XML (invalid UTF-8 replaced).
 * Returns 0 or -EIO.
 */
int mh_junit_write(FILE *out, const char *suite, const struct mh_junit_case *cases, size_t count,
		   uint64_t events_lost);

#endif /* MEMHOOK_CLI_JUNIT_H */
