// SPDX-License-Identifier: MIT
/*
 * request.c - the exit-scan thread (request.h): a FIFO of requests under
 * one mutex, answered one at a time.
 *
 * Never reads the trace back and never blocks the drainer: submitting
 * takes the lock only to link a node. Every queued process is released,
 * even when its scan fails or the recording stops.
 */
#include "recorder/exitscan/request.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "recorder/drain.h"

/*
 * The scan thread's timer slack, ns. Its only timed sleeps are the polls
 * that wait for a thread's ptrace stop (stop.c, 20 us first), which the
 * default slack of 50 us stretched to ~120 us while the process waited.
 */
#define SCAN_TIMER_SLACK_NS 1000UL

struct job {
	struct mh_exitscan_request req;
	struct mh_exitscan_program prog;	/* owned: blocks and regions */
	int err;			/* the blocks could not be had */
	struct job *next;
};

struct mh_leakscan {
	struct mh_recorder *r;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, **tail;
	bool stop;
};

static void answer(struct mh_leakscan *ls, struct job *j)
{
	char status[160];

	if (!j->err && j->req.figures) {
		/* A process that is not ours any more is only released. */
		(void)mh_exitscan_figures(&j->req, mh_recorder_sink, ls->r);
	} else if (!j->err) {
		/* Failures are recorded as "leakscan.status"; the process is released anyway. */
		(void)mh_exitscan_run(&j->req, &j->prog, mh_recorder_sink, ls->r);
	} else if (j->err == -EPERM || j->err == -ESRCH) {
		/* Not a process of ours: say so about the trace, not about that pid. */
		snprintf(status, sizeof(status),
			 "exit scan refused for pid %d: not a live process of this recording running as its user",
			 (int)j->req.pid);
		(void)mh_recorder_info(ls->r, 0, "ring.refused", status); /* best effort */
		mh_exitscan_release(&j->req); /* answers the ticket: the requester goes on */
	} else {
		snprintf(status, sizeof(status), "failed: cannot list the live blocks: %s",
			 strerror(-j->err));
		(void)mh_recorder_info(ls->r, j->req.pid, "leakscan.status", status); /* best effort */
		mh_exitscan_release(&j->req); /* the process must go on exiting */
	}
	free(j->prog.blocks);
	free(j->prog.regions);
	free(j);
}

static void *scan_main(void *arg)
{
	struct mh_leakscan *ls = arg;
	struct job *j;

	/* Failing only leaves the polls coarser. */
	(void)prctl(PR_SET_TIMERSLACK, SCAN_TIMER_SLACK_NS, 0, 0, 0);
	pthread_mutex_lock(&ls->lock);
	for (;;) {
		while (!ls->head && !ls->stop)
			pthread_cond_wait(&ls->cond, &ls->lock);
		j = ls->head;
		if (!j)
			break;
		ls->head = j->next;
		if (!ls->head)
			ls->tail = &ls->head;
		pthread_mutex_unlock(&ls->lock);
		answer(ls, j);
		pthread_mutex_lock(&ls->lock);
	}
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

struct mh_leakscan *mh_leakscan_start(struct mh_recorder *r)
{
	struct mh_leakscan *ls = calloc(1, sizeof(*ls));
	int err;

	if (!ls)
		return NULL;
	ls->r = r;
	ls->tail = &ls->head;
	pthread_mutex_init(&ls->lock, NULL);
	pthread_cond_init(&ls->cond, NULL);
	err = pthread_create(&ls->thread, NULL, scan_main, ls);
	if (err) {
		pthread_cond_destroy(&ls->cond);
		pthread_mutex_destroy(&ls->lock);
		free(ls);
		errno = err;
		return NULL;
	}
	return ls;
}

void mh_leakscan_submit(struct mh_leakscan *ls, struct mh_exitscan_request *req,
			struct mh_exitscan_program *prog, int err)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j) {
		/* No memory to queue it: let it go unscanned rather than wait forever. */
		free(prog->blocks);
		free(prog->regions);
		mh_exitscan_release(req);
		return;
	}
	*j = (struct job){ .req = *req, .prog = *prog, .err = err };
	pthread_mutex_lock(&ls->lock);
	*ls->tail = j;
	ls->tail = &j->next;
	pthread_cond_signal(&ls->cond);
	pthread_mutex_unlock(&ls->lock);
}

void mh_leakscan_stop(struct mh_leakscan *ls)
{
	if (!ls)
		return;
	pthread_mutex_lock(&ls->lock);
	ls->stop = true;
	pthread_cond_signal(&ls->cond);
	pthread_mutex_unlock(&ls->lock);
	pthread_join(ls->thread, NULL);
	pthread_cond_destroy(&ls->cond);
	pthread_mutex_destroy(&ls->lock);
	free(ls);
}
