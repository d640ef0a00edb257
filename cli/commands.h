/* SPDX-License-Identifier: MIT */
/*
 * commands.h - the memhook subcommands main() dispatches to. Each takes
 * the arguments after its own name (argv[0] is the subcommand name) and
 * returns the process exit code (exit_codes.h).
 */
#ifndef MEMHOOK_CLI_COMMANDS_H
#define MEMHOOK_CLI_COMMANDS_H

/* memhook record [opts] [-o FILE] -- PROG [ARGS]: PROG's status or an MH_EXIT_* code. */
int mh_cmd_record(int argc, char **argv);

/* memhook run [opts] -- PROG [ARGS]: record, then report; PROG's status or MH_EXIT_*. */
int mh_cmd_run(int argc, char **argv);

/* memhook dump FILE: every record, one per line. */
int mh_cmd_dump(int argc, char **argv);

/* memhook report [opts] FILE (cli/cmd_report.c). */
int mh_cmd_report(int argc, char **argv);

/* memhook check [opts] -- PROG [ARGS] (cli/cmd_check.c). */
int mh_cmd_check(int argc, char **argv);

/* memhook collect [opts] (cli/cmd_collect.c). */
int mh_cmd_collect(int argc, char **argv);

#endif /* MEMHOOK_CLI_COMMANDS_H */
