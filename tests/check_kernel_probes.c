// SPDX-License-Identifier: MIT
/*
 * check_kernel_probes.c - the kernel streams' fallback (kernel/probes.h).
 * `memhook record --kernel=on` attaches exactly the programs its
 * kernel.probe.* INFO records say it attached, and keeps no other program
 * loaded; on a test object (tests/bpf/probe_fallback.bpf.c), a probe of a
 * tracepoint no kernel has is ruled out before load and reported skipped
 * with a reason per mechanism, and a program the verifier refuses gives
 * way to its fallback. The oracle is the kernel's own account of what a
 * process holds: its BPF links and programs (/proc/PID/fdinfo and
 * BPF_OBJ_GET_INFO_BY_FD), and a tracepoint name no kernel defines.
 *
 * Needs root; otherwise each test prints "SKIP <name>: <reason>".
 */
#include <errno.h>
#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include <check.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace/reader.h"
#include "kernel/probes.h"
#include "tests/bpf/probe_fallback.skel.h"
#include "tests/testutil.h"

/* How long memhook may take to start the program, s (a hang guard). */
#define WAIT_S 60
/* Most links, programs or probes one list holds here. */
#define MAX_ENTRIES 64
/* Bytes of a program name the kernel keeps (BPF_OBJ_NAME_LEN - 1). */
#define PROG_NAME_KEPT 15

/*
 * What each probe of the collector hooks, as the kernel names it: the
 * tracepoint (for tp_btf and raw_tp) and the program ("<stream>__<event>",
 * for a perf event, whose link names no tracepoint).
 */
static const struct probe_target {
	const char *probe;
	const char *tracepoint;
	const char *prog;
} targets[] = {
	{ "page_fault", "page_fault_user", "faults__page_fault_perf" },
	{ "major_fault", NULL, "faults__major_fault" },
	{ "rss_stat", "rss_stat", NULL },
	{ "memcg_events", "count_memcg_events", NULL },
	{ "direct_reclaim_begin", "mm_vmscan_direct_reclaim_begin", NULL },
	{ "direct_reclaim_end", "mm_vmscan_direct_reclaim_end", NULL },
	{ "memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_begin", NULL },
	{ "memcg_reclaim_end", "mm_vmscan_memcg_reclaim_end", NULL },
	{ "kswapd_wake", "mm_vmscan_kswapd_wake", NULL },
	{ "kswapd_sleep", "mm_vmscan_kswapd_sleep", NULL },
	{ "wakeup_kswapd", "mm_vmscan_wakeup_kswapd", NULL },
	{ "mark_victim", "mark_victim", NULL },
	{ "signal_generate", "signal_generate", NULL },
	{ "sys_enter", "sys_enter", NULL },
	{ "sys_exit", "sys_exit", NULL },
	{ "process_fork", "sched_process_fork", NULL },
	{ "process_exec", "sched_process_exec", NULL },
	{ "process_exit", "sched_process_exit", NULL },
};

/* A sorted list of "<mechanism> <what>" lines, compared as sets. */
struct entries {
	char line[MAX_ENTRIES][96];
	size_t count;
};

static void add_entry(struct entries *e, const char *mech, const char *what)
{
	ck_assert_uint_lt(e->count, MAX_ENTRIES);
	snprintf(e->line[e->count++], sizeof(e->line[0]), "%s %s", mech, what);
}

