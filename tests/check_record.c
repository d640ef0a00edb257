// SPDX-License-Identifier: MIT
/*
 * check_record.c - `memhook record`, `memhook dump` and their exit codes,
 * run as a user runs them: the built memhook binary with the built
 * libmemhook.so on tests/progs/rec_target, whose own arguments say how
 * it ends and how much it allocates. The trace is read back with the
 * trace reader; the oracle is the program's known behaviour and its
 * output without memhook.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "common/exit_codes.h"
#include "trace/writer.h"
#include "trace/reader.h"
#include "memhook/kernel_events.h"
#include "tests/record_cmd.h"
#include "tests/testutil.h"

struct trace_facts {
	int last_ret;			/* mh_trace_reader_next()'s final result */
	bool truncated;
	bool have_exit;
	struct mh_rec_exit exit;	/* the root's EXIT record */
	unsigned lost_records;		/* MH_REC_LOST records seen */
	unsigned mallocs;		/* ALLOC records of kind malloc from the root */
	unsigned infos;
};

static void read_facts(const char *path, struct trace_facts *f)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	const struct mh_rec_hdr *rec;
	__u32 root;

	ck_assert_msg(r != NULL, "cannot open trace %s: %s", path, strerror(errno));
	memset(f, 0, sizeof(*f));
	root = mh_trace_reader_header(r)->root_pid;
	while ((f->last_ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1) {
		if (rec->type == MH_REC_EXIT && ((const struct mh_rec_exit *)rec)->pid == root) {
			memcpy(&f->exit, rec, sizeof(f->exit));
			f->have_exit = true;
		}
		f->lost_records += rec->type == MH_REC_LOST;
		f->infos += rec->type == MH_REC_INFO;
		if (rec->type == MH_REC_ALLOC && rec->kind == MH_KIND_MALLOC &&
		    ((const struct mh_rec_alloc *)rec)->pid == root)
			f->mallocs++;
	}
	f->truncated = mh_trace_reader_truncated(r);
	mh_trace_reader_free(r);
}

/* Record rec_target MODE ARG; check the exit code and the trace's EXIT record. */
static void check_ending(const char *mode, const char *arg, int want_code, __u32 want_reason,
			 int want_status)
{
	const char *args[] = { "record", "--kernel=off", "-o", trace, "--", target, mode, arg, NULL };
	struct trace_facts f;

	ck_assert_int_eq(run_memhook(args, NULL), want_code);
	read_facts(trace, &f);
	ck_assert_int_eq(f.last_ret, 0);
	ck_assert_msg(!f.truncated, "trace of '%s' is truncated", mode);
	ck_assert(f.have_exit);
	ck_assert_uint_eq(f.exit.reason, want_reason);
	ck_assert_int_eq(f.exit.status, want_status);
	ck_assert_uint_ge(f.lost_records, 1);
	/* churn(1000) in rec_target: at least 1000 mallocs before it ends. */
	ck_assert_uint_ge(f.mallocs, 1000);
}

START_TEST(normal_exit_status_passes_through)
{
	if (skip_unbuilt("normal_exit_status_passes_through"))
		return;
	check_ending("exit", "3", 3, MH_EXIT_NORMAL, 3);
}
END_TEST

START_TEST(segfault_gives_139_and_a_complete_trace)
{
	if (skip_unbuilt("segfault_gives_139_and_a_complete_trace"))
		return;
	check_ending("segv", NULL, 128 + SIGSEGV, MH_EXIT_SIGNAL, SIGSEGV);
}
END_TEST

START_TEST(underscore_exit_gives_a_complete_trace)
{
	if (skip_unbuilt("underscore_exit_gives_a_complete_trace"))
		return;
	check_ending("_exit", "5", 5, MH_EXIT_NORMAL, 5);
}
END_TEST

START_TEST(sigkill_mid_run_gives_a_complete_trace)
{
	if (skip_unbuilt("sigkill_mid_run_gives_a_complete_trace"))
		return;
	check_ending("sigkill", NULL, 128 + SIGKILL, MH_EXIT_SIGNAL, SIGKILL);
}
END_TEST

