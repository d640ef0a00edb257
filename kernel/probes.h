/* SPDX-License-Identifier: MIT */
/*
 * probes.h - the generic fallback of the kernel streams. Each probe names
 * its BPF programs in fallback order (tp_btf, raw_tp, tracepoint, perf
 * event); cheap feature probes rule programs out before load (has the
 * kernel BTF and is the tp_btf target one of its tracepoints? can a raw_tp
 * open? is the tracepoint in tracefs?) and only the first program left of
 * each probe is loaded.
 * What those probes cannot decide (a verifier that refuses a program) is
 * settled by test-loading, a stream at a time and then a program at a
 * time. Never by kernel version. Internal to kernel/; never prints; not
 * thread-safe.
 */
#ifndef MEMHOOK_KERNEL_PROBES_H
#define MEMHOOK_KERNEL_PROBES_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_object;
struct bpf_program;

/* Most programs one probe falls back through. */
#define MH_KPROBE_MAX_PROGS 3
/* Most probes of one object. */
#define MH_KPROBES_MAX 24

struct mh_kprobe {
	const char *name;				/* reported as kernel.probe.<name> */
	struct bpf_program *progs[MH_KPROBE_MAX_PROGS];	/* fallback order, NULL after the last */
	int perf_config;				/* PERF_COUNT_SW_* of a perf_event program */
	const char *unwanted;	/* not NULL: never loaded, reported as "skipped: <unwanted>" */
};

/*
 * The probes of one opened object, in a fixed order. group[i] is the
 * stream probe i belongs to: a failed load is narrowed down a group first.
 */
struct mh_kprobe_list {
	struct mh_kprobe probes[MH_KPROBES_MAX];
	unsigned int group[MH_KPROBES_MAX];
	size_t count;
};

/* Append copies of probes[0..n) to list, in group. 0, or -E2BIG when the list is full. */
int mh_kprobe_add(struct mh_kprobe_list *list, unsigned int group, const struct mh_kprobe *probes,
		  size_t n);

/* How to open fresh copies of the object whose probes are settled. */
struct mh_kobject_ops {
	/*
	 * Open (not load) a copy: set *obj, append its probes to list (the
	 * same probes in the same order every time). test asks for the
	 * smallest maps: the copy is only test-loaded, then closed. Returns
	 * a handle for close, or NULL with errno set.
	 */
	void *(*open)(void *ctx, bool test, struct bpf_object **obj, struct mh_kprobe_list *list);
	void (*close)(void *ctx, void *handle);	/* accepts NULL */
};

/*
 * Told once per probe how it ended: how is "attached via tp_btf" (or
 * raw_tp, tracepoint, perf event) or "skipped: <reasons>".
 */
typedef void (*mh_kprobe_report_fn)(void *ctx, const char *probe, const char *how);

struct mh_kprobes;

/*
 * Start settling the probes of the object ops opens. NULL with errno set
 * (ENOMEM).
 */
struct mh_kprobes *mh_kprobes_new(const struct mh_kobject_ops *ops, void *ctx);

/*
 * The whole text of tracefs' file (a path under its mount point, e.g.
 * "available_events"), NUL-terminated, to free(); NULL if tracefs is
 * neither mounted nor mountable out of sight (probes.c) or the file cannot
 * be read.
 */
char *mh_ktracefs_read(const char *file);

/*
 * Probe, choose, load and attach: open copies until one loads with every
 * probe's first program left, and attach them (a program that fails to
 * attach is ruled out and the next copy tries the next). On success the
 * handle of the loaded copy is in *handle (closed by mh_kprobes_free) and
 * the number of probes attached is returned; -errno when no copy loads
 * (then *handle is NULL), with every probe told why.
 */
int mh_kprobes_load(struct mh_kprobes *p, void **handle);

/* Tell report how each probe ended, in the order of the list. */
void mh_kprobes_report(const struct mh_kprobes *p, mh_kprobe_report_fn report, void *ctx);

/* The descriptors of the links attached (at most max, into fds): how many. */
size_t mh_kprobes_link_fds(const struct mh_kprobes *p, int *fds, size_t max);

/* Detach, close the loaded copy and free. Accepts NULL. */
void mh_kprobes_free(struct mh_kprobes *p);

#endif /* MEMHOOK_KERNEL_PROBES_H */
