/* SPDX-License-Identifier: MIT */
/*
 * streams.h - the user side of each kernel stream (kernel/<stream>.c next
 * to kernel/<stream>.bpf.c): open the stream's subskeleton of the linked
 * object, set the stream's rodata, and list its probes by the names the
 * skeleton gives its programs, so that renaming a program breaks the
 * build. Internal to kernel/; never prints.
 */
#ifndef MEMHOOK_KERNEL_STREAMS_H
#define MEMHOOK_KERNEL_STREAMS_H

#include <stdbool.h>

#include "kernel/probes.h"

/* What a recording asks of the streams. */
struct mh_kstream_opts {
	bool follow_children;	/* procs: add forked children to the filter */
	bool memcg_events;	/* faults: attach the opt-in memcg_events probe */
};

/*
 * Each stream's open: obj is the linked object, opened and not loaded.
 * Sets the stream's rodata and appends its probes to list in group.
 * 0 or -errno.
 */
typedef int (*mh_kstream_open_fn)(struct bpf_object *obj, const struct mh_kstream_opts *opts,
				  unsigned int group, struct mh_kprobe_list *list);

int mh_kstream_faults(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		      unsigned int group, struct mh_kprobe_list *list);
int mh_kstream_reclaim(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		       unsigned int group, struct mh_kprobe_list *list);
int mh_kstream_oom(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		   unsigned int group, struct mh_kprobe_list *list);
int mh_kstream_syscalls(struct bpf_object *obj, const struct mh_kstream_opts *opts,
			unsigned int group, struct mh_kprobe_list *list);
int mh_kstream_procs(struct bpf_object *obj, const struct mh_kstream_opts *opts,
		     unsigned int group, struct mh_kprobe_list *list);

#endif /* MEMHOOK_KERNEL_STREAMS_H */
