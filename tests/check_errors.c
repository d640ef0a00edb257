// SPDX-License-Identifier: MIT
/*
 * check_errors.c - bad input and a full disk get the documented exit code
 * (docs/EXIT_CODES.md) and one line naming the thing and the cause:
 *   - a trace whose header gives a page size that is not a power of two:
 *     65, for report and dump;
 *   - a full file system (a 16 KiB tmpfs, root only): writing the report
 *     fails with 74 naming the report and ENOSPC, not the trace and EIO;
 *     creating the trace fails with 74 naming the trace, and no empty
 *     trace is left;
 *   - --ring-size 2^63: 64; `run -o -- PROG`: 64, and no file named "--".
 */
#include <check.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "memhook/trace.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

/* stderr is one line holding every string of want (NULL-terminated). */
static void assert_one_line(const char *what, const char *const *want)
{
	char *text = mh_test_read_file(err_path, NULL);

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(*text && strchr(text, '\n') == text + strlen(text) - 1,
		      "%s: not one line:\n%s", what, text);
	for (; *want; want++)
		ck_assert_msg(strstr(text, *want), "%s: '%s' not said:\n%s", what, *want, text);
	free(text);
}

START_TEST(page_size_not_a_power_of_two_is_a_bad_trace)
{
	__u32 page = 3000;
	int fd;

	if (skip_unbuilt("page_size_not_a_power_of_two_is_a_bad_trace"))
		return;
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "-q", "--kernel=off", "-o", trace,
						       "--", target, "exit", "0", NULL }, NULL), 0);
	fd = open(trace, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, &page, sizeof(page), offsetof(struct mh_trace_header, page_size)),
			 sizeof(page));
	close(fd);
	ck_assert_int_eq(run_memhook((const char *[]){ "report", trace, NULL }, NULL),
			 MH_EXIT_BAD_TRACE);
	assert_one_line("report", (const char *[]){ trace, "page size", NULL });
	ck_assert_int_eq(run_memhook((const char *[]){ "dump", trace, NULL }, NULL),
			 MH_EXIT_BAD_TRACE);
	assert_one_line("dump", (const char *[]){ trace, "page size", NULL });
}
END_TEST

START_TEST(full_disk_names_the_file_being_written)
{
	char *full = mh_test_join(dir, "full"), *fill, *report, *ftrace;
	char block[4096] = { 0 };
	struct stat st;
	int fd;

	if (skip_unbuilt("full_disk_names_the_file_being_written"))
		goto out;
	ck_assert_int_eq(mkdir(full, 0755), 0);
	if (mount("memhook-test", full, "tmpfs", 0, "size=16k")) {
		mh_test_skip("full_disk_names_the_file_being_written", "cannot mount a tmpfs (needs root)");
		goto out;
	}
	/* Fill it: every page taken, so the first byte written fails. */
	fill = mh_test_join(full, "fill");
	fd = open(fill, O_WRONLY | O_CREAT, 0644);
	while (fd >= 0 && write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	if (fd >= 0)
		close(fd);
	report = mh_test_join(full, "r.txt");
	ftrace = mh_test_join(full, "t.mht");
	ck_assert_int_eq(run_memhook((const char *[]){ "run", "--kernel=off", "-o", report, "--",
						       target, "exit", "0", NULL }, NULL), MH_EXIT_IO);
	assert_one_line("run -o", (const char *[]){ report, "No space left on device", NULL });
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "-q", "--kernel=off", "-o", ftrace,
						       "--", target, "exit", "0", NULL }, NULL),
			 MH_EXIT_IO);
	assert_one_line("record -o", (const char *[]){ ftrace, "No space left on device", NULL });
	ck_assert_msg(stat(ftrace, &st) != 0, "an empty trace was left behind");
	ck_assert_int_eq(umount(full), 0);
	free(fill);
	free(report);
	free(ftrace);
out:
	free(full);
}
END_TEST

START_TEST(bad_command_lines_exit_64)
{
	char script[4096], *dashes = mh_test_join(dir, "--");
	struct stat st;
	int status;

	if (skip_unbuilt("bad_command_lines_exit_64"))
		goto out;
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "--ring-size", "9223372036854775808",
						       "--", target, "exit", "0", NULL }, NULL),
			 MH_EXIT_USAGE);
	assert_one_line("--ring-size 2^63", (const char *[]){ "--ring-size", "9223372036854775808",
							      NULL });
	snprintf(script, sizeof(script), "cd '%s' && exec '%s' run -o -- '%s' exit 0", dir, memhook,
		 target);
	status = mh_test_run(&(struct mh_test_cmd){
		.argv = (const char *[]){ "sh", "-c", script, NULL }, .stderr_path = err_path });
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == MH_EXIT_USAGE,
		      "run -o -- PROG: status %d", status);
	assert_one_line("run -o --", (const char *[]){ "missing argument", "-o", NULL });
	ck_assert_msg(stat(dashes, &st) != 0, "run -o -- wrote a file named '--'");
out:
	free(dashes);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("Said");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, page_size_not_a_power_of_two_is_a_bad_trace);
	tcase_add_test(tc, full_disk_names_the_file_being_written);
	tcase_add_test(tc, bad_command_lines_exit_64);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
