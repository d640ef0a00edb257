/* SPDX-License-Identifier: MIT */
/*
 * exit_codes.h - the exit codes of the memhook command (docs/EXIT_CODES.md).
 *
 * record and run exit with the traced program's own status (128 + N when
 * a signal N killed it) unless memhook itself failed; memhook's own
 * failures use the sysexits.h numbers below, and 126/127 like a shell
 * when the program cannot be run. Never renumber: scripts depend on them.
 */
#ifndef MEMHOOK_COMMON_EXIT_CODES_H
#define MEMHOOK_COMMON_EXIT_CODES_H

enum mh_exit_code {
	MH_EXIT_OK = 0,
	MH_EXIT_USAGE = 64,		/* bad command line (EX_USAGE) */
	MH_EXIT_BAD_TRACE = 65,		/* input is not a trace, or a corrupt one (EX_DATAERR) */
	MH_EXIT_NO_INPUT = 66,		/* input file cannot be opened (EX_NOINPUT) */
	MH_EXIT_UNAVAILABLE = 69,	/* --kernel=on but the kernel stream cannot start */
	MH_EXIT_INTERNAL = 70,		/* memhook's own failure (EX_SOFTWARE) */
	MH_EXIT_CANT_CREATE = 73,	/* the trace or report cannot be created (EX_CANTCREAT) */
	MH_EXIT_IO = 74,		/* writing the trace failed mid-way, e.g. disk full (EX_IOERR) */
	MH_EXIT_CANT_EXEC = 126,	/* the program exists but cannot be executed */
	MH_EXIT_NOT_FOUND = 127,	/* the program was not found */
};

/* Exit code for a traced program's wait status: its code, or 128 + signal. */
int mh_exit_code_of_status(int wait_status);

#endif /* MEMHOOK_COMMON_EXIT_CODES_H */
