// SPDX-License-Identifier: MIT
/*
 * loader.c - open, configure, load and attach the collector's BPF object.
 *
 * The five streams (faults, reclaim, oom, syscalls, procs) are linked into
 * one object, so libbpf reads the kernel's BTF, relocates and loads once
 * per run, and the maps they share (tgid filter, ring buffer, drop
 * counter, per-thread fault state) are one map each by construction. Each
 * copy is opened through the skeleton; the shared rodata is set here,
 * each stream sets its own and lists its probes by their skeleton names
 * (kernel/<stream>.c), and probes.c settles which program of each probe
 * loads. Never prints.
 */
#include "kernel/loader.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "memhook/kernel_events.h"
#include "kernel/kconf.h"
#include "kernel/linger.h"
#include "kernel/streams.h"
#include "kernel/streams.skel.h"
#include "common/heap_huge.h"

/* The streams, in the order their probes are told. */
static const mh_kstream_open_fn streams[] = {
	mh_kstream_faults, mh_kstream_reclaim, mh_kstream_oom, mh_kstream_syscalls,
	mh_kstream_procs,
};

struct mh_kloader {
	struct mh_kconf conf;			/* the shared rodata of every copy */
	struct mh_kstream_opts stream_opts;
	size_t ringbuf_bytes;
	struct mh_kprobes *probes;
	struct streams_bpf *skel;		/* the copy loaded and attached */
	struct streams_bpf__bss *bss;		/* its .bss, mapped; MAP_FAILED: not */
	size_t bss_bytes;
	bool entries_on_demand;			/* tgid maps allocate entries as they come */
};

/*
 * The maps keyed by tgid (the filter, swap entries, OOM victims) hold a
 * few of their 4,096 entries in nearly every run, and a preallocated hash
 * map has every entry allocated and zeroed when it is created: the
 * filter's ~1.2 MiB took 2-7 ms of the collector's start here (a first
 * write to a fresh page traps to the hypervisor), 0.1 ms with entries
 * allocated as they are added. Linux 6.1 allows that in every program
 * type; before it, perf_event programs (the major-fault probe) are
 * refused such a map. Asked once, by loading a perf_event program that
 * looks one up.
 */
static bool hash_entries_on_demand(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = BPF_F_NO_PREALLOC);
	/* r2 = &key (0, at fp - 4), r1 = the map, bpf_map_lookup_elem(), return 0 */
	struct bpf_insn insns[] = {
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = BPF_REG_10, .off = -4 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_1,
		  .src_reg = BPF_PSEUDO_MAP_FD },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int map, prog;

	map = bpf_map_create(BPF_MAP_TYPE_HASH, "mh_probe", sizeof(__u32), sizeof(__u64), 1, &mopts);
	if (map < 0)
		return false;
	insns[3].imm = map;
	prog = bpf_prog_load(BPF_PROG_TYPE_PERF_EVENT, NULL, "Dual MIT/GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
	close(map);
	if (prog < 0)
		return false;
	close(prog);
	return true;
}

/* Open a copy of the object (mh_kobject_ops.open). */
static void *open_copy(void *ctx, bool test, struct bpf_object **obj, struct mh_kprobe_list *list)
{
	struct mh_kloader *l = ctx;
	struct streams_bpf *skel = streams_bpf__open();
	struct mh_kstream_ctx c = { .skel = skel, .opts = &l->stream_opts, .list = list };
	int err;

	if (!skel)
		return NULL;
	skel->rodata->conf = l->conf;
	/* A test copy is closed unused: the smallest ring buffer allowed (a page). */
	err = bpf_map__set_max_entries(skel->maps.events,
				       test ? (size_t)getpagesize() : l->ringbuf_bytes);
	if (!err && l->entries_on_demand) {
		struct bpf_map *by_tgid[] = { skel->maps.traced, skel->maps.swapents,
					      skel->maps.oom_victims };
		size_t i;

		for (i = 0; !err && i < sizeof(by_tgid) / sizeof(by_tgid[0]); i++)
			err = bpf_map__set_map_flags(by_tgid[i], bpf_map__map_flags(by_tgid[i]) |
								    BPF_F_NO_PREALLOC);
	}
	for (c.group = 0; !err && c.group < sizeof(streams) / sizeof(streams[0]); c.group++)
		err = streams[c.group](&c);
	if (err) {
		streams_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	*obj = skel->obj;
	return skel;
}

static void close_copy(void *ctx, void *handle)
{
	streams_bpf__destroy(handle);
}

static const struct mh_kobject_ops copy_ops = { .open = open_copy, .close = close_copy };

static const char *const mm_names[4] = {
	[MH_RSS_FILE] = "MM_FILEPAGES", [MH_RSS_ANON] = "MM_ANONPAGES",
	[MH_RSS_SWAPENTS] = "MM_SWAPENTS", [MH_RSS_SHMEM] = "MM_SHMEMPAGES",
};

/* Find the values of the kernel's anonymous MM_* enum in its BTF (-1: absent). */
static void mm_members_from_btf(struct mh_kconf *conf, const struct btf *btf)
{
	__u32 id, n, i, k;

	n = btf ? btf__type_cnt(btf) : 0;
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++)
			for (k = 0; k < 4; k++)
				if (!strcmp(btf__name_by_offset(btf, e[i].name_off), mm_names[k]))
					conf->mm_member[k] = e[i].val;
		if (conf->mm_member[MH_RSS_SWAPENTS] >= 0)
			break;
	}
}