/* memhook started with stdout closed: its ring and trace must not land on fd 1. */
START_TEST(closed_stdout_is_harmless)
{
	char script[1024];
	const char *args[] = { "sh", "-c", script, NULL };
	struct mh_test_cmd cmd = { .argv = args, .stderr_path = err_path };
	struct trace_facts f;
	int status;

	if (skip_unbuilt("closed_stdout_is_harmless"))
		return;
	/* print writes ~30 bytes a line: on the ring's fd it would overwrite the ring header. */
	snprintf(script, sizeof(script), "exec '%s' record -q --kernel=off -o '%s' -- '%s' print 2000 >&-",
		 memhook, trace, target);
	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	ck_assert(WIFEXITED(status));
	read_facts(trace, &f);
	ck_assert_int_eq(f.last_ret, 0);
	ck_assert(!f.truncated);
	ck_assert(f.have_exit);
	ck_assert_int_eq(f.exit.status, 0);
	/* One malloc per line printed. */
	ck_assert_uint_ge(f.mallocs, 2000);
}
END_TEST

/* Run argv directly and under memhook; stdout must be byte-identical. */
static void check_same_stdout(const char *const *prog, const char *stdin_path)
{
	const char *args[32] = { "record", "-q", "-o", trace, "--" };
	char *direct = mh_test_join(dir, "direct");
	struct mh_test_cmd cmd = {
		.argv = prog, .stdin_path = stdin_path, .stdout_path = direct,
	};
	int i, status;

	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	for (i = 0; prog[i]; i++)
		args[5 + i] = prog[i];
	ck_assert_int_eq(run_memhook(args, stdin_path), WEXITSTATUS(status));
	ck_assert_msg(mh_test_files_equal(direct, out_path), "stdout of %s differs under memhook",
		      prog[0]);
	free(direct);
}

START_TEST(stdout_is_untouched)
{
	const char *print[] = { target, "print", "20000", NULL };
	const char *cat[] = { target, "cat", NULL };
	const char *sh[] = { "sh", "-c", "echo start; seq 1 3000; echo end >&2; exit 4", NULL };

	if (skip_unbuilt("stdout_is_untouched"))
		return;
	check_same_stdout(print, NULL);
	check_same_stdout(cat, "/etc/services");
	check_same_stdout(sh, NULL);
	ck_assert_uint_gt(line_count(out_path), 3000);
}
END_TEST

START_TEST(dump_prints_every_record)
{
	const char *rec_args[] = { "record", "-o", trace, "--", target, "exit", "0", NULL };
	const char *dump_args[] = { "dump", trace, NULL };
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	unsigned records = 0;
	char *text;

	if (skip_unbuilt("dump_prints_every_record"))
		return;
	ck_assert_int_eq(run_memhook(rec_args, NULL), 0);
	ck_assert_int_eq(run_memhook(dump_args, NULL), 0);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1)
		records++;
	mh_trace_reader_free(r);
	/* One header line, then one line per record. */
	ck_assert_uint_eq(line_count(out_path), records + 1);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "meta   EXIT "));
	ck_assert_ptr_nonnull(strstr(text, "reason=normal status=0"));
	ck_assert_ptr_nonnull(strstr(text, "alloc  ALLOC kind=malloc"));
	free(text);
}
END_TEST

/* A file name with a newline and a backslash in a kernel record still dumps as one line. */
START_TEST(dump_escapes_kernel_strings)
{
	static const char path[] = "/tmp/a\nb\\c";	/* bytes: a, newline, b, backslash, c */
	const char *dump_args[] = { "dump", trace, NULL };
	struct mh_trace_header h = { .magic = MH_TRACE_MAGIC, .version = MH_TRACE_VERSION,
				     .header_bytes = sizeof(h), .flags = MH_TRACE_LITTLE_ENDIAN,
				     .page_size = 4096, .root_pid = 1, .pointer_bytes = 8 };
	struct {
		struct mh_rec_kfile k;
		char path[16];
	} rec = { .k = { .hdr = { .type = MH_REC_KFILE, .size = sizeof(rec) }, .ts_ns = 5,
			 .pid = 1, .path_len = sizeof(path) - 1 } };
	struct mh_trace_writer *w;
	char *text;

	if (skip_unbuilt("dump_escapes_kernel_strings"))
		return;
	memcpy(rec.path, path, sizeof(path));
	w = mh_trace_writer_open(trace, &h);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(mh_trace_writer_append(w, MH_STREAM_KERNEL, &rec, sizeof(rec)), 0);
	ck_assert_int_eq(mh_trace_writer_close(w, true), 0);
	ck_assert_int_eq(run_memhook(dump_args, NULL), 0);
	ck_assert_uint_eq(line_count(out_path), 2);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "path=/tmp/a\\x0ab\\\\c\n"));
	free(text);
}
END_TEST

