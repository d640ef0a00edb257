/* SPDX-License-Identifier: MIT */
/*
 * report.h - turn a trace into a report: replay, aggregate per stack,
 * symbolize, and write text, JSON or folded stacks.
 *
 * The entry point used by `memhook report` and `memhook run`. Never prints
 * except to the stream it is given; problems with the trace come back as
 * -errno plus a one-line reason.
 */
#ifndef MEMHOOK_MERGER_REPORT_REPORT_H
#define MEMHOOK_MERGER_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memhook/events.h"

enum mh_report_format {
	MH_REPORT_TEXT = 0,
	MH_REPORT_JSON,
	MH_REPORT_FOLDED,
	MH_REPORT_LEAKS,	/* memcheck-style loss records (memhook check) */
	MH_REPORT_PPROF,	/* gzipped profile.proto (merger/report/pprof.c) */
	MH_REPORT_SPEEDSCOPE,	/* speedscope's JSON file format */
	MH_REPORT_HTML,		/* one self-contained page (merger/report/html.c) */
};

/* Bit of an enum mh_leak_kind in a kind mask. */
#define MH_LEAK_MASK(kind) (1U << (kind))
/* The kinds that fail unless told otherwise (memhook check --fail-on). */
#define MH_LEAK_FAIL_DEFAULT (MH_LEAK_MASK(MH_LEAK_DEFINITE) | MH_LEAK_MASK(MH_LEAK_INDIRECT))

/*
 * The leaks format's verdict on one process, after suppressions and
 * --min-bytes. Index 0 of the arrays holds blocks of unknown leak kind
 * (the process could not be scanned: killed by SIGKILL, still running,
 * or events were lost while it ran).
 */
struct mh_leak_verdict {
	uint32_t pid;
	const char *name;		/* the image: "pid 687 exec 1: ./leaky" (see exec_index) */
	const char *command;		/* its command line, shell-quoted, or its exe path */
	const char *end;		/* "exited with status 0", "killed by signal 9 (SIGKILL)" */
	bool scanned;			/* leak kinds are known */
	const char *unknown_why;	/* when !scanned: why the kinds are unknown */
	uint64_t events_lost;		/* allocation events lost in the whole recording */
	bool replaced;			/* an exec replaced the image: nothing of it can leak */
	uint64_t bytes[MH_LEAK_REACHABLE + 1];
	uint64_t blocks[MH_LEAK_REACHABLE + 1];
	uint64_t suppressed_bytes, suppressed_blocks;
	unsigned failing;		/* MH_LEAK_MASK of the kinds found that fail */
	double seconds;			/* how long the process ran */
	const char *records;		/* its loss records as printed, for JUnit */
};

/* Sort keys; the folded format uses the same names for --value. */
enum mh_report_key {
	MH_KEY_LEAKED = 0,	/* leaked_bytes */
	MH_KEY_PEAK,		/* bytes live at the global heap peak */
	MH_KEY_ALLOCATED,	/* bytes_allocated */
	MH_KEY_CALLS,		/* alloc_calls */
	MH_KEY_TEMPORARY,	/* temporary allocations */
	MH_KEY_DEFINITE,	/* definitely lost bytes (exit-time scan) */
	MH_KEY_RSS,		/* resident bytes at exit (attribute.h) */
	MH_KEY_FAULTS,		/* page faults in the stack's blocks */
	MH_KEY_SWAPINS,		/* pages swapped in to the stack's blocks */
	MH_KEY_RECLAIM,		/* reclaim stall ns charged to the stack */
	MH_KEY_COUNT,
};

struct mh_report_opts {
	enum mh_report_format format;
	enum mh_report_key sort;	/* text/json order */
	enum mh_report_key value;	/* folded: which metric */
	unsigned top;			/* stacks to print, 0 = all */
	bool progress;			/* show progress on stderr (a terminal) */

	/* Loss records (the leaks format; JSON's "loss_records" and "verdict"). */
	const struct mh_suppressions *suppressions; /* NULL: none */
	uint64_t min_bytes;		/* loss records smaller than this are left out */
	unsigned fail_kinds;		/* MH_LEAK_MASK of the kinds that fail; 0: MH_LEAK_FAIL_DEFAULT */
	/* Called once per process with its verdict; may be NULL. */
	void (*on_verdict)(const struct mh_leak_verdict *verdict, void *arg);
	void *verdict_arg;
};

struct mh_suppressions;

/* Size of the buffer that receives mh_report_generate()'s reason for failing. */
#define MH_REPORT_ERROR_BYTES 512

/*
 * Read the trace at path and write the report to out. Returns 0 or
 * -errno; error then holds why in one line, naming the trace (empty when
 * only errno is known). Warnings (a truncated trace) go into the report.
 * Thread-safe for distinct out and error.
 */
int mh_report_generate(const char *path, const struct mh_report_opts *opts, FILE *out,
		       char error[MH_REPORT_ERROR_BYTES]);

/* Parse a sort key / format name. Return 0 or -EINVAL. */
int mh_report_key_parse(const char *name, enum mh_report_key *key);
int mh_report_format_parse(const char *name, enum mh_report_format *format);

/*
 * Every name mh_report_format_parse() / mh_report_key_parse() accepts,
 * joined by '|' ("text|json|folded|leaks"), into buf (cut at len). For
 * --help, which the man page and the shell completions are checked against.
 */
void mh_report_format_names(char *buf, size_t len);
void mh_report_key_names(char *buf, size_t len);

#endif /* MEMHOOK_MERGER_REPORT_REPORT_H */