/* add_entry, unless the list holds that line already. */
static void add_once(struct entries *e, const char *mech, const char *what)
{
	char line[sizeof(e->line[0])];
	size_t i;

	snprintf(line, sizeof(line), "%s %s", mech, what);
	for (i = 0; i < e->count; i++)
		if (!strcmp(e->line[i], line))
			return;
	add_entry(e, mech, what);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Assert two lists hold the same lines, printing both when they do not. */
static void assert_same(struct entries *a, struct entries *b, const char *what)
{
	char text[4096] = "";
	size_t i, used = 0;

	qsort(a->line, a->count, sizeof(a->line[0]), cmp_line);
	qsort(b->line, b->count, sizeof(b->line[0]), cmp_line);
	for (i = 0; i < a->count || i < b->count; i++)
		used += snprintf(text + used, used < sizeof(text) ? sizeof(text) - used : 0,
				 "\n  %-45s | %s", i < a->count ? a->line[i] : "",
				 i < b->count ? b->line[i] : "");
	ck_assert_msg(a->count == b->count, "%s differ:%s", what, text);
	for (i = 0; i < a->count; i++)
		ck_assert_msg(!strcmp(a->line[i], b->line[i]), "%s differ:%s", what, text);
}

/* The number after "key:\t" in an fdinfo text, or -1. */
static long long fdinfo_value(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p && (p == text || p[-1] == '\n') ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* The kernel's name of a program (cut to PROG_NAME_KEPT) and its type. */
static void prog_of(__u32 id, char *name, size_t len, __u32 *type)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	ck_assert_msg(fd >= 0, "program %u: %s", id, strerror(errno));
	ck_assert_int_eq(bpf_obj_get_info_by_fd(fd, &info, &info_len), 0);
	snprintf(name, len, "%s", info.name);
	*type = info.type;
	close(fd);
}

/* One link of the process: what it hooks, as an entry; returns its program's id. */
static __u32 add_link(struct entries *attached, __u32 link_id)
{
	struct bpf_link_info info = { 0 };
	__u32 info_len = sizeof(info), type;
	char tp[64] = "", name[32];
	int fd = bpf_link_get_fd_by_id(link_id);

	ck_assert_msg(fd >= 0, "link %u: %s", link_id, strerror(errno));
	info.raw_tracepoint.tp_name = (__u64)(unsigned long)tp;
	info.raw_tracepoint.tp_name_len = sizeof(tp);
	ck_assert_int_eq(bpf_obj_get_info_by_fd(fd, &info, &info_len), 0);
	close(fd);
	prog_of(info.prog_id, name, sizeof(name), &type);
	if (info.type == BPF_LINK_TYPE_RAW_TRACEPOINT) {
		/* tp_btf and raw_tp both make raw tracepoint links: the program says which. */
		add_entry(attached, type == BPF_PROG_TYPE_TRACING ? "tp_btf" : "raw_tp", tp);
		return info.prog_id;
	}
	ck_assert_msg(info.type == BPF_LINK_TYPE_PERF_EVENT, "link %u of type %u", link_id,
		      info.type);
	add_once(attached, "perf event", name);	/* a link per CPU */
	return info.prog_id;
}

/*
 * What process pid holds, from its fdinfo: the hooks of its BPF links in
 * attached, and the ids of the programs it keeps loaded (loaded, linked: as
 * "prog <id>" entries).
 */
static void process_bpf(pid_t pid, struct entries *attached, struct entries *loaded,
			struct entries *linked)
{
	char path[320], *text, id[32];
	struct dirent *d;
	long long link_id;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", (int)pid);
	dir = opendir(path);
	ck_assert_msg(dir != NULL, "%s: %s", path, strerror(errno));
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, d->d_name);
		text = mh_test_read_file(path, NULL);
		if (!text)
			continue;	/* closed meanwhile */
		link_id = fdinfo_value(text, "link_id:");
		if (link_id >= 0) {
			snprintf(id, sizeof(id), "%u", add_link(attached, link_id));
			add_once(linked, "prog", id);
		} else if (fdinfo_value(text, "prog_type:") >= 0) {
			snprintf(id, sizeof(id), "%lld", fdinfo_value(text, "prog_id:"));
			add_entry(loaded, "prog", id);
		}
		free(text);
	}
	closedir(dir);
}

/* What the trace's kernel.probe.* INFO records say was attached, as entries. */
static void info_attached(const char *trace, struct entries *attached)
{
	struct mh_trace_reader *r = mh_trace_reader_open(trace);
	const char prefix[] = "kernel.probe.", via[] = "attached via ";
	const struct mh_rec_hdr *rec;
	int stream, ret;
	size_t i;

	ck_assert_msg(r != NULL, "cannot open trace '%s': %s", trace, strerror(errno));
	while ((ret = mh_trace_reader_next(r, MH_STREAM_META, &rec, &stream)) == 1) {
		const struct mh_rec_info *info = (const void *)rec;
		const char *key = (const char *)(info + 1), *value = key + info->key_len + 1;
		char name[PROG_NAME_KEPT + 1];

		if (rec->type != MH_REC_INFO || strncmp(key, prefix, strlen(prefix)) ||
		    strncmp(value, via, strlen(via)))
			continue;
		for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			if (!strcmp(key + strlen(prefix), targets[i].probe))
				break;
		ck_assert_msg(i < sizeof(targets) / sizeof(targets[0]), "unknown probe %s", key);
		value += strlen(via);
		if (!strcmp(value, "perf event")) {
			ck_assert_ptr_nonnull(targets[i].prog);
			snprintf(name, sizeof(name), "%s", targets[i].prog);
			add_entry(attached, value, name);
		} else {
			ck_assert_ptr_nonnull(targets[i].tracepoint);
			add_entry(attached, value, targets[i].tracepoint);
		}
	}
	ck_assert_msg(ret == 0, "reading '%s': %s", trace, mh_trace_reader_error(r));
	mh_trace_reader_free(r);
}

