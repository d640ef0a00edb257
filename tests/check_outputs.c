// SPDX-License-Identifier: MIT
/*
 * check_outputs.c - memhook's output files as root are never turned
 * against root: under sudo (SUDO_UID/SUDO_GID/SUDO_USER of uid 65534) a
 * symlink planted at the trace path or at any -o/--junit/--json path is
 * refused with one line naming the path, the file it points to stays as
 * it was, and the outputs written are owned by the invoking user; as root
 * with --user, a hard link at an output path is refused too. The oracle is
 * the file system: stat(2) and the victim's bytes.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

/* The invoking user of the simulated sudo: nobody. */
#define SUDO_ID 65534

static const char *const sudo_env[] = {
	"SUDO_UID=65534", "SUDO_GID=65534", "SUDO_USER=nobody", NULL,
};

static const char victim_text[] = "root's file, not memhook's\n";

/* Skip unless root and the build is usable by uid 65534; prepares the directories. */
static bool skip_unless_root(const char *name, char **victim)
{
	char *rootdir;
	FILE *f;

	if (skip_unbuilt(name))
		return true;
	if (geteuid() != 0) {
		mh_test_skip(name, "needs root to act as sudo would leave memhook");
		return true;
	}
	/* The user's directory is theirs; the victim sits where only root can write. */
	ck_assert_int_eq(chown(dir, SUDO_ID, SUDO_ID), 0);
	rootdir = mh_test_join(dir, "rootonly");
	ck_assert_int_eq(mkdir(rootdir, 0755), 0);
	*victim = mh_test_join(rootdir, "victim");
	f = fopen(*victim, "w");
	ck_assert_ptr_nonnull(f);
	fputs(victim_text, f);
	fclose(f);
	free(rootdir);
	return false;
}

/* The victim is byte for byte what it was and still root's. */
static void assert_victim_intact(const char *victim, const char *what)
{
	char *text = mh_test_read_file(victim, NULL);
	struct stat st;

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(!strcmp(text, victim_text), "%s overwrote the victim: '%s'", what, text);
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_msg(st.st_uid == 0, "%s gave the victim to uid %u", what, (unsigned)st.st_uid);
	free(text);
}

/* stderr has one line that names path and gives the cause. */
static void assert_one_line_refusal(const char *path, const char *what, const char *cause)
{
	char *text = mh_test_read_file(err_path, NULL), *line, *save = NULL;
	bool found = false;

	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		found |= strstr(line, path) && strstr(line, cause);
	ck_assert_msg(found, "%s: no line naming '%s' and '%s' on stderr", what, path, cause);
	free(text);
}

static void assert_owned_by_user(const char *path)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "'%s' was not written", path);
	ck_assert_msg(S_ISREG(st.st_mode), "'%s' is not a regular file", path);
	ck_assert_msg(st.st_uid == SUDO_ID && st.st_gid == SUDO_ID, "'%s' is owned by %u:%u", path,
		      (unsigned)st.st_uid, (unsigned)st.st_gid);
}

/* One output of one command line: the option naming it, and where. */
struct output_case {
	const char *what;
	const char *args[10];	/* after "memhook"; "@" is replaced by the output's path */
	int refused_code;	/* exit code when the output is a symlink */
};

static const struct output_case output_cases[] = {
	{ "record -o", { "record", "-q", "-o", "@", "--", NULL }, MH_EXIT_CANT_CREATE },
	{ "run -o", { "run", "--kernel=off", "-o", "@", "--", NULL }, MH_EXIT_CANT_CREATE },
	{ "run --trace", { "run", "--kernel=off", "--trace=@", "--", NULL }, MH_EXIT_CANT_CREATE },
	{ "check --junit", { "check", "--error-exitcode=0", "--junit", "@", "--", NULL }, MH_EXIT_CANT_CREATE },
	{ "check --json", { "check", "--error-exitcode=0", "--json=@", "--", NULL }, MH_EXIT_CANT_CREATE },
	{ "check --trace", { "check", "--error-exitcode=0", "--trace", "@", "--", NULL }, MH_EXIT_CANT_CREATE },
};

#define OUTPUT_CASES (sizeof(output_cases) / sizeof(output_cases[0]))

/* Run case c with its output at path and the program rec_target exit 0. */
static int run_case(const struct output_case *c, const char *path, const char *const *env)
{
	const char *args[16];
	char joined[4096];
	int n = 0;

	for (int i = 0; c->args[i]; i++) {
		size_t len = strlen(c->args[i]);

		if (len > 2 && !strcmp(c->args[i] + len - 2, "=@")) {
			snprintf(joined, sizeof(joined), "%.*s%s", (int)(len - 1), c->args[i], path);
			args[n++] = joined;	/* "--opt=PATH": one such option per case */
		} else {
			args[n++] = strcmp(c->args[i], "@") ? c->args[i] : path;
		}
	}
	args[n++] = target;
	args[n++] = "exit";
	args[n++] = "0";
	args[n] = NULL;
	return run_memhook_env(args, NULL, env);
}