/* A trace cut short (its recorder was killed) dumps to the cut with a warning, exit 0. */
START_TEST(truncated_trace_dumps_with_warning)
{
	const char *rec_args[] = { "record", "-q", "--kernel=off", "-o", trace, "--", target, "print",
				   "100000", NULL };
	const char *dump_args[] = { "dump", trace, NULL };
	struct stat st;
	char *text;

	if (skip_unbuilt("truncated_trace_dumps_with_warning"))
		return;
	ck_assert_int_eq(run_memhook(rec_args, NULL), 0);
	ck_assert_int_eq(stat(trace, &st), 0);
	ck_assert_int_eq(truncate(trace, st.st_size / 2), 0);
	ck_assert_int_eq(run_memhook(dump_args, NULL), 0);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "is truncated at offset"));
	free(text);
	ck_assert_uint_gt(line_count(out_path), 1);
}
END_TEST

START_TEST(help_and_version)
{
	const char *help[] = { "--help", NULL };
	const char *version[] = { "--version", NULL };
	const char *record_help[] = { "record", "--help", NULL };
	char *text;

	if (skip_unbuilt("help_and_version"))
		return;
	ck_assert_int_eq(run_memhook(help, NULL), 0);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "record"));
	ck_assert_ptr_nonnull(strstr(text, "dump"));
	free(text);
	ck_assert_int_eq(run_memhook(version, NULL), 0);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "memhook "));
	free(text);
	ck_assert_int_eq(run_memhook(record_help, NULL), 0);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "--kernel=auto|on|off"));
	free(text);
}
END_TEST

/* Run memhook expecting code and a single stderr line containing want. */
static void check_error(const char *const *args, int code, const char *want)
{
	char *text;

	ck_assert_int_eq(run_memhook(args, NULL), code);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, want) != NULL, "stderr '%s' lacks '%s'", text, want);
	ck_assert_uint_eq(line_count(err_path), 1);
	free(text);
}

START_TEST(bad_input_gives_documented_codes)
{
	const char *bad_flag[] = { "record", "--bogus", "--", "true", NULL };
	const char *no_prog[] = { "record", "-o", trace, NULL };
	const char *missing[] = { "record", "--kernel=off", "-o", trace, "--", "/nonexistent/prog",
				  NULL };
	const char *unwritable[] = { "record", "-o", "/nonexistent-dir/t.mht", "--", target,
				     "print", "10", NULL };
	const char *not_trace[] = { "dump", "/etc/passwd", NULL };
	const char *no_file[] = { "dump", "/nonexistent/t.mht", NULL };
	const char *bad_cmd[] = { "frobnicate", NULL };

	if (skip_unbuilt("bad_input_gives_documented_codes"))
		return;
	check_error(bad_flag, MH_EXIT_USAGE, "unknown option '--bogus'");
	check_error(no_prog, MH_EXIT_USAGE, "missing program");
	check_error(bad_cmd, MH_EXIT_USAGE, "unknown command 'frobnicate'");
	check_error(missing, MH_EXIT_NOT_FOUND,
		    "cannot run '/nonexistent/prog': No such file or directory");
	check_error(unwritable, MH_EXIT_CANT_CREATE,
		    "cannot create trace '/nonexistent-dir/t.mht': No such file or directory");
	/* The program must not have run. */
	ck_assert_uint_eq(line_count(out_path), 0);
	check_error(not_trace, MH_EXIT_BAD_TRACE, "'/etc/passwd' is not a memhook trace");
	check_error(no_file, MH_EXIT_NO_INPUT,
		    "cannot open trace '/nonexistent/t.mht': No such file or directory");
}
END_TEST