/* Start memhook record --kernel=on on a shell that waits for a line on go. */
static pid_t start_record(const char *dir, const char *trace, int go)
{
	char *memhook = mh_test_artefact("memhook"), *err = mh_test_join(dir, "err");
	char script[512];
	pid_t pid;

	snprintf(script, sizeof(script), "echo > %s/started; read line", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(err, O_CREAT | O_TRUNC | O_WRONLY, 0600);

		if (fd < 0 || dup2(go, 0) < 0 || dup2(fd, 2) < 0)
			_exit(125);
		setpgid(0, 0);
		execl(memhook, memhook, "record", "-q", "--kernel=on", "-o", trace, "--",
		      "/bin/sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	free(err);
	free(memhook);
	return pid;
}

/* Wait up to WAIT_S for path to exist while pid runs; false if pid ended first. */
static bool wait_for_file(const char *path, pid_t pid)
{
	int i, st;

	for (i = 0; i < WAIT_S * 100; i++) {
		if (!access(path, F_OK))
			return true;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return false;
		usleep(10000);
	}
	return false;
}

/*
 * While the program runs, the links memhook holds are the probes its INFO
 * records call attached, through the same mechanisms, and every program it
 * keeps loaded is one of them: the fallbacks were never loaded.
 */
START_TEST(test_attached_matches_info)
{
	struct entries from_info = { 0 }, from_kernel = { 0 }, loaded = { 0 }, linked = { 0 };
	char *dir, *trace, *started, *err;
	int go[2], st;
	pid_t pid;

	if (geteuid() != 0) {
		mh_test_skip("attached_matches_info", "needs root to load BPF programs");
		return;
	}
	dir = mh_test_tmpdir();
	trace = mh_test_join(dir, "t.mht");
	started = mh_test_join(dir, "started");
	err = mh_test_join(dir, "err");
	ck_assert_int_eq(pipe(go), 0);
	pid = start_record(dir, trace, go[0]);
	close(go[0]);
	if (!wait_for_file(started, pid)) {
		kill(-pid, SIGKILL);
		ck_abort_msg("the program did not start under memhook: %s",
			     mh_test_read_file(err, NULL));
	}
	process_bpf(pid, &from_kernel, &loaded, &linked);
	ck_assert_int_eq(write(go[1], "\n", 1), 1);
	close(go[1]);
	/* Check's timeout guards this wait; the shell ends when our end of go closes. */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "memhook: status %#x, %s", st,
		      mh_test_read_file(err, NULL));
	info_attached(trace, &from_info);
	ck_assert_uint_gt(from_info.count, 0);
	assert_same(&from_info, &from_kernel, "INFO (left) and the kernel's links (right)");
	assert_same(&loaded, &linked, "programs loaded (left) and linked (right)");
	mh_test_rmdir(dir);
	free(err);
	free(started);
	free(trace);
	free(dir);
}
END_TEST

/* How the test object's copies were opened, and what each probe ended as. */
struct fallback_run {
	int opened;				/* copies opened to be loaded */
	int test_opened;			/* copies opened to be test-loaded */
	struct probe_fallback_bpf *last;	/* the copy opened last to be loaded */
	char how[3][256];			/* missing, refused, present */
};

static const char *const fallback_probes[] = { "missing", "refused", "present" };

static void *open_fallback(void *ctx, bool test, struct bpf_object **obj,
			   struct mh_kprobe_list *list)
{
	struct fallback_run *run = ctx;
	struct probe_fallback_bpf *skel = probe_fallback_bpf__open();
	struct mh_kprobe probe[3] = { { .name = fallback_probes[0] },
				      { .name = fallback_probes[1] },
				      { .name = fallback_probes[2] } };
	unsigned int i;

	if (!skel)
		return NULL;
	probe[0].progs[0] = skel->progs.missing__btf;
	probe[0].progs[1] = skel->progs.missing__raw;
	probe[0].progs[2] = skel->progs.missing__tracepoint;
	probe[1].progs[0] = skel->progs.refused__btf;
	probe[1].progs[1] = skel->progs.refused__raw;
	probe[2].progs[0] = skel->progs.present__fork;
	for (i = 0; i < 3; i++)		/* a group each: narrowed a probe at a time */
		ck_assert_int_eq(mh_kprobe_add(list, i, &probe[i], 1), 0);
	if (test) {
		run->test_opened++;
	} else {
		run->opened++;
		run->last = skel;
	}
	*obj = skel->obj;
	return skel;
}

static void close_fallback(void *ctx, void *handle)
{
	probe_fallback_bpf__destroy(handle);
}

static void note_outcome(void *ctx, const char *probe, const char *how)
{
	struct fallback_run *run = ctx;
	size_t i;

	for (i = 0; i < 3; i++)
		if (!strcmp(probe, fallback_probes[i]))
			snprintf(run->how[i], sizeof(run->how[i]), "%s", how);
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/*
 * A tracepoint no kernel has is ruled out by the cheap probes before the
 * object loads (its tp_btf and raw_tp programs are never loaded) and told
 * skipped with a reason for each mechanism; the program the verifier
 * refuses is found by test-loading and its raw_tp fallback attaches; the
 * plain probe beside them attaches.
 */
START_TEST(test_missing_tracepoint_skipped)
{
	static const struct mh_kobject_ops ops = { .open = open_fallback,
						   .close = close_fallback };
	const char *missing = "skipped: tp_btf probe: no such tracepoint; "
			      "raw_tp probe: no such tracepoint; tracepoint ";
	struct fallback_run run = { 0 };
	struct mh_kprobes *p;
	void *handle;
	int n;

	if (geteuid() != 0) {
		mh_test_skip("missing_tracepoint_skipped", "needs root to load BPF programs");
		return;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		mh_test_skip("missing_tracepoint_skipped", "the kernel has no BTF");
		return;
	}
	libbpf_set_print(silent);
	p = mh_kprobes_new(&ops, &run);
	ck_assert_ptr_nonnull(p);
	n = mh_kprobes_load(p, &handle);
	mh_kprobes_report(p, note_outcome, &run);
	ck_assert_msg(n == 2, "%d probes attached; missing: %s; refused: %s; present: %s", n,
		      run.how[0], run.how[1], run.how[2]);
	ck_assert_ptr_eq(handle, run.last);
	ck_assert_str_eq(run.how[2], "attached via tp_btf");
	ck_assert_str_eq(run.how[1], "attached via raw_tp");
	ck_assert_int_eq(run.opened, 2);	/* refused, then loaded without refused__btf */
	ck_assert_int_ge(run.test_opened, 1);
	ck_assert_msg(!strncmp(run.how[0], missing, strlen(missing)), "missing: %s", run.how[0]);
	ck_assert_int_lt(bpf_program__fd(run.last->progs.missing__btf), 0);
	ck_assert_int_lt(bpf_program__fd(run.last->progs.missing__raw), 0);
	ck_assert_int_lt(bpf_program__fd(run.last->progs.refused__btf), 0);
	mh_kprobes_free(p);
}
END_TEST

/* Does this process see a tracefs mount (its mountinfo)? */
static bool tracefs_visible(void)
{
	char *info = mh_test_read_file("/proc/self/mountinfo", NULL);
	bool seen = info && strstr(info, " - tracefs ");

	free(info);
	return seen;
}

/*
 * With tracefs mounted nowhere, its files are still read (through a mount
 * attached nowhere, so the loader need not parse the kernel's BTF for the
 * MM_* values), and no mount appears. Run in a mount namespace of its own
 * where tracefs and debugfs are unmounted: the system's mounts stay as
 * they are. Child exit codes: 0 pass, 2 the namespace could not be set
 * up (skip), 3 nothing read, 4 a mount appeared.
 */
START_TEST(test_tracefs_unmounted)
{
	int status = 0;
	pid_t pid;

	if (geteuid() != 0) {
		mh_test_skip("tracefs_unmounted", "needs root to mount tracefs");
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *events;

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(2);
		(void)umount2("/sys/kernel/debug", MNT_DETACH);
		(void)umount2("/sys/kernel/tracing", MNT_DETACH);
		if (tracefs_visible())
			_exit(2);
		events = mh_ktracefs_read("available_events");
		if (!events || !strstr(events, "kmem:rss_stat\n"))
			_exit(3);
		free(events);
		_exit(tracefs_visible() ? 4 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 2) {
		mh_test_skip("tracefs_unmounted", "no mount namespace of its own");
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "child exited %d (3: nothing read, 4: mount seen)",
		      WEXITSTATUS(status));
}
END_TEST

static Suite *kernel_probes_suite(void)
{
	Suite *s = suite_create("kernel_probes");
	TCase *tc = tcase_create("Fallback");

	tcase_add_test(tc, test_attached_matches_info);
	tcase_add_test(tc, test_missing_tracepoint_skipped);
	tcase_add_test(tc, test_tracefs_unmounted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(kernel_probes_suite());
}
