// SPDX-License-Identifier: MIT
/*
 * session.c - one recording session (record.h): create the ring, park the
 * program, open the trace and the kernel stream, release the program,
 * supervise it, then drain everything and close the trace.
 *
 * The order matters: the child is forked while memhook is still
 * single-threaded, and released only after the trace, the kernel probes
 * and the drain threads are ready, so no event is missed. Whatever goes
 * wrong after the release, the ring is drained or closed so the program
 * never hangs on memhook.
 */
#include "recorder/session.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/exit_codes.h"
#include "common/output_file.h"
#include "recorder/launch.h"
#include "recorder/noevents.h"
#include "recorder/procwatch.h"
#include "recorder/progress.h"
#include "recorder/drain.h"
#include "recorder/supervise.h"
#include "recorder/tracked.h"
#include "common/version.h"
#include "common/clock.h"

/*
 * The program's name for a message on stderr, its bytes escaped
 * (common/escape.h). One buffer: messages come from the main thread.
 */
static const char *prog_name(const struct mh_record_opts *o)
{
	static char buf[4 * PATH_MAX + 1];

	return mh_escape_str(o->prog_argv[0], buf, sizeof(buf));
}

/* Longest command line recorded in the INFO "command" record, bytes. */
#define COMMAND_INFO_BYTES 4096

/* The options as one line ("--depth 64 --kernel=auto ..."), for the trace's INFO record. */
static void format_options(const struct mh_record_opts *o, char *buf, size_t len)
{
	snprintf(buf, len, "--ring-size %llu%s --depth %u%s%s --unwind=%s%s --kernel=%s --sample-interval %u --pagemap-interval %u --time-resolution %u%s%s%s",
		 (unsigned long long)o->ring_bytes, o->lossy ? " --lossy" : "", o->depth,
		 o->follow_forks ? " --follow-forks" : "", o->follow_exec ? "" : " --no-follow-exec",
		 o->unwind, o->freeres ? "" : " --no-freeres",
		 o->kernel == MH_KERNEL_ON ? "on" : o->kernel == MH_KERNEL_OFF ? "off" : "auto",
		 o->sample_ms, o->pagemap_ms, o->time_unit_ns, o->user ? " --user " : "", o->user ? o->user : "",
		 o->as_root ? " --as-root" : "");
}

