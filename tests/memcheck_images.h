/* SPDX-License-Identifier: MIT */
/*
 * memcheck_images.h - the oracle of tests/check_shells.c: run a command
 * tree under valgrind memcheck with --trace-children=yes and read back
 * one record per process image (its arguments, whether memcheck
 * summarized it at exit, its definitely and indirectly lost bytes and
 * blocks). Header-only (static), for that suite; test code: fails the
 * calling test on error.
 */
#ifndef MEMHOOK_TESTS_MEMCHECK_IMAGES_H
#define MEMHOOK_TESTS_MEMCHECK_IMAGES_H

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/testutil.h"

#define MAX_IMAGES 32

/* One process image, as memcheck's log file or memhook's JSON report shows it. */
struct image {
	char key[1024];			/* basename of argv[0], then the other arguments */
	char name[1200];		/* memhook: the verdict's name ("pid 7 exec 1: ./leaky") */
	long pid;
	bool judged;			/* memcheck: summarized at exit; memhook: not replaced by exec */
	long long bytes[2], blocks[2];	/* definitely, indirectly lost */
	int match;			/* index of the other tool's image, -1 if none */
};

struct images {
	struct image v[MAX_IMAGES];
	int n;
};

/* Append arg to key: the basename if it is the first, else a space and arg. */
static void key_add(char *key, size_t size, const char *arg)
{
	const char *base = strrchr(arg, '/');
	size_t used = strlen(key);

	if (!used)
		snprintf(key, size, "%s", base ? base + 1 : arg);
	else
		snprintf(key + used, size - used, " %s", arg);
}

/* "==P== Command: sh -c ./leaky\ |\ cat": memcheck escapes the spaces inside an argument. */
static void memcheck_key(const char *log, char *key, size_t size)
{
	const char *p = strstr(log, "== Command: ");
	char arg[1024];
	size_t n = 0;

	key[0] = '\0';
	ck_assert_msg(p != NULL, "memcheck log without a Command line:\n%s", log);
	for (p += strlen("== Command: ");; p++) {
		if (*p == '\\' && p[1] == ' ') {
			arg[n++] = *++p;
		} else if (*p && *p != ' ' && *p != '\n') {
			arg[n++] = *p;
		} else {
			arg[n] = '\0';
			if (n)
				key_add(key, size, arg);
			n = 0;
			if (*p != ' ')
				break;
		}
		ck_assert_uint_lt(n, sizeof(arg) - 1);
	}
}

/*
 * memcheck's log names a process's parent ("Parent PID:"); the launched
 * process's parent is not in the log.
 */
static long parent_pid(const char *log)
{
	const char *p = strstr(log, "== Parent PID: ");

	return p ? strtol(p + strlen("== Parent PID: "), NULL, 10) : -1;
}

/*
 * With --log-file=vg.%p.%n each image has a file of its own (a fork child
 * continues its parent's sequence number, an exec'd image starts at 1),
 * except that an exec in the launched process writes over the file of the
 * image it replaced (both are number 1): when the launched pid's file names
 * another program, the launched image ended by exec, without a summary.
 */
static void restore_launched(struct images *out, const long *parents, const char *const *argv)
{
	char key[1024] = "";

	for (const char *const *a = argv; *a; a++)
		key_add(key, sizeof(key), *a);
	for (int i = 0; i < out->n; i++) {
		int j;

		for (j = 0; j < out->n && out->v[j].pid != parents[i]; j++)
			;
		if (j < out->n || !strcmp(out->v[i].key, key))
			continue;
		ck_assert_int_lt(out->n, MAX_IMAGES);
		out->v[out->n] = (struct image){ .pid = out->v[i].pid, .match = -1 };
		snprintf(out->v[out->n].key, sizeof(out->v[out->n].key), "%s", key);
		out->n++;
		return;
	}
}

/*
 * Run argv under memcheck (logs under tmp/vg, its stdout to tmp/vg.out):
 * one image per log file into out, *pids the distinct pids seen.
 * Returns the wait status.
 */
static int memcheck_images(const char *const *argv, const char *tmp, unsigned timeout_s,
			   struct images *out, long *pids)
{
	const char *vg[32] = { "valgrind", "--leak-check=full", "--show-leak-kinds=all",
			       "--errors-for-leak-kinds=none", "--trace-children=yes" };
	char *dir = mh_test_join(tmp, "vg"), *log_opt, *vg_out = mh_test_join(tmp, "vg.out");
	long seen[MAX_IMAGES], parents[MAX_IMAGES];
	const char *const *launched = argv;
	struct dirent *e;
	int n = 5, status, nseen = 0;
	DIR *d;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_ge(asprintf(&log_opt, "--log-file=%s/vg.%%p.%%n", dir), 0);
	vg[n++] = log_opt;
	for (; *argv; argv++)
		vg[n++] = *argv;
	status = mh_test_run(&(struct mh_test_cmd){ .argv = vg, .stdout_path = vg_out,
						    .timeout_s = timeout_s });
	ck_assert_msg(status >= 0, "valgrind: %s", strerror(-status));
	memset(out, 0, sizeof(*out));
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		struct image *im = &out->v[out->n];
		struct mh_vg_summary s;
		char *path, *log;
		int i;

		if (e->d_name[0] == '.')
			continue;
		ck_assert_int_lt(out->n, MAX_IMAGES);
		path = mh_test_join(dir, e->d_name);
		log = mh_test_read_file(path, NULL);
		ck_assert_ptr_nonnull(log);
		im->pid = mh_test_valgrind_pid(log, 0);
		im->match = -1;
		parents[out->n] = parent_pid(log);
		memcheck_key(log, im->key, sizeof(im->key));
		im->judged = mh_test_valgrind_parse(log, &s) == 0;
		if (im->judged) {
			im->bytes[0] = s.definite_bytes;
			im->blocks[0] = s.definite_blocks;
			im->bytes[1] = s.indirect_bytes;
			im->blocks[1] = s.indirect_blocks;
		}
		for (i = 0; i < nseen && seen[i] != im->pid; i++)
			;
		if (i == nseen)
			seen[nseen++] = im->pid;
		out->n++;
		free(log);
		free(path);
	}
	closedir(d);
	restore_launched(out, parents, launched);
	*pids = nseen;
	free(vg_out);
	free(log_opt);
	free(dir);
	return status;
}

#endif /* MEMHOOK_TESTS_MEMCHECK_IMAGES_H */
