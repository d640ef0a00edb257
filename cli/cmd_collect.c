// SPDX-License-Identifier: MIT
/*
 * cmd_collect.c - `memhook collect -p PID [-o FILE] [--follow-forks]`:
 * attach the kernel stream alone to a running process and record it into
 * a trace until the process exits or memhook is interrupted (Ctrl-C,
 * SIGTERM). There is no allocation stream: the process was not started
 * under the preload. Prints one line per failure, never debug output.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exit_codes.h"
#include "kernel/collector.h"
#include "memhook/events.h"
#include "memhook/trace.h"
#include "trace_writer.h"

/* How long one poll waits, ms: bounds how quickly an exit or Ctrl-C is noticed. */
#define COLLECT_POLL_MS 200

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	stop_requested = 1;
}

static __u64 clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int sink(void *ctx, int stream, const void *records, size_t bytes)
{
	return mh_trace_writer_append(ctx, stream, records, bytes);
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
	struct mh_rec_info rec = {
		.hdr = { .type = MH_REC_INFO },
		.ts_ns = clock_ns(CLOCK_MONOTONIC),
		.pid = pid,
		.key_len = strlen(key),
		.value_len = strlen(value),
	};

	return append_with_tail(w, &rec, sizeof(rec), key, rec.key_len, value, rec.value_len);
}

/* The PROCESS record of the attached process, with its executable's path. */
static int write_process(struct mh_trace_writer *w, pid_t pid)
{
	struct mh_rec_process rec = {
		.hdr = { .type = MH_REC_PROCESS },
		.ts_ns = clock_ns(CLOCK_MONOTONIC),
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

static void usage(FILE *out)
{
	fprintf(out, "usage: memhook collect -p PID [-o FILE] [--follow-forks]\n");
}

struct collect_opts {
	pid_t pid;
	const char *output;
	int follow_forks;
};

/* Parse argv; returns 0, or an exit code after printing why. */
static int parse_args(int argc, char **argv, struct collect_opts *o)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "follow-forks", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:o:fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "memhook: invalid pid '%s'\n", optarg);
				return MH_EXIT_USAGE;
			}
			o->pid = v;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->follow_forks = 1;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return MH_EXIT_USAGE;
		}
	}
	if (!o->pid || optind != argc) {
		usage(stderr);
		return MH_EXIT_USAGE;
	}
	return 0;
}

static struct mh_trace_writer *open_trace(const char *path, pid_t pid)
{
	struct mh_trace_header h = { .version = MH_TRACE_VERSION };

	memcpy(h.magic, MH_TRACE_MAGIC, sizeof(h.magic));
	h.header_bytes = sizeof(h);
	h.flags = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? MH_TRACE_LITTLE_ENDIAN : 0;
	h.start_ns = clock_ns(CLOCK_MONOTONIC);
	h.start_realtime_ns = clock_ns(CLOCK_REALTIME);
	h.page_size = (__u32)sysconf(_SC_PAGESIZE);
	h.root_pid = pid;
	h.pointer_bytes = sizeof(void *);
	return mh_trace_writer_open(path, &h);
}

/* Poll until the process is gone, a signal asks us to stop, or an error. 0 or -errno. */
static int collect_loop(struct mh_collector *c, pid_t pid)
{
	struct sigaction sa = { .sa_handler = on_stop };
	int n;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop_requested) {
		n = mh_collector_poll(c, COLLECT_POLL_MS);
		if (n < 0)
			return n;
		if (kill(pid, 0) && errno == ESRCH)
			break;
	}
	return 0;
}

int mh_cmd_collect(int argc, char **argv)
{
	struct collect_opts o = { 0 };
	struct mh_collector_opts co = { 0 };
	struct mh_trace_writer *w;
	struct mh_collector *c;
	char def_out[64];
	int err, ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? MH_EXIT_OK : ret;
	if (kill(o.pid, 0) && errno == ESRCH) {
		fprintf(stderr, "memhook: cannot attach to pid %d: %s\n", (int)o.pid, strerror(ESRCH));
		return MH_EXIT_USAGE;
	}
	if (!o.output) {
		snprintf(def_out, sizeof(def_out), "memhook-%d.mht", (int)o.pid);
		o.output = def_out;
	}
	w = open_trace(o.output, o.pid);
	if (!w) {
		fprintf(stderr, "memhook: cannot create trace '%s': %s\n", o.output, strerror(errno));
		return MH_EXIT_CANT_CREATE;
	}
	co.pid = o.pid;
	co.follow_children = o.follow_forks;
	co.sink = sink;
	co.sink_ctx = w;
	err = mh_collector_open(&co, &c);
	if (err) {
		fprintf(stderr, "memhook: kernel stream unavailable: %s\n", mh_collector_reason());
		(void)write_info(w, o.pid, "kernel.status", mh_collector_reason());
		(void)mh_trace_writer_close(w);	/* the failure above is what the user needs */
		return MH_EXIT_UNAVAILABLE;
	}
	err = write_process(w, o.pid);
	if (!err)
		err = write_info(w, o.pid, "kernel.status", "on");
	if (!err)
		err = collect_loop(c, o.pid);
	mh_collector_free(c);
	ret = mh_trace_writer_close(w);
	if (!err)
		err = ret;
	if (err) {
		fprintf(stderr, "memhook: cannot write trace '%s': %s\n", o.output, strerror(-err));
		return MH_EXIT_IO;
	}
	return MH_EXIT_OK;
}