/* A symlink at any output path: refused in one line, the victim untouched. */
START_TEST(sudo_symlink_at_every_output_is_refused)
{
	char *victim, name[32];

	if (skip_unless_root("sudo_symlink_at_every_output_is_refused", &victim))
		return;
	for (size_t i = 0; i < OUTPUT_CASES; i++) {
		const struct output_case *c = &output_cases[i];
		char *link;
		int code;

		snprintf(name, sizeof(name), "out%zu", i);
		link = mh_test_join(dir, name);
		ck_assert_int_eq(symlink(victim, link), 0);
		ck_assert_int_eq(lchown(link, SUDO_ID, SUDO_ID), 0);
		code = run_case(c, link, sudo_env);
		ck_assert_msg(code == c->refused_code, "%s through a symlink: exit %d", c->what, code);
		assert_one_line_refusal(link, c->what, "symbolic link");
		assert_victim_intact(victim, c->what);
		free(link);
	}
	free(victim);
}
END_TEST

/* Without symlinks every output is written, owned by the invoking user. */
START_TEST(sudo_outputs_belong_to_the_user)
{
	char *victim, name[32];

	if (skip_unless_root("sudo_outputs_belong_to_the_user", &victim))
		return;
	for (size_t i = 0; i < OUTPUT_CASES; i++) {
		char *path;

		snprintf(name, sizeof(name), "out%zu", i);
		path = mh_test_join(dir, name);
		int code = run_case(&output_cases[i], path, sudo_env);

		ck_assert_msg(code == 0, "%s failed: exit %d", output_cases[i].what, code);
		assert_owned_by_user(path);
		free(path);
	}
	free(victim);
}
END_TEST

/* memhook report -o under sudo: the same rules for the report of an existing trace. */
START_TEST(sudo_report_output_is_guarded)
{
	char *victim, *link = mh_test_join(dir, "r.txt"), *good = mh_test_join(dir, "good.txt");

	if (skip_unless_root("sudo_report_output_is_guarded", &victim)) {
		free(link);
		free(good);
		return;
	}
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "-q", "--kernel=off", "-o", trace,
						       "--", target, "exit", "0", NULL }, NULL), 0);
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(run_memhook_env((const char *[]){ "report", "-o", link, trace, NULL }, NULL,
					 sudo_env), MH_EXIT_CANT_CREATE);
	assert_one_line_refusal(link, "report -o", "symbolic link");
	assert_victim_intact(victim, "report -o");
	ck_assert_int_eq(run_memhook_env((const char *[]){ "report", "-o", good, trace, NULL }, NULL,
					 sudo_env), 0);
	assert_owned_by_user(good);
	free(victim);
	free(link);
	free(good);
}
END_TEST

/* Root with --user (no sudo): the outputs stay root's, but a hard link or symlink is refused. */
START_TEST(user_option_refuses_links)
{
	char *victim, *hard = mh_test_join(dir, "hard.mht"), *soft = mh_test_join(dir, "soft.mht");

	if (skip_unless_root("user_option_refuses_links", &victim)) {
		free(hard);
		free(soft);
		return;
	}
	ck_assert_int_eq(link(victim, hard), 0);
	ck_assert_int_eq(symlink(victim, soft), 0);
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "-q", "--user=65534", "-o", hard,
						       "--", target, "exit", "0", NULL }, NULL),
			 MH_EXIT_CANT_CREATE);
	assert_one_line_refusal(hard, "record --user (hard link)", "single link");
	ck_assert_int_eq(run_memhook((const char *[]){ "record", "-q", "--user=65534", "-o", soft,
						       "--", target, "exit", "0", NULL }, NULL),
			 MH_EXIT_CANT_CREATE);
	assert_one_line_refusal(soft, "record --user (symlink)", "symbolic link");
	assert_victim_intact(victim, "record --user");
	free(victim);
	free(hard);
	free(soft);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("outputs");
	TCase *tc = tcase_create("AsRoot");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, sudo_symlink_at_every_output_is_refused);
	tcase_add_test(tc, sudo_outputs_belong_to_the_user);
	tcase_add_test(tc, sudo_report_output_is_guarded);
	tcase_add_test(tc, user_option_refuses_links);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
