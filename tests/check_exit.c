// SPDX-License-Identifier: MIT
/*
 * check_exit.c - how a traced process ends (preload/exit.c): exit(),
 * return from main, _exit(), quick_exit() and fatal signals each send one
 * MH_REC_EXIT and one MH_REC_EXIT_SCAN and then wait, alive with memory
 * intact, until the (test's) recorder acks; exit() and return from main
 * first send one figures request (MH_EXIT_PATH_FIGURES: the program is
 * done, before __libc_freeres) and wait for it too; a followed fork child
 * does the same under its own pid; and the fatal-signal handlers stay
 * invisible to the program.
 *
 * Oracles: the same program run without the preload (its wait status);
 * the program's own knowledge (how it ends, what sigaction() must report);
 * /proc (the process waiting for the ack is not a zombie).
 */
#include "tests/preload_run.h"


/* The program's wait status without the preload. */
static int native_status(const char *mode)
{
	char *prog = prog_path();
	const char *argv[] = { prog, mode, NULL };
	struct mh_test_cmd cmd = { .argv = argv };
	int status = mh_test_run(&cmd);

	free(prog);
	ck_assert_int_ge(status, 0);
	return status;
}

static const struct mh_rec_exit *find_exit(const struct trace *t, __u32 pid, unsigned int *n)
{
	const struct mh_rec_exit *found = NULL;

	*n = 0;
	for_each_rec(t, h) {
		if (h->type == MH_REC_EXIT && ((const struct mh_rec_exit *)h)->pid == pid) {
			found = (const void *)h;
			(*n)++;
		}
	}
	return found;
}

/* The last EXIT_SCAN of pid that is (figures) or is not (!figures) a figures request; *n counts them. */
static const struct mh_rec_exit_scan *find_request(const struct trace *t, __u32 pid, bool figures,
						  unsigned int *n)
{
	const struct mh_rec_exit_scan *found = NULL;

	*n = 0;
	for_each_rec(t, h) {
		const struct mh_rec_exit_scan *s = (const void *)h;

		if (h->type == MH_REC_EXIT_SCAN && s->pid == pid &&
		    (s->path == MH_EXIT_PATH_FIGURES) == figures) {
			found = s;
			(*n)++;
		}
	}
	return found;
}

static const struct mh_rec_exit_scan *find_scan(const struct trace *t, __u32 pid, unsigned int *n)
{
	return find_request(t, pid, false, n);
}

/* The last ALLOC or FREE of process pid in ring order, NULL if none. */
static const struct mh_rec_hdr *last_heap_event(const struct trace *t, __u32 pid)
{
	const struct mh_rec_hdr *last = NULL;

	for_each_rec(t, h) {
		if ((h->type == MH_REC_ALLOC && ((const struct mh_rec_alloc *)h)->pid == pid) ||
		    (h->type == MH_REC_FREE && ((const struct mh_rec_free *)h)->pid == pid))
			last = h;
	}
	return last;
}

static const struct {
	const char *mode;
	__u32 path;		/* enum mh_exit_path */
	__u32 reason;		/* enum mh_exit_reason */
	int status;		/* exit code or signal, as the program ends itself */
} exit_cases[] = {
	{ "exit7", MH_EXIT_PATH_NORMAL, MH_EXIT_NORMAL, 7 },
	{ "_exit", MH_EXIT_PATH_IMMEDIATE, MH_EXIT_NORMAL, 0 },
	{ "quick_exit", MH_EXIT_PATH_IMMEDIATE, MH_EXIT_NORMAL, 5 },
	{ "abort", MH_EXIT_PATH_SIGNAL, MH_EXIT_SIGNAL, SIGABRT },
	{ "sigterm", MH_EXIT_PATH_SIGNAL, MH_EXIT_SIGNAL, SIGTERM },
	{ "segv", MH_EXIT_PATH_SIGNAL, MH_EXIT_SIGNAL, SIGSEGV },
};

/*
 * Each way of ending: one EXIT and one EXIT_SCAN saying how, sent while
 * the process waited alive, after its last heap event; and the process
 * ends exactly as it does without the preload.
 */