START_TEST(corrupt_trace_gives_bad_trace_code)
{
	const char *rec_args[] = { "record", "-q", "-o", trace, "--", target, "exit", "0", NULL };
	const char *dump_args[] = { "dump", trace, NULL };
	FILE *f;

	if (skip_unbuilt("corrupt_trace_gives_bad_trace_code"))
		return;
	ck_assert_int_eq(run_memhook(rec_args, NULL), 0);
	/* Flip a byte inside the first chunk's payload. */
	f = fopen(trace, "r+");
	ck_assert_ptr_nonnull(f);
	fseek(f, sizeof(struct mh_trace_header) + sizeof(struct mh_chunk_header) + 5, SEEK_SET);
	fputc(fgetc(f) ^ 0xff, f);
	fclose(f);
	check_error(dump_args, MH_EXIT_BAD_TRACE, "offset 48");
}
END_TEST

/*
 * Mount a small tmpfs at mnt in a mount namespace of this test process
 * only. Returns false (after printing SKIP) where that is not permitted.
 */
static bool small_disk(const char *name, const char *mnt)
{
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		mh_test_skip(name, "cannot make a private mount namespace (needs CAP_SYS_ADMIN)");
		return false;
	}
	ck_assert_int_eq(mkdir(mnt, 0700), 0);
	ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=64k"), 0);
	return true;
}

/* A full disk stops the trace mid-run: exit 74, the program unharmed, the trace readable. */
START_TEST(full_disk_stops_writing_not_the_program)
{
	char *mnt = mh_test_join(dir, "small");
	char *small_trace = mh_test_join(mnt, "t.mht");
	/* Events enough for more than 64 KiB of trace at the default time resolution. */
	const char *args[] = { "record", "--kernel=off", "-o", small_trace, "--", target, "print",
			       "1000000", NULL };
	struct trace_facts f;
	char *text;

	if (skip_unbuilt("full_disk_stops_writing_not_the_program") ||
	    !small_disk("full_disk_stops_writing_not_the_program", mnt))
		goto out_free;
	ck_assert_int_eq(run_memhook(args, NULL), MH_EXIT_IO);
	ck_assert_uint_eq(line_count(out_path), 1000000);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "cannot write trace"));
	ck_assert_ptr_nonnull(strstr(text, "No space left on device"));
	free(text);
	read_facts(small_trace, &f);
	ck_assert_int_eq(f.last_ret, 0);
	ck_assert(f.truncated);
	ck_assert_uint_ge(f.infos, 1);
	umount2(mnt, MNT_DETACH);
out_free:
	free(small_trace);
	free(mnt);
}
END_TEST

/* Start memhook record -- rec_target pause with stdout on a pipe; returns memhook's pid. */
static pid_t start_paused(FILE **out)
{
	char line[16] = "";
	int pipefd[2];
	pid_t pid;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(memhook, memhook, "record", "-q", "--kernel=off", "-o", trace, "--", target,
		      "pause", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	*out = fdopen(pipefd[0], "r");
	ck_assert_ptr_nonnull(*out);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), *out));
	ck_assert_str_eq(line, "ready\n");
	return pid;
}

/* SIGTERM sent to memhook reaches the program; memhook survives to close the trace. */
START_TEST(sigterm_is_forwarded)
{
	struct trace_facts f;
	int status;
	FILE *in;
	pid_t pid;

	if (skip_unbuilt("sigterm_is_forwarded"))
		return;
	pid = start_paused(&in);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	fclose(in);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 128 + SIGTERM);
	read_facts(trace, &f);
	ck_assert(!f.truncated);
	ck_assert(f.have_exit);
	ck_assert_uint_eq(f.exit.reason, MH_EXIT_SIGNAL);
	ck_assert_int_eq(f.exit.status, SIGTERM);
}
END_TEST

