// SPDX-License-Identifier: MIT
/*
 * exec_closed.c - a daemon-like launcher: closes every fd above 2 (as
 * programs that close what they inherited do), forks, and the child execs
 * argv[1..]; the parent waits and exits with the child's status (128 + N
 * when signal N killed it). Under memhook as another user, the exec'd
 * image cannot reach the recorder's ring any more.
 */
#define _GNU_SOURCE
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: exec_closed PROG [ARGS...]\n");
		return 2;
	}
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