/* INFO records about the recording itself. */
static void write_infos(struct mh_recorder *r, const struct mh_record_opts *o)
{
	char buf[COMMAND_INFO_BYTES];
	size_t used = 0;
	char **arg;

	buf[0] = '\0';
	for (arg = o->prog_argv; *arg && used < sizeof(buf); arg++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s", used ? " " : "", *arg);
	(void)mh_recorder_info(r, 0, "memhook.version", MH_VERSION);
	(void)mh_recorder_info(r, 0, "command", buf);
	format_options(o, buf, sizeof(buf));
	(void)mh_recorder_info(r, 0, "options", buf);
}

/*
 * Start the kernel stream as --kernel asks. Returns 0 or MH_EXIT_UNAVAILABLE.
 * It loads here, on this thread: of memhook's own ~5 ms from the session's
 * start to the release (--kernel=off), ~3 ms lie between the fork and
 * here, so a thread loading it from the fork on could hide little of its
 * ~45 ms, and it measured slower on 2 CPUs (release +3.8 ms, median of 101
 * runs; +8 ms wall, median of 101, with the machine busy).
 */
static int open_kernel(struct mh_recorder *r, const struct mh_record_opts *o, pid_t pid)
{
	struct mh_collector_opts co = {
		.pid = pid,
		.follow_children = o->follow_forks,
		.sink = mh_recorder_sink,
		.sink_ctx = r,
		.exit_after_free = o->exit_after,
	};
	char status[512];
	const char *why;
	int err;

	if (o->kernel == MH_KERNEL_OFF) {
		(void)mh_recorder_info(r, 0, "kernel.status", "off: disabled by --kernel=off");
		return 0;
	}
	err = mh_collector_open(&co, &r->collector);
	if (!err) {
		(void)mh_recorder_info(r, 0, "kernel.status", "on");
		return 0;
	}
	why = mh_collector_reason();
	if (!why || !*why)
		why = strerror(-err);
	if (o->kernel == MH_KERNEL_ON) {
		fprintf(stderr, "memhook: kernel stream unavailable: %s\n", why);
		return MH_EXIT_UNAVAILABLE;
	}
	fprintf(stderr, "memhook: kernel stream off: %s\n", why);
	snprintf(status, sizeof(status), "off: %s", why);
	(void)mh_recorder_info(r, 0, "kernel.status", status);
	return 0;
}

/* The records that close a recording: losses, torn records, the merge's figures. */
static void write_final_records(struct mh_recorder *r, struct mh_losses *losses)
{
	char num[32];

	mh_losses_finish(losses, r);
	snprintf(num, sizeof(num), "%u", r->torn_records);
	(void)mh_recorder_info(r, 0, "ring.torn_records", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)r->order_repairs);
	(void)mh_recorder_info(r, 0, "ring.order_repairs", num);
	(void)mh_recorder_info(r, 0, "ring.order",
			       mh_ring_uses_membarrier(&r->ring) ?
			       "per-thread slots merged by time; busy flags ordered by membarrier" :
			       "per-thread slots merged by time; busy flags set by exchange (no membarrier)");
	snprintf(num, sizeof(num), "%llu", (unsigned long long)
		 __atomic_load_n(&r->ring.hdr->producer_waits, __ATOMIC_RELAXED));
	(void)mh_recorder_info(r, 0, "ring.producer_waits", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)
		 __atomic_load_n(&r->ring.hdr->producer_wait_ns, __ATOMIC_RELAXED));
	(void)mh_recorder_info(r, 0, "ring.producer_wait_ns", num);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)
		 __atomic_load_n(&r->ring.hdr->promotions, __ATOMIC_RELAXED));
	(void)mh_recorder_info(r, 0, "ring.promotions", num);
	if (r->torn_records)
		fprintf(stderr, "memhook: %u events were never completed (a thread died mid-write)\n",
			r->torn_records);
	if (r->collect_err)
		fprintf(stderr, "memhook: kernel stream stopped early: %s\n", strerror(-r->collect_err));
}

/* Remove a trace that holds nothing useful, with the rights it was created with. */
static void remove_trace(const struct mh_record_opts *o, const struct mh_output_owner *owner,
			 const char *path)
{
	struct mh_output_owner self = { 0 };

	/* Never a device or anything not a plain file; reported by nobody: it is a clean-up. */
	(void)mh_output_remove(o->output_private ? &self : owner, path);
}

static void default_path(char *path, size_t len, const struct mh_record_opts *o, pid_t pid)
{
	char prog[NAME_MAX + 1];

	snprintf(prog, sizeof(prog), "%s", o->prog_argv[0]);
	if (o->output)
		snprintf(path, len, "%s", o->output);
	else
		snprintf(path, len, "memhook.%s.%d.mht", basename(prog), (int)pid);
}

/*
 * Create the trace for its user (common/output_file.h): under sudo as the
 * invoking user, guarded as root when the program runs as another user.
 * A private temporary trace already exists, made by memhook itself.
 * Returns the writer, or NULL after printing why, with *code set:
 * MH_EXIT_CANT_CREATE, or MH_EXIT_IO when its header could not be written
 * (the disk is full: the empty file is removed).
 */