START_TEST(test_exit_handshake)
{
	const char *args[] = { exit_cases[_i].mode, NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .flags = MH_RING_EXIT_SCAN };
	const struct mh_rec_exit_scan *scan, *figures;
	const struct mh_rec_exit *ex;
	unsigned int n_exit, n_scan, n_figures;
	struct trace t;

	if (!have_artefacts("exit_handshake"))
		return;
	run_traced(&t, &o);
	ck_assert_int_eq(t.status, native_status(exit_cases[_i].mode));
	if (exit_cases[_i].reason == MH_EXIT_SIGNAL)
		ck_assert(WIFSIGNALED(t.status) && WTERMSIG(t.status) == exit_cases[_i].status);
	else
		ck_assert(WIFEXITED(t.status) && WEXITSTATUS(t.status) == exit_cases[_i].status);
	ex = find_exit(&t, (__u32)t.pid, &n_exit);
	scan = find_scan(&t, (__u32)t.pid, &n_scan);
	figures = find_request(&t, (__u32)t.pid, true, &n_figures);
	ck_assert_uint_eq(n_exit, 1);
	ck_assert_uint_eq(n_scan, 1);
	/* Only exit() takes its figures before memhook's own exit work. */
	ck_assert_uint_eq(n_figures, exit_cases[_i].path == MH_EXIT_PATH_NORMAL);
	if (figures)
		ck_assert_uint_lt((uintptr_t)figures, (uintptr_t)ex);
	ck_assert_uint_eq(ex->reason, exit_cases[_i].reason);
	ck_assert_int_eq(ex->status, exit_cases[_i].status);
	ck_assert_uint_eq(scan->path, exit_cases[_i].path);
	ck_assert_int_eq(scan->status, exit_cases[_i].status);
	ck_assert_uint_eq(scan->tid, (__u32)t.pid);
	ck_assert_uint_ne(scan->ticket, 0);
	ck_assert_uint_lt((uintptr_t)ex, (uintptr_t)scan);
	ck_assert_uint_lt((uintptr_t)last_heap_event(&t, (__u32)t.pid), (uintptr_t)ex);
	ck_assert_uint_eq(t.scans, 1 + n_figures);
	ck_assert_uint_eq(t.scans_waiting, 1 + n_figures);
	ck_assert_str_eq(t.err, "");
	trace_free(&t);
}
END_TEST

/* A followed child is scanned under its own pid, and says how it ended. */
START_TEST(test_exit_handshake_fork)
{
	const char *args[] = { "fork", NULL };
	const char *follow[] = { MH_ENV_FOLLOW_FORKS "=1", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = follow,
			      .flags = MH_RING_EXIT_SCAN };
	const struct mh_rec_process *child;
	const struct mh_rec_exit *ex;
	unsigned int n;
	struct trace t;

	if (!have_artefacts("exit_handshake_fork"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	child = find_process(&t, 1);
	ck_assert_ptr_nonnull(child);
	ex = find_exit(&t, child->pid, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(ex->reason, MH_EXIT_NORMAL);
	ck_assert_int_eq(ex->status, 0);
	ck_assert_uint_eq(find_scan(&t, child->pid, &n)->path, MH_EXIT_PATH_IMMEDIATE);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(find_scan(&t, (__u32)t.pid, &n)->path, MH_EXIT_PATH_NORMAL);
	ck_assert_uint_eq(n, 1);
	/* The child's _exit() and the parent's exit(), which asked for its figures first. */
	ck_assert_uint_eq(t.scans, 3);
	ck_assert_uint_eq(t.scans_waiting, 3);
	trace_free(&t);
}
END_TEST

/*
 * The fatal-signal handlers are invisible: the program reads SIG_DFL and
 * its own handlers run (the program checks; it exits 0 as it does
 * natively), and signals it handles end nothing.
 */
START_TEST(test_signal_handlers_hidden)
{
	const char *args[] = { "sigquery", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .flags = MH_RING_EXIT_SCAN };
	unsigned int n;
	struct trace t;

	if (!have_artefacts("signal_handlers_hidden"))
		return;
	ck_assert_int_eq(native_status("sigquery"), 0);
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status));
	ck_assert_int_eq(WEXITSTATUS(t.status), 0);
	ck_assert_uint_eq(find_scan(&t, (__u32)t.pid, &n)->path, MH_EXIT_PATH_NORMAL);
	ck_assert_uint_eq(n, 1);
	trace_free(&t);
}
END_TEST

/* A signal ignored when the program starts (nohup) stays ignored: no handler of ours. */
START_TEST(test_ignored_signal_untouched)
{
	const char *args[] = { "nohup", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .flags = MH_RING_EXIT_SCAN,
			      .ignore_sighup = true };
	unsigned int n;
	struct trace t;

	if (!have_artefacts("ignored_signal_untouched"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status));
	ck_assert_int_eq(WEXITSTATUS(t.status), 0);
	ck_assert_uint_eq(find_scan(&t, (__u32)t.pid, &n)->path, MH_EXIT_PATH_NORMAL);
	ck_assert_uint_eq(n, 1);
	trace_free(&t);
}
END_TEST

static Suite *exit_suite(void)
{
	Suite *s = suite_create("exit");
	TCase *paths = tcase_create("Paths");
	TCase *signals = tcase_create("Signals");

	tcase_set_timeout(paths, 300);
	tcase_add_loop_test(paths, test_exit_handshake, 0,
			    sizeof(exit_cases) / sizeof(exit_cases[0]));
	tcase_add_test(paths, test_exit_handshake_fork);
	suite_add_tcase(s, paths);

	tcase_add_test(signals, test_signal_handlers_hidden);
	tcase_add_test(signals, test_ignored_signal_untouched);
	suite_add_tcase(s, signals);
	return s;
}

int main(void)
{
	return mh_test_run_suite(exit_suite());
}
