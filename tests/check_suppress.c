// SPDX-License-Identifier: MIT
/*
 * check_suppress.c - LeakSanitizer and Valgrind suppression files: what
 * they match, what they do not, and how malformed files are refused.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memhook/events.h"
#include "merger/leaks/suppress.h"
#include "tests/testutil.h"

/* malloc <- make_node (mangled C++) <- build_list in libwidget <- main */
static const struct mh_supp_frame stack[] = {
	{ .function = "malloc", .module = "/usr/lib/libmemhook-test.so" },
	{ .function = "_ZN6widget9make_nodeEv", .demangled = "widget::make_node()",
	  .file = "src/widget.cc", .module = "/opt/app/lib/libwidget.so" },
	{ .function = "build_list", .file = "src/list.c", .module = "/opt/app/lib/libwidget.so" },
	{ .function = "main", .file = "main.c", .module = "/opt/app/bin/app" },
};
#define STACK_DEPTH (sizeof(stack) / sizeof(stack[0]))

static char path[64];

static struct mh_suppressions *load(const char *text, int expect_err, char *error)
{
	struct mh_suppressions *s = mh_suppressions_new();
	int fd;

	strcpy(path, "/tmp/memhook-supp-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	ck_assert_int_eq(mh_suppressions_load(s, path, error, 256), expect_err);
	unlink(path);
	return s;
}

static const char *match(struct mh_suppressions *s, unsigned int kind)
{
	return mh_suppressions_match(s, stack, STACK_DEPTH, kind);
}

START_TEST(lsan_substring_matches_function_file_or_module)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("# comment\nleak:make_node\n", 0, error);
	ck_assert_str_eq(match(s, MH_LEAK_DEFINITE), "leak:make_node");
	mh_suppressions_free(s);
	s = load("leak:libwidget.so\n", 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_INDIRECT));
	mh_suppressions_free(s);
	s = load("leak:list.c\n", 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
	s = load("leak:no_such_function\n", 0, error);
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(lsan_anchors_and_wildcards)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("leak:^build_l*$\n", 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
	s = load("leak:^uild_list\n", 0, error);
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(lsan_other_kinds_are_ignored)
{
	char error[256];
	struct mh_suppressions *s = load("interceptor_via_fun:main\nrace:main\n", 0, error);

	ck_assert_uint_eq(mh_suppressions_count(s), 0);
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(valgrind_frames_from_the_allocator)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("{\n   widget\n   Memcheck:Leak\n   fun:malloc\n   fun:_ZN6widget*\n}\n", 0, error);
	ck_assert_str_eq(match(s, MH_LEAK_DEFINITE), "widget");
	mh_suppressions_free(s);
	/* Frames must match in order from frame 0. */
	s = load("{\n   skip\n   Memcheck:Leak\n   fun:build_list\n}\n", 0, error);
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(valgrind_ellipsis_obj_and_demangled)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("{\n  any\n  Memcheck:Leak\n  ...\n  fun:build_list\n  obj:/opt/app/bin/*\n}\n",
		 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_POSSIBLE));
	mh_suppressions_free(s);
	s = load("{\n  dm\n  Memcheck:Leak\n  fun:malloc\n  fun:widget::make_node()\n}\n", 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(valgrind_match_leak_kinds)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("{\n  k\n  Memcheck:Leak\n  match-leak-kinds: reachable,possible\n  ...\n  fun:main\n}\n",
		 0, error);
	ck_assert_ptr_nonnull(match(s, MH_LEAK_REACHABLE));
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(valgrind_other_error_kinds_are_skipped)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("{\n  cond\n  Memcheck:Cond\n  fun:malloc\n}\n{\n  leak\n  Memcheck:Leak\n  fun:calloc\n}\n",
		 0, error);
	ck_assert_uint_eq(mh_suppressions_count(s), 1);
	ck_assert_ptr_null(match(s, MH_LEAK_DEFINITE));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(malformed_files_name_the_line)
{
	char error[256];
	struct mh_suppressions *s;

	s = load("leak:ok\nthis is not a suppression\n", -EINVAL, error);
	ck_assert_ptr_nonnull(strstr(error, ":2: "));
	mh_suppressions_free(s);
	s = load("{\n  open\n  Memcheck:Leak\n  fun:malloc\n", -EINVAL, error);
	ck_assert_ptr_nonnull(strstr(error, "not closed"));
	mh_suppressions_free(s);
	s = load("{\n  bad\n  Memcheck:Leak\n  match-leak-kinds: sometimes\n  fun:x\n}\n", -EINVAL,
		 error);
	ck_assert_ptr_nonnull(strstr(error, ":4: "));
	mh_suppressions_free(s);
}
END_TEST

START_TEST(missing_file_is_an_error)
{
	char error[256];
	struct mh_suppressions *s = mh_suppressions_new();

	ck_assert_int_eq(mh_suppressions_load(s, "/nonexistent/memhook.supp", error, sizeof(error)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(error, "/nonexistent/memhook.supp"));
	mh_suppressions_free(s);
}
END_TEST

static Suite *suppress_suite(void)
{
	Suite *s = suite_create("suppress");
	TCase *lsan = tcase_create("LeakSanitizer");
	TCase *valgrind = tcase_create("Valgrind");
	TCase *errors = tcase_create("Errors");

	tcase_add_test(lsan, lsan_substring_matches_function_file_or_module);
	tcase_add_test(lsan, lsan_anchors_and_wildcards);
	tcase_add_test(lsan, lsan_other_kinds_are_ignored);
	tcase_add_test(valgrind, valgrind_frames_from_the_allocator);
	tcase_add_test(valgrind, valgrind_ellipsis_obj_and_demangled);
	tcase_add_test(valgrind, valgrind_match_leak_kinds);
	tcase_add_test(valgrind, valgrind_other_error_kinds_are_skipped);
	tcase_add_test(errors, malformed_files_name_the_line);
	tcase_add_test(errors, missing_file_is_an_error);
	suite_add_tcase(s, lsan);
	suite_add_tcase(s, valgrind);
	suite_add_tcase(s, errors);
	return s;
}

int main(void)
{
	return mh_test_run_suite(suppress_suite());
}