static struct mh_trace_writer *create_trace(const struct mh_record_opts *o,
					    const struct mh_output_owner *owner, const char *path,
					    pid_t pid, int *code)
{
	struct mh_output_owner self = { 0 };
	struct mh_trace_header hdr;
	struct mh_trace_writer *w;
	int fd;

	if (o->output_private)
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = mh_output_open(owner, path, 0600);
	if (fd < 0 && o->output_private)
		fd = -errno;
	if (fd < 0) {
		fprintf(stderr, "memhook: cannot create trace '%s': %s\n", path,
			mh_output_strerror(owner, fd));
		*code = MH_EXIT_CANT_CREATE;
		return NULL;
	}
	mh_trace_header_init(&hdr, (__u32)pid, o->lossy ? MH_TRACE_LOSSY : 0);
	mh_trace_header_set_time_unit(&hdr, o->time_unit_ns);
	w = mh_trace_writer_fdopen(fd, &hdr);
	if (!w) {
		fprintf(stderr, "memhook: cannot write trace '%s': %s\n", path, strerror(errno));
		(void)mh_output_remove(o->output_private ? &self : owner, path); /* a clean-up */
		*code = MH_EXIT_IO;
	}
	return w;
}

/* INFO "launch.user": who the program runs as, when memhook switches it to another user. */
static void write_identity(struct mh_recorder *r, const struct mh_launch_identity *id)
{
	char buf[160];

	if (!id->drop)
		return;
	snprintf(buf, sizeof(buf), "uid=%u gid=%u name=%s", (unsigned)id->uid, (unsigned)id->gid,
		 id->name[0] ? id->name : "-");
	(void)mh_recorder_info(r, 0, "launch.user", buf);
}

/* Open the trace and the kernel stream for the parked child. 0 or an exit code. */
static int prepare(struct mh_recorder *r, const struct mh_record_opts *o,
		   const struct mh_output_owner *owner, const struct mh_launch *l, char *path,
		   size_t len)
{
	pid_t pid = l->pid;
	int code, err;

	default_path(path, len, o, pid);
	r->trace_path = path;
	r->writer = create_trace(o, owner, path, pid, &code);
	if (!r->writer)
		return code;
	write_infos(r, o);
	write_identity(r, &l->id);
	code = open_kernel(r, o, pid);
	if (!code) {
		err = mh_recorder_start(r);
		if (err) {
			fprintf(stderr, "memhook: cannot start the recorder threads: %s\n",
				strerror(-err));
			code = MH_EXIT_INTERNAL;
		}
	}
	if (code) {
		mh_recorder_stop(r);
		(void)mh_trace_writer_close(r->writer, false); /* the file is removed anyway */
		r->writer = NULL;
		remove_trace(o, owner, path);
	}
	return code;
}

/* One line saying why the released child did not become the program. */
static void launch_error(const struct mh_record_opts *o, const struct mh_launch *l, int err)
{
	const char *prog = prog_name(o);

	switch (l->failed_step) {
	case MH_LAUNCH_STEP_EXEC:
		fprintf(stderr, "memhook: cannot run '%s': %s\n", prog, strerror(-err));
		break;
	case MH_LAUNCH_STEP_DROP:
		fprintf(stderr, "memhook: cannot run '%s' as user %u: %s\n", prog,
			(unsigned)l->id.uid, strerror(-err));
		break;
	case MH_LAUNCH_STEP_PRELOAD:
		fprintf(stderr, "memhook: cannot run '%s' as user %u: the preload library is not readable by that user: %s (install memhook where the user can read it, or use --as-root)\n",
			prog, (unsigned)l->id.uid, strerror(-err));
		break;
	default:
		fprintf(stderr, "memhook: cannot prepare '%s': %s\n", prog, strerror(-err));
		break;
	}
}

/*
 * A program that ran but never sent its PROCESS record ran without the
 * preload: say why, on stderr and in the trace (the report shows the
 * root's "leakscan.status"), instead of reporting an empty program.
 */
