// SPDX-License-Identifier: MIT
/*
 * check_run.c - what `memhook run` and `memhook check` show around the
 * report: progress on a terminal and nowhere else, and no temporary trace
 * left behind when the reader of their stderr has gone. Runs the built
 * memhook on tests/progs/rec_target; the oracle is the bytes memhook
 * wrote and the files left in TMPDIR.
 */
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "common/exit_codes.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

/* True if dir holds a file whose name starts with "memhook." (a temporary trace). */
static bool has_temp_trace(const char *d)
{
	char *cmd;
	int ret;

	ck_assert_int_ge(asprintf(&cmd, "ls '%s' | grep -q '^memhook\\.'", d), 0);
	ret = system(cmd);
	free(cmd);
	return ret == 0;
}

/*
 * memhook run and check whose stderr reader has gone (2>&1 | head): the
 * report cannot be written, but memhook must not die of SIGPIPE before it
 * removes its temporary trace, and it says so in its exit code.
 */
START_TEST(closed_stderr_pipe_leaves_no_temp_trace)
{
	static const char *const cmds[] = { "run", "check" };
	int pipefd[2], status;
	size_t i;
	pid_t pid;

	if (skip_unbuilt("closed_stderr_pipe_leaves_no_temp_trace"))
		return;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ck_assert_int_eq(pipe(pipefd), 0);
		close(pipefd[0]);	/* every write to the pipe now fails */
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			dup2(pipefd[1], 2);
			freopen("/dev/null", "w", stdout);
			setenv("TMPDIR", dir, 1);
			execl(memhook, memhook, cmds[i], "--kernel=off", "--", target, "exit", "0",
			      (char *)NULL);
			_exit(127);
		}
		close(pipefd[1]);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status), "memhook %s died of signal %d", cmds[i],
			      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
		ck_assert_int_eq(WEXITSTATUS(status), MH_EXIT_IO);
		ck_assert_msg(!has_temp_trace(dir), "memhook %s left its temporary trace", cmds[i]);
	}
}
END_TEST

/* Everything memhook run writes to a terminal on its stderr (stdout to /dev/null). */
static char *run_on_terminal(const char *lines)
{
	size_t used = 0, cap = 1 << 16;
	char *text = malloc(cap);
	int master, status;
	ssize_t n;
	pid_t pid;

	ck_assert_ptr_nonnull(text);
	pid = forkpty(&master, NULL, NULL, NULL);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(memhook, memhook, "run", "--kernel=off", "--", target, "print", lines,
		      (char *)NULL);
		_exit(127);
	}
	/* EIO once the child has gone and the terminal has no other user. */
	while ((n = read(master, text + used, cap - used - 1)) > 0) {
		used += (size_t)n;
		if (used + 1 == cap) {
			cap *= 2;
			text = realloc(text, cap);
			ck_assert_ptr_nonnull(text);
		}
	}
	text[used] = '\0';
	close(master);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	return text;
}

/*
 * A long report shows progress on a terminal, erased before the report
 * starts, and nowhere else. 600000 lines are 1.2 M events: past the
 * million records after which the first progress line comes.
 */
START_TEST(progress_only_on_a_terminal)
{
	const char *args[] = { "run", "--kernel=off", "--", target, "print", "600000", NULL };
	char *text, *progress, *report;

	if (skip_unbuilt("progress_only_on_a_terminal"))
		return;
	text = run_on_terminal("600000");
	progress = strstr(text, "\rmemhook: replayed 1 M records");
	report = strstr(text, "memhook report of ");
	ck_assert_msg(progress != NULL, "no progress line on a terminal: '%.300s'", text);
	ck_assert_ptr_nonnull(report);
	ck_assert_ptr_nonnull(strstr(progress, "\r\033[K"));
	ck_assert(strstr(progress, "\r\033[K") < report);
	free(text);
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "memhook report of "));
	ck_assert_ptr_null(strstr(text, "replayed"));
	ck_assert_ptr_null(strchr(text, '\r'));
	free(text);
}
END_TEST

static Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("Output");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, closed_stderr_pipe_leaves_no_temp_trace);
	tcase_add_test(tc, progress_only_on_a_terminal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(run_suite());
}
