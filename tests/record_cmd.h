/* SPDX-License-Identifier: MIT */
/*
 * record_cmd.h - the harness of the suites that run the built memhook
 * command as a user does (check_record.c, check_run.c, check_noevents.c,
 * check_supervise.c): a fresh directory per test, the paths of memhook,
 * libmemhook.so and tests/progs/rec_target, and running memhook with its
 * stdout and stderr captured in files.
 */
#ifndef MEMHOOK_TESTS_RECORD_CMD_H
#define MEMHOOK_TESTS_RECORD_CMD_H

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memhook/trace.h"
#include "tests/testutil.h"
#include "trace/reader.h"

/* The test's directory and files, and the programs it runs: set by setup(). */
extern char *dir;
extern char *memhook;
extern char *target;
extern char *trace;
extern char *out_path;
extern char *err_path;

/* Check fixture: a fresh directory and the paths above; teardown removes them. */
void setup(void);
void teardown(void);

/* True (after printing SKIP) when memhook or libmemhook.so is not built. */
bool skip_unbuilt(const char *name);

/*
 * Run memhook with argv (after "memhook"), stdin from stdin_path (NULL:
 * /dev/null) and env added to its environment (NULL: none); stdout/stderr
 * to out_path/err_path. Returns its exit code.
 */
int run_memhook_env(const char *const *args, const char *stdin_path,
			const char *const *env);

/* Run memhook with argv (after "memhook"); stdout/stderr to out_path/err_path. */
int run_memhook(const char *const *args, const char *stdin_path);

/*
 * A walk over the chunks of the trace at path: its reader (the records in
 * file order) and *fd, open on the file for the chunk headers, the first
 * at *off. Fails the test if either cannot be opened.
 */
struct mh_trace_reader *chunk_walk_open(const char *path, int *fd, off_t *off);

/* The header of the chunk at off into ch: false at the file's end or its END chunk. */
bool chunk_at(int fd, off_t off, struct mh_chunk_header *ch);

/* The number of lines in a file. */
unsigned line_count(const char *path);

#endif /* MEMHOOK_TESTS_RECORD_CMD_H */