static void check_preloaded(struct mh_recorder *r, const struct mh_record_opts *o,
			    const struct mh_launch *l)
{
	char why[PATH_MAX + 160], status[PATH_MAX + 200], shown[4 * sizeof(why)];

	/* A lossy ring may have dropped the PROCESS record itself. */
	if (atomic_load(&r->processes) ||
	    __atomic_load_n(&r->ring.hdr->lost_records, __ATOMIC_ACQUIRE))
		return;
	mh_noevents_reason(o->prog_argv[0], l->id.drop ? l->id.uid : getuid(),
			   l->id.drop ? l->id.gid : getgid(), why, sizeof(why));
	fprintf(stderr, "memhook: no allocation events: %s\n", mh_escape_str(why, shown, sizeof(shown)));
	(void)mh_recorder_info(r, 0, "preload.status", why);
	snprintf(status, sizeof(status), "not run: no allocation events: %s", why);
	(void)mh_recorder_info(r, l->pid, "leakscan.status", status);
}

/* The watcher of the running program: opts->watcher, else the progress line. */
static void *watch_start(struct mh_recorder *r, const struct mh_record_opts *o)
{
	if (o->watcher)
		return o->watcher->start(r, o->watcher->arg);
	return o->progress ? mh_progress_start(r) : NULL;
}

static void watch_stop(const struct mh_record_opts *o, void *state)
{
	if (o->watcher)
		o->watcher->stop(state);
	else
		mh_progress_stop(state);
}

/*
 * Watch the program's processes from the kernel's side (recorder/procwatch.h)
 * where memhook may: say in the trace whether it does.
 */
static struct mh_procwatch *watch_processes(struct mh_recorder *r, pid_t root,
					    const char *preload)
{
	char why[256], status[300];
	struct mh_procwatch *w = mh_procwatch_start(r, root, preload, why, sizeof(why));

	snprintf(status, sizeof(status), "%s%s", w ? "on" : "off: ", w ? "" : why);
	(void)mh_recorder_info(r, 0, "procwatch.status", status); /* reported inside */
	return w;
}

/* Run the released program to its end and close the trace. Returns the exit code. */
static int run_to_end(struct mh_recorder *r, const struct mh_record_opts *o, struct mh_launch *l,
		      const char *preload, bool *ran)
{
	struct mh_procwatch *procwatch;
	struct mh_sampler *sampler = NULL;
	struct mh_losses losses = { .lossy = o->lossy };
	void *watch;
	int status = 0, err, exec_err;

	if (o->sample_ms || o->pagemap_ms) {
		sampler = mh_sampler_new(r, o->sample_ms, o->pagemap_ms);
		if (!sampler)
			fprintf(stderr, "memhook: cannot start sampling: %s (the recording goes on without samples)\n",
				strerror(errno));
	}
	procwatch = watch_processes(r, l->pid, preload);
	exec_err = mh_launch_release(l);
	if (!exec_err) {
		/* The facts about the recording reach the disk while the child execs. */
		(void)mh_recorder_flush(r); /* reported inside; the program runs anyway */
		exec_err = mh_launch_exec_result(l);
	}
	*ran = !exec_err;
	if (exec_err)
		launch_error(o, l, exec_err);
	watch = exec_err ? NULL : watch_start(r, o);
	err = mh_supervise(r, l->pid, o->follow_forks, procwatch, sampler, &losses, &status);
	if (!exec_err)
		watch_stop(o, watch);
	if (err)
		fprintf(stderr, "memhook: lost track of '%s': %s\n", prog_name(o), strerror(-err));
	mh_sampler_free(sampler);
	mh_procwatch_stop(procwatch);
	mh_recorder_stop(r);
	if (*ran)
		check_preloaded(r, o, l);
	write_final_records(r, &losses);
	err = mh_trace_writer_close(r->writer, !o->output_private);
	r->writer = NULL;
	if (err && !atomic_load(&r->write_err))
		fprintf(stderr, "memhook: cannot write trace '%s': %s\n", r->trace_path, strerror(-err));
	if (err || atomic_load(&r->write_err))
		return MH_EXIT_IO;
	if (exec_err && l->failed_step != MH_LAUNCH_STEP_EXEC)
		return MH_EXIT_INTERNAL;
	if (exec_err)
		return exec_err == -ENOENT || exec_err == -ENOTDIR ? MH_EXIT_NOT_FOUND :
		       MH_EXIT_CANT_EXEC;
	return mh_exit_code_of_status(status);
}

