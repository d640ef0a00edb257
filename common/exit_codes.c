// SPDX-License-Identifier: MIT
/*
 * exit_codes.c - map a traced program's wait status to memhook's exit
 * code (exit_codes.h), the way a shell reports it.
 */
#include "common/exit_codes.h"

#include <sys/wait.h>

int mh_exit_code_of_status(int wait_status)
{
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	return MH_EXIT_INTERNAL;
}