/* memhook run: report written, temporary trace removed, the program's status kept. */
START_TEST(run_reports_and_passes_status)
{
	char *tmp_env, *report = mh_test_join(dir, "report.txt");
	const char *argv[] = { memhook, "run", "--kernel=off", "-o", report, "--", target, "exit", "3",
			       NULL };
	const char *keep[] = { "run", "--kernel=off", "--trace", trace, "--", target, "segv", NULL };
	const char *env[2];
	struct mh_test_cmd cmd = { .argv = argv, .env = env, .stdout_path = out_path,
				   .stderr_path = err_path };
	struct trace_facts f;
	char *text, *ls;
	int status;

	if (skip_unbuilt("run_reports_and_passes_status"))
		goto out_free;
	ck_assert_int_ge(asprintf(&tmp_env, "TMPDIR=%s", dir), 0);
	env[0] = tmp_env;
	env[1] = NULL;
	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 3);
	text = mh_test_read_file(report, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_gt(strlen(text), 0);
	free(text);
	/* Nothing but our own files is left in TMPDIR: the temporary trace is gone. */
	ck_assert_int_ge(asprintf(&ls, "ls '%s' | grep -q '^memhook\\.' && exit 1; exit 0", dir), 0);
	ck_assert_int_eq(system(ls), 0);
	free(ls);
	free(tmp_env);

	ck_assert_int_eq(run_memhook(keep, NULL), 128 + SIGSEGV);
	read_facts(trace, &f);
	ck_assert(f.have_exit);
	ck_assert_int_eq(f.exit.status, SIGSEGV);
out_free:
	free(report);
}
END_TEST

/* --kernel=on without the privileges for BPF: exit 69, one line, the program not run. */
START_TEST(kernel_on_without_privilege_fails)
{
	char *sub = mh_test_join(dir, "nobody");
	char *sub_trace = mh_test_join(sub, "t.mht");
	const char *argv[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", memhook,
			       "record", "--kernel=on", "-o", sub_trace, "--", target, "print", "10",
			       NULL };
	/* argv[5] and argv[6] are swapped for a --version probe first. */
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out_path, .stderr_path = err_path };
	char *text;
	int status;

	if (skip_unbuilt("kernel_on_without_privilege_fails"))
		goto out_free;
	if (geteuid() != 0 || !mh_test_have_program("setpriv")) {
		mh_test_skip("kernel_on_without_privilege_fails", "needs root and setpriv to drop privileges");
		goto out_free;
	}
	ck_assert_int_eq(mkdir(sub, 0777), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
	/* The build directory may not be reachable for an unprivileged user. */
	argv[5] = "--version";
	argv[6] = NULL;
	status = mh_test_run(&cmd);
	if (status != 0) {
		mh_test_skip("kernel_on_without_privilege_fails", "memhook is not executable by uid 65534");
		goto out_free;
	}
	argv[5] = "record";
	argv[6] = "--kernel=on";
	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), MH_EXIT_UNAVAILABLE);
	text = mh_test_read_file(err_path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "memhook: kernel stream unavailable: "));
	free(text);
	ck_assert_uint_eq(line_count(err_path), 1);
	ck_assert_uint_eq(line_count(out_path), 0);
	ck_assert_int_ne(access(sub_trace, F_OK), 0);
out_free:
	free(sub_trace);
	free(sub);
}
END_TEST

/*
 * A program that closes every inherited fd (the ring's among them), opens
 * files of its own on those numbers, then forks and execs (as Python's
 * subprocess does): the exec'd child still records. Oracle: the child
 * runs "rec_target exit 0", whose churn makes 1000 mallocs.
 */
START_TEST(closed_fds_then_exec_still_records)
{
	const char *args[] = { "record", "-q", "--kernel=off", "--follow-forks", "-o", trace, "--",
			       target, "closefds", NULL };
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	unsigned child_mallocs = 0;
	__u32 root;

	if (skip_unbuilt("closed_fds_then_exec_still_records"))
		return;
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	ck_assert_uint_eq(line_count(err_path), 0);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	root = mh_trace_reader_header(r)->root_pid;
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1) {
		if (rec->type == MH_REC_ALLOC && rec->kind == MH_KIND_MALLOC &&
		    ((const struct mh_rec_alloc *)rec)->pid != root)
			child_mallocs++;
	}
	mh_trace_reader_free(r);
	ck_assert_uint_ge(child_mallocs, 1000);
}
END_TEST

