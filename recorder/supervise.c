// SPDX-License-Identifier: MIT
/*
 * supervise.c - wait for the traced program, forward signals, run the
 * sampler (supervise.h). memhook itself must survive the signals that end the
 * program: they are blocked and taken with sigtimedwait().
 */
#include "recorder/supervise.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "recorder/exitscan/stop.h"
#include "recorder/tracked.h"
#include "common/clock.h"

/*
 * How often buffered records are written out while the program runs, ns.
 * Not sooner: each chunk starts its encoder's tables afresh (git's trace
 * grows by 3% in chunks of 64K records, 8% in 32K, 38% in 8K; cc1's 4 MiB
 * chunks cost 23% more than 16 MiB ones, docs/FORMAT.md). What is left
 * when the program ends is already encoded as it came (trace/writer.c),
 * so only its compression follows the program's exit: at most one
 * chunk's encoding, 1.6 MiB on alloc_bench, a few ms.
 */
#define FLUSH_PERIOD_NS 1000000000ULL
/*
 * Records left since the last flush that are flushed when this thread
 * finds a process stopped for its exit scan: no more come from it, and
 * the scan, which reap() has to wait for anyway, hides their compression.
 * Fewer are left to the end (/bin/true's few hundred): a chunk of their
 * own would only cost bytes.
 */
#define SCAN_FLUSH_RECORDS 4096

/* Write out what is buffered; returns the drained-records count the flush covers. */
static __u64 flush(struct mh_recorder *r)
{
	__u64 records = atomic_load_explicit(&r->records, memory_order_relaxed);

	(void)mh_recorder_flush(r); /* reported inside */
	return records;
}

static __u64 unflushed(struct mh_recorder *r, __u64 flushed)
{
	return atomic_load_explicit(&r->records, memory_order_relaxed) - flushed;
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

void mh_supervise_sigset(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

static void record_exit(struct mh_recorder *r, pid_t pid, int status)
{
	struct mh_rec_exit e = {
		.hdr = { .type = MH_REC_EXIT, .size = sizeof(e) },
		.ts_ns = mh_clock_now_ns(),
		.pid = (__u32)pid,
	};

	if (WIFSIGNALED(status)) {
		/* The collector marks OOM victims before they die: the answer is there now. */
		e.reason = WTERMSIG(status) == SIGKILL && r->collector &&
			   mh_collector_oom_victim(r->collector, pid) ? MH_EXIT_OOM : MH_EXIT_SIGNAL;
		e.status = WTERMSIG(status);
		e.core_dumped = WCOREDUMP(status) ? 1 : 0;
	} else {
		e.reason = MH_EXIT_NORMAL;
		e.status = WEXITSTATUS(status);
	}
	(void)mh_recorder_append(r, MH_STREAM_META, &e, sizeof(e)); /* reported inside */
}

/* Take the exit-scan lock; while a scan holds it, flush what its process left. */
static void lock_scans(struct mh_recorder *r, __u64 *flushed)
{
	if (mh_exitscan_trylock())
		return;
	if (unflushed(r, *flushed) >= SCAN_FLUSH_RECORDS)
		*flushed = flush(r);
	mh_exitscan_lock();
}

/*
 * Reap what has ended. Returns 1 when supervision is over: root is gone
 * and, with follow_forks, no child is left.
 */
static int reap(struct mh_recorder *r, pid_t root, bool follow_forks,
		struct mh_procwatch *procwatch, bool *root_done, int *root_status, __u64 *flushed)
{
	int status;
	pid_t pid;

	for (;;) {
		/* An exec the process made is named from /proc before its entry goes. */
		mh_procwatch_catch_up(procwatch);
		lock_scans(r, flushed);
		pid = waitpid(follow_forks ? -1 : root, &status, WNOHANG);
		mh_exitscan_unlock();
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return errno == ECHILD ? 1 : -errno;
		if (pid == 0)
			return 0;
		if (!WIFEXITED(status) && !WIFSIGNALED(status))
			continue;	/* a stop or continue report, not an end */
		record_exit(r, pid, status);
		if (r->tracked)
			mh_tracked_remove(r->tracked, pid);
		if (pid == root) {
			*root_done = true;
			*root_status = status;
			if (!follow_forks)
				return 1;
		}
	}
}

int mh_supervise(struct mh_recorder *r, pid_t root, bool follow_forks,
		 struct mh_procwatch *procwatch, struct mh_sampler *sampler,
		 struct mh_losses *losses, int *root_status)
{
	__u64 now = mh_clock_now_ns(), next_ns = now, flush_ns = now + FLUSH_PERIOD_NS, wake_ns;
	__u64 loss_ns, flushed = 0;
	bool root_done = false;
	struct timespec tmo;
	siginfo_t si;
	sigset_t set;
	int sig, ret;

	mh_supervise_sigset(&set);
	for (;;) {
		now = mh_clock_now_ns();
		if (sampler && now >= next_ns)
			next_ns = mh_sampler_tick(sampler, now);
		if (now >= flush_ns) {
			/* Low-volume streams would otherwise sit in memory until the end. */
			flushed = flush(r);
			flush_ns = now + FLUSH_PERIOD_NS;
		}
		now = mh_clock_now_ns();
		loss_ns = mh_losses_tick(losses, r, now);
		wake_ns = sampler && next_ns < flush_ns ? next_ns : flush_ns;
		if (loss_ns < wake_ns)
			wake_ns = loss_ns;
		wake_ns = wake_ns > now ? wake_ns - now : 0;
		tmo.tv_sec = (time_t)(wake_ns / 1000000000ULL);
		tmo.tv_nsec = (long)(wake_ns % 1000000000ULL);
		sig = sigtimedwait(&set, &si, &tmo);
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (sig > 0 && sig != SIGCHLD && !root_done && si.si_code <= 0)
			kill(root, sig);	/* sent with kill(2) to memhook: pass it on */
		ret = reap(r, root, follow_forks, procwatch, &root_done, root_status, &flushed);
		if (ret)
			return ret < 0 ? ret : 0;
	}
}