int mh_record_session(const struct mh_record_opts *o, char *path, size_t len, bool *traced)
{
	struct mh_recorder r = { .write_err = 0 };
	struct mh_output_owner owner;
	struct mh_launch l;
	char preload[PATH_MAX], why[256], shown[4 * PATH_MAX + 1];
	sigset_t block, old;
	int err, code;

	*traced = false;
	err = mh_launch_identity(o, &l.id, why, sizeof(why));
	if (err) {
		fprintf(stderr, "memhook: cannot run '%s': %s\n", prog_name(o), why);
		return MH_EXIT_USAGE;
	}
	/* SUDO_UID and SUDO_GID were checked just above. */
	(void)mh_output_owner_init(&owner, l.id.drop);
	err = mh_launch_find_preload(preload, sizeof(preload));
	if (err) {
		fprintf(stderr, "memhook: cannot find '%s': %s (set %s)\n", preload, strerror(-err),
			"MEMHOOK_PRELOAD");
		return MH_EXIT_INTERNAL;
	}
	r.tracked = mh_tracked_new(l.id.drop ? l.id.uid : getuid());
	if (!r.tracked) {
		fprintf(stderr, "memhook: cannot set up the recorder: %s\n", strerror(errno));
		return MH_EXIT_INTERNAL;
	}
	/* The drainer answers exit scans (recorder/exitscan/request.c): processes wait for their verdicts. */
	err = mh_ring_create(&r.ring, o->ring_bytes,
			     MH_RING_EXIT_SCAN | (o->lossy ? MH_RING_LOSSY : 0));
	if (err) {
		fprintf(stderr, "memhook: cannot create the event ring: %s\n", strerror(-err));
		mh_tracked_free(r.tracked);
		return MH_EXIT_INTERNAL;
	}
	/* Orphaned descendants are reaped by memhook, so it knows when all are gone. */
	if (o->follow_forks)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1); /* without it, only root is awaited */
	/* With SIGCHLD ignored the kernel would reap the program before memhook could. */
	l.sigchld_ignored = signal(SIGCHLD, SIG_DFL) == SIG_IGN;
	mh_supervise_sigset(&block);
	sigaddset(&block, SIGPIPE);	/* a closed stderr must not kill the recorder */
	pthread_sigmask(SIG_BLOCK, &block, &old);
	err = mh_launch_fork(&l, o, r.ring.fd, preload, &old);
	if (err) {
		fprintf(stderr, "memhook: cannot start '%s': %s\n", prog_name(o), strerror(-err));
		code = MH_EXIT_INTERNAL;
		goto out_ring;
	}
	/* Sampled from the start; its forked children join through their PROCESS records. */
	err = mh_tracked_add(r.tracked, l.pid);
	if (err)
		fprintf(stderr, "memhook: cannot follow '%s' for sampling: %s\n", prog_name(o),
			strerror(-err));
	code = prepare(&r, o, &owner, &l, path, len);
	if (code) {
		mh_launch_abort(&l);
		goto out_ring;
	}
	code = run_to_end(&r, o, &l, preload, traced);
	if (!*traced)
		remove_trace(o, &owner, path);	/* the program never ran: nothing worth keeping */
	else if (!o->quiet)
		fprintf(stderr, "memhook: trace written to '%s'\n", mh_escape_str(path, shown, sizeof(shown)));
out_ring:
	mh_ring_destroy(&r.ring);
	mh_tracked_free(r.tracked);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return code;
}

void mh_record_survive_closed_pipe(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}
