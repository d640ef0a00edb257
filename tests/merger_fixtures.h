/* SPDX-License-Identifier: MIT */
/*
 * merger_fixtures.h - what the merger's suites (check_report.c,
 * check_attribution.c) share: feeding hand-made records to a replay,
 * finding a process or a stack in it, writing a trace file and reading
 * back its report. Header-only (static inline), so each suite links as
 * before. Every helper fails the calling test on error, never returns one.
 */
#ifndef MEMHOOK_TESTS_MERGER_FIXTURES_H
#define MEMHOOK_TESTS_MERGER_FIXTURES_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/testutil.h"
#include "trace/writer.h"
#include "merger/replay/replay.h"
#include "merger/report/report.h"

/* Timestamp of the next hand-made record: every record gets its own. */
extern uint64_t mh_fx_now_ns;

void mh_fx_feed(struct mh_replay *rp, const void *rec);

void mh_fx_alloc(struct mh_replay *rp, uint32_t pid, uint32_t tid, uint64_t addr,
			       uint64_t size, uint64_t stack, int kind);

/* A free-family record of `kind`; size is what munmap/brk release, else 0. */
void mh_fx_free(struct mh_replay *rp, uint32_t pid, uint32_t tid, uint64_t addr,
			      int kind, uint64_t size);

/* The first image of pid in rp; fails the test if there is none. */
struct mh_process *mh_fx_proc(const struct mh_replay *rp, uint32_t pid);

/* pid's aggregate of stack id; fails the test if there is none. */
struct mh_stack_stats *mh_fx_stack(const struct mh_replay *rp, uint32_t pid,
						 uint64_t id);

/* A fresh temporary directory per test (a checked fixture), for traces and reports. */
extern char *mh_fx_tmpdir;

void mh_fx_tmpdir_setup(void);

void mh_fx_tmpdir_teardown(void);

/* A trace file header as the recorder writes it on this machine. */
struct mh_trace_header mh_fx_header(uint32_t root_pid, uint32_t page_size);

void mh_fx_append(struct mh_trace_writer *w, int stream, const void *rec);

/* The report of trace (written to dir/report.out), sorted and valued by key. Caller frees. */
char *mh_fx_report(const char *dir, const char *trace, enum mh_report_format format,
				 enum mh_report_key key);

/* The integer at a dotted path of a JSON report; fails the test if it is missing. */
long long mh_fx_json_int(const char *json, const char *path);

#endif /* MEMHOOK_TESTS_MERGER_FIXTURES_H */
