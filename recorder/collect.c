// SPDX-License-Identifier: MIT
/*
 * collect.c - the session of `memhook collect` (collect.h): attach the
 * kernel stream alone to a running process and record it into a trace
 * until the process exits or memhook is interrupted (Ctrl-C, SIGTERM);
 * either way the trace is closed complete. There is no allocation stream:
 * the process was not started under the preload. When the process exits,
 * its MH_REC_EXIT is written from the kernel's own exit record (reason OOM
 * when the OOM killer chose it). Prints one line per failure and, unless
 * quiet, one "collecting" line; never debug output.
 */
#include "recorder/collect.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/exit_codes.h"
#include "common/output_file.h"
#include "kernel/collector.h"
#include "memhook/events.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "trace/records.h"
#include "trace/writer.h"

/* How long one poll waits, ms: bounds how quickly an exit or Ctrl-C is noticed. */
#define COLLECT_POLL_MS 200

/* Set by the signal handler: the one state a handler may share (file scope by necessity). */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = 1;
}

/* What the sink passes records to, and what it noticed on the way. */
struct collect_sink {
	struct mh_trace_writer *w;
	pid_t pid;
	bool exited;		/* the kernel reported the process's last thread gone */
	__s32 exit_code;	/* its task exit_code: status << 8, or the signal */
};

/* Note the traced process's own exit among the kernel records. */
static void watch_exit(struct collect_sink *s, const void *records, size_t bytes)
{
	const char *p = records, *end = p + bytes;

	while (p + sizeof(struct mh_rec_hdr) <= end) {
		const struct mh_rec_hdr *hdr = (const void *)p;
		const struct mh_rec_kproc *k = (const void *)p;

		if (hdr->size < sizeof(*hdr) || hdr->size > (size_t)(end - p))
			return;
		if (hdr->type == MH_REC_KPROC && hdr->size >= sizeof(*k) &&
		    k->kind == MH_KPROC_EXIT && k->group_dead && k->pid == (__u32)s->pid) {
			s->exited = true;
			s->exit_code = k->exit_code;
		}
		p += hdr->size;
	}
}

static int sink(void *ctx, int stream, const void *records, size_t bytes)
{
	struct collect_sink *s = ctx;

	if (stream == MH_STREAM_KERNEL)
		watch_exit(s, records, bytes);
	return mh_trace_writer_append(s->w, stream, records, bytes);
}

/* MH_REC_EXIT for a process whose exit the kernel stream saw. 0 or -errno. */
static int write_exit(struct mh_trace_writer *w, struct mh_collector *c,
		      const struct collect_sink *s)
{
	struct mh_rec_exit e = {
		.hdr = { .type = MH_REC_EXIT, .size = sizeof(e) },
		.ts_ns = mh_clock_ns(CLOCK_MONOTONIC),
		.pid = s->pid,
	};

	/* exit_code is a wait status: the same macros read it. */
	if (WIFSIGNALED(s->exit_code)) {
		e.reason = mh_collector_oom_victim(c, s->pid) ? MH_EXIT_OOM : MH_EXIT_SIGNAL;
		e.status = WTERMSIG(s->exit_code);
		e.core_dumped = WCOREDUMP(s->exit_code) ? 1 : 0;
	} else {
		e.reason = MH_EXIT_NORMAL;
		e.status = WEXITSTATUS(s->exit_code);
	}
	return mh_trace_writer_append(w, MH_STREAM_META, &e, sizeof(e));
}

/* Append a record with a NUL-terminated tail (key/value or path) padded to MH_REC_ALIGN. */
static int append_with_tail(struct mh_trace_writer *w, void *rec, size_t head,
			    const char *a, size_t alen, const char *b, size_t blen)
{
	size_t size = MH_REC_PAD(head + alen + 1 + (b ? blen + 1 : 0));
	char *buf = calloc(1, size);
	int err;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, rec, head);
	memcpy(buf + head, a, alen);
	if (b)
		memcpy(buf + head + alen + 1, b, blen);
	((struct mh_rec_hdr *)buf)->size = size;
	err = mh_trace_writer_append(w, MH_STREAM_META, buf, size);
	free(buf);
	return err;
}

static int write_info(struct mh_trace_writer *w, pid_t pid, const char *key, const char *value)
{
	size_t size;
	struct mh_rec_info *rec = mh_rec_info_new((__u32)pid, key, value, &size);
	int err;

	if (!rec)
		return -errno;
	err = mh_trace_writer_append(w, MH_STREAM_META, rec, size);
	free(rec);
	return err;
}

/* The PROCESS record of the attached process, with its executable's path. */
static int write_process(struct mh_trace_writer *w, pid_t pid)
{
	struct mh_rec_process rec = {
		.hdr = { .type = MH_REC_PROCESS },
		.ts_ns = mh_clock_ns(CLOCK_MONOTONIC),
		.pid = pid,
		.start = MH_PROCESS_ATTACHED,
	};
	char link[64], exe[PATH_MAX], stat[512];
	ssize_t n;
	FILE *f;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	snprintf(link, sizeof(link), "/proc/%d/stat", (int)pid);
	f = fopen(link, "re");
	if (f) {
		unsigned ppid;

		/* comm may hold spaces and parentheses: parse after the last ')'. */
		if (fgets(stat, sizeof(stat), f) && strrchr(stat, ')') &&
		    sscanf(strrchr(stat, ')') + 1, " %*c %u", &ppid) == 1)
			rec.ppid = ppid;
		fclose(f);
	}
	rec.path_len = strlen(exe);
	return append_with_tail(w, &rec, sizeof(rec), exe, rec.path_len, NULL, 0);
}

