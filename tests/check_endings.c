// SPDX-License-Identifier: MIT
/*
 * check_endings.c - how each traced process ended, told right even where
 * the preload could not tell it:
 *   - under sudo (SUDO_* of uid 65534), a child exec'd after its parent
 *     closed every fd (tests/progs/exec_closed) cannot reopen the root
 *     recorder's ring: the report names that image as not traced, with
 *     the reason, never "still running";
 *   - a child SIGKILLed and reaped by its own parent (a shell) is "killed
 *     by signal 9", not "still running"; the oracle is the shell's $?;
 *   - a process that aborts inside free() (tests/progs/double_free) is
 *     told as such; the oracle is its native run (SIGABRT, glibc's
 *     "double free detected").
 * These need root (the kernel's process events); without it they skip.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/record_cmd.h"
#include "tests/testutil.h"

static bool skip_unless_root(const char *name)
{
	if (skip_unbuilt(name))
		return true;
	if (geteuid() != 0) {
		mh_test_skip(name, "needs root: the proc connector tells memhook of processes it cannot trace");
		return true;
	}
	return false;
}

/* The verdict line of check's stderr holding name, or NULL: malloc'd. */
static char *verdict_line(const char *text, const char *name)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t len = strcspn(l, "\n");

		if (!strncmp(l, "memhook: pid ", 13) && memmem(l, len, name, strlen(name)))
			return strndup(l, len);
	}
	return NULL;
}

START_TEST(untraced_exec_is_named_with_reason)
{
	const char *env[] = { "SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", NULL };
	char *launcher = mh_test_path("tests/progs/exec_closed");
	char *leaky = mh_test_path("tests/progs/check_leaky"), *text, *line, name[4200];
	int code;

	if (skip_unless_root("untraced_exec_is_named_with_reason"))
		goto out;
	ck_assert_int_eq(chown(dir, 65534, 65534), 0);
	code = run_memhook_env((const char *[]){ "check", "--", launcher, leaky, NULL }, NULL, env);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strstr(text, "still running"), "an image is called still running:\n%s", text);
	snprintf(name, sizeof(name), "(%s)", leaky);	/* its exe path: no arguments came */
	line = verdict_line(text, name);
	/* Or, if it had exited when its exec was looked at, its command name. */
	if (!line)
		line = verdict_line(text, "(check_leaky)");
	ck_assert_msg(line, "the exec'd check_leaky is not named:\n%s", text);
	/* Traced after all (the leak found), or named as not traced, with the ring as the reason. */
	ck_assert_msg((code == 23 && strstr(line, "definitely lost 40 bytes")) ||
		      (strstr(line, "not traced: ") && strstr(line, "ring")),
		      "exit %d, no reason for the untraced image: %s", code, line);
	free(line);
	free(text);
out:
	free(launcher);
	free(leaky);
}
END_TEST

START_TEST(killed_child_reaped_by_parent_is_not_running)
{
	char script[4096], *text, *line, *out;

	if (skip_unless_root("killed_child_reaped_by_parent_is_not_running"))
		return;
	/* The shell forks, the child execs rec_target, which SIGKILLs itself; the shell reaps it. */
	snprintf(script, sizeof(script), "%s sigkill; echo status=$?", target);
	run_memhook((const char *[]){ "check", "--", "sh", "-c", script, NULL }, NULL);
	out = mh_test_read_file(out_path, NULL);
	ck_assert_msg(out && strstr(out, "status=137"), "the shell did not see SIGKILL: %s", out);
	text = mh_test_read_file(err_path, NULL);
	line = verdict_line(text, "rec_target sigkill)");
	ck_assert_msg(line && strstr(line, "killed by signal 9 (SIGKILL)"),
		      "the killed child is not told killed:\n%s", text);
	ck_assert_msg(!strstr(text, "still running"), "an image is called still running:\n%s", text);
	free(line);
	free(text);
	free(out);
}
END_TEST

START_TEST(abort_inside_free_gets_its_reason)
{
	char *prog = mh_test_path("tests/progs/double_free"), *native = mh_test_join(dir, "native");
	char *text, *line;
	int status;

	if (skip_unbuilt("abort_inside_free_gets_its_reason"))
		goto out;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = (const char *[]){ prog, NULL },
						    .stderr_path = native });
	text = mh_test_read_file(native, NULL);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(text, "double free"),
		      "natively it did not abort in free: status %d, %s", status, text);
	free(text);
	ck_assert_int_eq(run_memhook((const char *[]){ "check", "--", prog, NULL }, NULL), 128 + SIGABRT);
	text = mh_test_read_file(err_path, NULL);
	line = verdict_line(text, "double_free)");
	ck_assert_msg(line && strstr(line, "killed by signal 6 (SIGABRT)") &&
		      strstr(line, "inside malloc, free") && strstr(line, "definitely lost 0 bytes"),
		      "wrong reason or verdict for an abort inside free:\n%s", text);
	free(line);
	free(text);
out:
	free(prog);
	free(native);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("endings");
	TCase *tc = tcase_create("Told");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, untraced_exec_is_named_with_reason);
	tcase_add_test(tc, killed_child_reaped_by_parent_is_not_running);
	tcase_add_test(tc, abort_inside_free_gets_its_reason);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
