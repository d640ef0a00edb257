/* SPDX-License-Identifier: MIT */
/*
 * streams.h - the user side of each kernel stream (kernel/<stream>.c next
 * to kernel/<stream>.bpf.c): set the stream's rodata in the skeleton of
 * the linked object and list its probes by the names the skeleton gives
 * its programs, so that renaming a program breaks the build. Internal to
 * kernel/; never prints.
 */
#ifndef MEMHOOK_KERNEL_STREAMS_H
#define MEMHOOK_KERNEL_STREAMS_H

#include <stdbool.h>

#include "kernel/probes.h"

struct streams_bpf;

/* What a recording asks of the streams. */
struct mh_kstream_opts {
	bool follow_children;	/* procs: add forked children to the filter */
	bool memcg_events;	/* faults: attach the opt-in memcg_events probe */
};

/*
 * A probe attached through tp_btf, else raw_tp: the stream's .bpf.c
 * defines the pair as <stream>__<event> and <stream>__<event>_raw.
 */
#define MH_KSTREAM_TP(skel, probe_name, prog)					\
	{ .name = (probe_name), .progs = { (skel)->progs.prog, (skel)->progs.prog##_raw } }

/* What a stream is handed when a copy of the object is opened. */
struct mh_kstream_ctx {
	struct streams_bpf *skel;		/* opened, not loaded */
	const struct mh_kstream_opts *opts;
	struct mh_kprobe_list *list;		/* where the stream's probes go */
	unsigned int group;			/* ... in this group */
};

/* Each stream's part of opening a copy: set its rodata, list its probes. 0 or -errno. */
typedef int (*mh_kstream_open_fn)(const struct mh_kstream_ctx *c);

int mh_kstream_faults(const struct mh_kstream_ctx *c);
int mh_kstream_reclaim(const struct mh_kstream_ctx *c);
int mh_kstream_oom(const struct mh_kstream_ctx *c);
int mh_kstream_syscalls(const struct mh_kstream_ctx *c);
int mh_kstream_procs(const struct mh_kstream_ctx *c);

#endif /* MEMHOOK_KERNEL_STREAMS_H */
