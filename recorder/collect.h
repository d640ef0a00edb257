/* SPDX-License-Identifier: MIT */
/*
 * collect.h - record the kernel stream of a process memhook did not start
 * (`memhook collect`, docs/COLLECT.md).
 */
#ifndef MEMHOOK_RECORDER_COLLECT_H
#define MEMHOOK_RECORDER_COLLECT_H

#include <stdbool.h>
#include <sys/types.h>

struct mh_collect_opts {
	pid_t pid;		/* -p: the process to watch */
	const char *output;	/* -o: trace path; NULL = memhook-PID.mht */
	bool follow_forks;	/* --follow-forks: its children too */
	bool quiet;		/* -q: no "collecting" line */
};

/*
 * Collect until the process is gone or SIGINT/SIGTERM arrives (both are
 * caught from then on, so the trace is always closed). Problems are
 * printed, one line each. Returns memhook's exit code: 0; 64 no such
 * process; 69 the kernel stream cannot start; 73 the trace cannot be
 * created; 74 writing it failed.
 */
int mh_collect_session(const struct mh_collect_opts *opts);

#endif /* MEMHOOK_RECORDER_COLLECT_H */
