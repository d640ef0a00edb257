/* SPDX-License-Identifier: MIT */
/*
 * loader.h - load the collector's BPF objects (one per stream, from the
 * skeletons' embedded ELF) and attach every probe through the first
 * mechanism that works here: tp_btf, then raw_tp, then a perf event.
 * Settled by test-loading and attaching, never by kernel version.
 * Internal to kernel/; never prints.
 */
#ifndef MEMHOOK_KERNEL_LOADER_H
#define MEMHOOK_KERNEL_LOADER_H

#include <stddef.h>
#include <linux/types.h>

#include "kernel/kconf.h"

struct mh_kloader;

/*
 * Told once per probe how it ended: how is "attached via tp_btf" (or
 * raw_tp, perf event) or "skipped: <reasons>".
 */
typedef void (*mh_kprobe_report_fn)(void *ctx, const char *probe, const char *how);

/*
 * Load and attach every stream. ringbuf_bytes must be a power-of-two
 * multiple of the page size. Returns the loader, or NULL with errno set
 * (EPERM: not privileged; EOPNOTSUPP: no probe attached) and a one-line
 * reason in why (why_len bytes).
 */
struct mh_kloader *mh_kloader_new(const struct mh_kconf *conf, size_t ringbuf_bytes,
				  mh_kprobe_report_fn report, void *ctx,
				  char *why, size_t why_len);

/* fd of a map shared by the streams ("traced", "events", "drops", "swapents"), or -ENOENT. */
int mh_kloader_map_fd(const struct mh_kloader *l, const char *name);

/* Detach and unload everything. Accepts NULL. */
void mh_kloader_free(struct mh_kloader *l);

#endif /* MEMHOOK_KERNEL_LOADER_H */