/* Create the trace for its user (common/output_file.h); NULL after printing why. */
static struct mh_trace_writer *open_trace(const struct mh_output_owner *owner, const char *path,
					  pid_t pid)
{
	struct mh_trace_header h;
	struct mh_trace_writer *w;
	int fd = mh_output_open(owner, path, 0600);

	if (fd < 0) {
		fprintf(stderr, "memhook: cannot create trace '%s': %s\n", path,
			mh_output_strerror(owner, fd));
		return NULL;
	}
	mh_trace_header_init(&h, (__u32)pid, 0);
	mh_trace_header_set_time_unit(&h, MH_TRACE_TIME_UNIT_DEFAULT_NS);
	w = mh_trace_writer_fdopen(fd, &h);
	if (!w)
		fprintf(stderr, "memhook: cannot write trace '%s': %s\n", path, strerror(errno));
	return w;
}

/*
 * Ctrl-C and SIGTERM only ask the loop to stop, so the trace is always
 * closed. No SA_RESTART: the poll must return to see the request.
 */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* True once pid is gone or a zombie nobody has reaped yet (it runs no more). */
static bool process_gone(pid_t pid)
{
	char path[64], stat[512], *close_paren;
	bool gone = false;
	FILE *f;

	if (kill(pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	/* comm may hold spaces and parentheses: the state follows the last ')'. */
	if (fgets(stat, sizeof(stat), f) && (close_paren = strrchr(stat, ')')))
		gone = close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X');
	fclose(f);
	return gone;
}

/* Poll until the process is gone, a signal asks us to stop, or an error. 0 or -errno. */
static int collect_loop(struct mh_collector *c, pid_t pid)
{
	int n;

	while (!stop_requested) {
		n = mh_collector_poll(c, COLLECT_POLL_MS);
		if (n < 0)
			return n;
		if (process_gone(pid))
			break;
	}
	return 0;
}

int mh_collect_session(const struct mh_collect_opts *opts)
{
	struct mh_collect_opts o = *opts;
	struct mh_output_owner owner;
	struct mh_collector_opts co = { 0 };
	struct collect_sink cs = { 0 };
	struct mh_trace_writer *w;
	struct mh_collector *c;
	char def_out[64];
	int err, ret, n;

	if (kill(o.pid, 0)) {
		err = errno;
		fprintf(stderr, "memhook: cannot attach to pid %d: %s\n", (int)o.pid, strerror(err));
		return err == ESRCH ? MH_EXIT_USAGE : MH_EXIT_UNAVAILABLE;
	}
	catch_stop_signals();
	if (!o.output) {
		snprintf(def_out, sizeof(def_out), "memhook-%d.mht", (int)o.pid);
		o.output = def_out;
	}
	if (mh_output_owner_init(&owner, false)) {
		fprintf(stderr, "memhook: SUDO_UID or SUDO_GID is not a number\n");
		return MH_EXIT_USAGE;
	}
	w = open_trace(&owner, o.output, o.pid);
	if (!w)
		return MH_EXIT_CANT_CREATE;
	co.pid = o.pid;
	co.follow_children = o.follow_forks;
	cs.w = w;
	cs.pid = o.pid;
	co.sink = sink;
	co.sink_ctx = &cs;
	co.exit_after_free = true;	/* memhook exits once the trace is closed */
	err = mh_collector_open(&co, &c);
	if (err) {
		fprintf(stderr, "memhook: kernel stream unavailable: %s\n", mh_collector_reason());
		/* A trace of nothing is not kept (docs/COLLECT.md); the line above says why. */
		(void)mh_trace_writer_close(w, false);
		(void)mh_output_remove(&owner, o.output); /* clean-up; never anything but a file */
		return MH_EXIT_UNAVAILABLE;
	}
	err = write_process(w, o.pid);
	if (!err)
		err = write_info(w, o.pid, "kernel.status", "on");
	/* The report must not show heap figures of zero as if they were measured. */
	if (!err)
		err = write_info(w, 0, "alloc.status",
				 "off: memhook collect watches a running process without the preload");
	if (!err && !o.quiet)
		fprintf(stderr, "memhook: collecting kernel events of pid %d into '%s' (Ctrl-C to stop)\n",
			(int)o.pid, o.output);
	if (!err)
		err = collect_loop(c, o.pid);
	if (!err) {
		/* The exit record may still sit in the ring: take it before deciding. */
		n = mh_collector_poll(c, 0);
		err = n < 0 ? n : 0;
	}
	if (!err && cs.exited)
		err = write_exit(w, c, &cs);
	mh_collector_free(c);
	ret = mh_trace_writer_close(w, true);
	if (!err)
		err = ret;
	if (err) {
		fprintf(stderr, "memhook: cannot write trace '%s': %s\n", o.output, strerror(-err));
		return MH_EXIT_IO;
	}
	return MH_EXIT_OK;
}