/*
 * Find them in the rss_stat tracepoint's format instead, where the kernel
 * has put each value in its print format: "{ 0, \"MM_FILEPAGES\" }, ...".
 * 0 if all four are there (a page of tracefs, against ~12 ms to parse the
 * kernel's BTF); -ENOENT, and none set, if not.
 */
static int mm_members_from_tracefs(struct mh_kconf *conf)
{
	char *fmt = mh_ktracefs_read("events/kmem/rss_stat/format");
	char want[32], said[32], *brace;
	int k, val, got = 0;

	for (k = 0; fmt && k < 4; k++) {
		snprintf(want, sizeof(want), "\"%s\"", mm_names[k]);
		brace = strstr(fmt, want);
		while (brace && brace > fmt && *brace != '{')
			brace--;
		if (brace && *brace == '{' && sscanf(brace, "{ %d , %31s", &val, said) == 2 &&
		    !strncmp(said, want, strlen(want))) {
			conf->mm_member[k] = val;
			got++;
		}
	}
	free(fmt);
	if (got == 4)
		return 0;
	for (k = 0; k < 4; k++)
		conf->mm_member[k] = -1;
	return -ENOENT;
}

/* The values of the kernel's MM_* counters (-1: absent): from tracefs, else from its BTF. */
static void resolve_mm_members(struct mh_kconf *conf)
{
	struct btf *btf;
	int k;

	for (k = 0; k < 4; k++)
		conf->mm_member[k] = -1;
	if (!mm_members_from_tracefs(conf))
		return;
	btf = btf__load_vmlinux_btf();
	mm_members_from_btf(conf, libbpf_get_error(btf) ? NULL : btf);
	btf__free(btf);
}

static void fill_conf(struct mh_kconf *conf, const struct mh_kloader_opts *opts)
{
	long page = sysconf(_SC_PAGESIZE);
	int cpus = libbpf_num_possible_cpus();

	memset(conf, 0, sizeof(*conf));
	while ((1L << conf->page_shift) < page)
		conf->page_shift++;
	conf->nr_cpus = cpus > 0 ? cpus : 1;
	conf->wakeup_bytes = opts->wakeup_bytes;
	resolve_mm_members(conf);
}

/*
 * Heap grown for libbpf's read of the kernel's BTF (~5 MiB here, more on
 * distributions). libbpf reads it at load (and again for each test load;
 * the loader reads it too where tracefs cannot tell the MM_* values), and
 * each read filled fresh pages (measured: 3,000 faults, half the
 * collector's start). On huge pages (common/heap_huge.h) each read reuses
 * the last one's pages, a few 2 MiB ones, the part below the first 2 MiB
 * boundary (where the read begins: 400 faults measured) mapped in one call.
 */
#define BTF_HEAP_BYTES (24U << 20)

/*
 * Map the loaded copy's .bss, shared with the BPF side (the skeleton's bss
 * pointer is mapped only by a skeleton load, not by loading its object).
 */
static void map_bss(struct mh_kloader *l)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	l->bss_bytes = (bpf_map__value_size(l->skel->maps.bss) + page - 1) / page * page;
	l->bss = mmap(NULL, l->bss_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		      bpf_map__fd(l->skel->maps.bss), 0);
}

struct mh_kloader *mh_kloader_new(const struct mh_kloader_opts *opts, char *why, size_t why_len)
{
	struct mh_kloader *l = calloc(1, sizeof(*l));
	void *handle;
	int n, err;

	mh_heap_huge(BTF_HEAP_BYTES, true, true);
	if (!l || !(l->probes = mh_kprobes_new(&copy_ops, l))) {
		mh_heap_default();
		free(l);
		snprintf(why, why_len, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	l->stream_opts.follow_children = opts->follow_children;
	l->stream_opts.memcg_events = opts->memcg_events;
	l->ringbuf_bytes = opts->ringbuf_bytes;
	l->entries_on_demand = hash_entries_on_demand();
	fill_conf(&l->conf, opts);
	n = mh_kprobes_load(l->probes, &handle);
	mh_heap_default();
	l->skel = handle;
	l->bss = MAP_FAILED;
	if (n > 0)
		map_bss(l);
	mh_kprobes_report(l->probes, opts->report, opts->ctx);
	if (n > 0)
		return l;
	err = n == -EPERM ? EPERM : EOPNOTSUPP;
	if (n < 0)
		snprintf(why, why_len, "no kernel probe could be attached: %s%s", strerror(-n),
			 err == EPERM ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
	else
		snprintf(why, why_len, "no kernel probe could be attached");
	mh_kloader_free(l);
	errno = err;
	return NULL;
}

const struct streams_bpf *mh_kloader_skel(const struct mh_kloader *l)
{
	return l->skel;
}

struct streams_bpf__bss *mh_kloader_bss(struct mh_kloader *l)
{
	return l->bss == MAP_FAILED ? NULL : l->bss;
}

int mh_kloader_linger(struct mh_kloader *l)
{
	int fds[MH_KLINGER_MAX_FDS];
	size_t n = mh_kprobes_link_fds(l->probes, fds, MH_KLINGER_MAX_FDS);

	/* Links past the first MH_KLINGER_MAX_FDS, or all without a helper: detached at free. */
	return mh_klinger(fds, n);
}

void mh_kloader_free(struct mh_kloader *l)
{
	if (!l)
		return;
	if (l->bss && l->bss != MAP_FAILED)
		munmap(l->bss, l->bss_bytes);
	mh_kprobes_free(l->probes);	/* closes the loaded copy too */
	free(l);
}
