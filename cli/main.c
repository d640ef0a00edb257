// SPDX-License-Identifier: MIT
/*
 * main.c - the memhook command: dispatch to a subcommand and exit with
 * the code it returns (exit_codes.h, docs/EXIT_CODES.md). Holds no logic
 * of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "common/version.h"
#include "cli/revision.h"	/* generated: $(O)/cli/revision.h */

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "run", mh_cmd_run, "record a program, then print the report" },
	{ "record", mh_cmd_record, "record a program into a trace file" },
	{ "report", mh_cmd_report, "write the report of a trace file" },
	{ "check", mh_cmd_check, "record a program and fail on leaks (for CI)" },
	{ "dump", mh_cmd_dump, "print every record of a trace file" },
	{ "collect", mh_cmd_collect, "record kernel memory events of running processes" },
};

#define SUBCOMMAND_COUNT (sizeof(subcommands) / sizeof(subcommands[0]))

/*
 * Put /dev/null on any of fds 0-2 that is closed. Otherwise the ring's
 * memfd or the trace could land on fd 1 or 2: the program would write its
 * output into the ring, or memhook its messages into the trace.
 */
static void open_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* open() returns the lowest free fd: this one. */
		if (open("/dev/null", O_RDWR) != fd)
			_exit(MH_EXIT_INTERNAL);
	}
}

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: memhook COMMAND [options] [-- PROG [ARGS...]]\n\ncommands:\n", out);
	for (i = 0; i < SUBCOMMAND_COUNT; i++)
		fprintf(out, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fputs("\noptions:\n"
	      "  -h, --help             print this help\n"
	      "  -V, --version          print the version and the git revision of the build\n"
	      "\n'memhook COMMAND --help' describes a command's options; man memhook, all of them.\n",
	      out);
}

int main(int argc, char **argv)
{
	size_t i;

	open_std_fds();
	if (argc < 2) {
		fputs("memhook: missing command (see memhook --help)\n", stderr);
		return MH_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return MH_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("memhook %s (%s)\n", MH_VERSION, MH_REVISION);
		return MH_EXIT_OK;
	}
	for (i = 0; i < SUBCOMMAND_COUNT; i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "memhook: unknown command '%s' (see memhook --help)\n", argv[1]);
	return MH_EXIT_USAGE;
}
