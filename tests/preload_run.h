/* SPDX-License-Identifier: MIT */
/*
 * preload_run.h - the harness of the preload's suites (check_preload.c,
 * check_exit.c, check_unwind.c): the test plays the recorder, creating the
 * ring, launching tests/progs/preload_calls (or another program of
 * tests/progs) under libmemhook.so and draining what it
 * records; with MH_RING_EXIT_SCAN it also answers the exit handshake by
 * writing the ack into the waiting process with process_vm_writev, as
 * recorder/exitscan/stop.c does, after checking that the process is alive (not a
 * zombie) and its memory readable.
 */
#ifndef MEMHOOK_TESTS_PRELOAD_RUN_H
#define MEMHOOK_TESTS_PRELOAD_RUN_H

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "memhook/env.h"
#include "tests/testutil.h"

#define RUN_LIMIT_S 120
#define SMALL_RING (64 << 10)
#define BIG_RING (16 << 20)

struct trace {
	unsigned char *buf;	/* every record, in ring order */
	size_t len, cap;
	pid_t pid;		/* the launched process */
	int status;		/* its wait status */
	char *err;		/* its stderr */
	__u64 lost;		/* ring's lost_records at the end */
	unsigned int scans;	/* MH_REC_EXIT_SCAN answered */
	unsigned int scans_waiting; /* ...whose process was alive, memory readable, at the time */
};

struct run_opts {
	const char *const *argv;	/* after the program path */
	const char *const *env;		/* extra NAME=value */
	__u64 ring_bytes;
	__u32 flags;
	pid_t consumer;			/* stand-in consumer pid; 0: the test drains */
	bool ignore_sighup;		/* start the program with SIGHUP ignored, as nohup does */
	const char *prog;		/* tests/progs/<prog>; NULL: preload_calls */
	bool no_aslr;			/* run without address-space randomization */
};

char *prog_path(void);

bool have_artefacts(const char *name);

void keep(struct trace *t, const void *p, size_t bytes);

size_t drain(struct mh_ring *ring, struct trace *t);

/* Alive and not a zombie: /proc/PID/stat's state field. */
bool process_waiting(pid_t pid);

/*
 * The recorder's part of the exit handshake, for the records from offset
 * `from` on: check that the process waits with its memory intact (its
 * stack at sp can be read), then answer its ticket.
 */
void answer_scans(struct mh_ring *ring, struct trace *t, size_t from);

void exec_child(const struct mh_ring *ring, const struct run_opts *o, int err_fd);

/* Launch the program under the preload and collect its records. */
void run_traced(struct trace *t, const struct run_opts *o);

void trace_free(struct trace *t);

#define for_each_rec(t, h)                                                          \
	for (const struct mh_rec_hdr *h = (const void *)(t)->buf;                   \
	     (const unsigned char *)h < (t)->buf + (t)->len;                          \
	     h = (const void *)((const unsigned char *)h + h->size))

unsigned int count_allocs(const struct trace *t, __u32 pid, __u64 size);

const struct mh_rec_process *find_process(const struct trace *t, unsigned int nth);

#endif /* MEMHOOK_TESTS_PRELOAD_RUN_H */
