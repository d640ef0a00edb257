// SPDX-License-Identifier: MIT
/*
 * check_noevents.c - cli/noevents.c through the memhook command: a
 * program the preload cannot load into (statically linked, set-user-ID)
 * runs untraced, and memhook says why on stderr and in the trace instead
 * of reporting a program that allocates nothing. The oracle is how the
 * program was built or installed by the test itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <check.h>

#include "trace/reader.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

/* Record prog; its stderr must say why no allocation event came, and the trace too. */
static void check_no_events(const char *prog, const char *want)
{
	const char *args[] = { "record", "-q", "--kernel=off", "-o", trace, "--", prog, "print", "3",
			       NULL };
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	bool said = false;
	char *text;

	/* The program ran, untraced. */
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "memhook: no allocation events: ") && strstr(text, want),
		      "stderr '%s' lacks '%s'", text, want);
	ck_assert_uint_eq(line_count(err_path), 1);
	free(text);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1) {
		const struct mh_rec_info *i = (const void *)rec;

		if (rec->type == MH_REC_INFO && i->key_len == strlen("preload.status") &&
		    !memcmp(i + 1, "preload.status", i->key_len))
			said = true;
	}
	mh_trace_reader_free(r);
	ck_assert_msg(said, "the trace has no INFO preload.status");
}

/*
 * A statically linked program cannot load the preload: memhook says so
 * instead of reporting a program that allocates nothing. The program is
 * built here, with the compiler's -static.
 */
START_TEST(static_program_is_explained)
{
	char *src = mh_test_join(dir, "st.c"), *prog = mh_test_join(dir, "st"), *cmd;
	const char *normal[] = { "record", "-q", "--kernel=off", "-o", trace, "--", target, "print",
				 "3", NULL };
	FILE *f;

	if (skip_unbuilt("static_program_is_explained"))
		goto out_free;
	f = fopen(src, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#include <stdio.h>\n#include <stdlib.h>\nint main(void) { char *p = malloc(64);\n"
	      "puts(p ? \"allocated\" : \"no memory\"); free(p); return 0; }\n", f);
	fclose(f);
	ck_assert_int_ge(asprintf(&cmd, "cc -static -o '%s' '%s' 2>/dev/null", prog, src), 0);
	if (system(cmd) != 0) {
		mh_test_skip("static_program_is_explained", "cc -static cannot build a program here");
		free(cmd);
		goto out_free;
	}
	free(cmd);
	check_no_events(prog, "is statically linked");
	/* A dynamically linked program is not accused. */
	ck_assert_int_eq(run_memhook(normal, NULL), 0);
	ck_assert_uint_eq(line_count(err_path), 0);
out_free:
	free(src);
	free(prog);
}
END_TEST

/* A set-user-ID program owned by another user runs with LD_PRELOAD ignored: said so. */
START_TEST(setuid_program_is_explained)
{
	char *prog = mh_test_join(dir, "suid_target"), *cmd;
	struct statvfs vfs;

	if (skip_unbuilt("setuid_program_is_explained"))
		goto out_free;
	if (geteuid() != 0 || statvfs(dir, &vfs) != 0 || (vfs.f_flag & ST_NOSUID)) {
		mh_test_skip("setuid_program_is_explained",
			     "needs root and a temporary directory without nosuid");
		goto out_free;
	}
	ck_assert_int_ge(asprintf(&cmd, "cp '%s' '%s'", target, prog), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(chown(prog, 65534, 65534), 0);
	ck_assert_int_eq(chmod(prog, 04755), 0);
	check_no_events(prog, "is set-user-ID");
out_free:
	free(prog);
}
END_TEST

static Suite *noevents_suite(void)
{
	Suite *s = suite_create("noevents");
	TCase *tc = tcase_create("Untraced");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, static_program_is_explained);
	tcase_add_test(tc, setuid_program_is_explained);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(noevents_suite());
}
