/* SPDX-License-Identifier: MIT */
/*
 * loader.h - load the collector's BPF object: the streams linked into one
 * object (kernel/build.mk), opened through its skeleton, configured (the
 * shared rodata here, each stream's own in kernel/<stream>.c), loaded and
 * attached through the generic fallback of probes.h. Internal to kernel/;
 * never prints.
 */
#ifndef MEMHOOK_KERNEL_LOADER_H
#define MEMHOOK_KERNEL_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "kernel/probes.h"

struct mh_kloader;
struct streams_bpf;
struct streams_bpf__bss;

struct mh_kloader_opts {
	bool follow_children;		/* add forked children to the filter, in the kernel */
	bool memcg_events;		/* attach the opt-in memcg_events probe */
	size_t ringbuf_bytes;		/* a power-of-two multiple of the page size */
	__u32 wakeup_bytes;		/* wake the reader once this many bytes wait */
	mh_kprobe_report_fn report;	/* told how each probe ended */
	void *ctx;			/* passed to report */
};

/*
 * Load and attach every stream. Returns the loader, or NULL with errno set
 * (EPERM: not privileged; EOPNOTSUPP: no probe attached) and a one-line
 * reason in why (why_len bytes).
 */
struct mh_kloader *mh_kloader_new(const struct mh_kloader_opts *opts, char *why, size_t why_len);

/* The loaded object's skeleton: its maps, by the names the BPF code gives them. */
const struct streams_bpf *mh_kloader_skel(const struct mh_kloader *l);

/* Its global variables (.bss), shared with the BPF side; NULL if they cannot be mapped. */
struct streams_bpf__bss *mh_kloader_bss(struct mh_kloader *l);

/*
 * In a process about to exit: hand the probes' links to a helper that
 * closes them once the process is gone (linger.h), so neither
 * mh_kloader_free() nor the exit waits for the detaching (~10 ms). If no
 * helper starts, nothing changes. The probes stay attached until the exit.
 * 0 when a helper holds them (and shares this process's memory, which it
 * tears down after the exit), else -errno.
 */
int mh_kloader_linger(struct mh_kloader *l);

/* Detach and unload everything. Accepts NULL. */
void mh_kloader_free(struct mh_kloader *l);

#endif /* MEMHOOK_KERNEL_LOADER_H */