/* True while pid exists and is not a zombie (its new parent may reap it late). */
static bool process_running(pid_t pid)
{
	char path[64], *text, *p;
	bool running;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	text = mh_test_read_file(path, NULL);
	if (!text)
		return false;
	p = strrchr(text, ')');
	running = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	free(text);
	return running;
}

/* SIGKILL of memhook itself: the trace reads up to its cut, the program still finishes. */
START_TEST(recorder_killed_leaves_readable_trace)
{
	struct mh_trace_reader *r;
	const struct mh_rec_hdr *rec;
	pid_t pid, prog;
	int status, ret, i;
	FILE *in;

	if (skip_unbuilt("recorder_killed_leaves_readable_trace"))
		return;
	pid = start_paused(&in);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	prog = (pid_t)mh_trace_reader_header(r)->root_pid;
	while ((ret = mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL)) == 1)
		;
	ck_assert_int_eq(ret, 0);
	ck_assert(mh_trace_reader_truncated(r));
	mh_trace_reader_free(r);
	/* The program runs on without its recorder and ends when told to (a liveness bound, 60 s). */
	ck_assert(process_running(prog));
	ck_assert_int_eq(kill(prog, SIGUSR1), 0);
	for (i = 0; i < 600 && process_running(prog); i++)
		usleep(100000);
	ck_assert_msg(!process_running(prog), "the program hangs without its recorder");
	fclose(in);
}
END_TEST

/*
 * memhook killed while the program waits in its exit scan, and left a
 * zombie by a parent that does not reap it yet (kill(pid, 0) still finds a
 * zombie): the program must notice its recorder is gone and end (a
 * liveness bound of 60 s, not a timing).
 */
START_TEST(recorder_killed_during_exit_scan_releases_program)
{
	struct mh_trace_reader *r;
	int status, i;
	pid_t pid, prog;
	FILE *in;

	if (skip_unbuilt("recorder_killed_during_exit_scan_releases_program"))
		return;
	pid = start_paused(&in);
	r = mh_trace_reader_open(trace);
	ck_assert_ptr_nonnull(r);
	prog = (pid_t)mh_trace_reader_header(r)->root_pid;
	mh_trace_reader_free(r);
	/* A stopped recorder answers no exit scan: the program waits in it. */
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	ck_assert_int_eq(kill(prog, SIGUSR1), 0);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	for (i = 0; i < 600 && process_running(prog); i++)
		usleep(100000);
	ck_assert_msg(!process_running(prog), "the program waits for a dead recorder");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
	fclose(in);
}
END_TEST

/* The value of the trace-wide INFO record key, or -1 if the trace has none. */
static long long info_value(const char *path, const char *key)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);
	const struct mh_rec_hdr *rec;
	long long v = -1;

	ck_assert_ptr_nonnull(r);
	while (mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL) == 1) {
		const struct mh_rec_info *i = (const void *)rec;
		const char *text = (const char *)(i + 1);

		if (rec->type == MH_REC_INFO && i->key_len == strlen(key) &&
		    !memcmp(text, key, i->key_len))
			v = strtoll(text + i->key_len + 1, NULL, 10);
	}
	mh_trace_reader_free(r);
	return v;
}

/*
 * A ring too small for the program's pace: the program waits for the
 * recorder, and the trace must say how often and how long. The truth is
 * the kernel's: the time the program's thread slept during its churn
 * (off the CPU and off the run queue, /proc/thread-self/schedstat), which
 * only the waits for room explain; the waits also spin and queue, so
 * their total is at least that, and at most the whole run.
 */
START_TEST(waits_for_the_recorder_are_counted_and_timed)
{
	const char *args[] = { "record", "--kernel=off", "--ring-size", "64K", "-o", trace, "--",
			       target, "waits", "2000000", NULL };
	unsigned long long wall = 0, slept = 0;
	long long waits, wait_ns;
	struct timespec t0, t1;
	double run_ns;
	FILE *out;

	if (skip_unbuilt("waits_for_the_recorder_are_counted_and_timed"))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	run_ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	out = fopen(out_path, "r");
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(fscanf(out, "wall %llu slept %llu", &wall, &slept), 2);
	fclose(out);
	waits = info_value(trace, "ring.producer_waits");
	wait_ns = info_value(trace, "ring.producer_wait_ns");
	if (slept < 10000000ULL) {
		printf("SKIP waits_for_the_recorder_are_counted_and_timed: the recorder kept up"
		       " (the program slept %llu ns)\n", slept);
		return;
	}
	ck_assert_int_ge(waits, 1);
	ck_assert_msg(wait_ns >= (long long)slept,
		      "waits of %lld ns in all, but the program slept %llu ns", wait_ns, slept);
	ck_assert_msg((double)wait_ns <= run_ns,
		      "waits of %lld ns in all, longer than the run (%.0f ns)", wait_ns, run_ns);
}
END_TEST

/*
 * Each chunk's first_ts_ns is the smallest non-zero stamp of the records it
 * decodes to (docs/FORMAT.md): headers read from the file, records with the
 * reader, in file order, over churn enough for several allocation chunks.
 */
START_TEST(chunk_first_stamp_is_smallest_stamp)
{
	const char *args[] = { "record", "--kernel=off", "-o", trace, "--", target, "waits",
			       "1000000", NULL };
	const struct mh_rec_hdr *rec;
	struct mh_trace_reader *r;
	struct mh_chunk_header ch;
	unsigned alloc_chunks = 0, i;
	__u64 ts, least;
	int fd, stream;
	off_t off;

	if (skip_unbuilt("chunk_first_stamp_is_smallest_stamp"))
		return;
	ck_assert_int_eq(run_memhook(args, NULL), 0);
	r = chunk_walk_open(trace, &fd, &off);
	for (; chunk_at(fd, off, &ch); off += sizeof(ch) + ch.stored_bytes) {
		for (least = 0, i = 0; i < ch.record_count; i++) {
			ck_assert_int_eq(mh_trace_reader_next(r, MH_STREAM_ANY, &rec, &stream), 1);
			ck_assert_int_eq(stream, ch.stream);
			ts = 0;
			if (rec->type != MH_REC_STACK && rec->type != MH_REC_LEAK &&
			    rec->size >= sizeof(*rec) + sizeof(ts))
				memcpy(&ts, rec + 1, sizeof(ts));
			if (ts && (!least || ts < least))
				least = ts;
		}
		ck_assert_msg(ch.first_ts_ns == least, "chunk at %lld: first_ts_ns %llu, smallest %llu",
			      (long long)off, ch.first_ts_ns, least);
		alloc_chunks += ch.stream == MH_STREAM_ALLOC;
	}
	ck_assert_int_eq(mh_trace_reader_next(r, MH_STREAM_ANY, &rec, NULL), 0);
	ck_assert_uint_ge(alloc_chunks, 2);
	close(fd);
	mh_trace_reader_free(r);
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("Endings");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, normal_exit_status_passes_through);
	tcase_add_test(tc, segfault_gives_139_and_a_complete_trace);
	tcase_add_test(tc, underscore_exit_gives_a_complete_trace);
	tcase_add_test(tc, sigkill_mid_run_gives_a_complete_trace);
	tcase_add_test(tc, sigterm_is_forwarded);
	tcase_add_test(tc, recorder_killed_leaves_readable_trace);
	tcase_add_test(tc, recorder_killed_during_exit_scan_releases_program);
	tcase_add_test(tc, closed_fds_then_exec_still_records);
	tcase_add_test(tc, waits_for_the_recorder_are_counted_and_timed);
	suite_add_tcase(s, tc);

	tc = tcase_create("Output");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, stdout_is_untouched);
	tcase_add_test(tc, dump_prints_every_record);
	tcase_add_test(tc, dump_escapes_kernel_strings);
	tcase_add_test(tc, chunk_first_stamp_is_smallest_stamp);
	tcase_add_test(tc, closed_stdout_is_harmless);
	tcase_add_test(tc, run_reports_and_passes_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("Errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, bad_input_gives_documented_codes);
	tcase_add_test(tc, corrupt_trace_gives_bad_trace_code);
	tcase_add_test(tc, full_disk_stops_writing_not_the_program);
	tcase_add_test(tc, kernel_on_without_privilege_fails);
	tcase_add_test(tc, truncated_trace_dumps_with_warning);
	tcase_add_test(tc, help_and_version);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(record_suite());
}
