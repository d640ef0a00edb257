// SPDX-License-Identifier: MIT
/*
 * loader.c - open, configure, load and attach the collector's BPF objects.
 *
 * Each stream (faults, reclaim, oom, syscalls, procs) is one BPF object
 * holding, for every probe, one program per attach mechanism in fallback
 * order (<stream>__<event> for tp_btf, <event>_raw for raw_tp, <event>_perf
 * for a software perf event). An object is first loaded whole; if the
 * kernel refuses it, each program is test-loaded alone and only those that
 * load are kept. Every probe then attaches through its first program that
 * attaches. The maps every stream shares (tgid filter, ring buffer, drop
 * counter, per-thread fault state) are created by the first object loaded
 * and reused by the others. Nothing here depends on the kernel version and
 * nothing needs tracefs. Never prints: outcomes go to the report callback.
 */
#include "kernel/loader.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kernel/faults.skel.h"
#include "kernel/oom.skel.h"
#include "kernel/procs.skel.h"
#include "kernel/reclaim.skel.h"
#include "kernel/syscalls.skel.h"

/* Most programs one probe falls back through. */
#define PROBE_MAX_PROGS 3
/* Pages of the ring buffer while test-loading (one page is the smallest allowed). */
#define TEST_RINGBUF_PAGES 1

struct probe_def {
	const char *name;			/* "kernel.probe.<name>" */
	const char *progs[PROBE_MAX_PROGS];	/* fallback order, NULL-terminated */
	int perf_config;			/* PERF_COUNT_SW_* for perf_event programs */
};

/* Why an opt-in probe was left out. */
#define NOT_REQUESTED "skipped: not requested (it runs on every page fault of every process)"

struct stream_def {
	const char *name;
	const void *(*elf_bytes)(size_t *sz);
	const struct probe_def *probes;
	size_t nr_probes;
};

static const struct probe_def fault_probes[] = {
	{ "page_fault", { "faults__page_fault", "faults__page_fault_raw",
			  "faults__page_fault_perf" }, PERF_COUNT_SW_PAGE_FAULTS },
	{ "major_fault", { "faults__major_fault" }, PERF_COUNT_SW_PAGE_FAULTS_MAJ },
	{ "rss_stat", { "faults__rss_stat", "faults__rss_stat_raw" }, 0 },
	{ "memcg_events", { "faults__memcg_events", "faults__memcg_events_raw" }, 0 },
};

static const struct probe_def reclaim_probes[] = {
	{ "direct_reclaim_begin", { "reclaim__direct_begin", "reclaim__direct_begin_raw" }, 0 },
	{ "direct_reclaim_end", { "reclaim__direct_end", "reclaim__direct_end_raw" }, 0 },
	{ "memcg_reclaim_begin", { "reclaim__memcg_begin", "reclaim__memcg_begin_raw" }, 0 },
	{ "memcg_reclaim_end", { "reclaim__memcg_end", "reclaim__memcg_end_raw" }, 0 },
	{ "kswapd_wake", { "reclaim__kswapd_wake", "reclaim__kswapd_wake_raw" }, 0 },
	{ "kswapd_sleep", { "reclaim__kswapd_sleep", "reclaim__kswapd_sleep_raw" }, 0 },
	{ "wakeup_kswapd", { "reclaim__wakeup_kswapd", "reclaim__wakeup_kswapd_raw" }, 0 },
};

static const struct probe_def oom_probes[] = {
	{ "mark_victim", { "oom__mark_victim", "oom__mark_victim_raw" }, 0 },
	{ "signal_generate", { "oom__signal_generate", "oom__signal_generate_raw" }, 0 },
};

static const struct probe_def syscall_probes[] = {
	{ "sys_enter", { "syscalls__sys_enter", "syscalls__sys_enter_raw" }, 0 },
	{ "sys_exit", { "syscalls__sys_exit", "syscalls__sys_exit_raw" }, 0 },
};

static const struct probe_def proc_probes[] = {
	{ "process_fork", { "procs__fork", "procs__fork_raw" }, 0 },
	{ "process_exec", { "procs__exec", "procs__exec_raw" }, 0 },
	{ "process_exit", { "procs__exit", "procs__exit_raw" }, 0 },
};

#define STREAM(n, p) { #n, n##_bpf__elf_bytes, p, sizeof(p) / sizeof(p[0]) }

static const struct stream_def streams[] = {
	STREAM(faults, fault_probes),
	STREAM(reclaim, reclaim_probes),
	STREAM(oom, oom_probes),
	STREAM(syscalls, syscall_probes),
	STREAM(procs, proc_probes),
};

#define NR_STREAMS (sizeof(streams) / sizeof(streams[0]))

/* Maps the streams share, by name; the first object loaded creates them. */
static const char *const shared_maps[] = {
	"traced", "events", "drops", "cur_fault", "vma_cache",
};
#define NR_SHARED (sizeof(shared_maps) / sizeof(shared_maps[0]))

struct mh_kloader {
	struct mh_kconf conf;
	size_t ringbuf_bytes;
	struct bpf_object *objs[NR_STREAMS];
	int shared_fds[NR_SHARED];
	struct bpf_link **links;
	size_t nr_links;
	size_t attached;			/* probes attached */
	mh_kprobe_report_fn report;
	void *ctx;
};

/* What test-loading one program of a stream found: 0 or -errno. */
struct prog_verdict {
	const char *name;
	int err;
};

static int add_link(struct mh_kloader *l, struct bpf_link *link)
{
	struct bpf_link **links = realloc(l->links, (l->nr_links + 1) * sizeof(*links));

	if (!links) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	links[l->nr_links++] = link;
	l->links = links;
	return 0;
}

/* Write conf into the object's .rodata (conf is its only variable, at offset 0). */
static int set_rodata(struct bpf_object *obj, const struct mh_kconf *conf)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, ".rodata");
	const void *init;
	size_t size;
	char *buf;
	int err;

	if (!map)
		return -ENOENT;
	init = bpf_map__initial_value(map, &size);
	if (!init || size < sizeof(*conf))
		return -EINVAL;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, init, size);
	memcpy(buf, conf, sizeof(*conf));
	err = bpf_map__set_initial_value(map, buf, size);
	free(buf);
	return err;
}

/* The probe only attached when asked for (conf.memcg_events). */
static const char OPT_IN_PROBE[] = "memcg_events";

/* True if p is the opt-in probe and it was not asked for. */
static bool probe_unwanted(const struct mh_kloader *l, const struct probe_def *p)
{
	return !l->conf.memcg_events && !strcmp(p->name, OPT_IN_PROBE);
}

/* True if prog belongs to a probe that was not asked for: it is not even loaded. */
static bool prog_unwanted(const struct mh_kloader *l, const struct stream_def *s, const char *prog)
{
	size_t p, k;

	for (p = 0; p < s->nr_probes; p++)
		for (k = 0; k < PROBE_MAX_PROGS && s->probes[p].progs[k]; k++)
			if (probe_unwanted(l, &s->probes[p]) && !strcmp(s->probes[p].progs[k], prog))
				return true;
	return false;
}

/*
 * Open one stream's object configured for this loader. only, if not NULL,
 * is the one program to keep (test-loading); test shrinks the ring buffer.
 */
static struct bpf_object *open_stream(struct mh_kloader *l, const struct stream_def *s,
				      const char *only, const struct prog_verdict *keep,
				      size_t nr_keep, int *errp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = s->name);
	struct bpf_program *prog;
	struct bpf_object *obj;
	const void *elf;
	size_t sz, i;
	int err;

	elf = s->elf_bytes(&sz);
	obj = bpf_object__open_mem(elf, sz, &opts);
	if (!obj) {
		*errp = -errno;
		return NULL;
	}
	err = set_rodata(obj, &l->conf);
	for (i = 0; !err && i < NR_SHARED; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, shared_maps[i]);

		if (!map)
			continue;
		if (l->shared_fds[i] >= 0)
			err = bpf_map__reuse_fd(map, l->shared_fds[i]);
		else if (!strcmp(shared_maps[i], "events"))
			err = bpf_map__set_max_entries(map, only ? (size_t)getpagesize() *
						       TEST_RINGBUF_PAGES : l->ringbuf_bytes);
	}
	bpf_object__for_each_program(prog, obj) {
		bool load = true;

		if (only)
			load = !strcmp(bpf_program__name(prog), only);
		if (prog_unwanted(l, s, bpf_program__name(prog)))
			load = false;
		for (i = 0; keep && i < nr_keep; i++)
			if (!strcmp(bpf_program__name(prog), keep[i].name))
				load = keep[i].err == 0;
		if (!err)
			err = bpf_program__set_autoload(prog, load);
	}
	if (err) {
		bpf_object__close(obj);
		*errp = err;
		return NULL;
	}
	return obj;
}

/* Test-load each program of a stream alone; fills verdicts (one per program). */
static size_t test_programs(struct mh_kloader *l, const struct stream_def *s,
			    struct prog_verdict *verdicts, size_t max)
{
	size_t n = 0, p, k;

	for (p = 0; p < s->nr_probes; p++) {
		for (k = 0; k < PROBE_MAX_PROGS && s->probes[p].progs[k] && n < max; k++) {
			const char *name = s->probes[p].progs[k];
			struct bpf_object *obj;
			int err = 0;

			obj = open_stream(l, s, name, NULL, 0, &err);
			if (obj) {
				err = bpf_object__load(obj);
				bpf_object__close(obj);
			}
			verdicts[n].name = name;
			verdicts[n++].err = err;
		}
	}
	return n;
}

/* Load a stream whole, or else the programs that load alone. 0 or -errno. */
static int load_stream(struct mh_kloader *l, size_t idx, struct prog_verdict *verdicts,
		       size_t *nr_verdicts, size_t max)
{
	const struct stream_def *s = &streams[idx];
	struct bpf_object *obj;
	int err = 0;
	size_t i;

	*nr_verdicts = 0;
	obj = open_stream(l, s, NULL, NULL, 0, &err);
	if (obj && (err = bpf_object__load(obj)) != 0) {
		bpf_object__close(obj);
		*nr_verdicts = test_programs(l, s, verdicts, max);
		obj = open_stream(l, s, NULL, verdicts, *nr_verdicts, &err);
		if (obj && (err = bpf_object__load(obj)) != 0) {
			bpf_object__close(obj);
			obj = NULL;
		}
	}
	if (!obj)
		return err;
	l->objs[idx] = obj;
	for (i = 0; i < NR_SHARED; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, shared_maps[i]);

		if (map && l->shared_fds[i] < 0)
			l->shared_fds[i] = bpf_map__fd(map);
	}
	return 0;
}

/* Attach a perf_event program to a software event on every CPU. 0 or -errno. */
static int attach_perf(struct mh_kloader *l, struct bpf_program *prog, int config)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = config,
		.sample_period = 1,
	};
	int cpus = libbpf_num_possible_cpus(), cpu, fd, err, attached = 0;

	if (cpus < 0)
		return cpus;
	for (cpu = 0; cpu < cpus; cpu++) {
		struct bpf_link *link;

		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			if (err == -ENODEV)	/* an offline CPU */
				continue;
			return err;
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			err = -errno;
			close(fd);
			return err;
		}
		err = add_link(l, link);
		if (err)
			return err;
		attached++;
	}
	return attached ? 0 : -ENODEV;
}

/* "tp_btf", "raw_tp" or "perf event" from a program's section. */
static const char *mechanism(const struct bpf_program *prog, char *buf, size_t len)
{
	const char *sec = bpf_program__section_name(prog);
	size_t n = strcspn(sec, "/");

	if (bpf_program__type(prog) == BPF_PROG_TYPE_PERF_EVENT)
		return "perf event";
	snprintf(buf, len, "%.*s", (int)n, sec);
	return buf;
}

static int verdict_of(const struct prog_verdict *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return v[i].err;
	return 0;
}

/* Attach one probe through its first program that attaches; report the outcome. */
static void attach_probe(struct mh_kloader *l, struct bpf_object *obj,
			 const struct probe_def *p, const struct prog_verdict *v, size_t nv)
{
	char how[256] = "skipped:", mech[32];
	size_t k, used = strlen(how);

	for (k = 0; k < PROBE_MAX_PROGS && p->progs[k]; k++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, p->progs[k]);
		int err = verdict_of(v, nv, p->progs[k]);
		struct bpf_link *link;
		const char *stage = "load";

		if (!err && prog && bpf_program__fd(prog) < 0)
			err = -ENOENT;
		if (!err && prog) {
			stage = "attach";
			if (bpf_program__type(prog) == BPF_PROG_TYPE_PERF_EVENT) {
				err = attach_perf(l, prog, p->perf_config);
			} else {
				link = bpf_program__attach(prog);
				err = link ? add_link(l, link) : -errno;
			}
		}
		if (!err && prog) {
			snprintf(how, sizeof(how), "attached via %s",
				 mechanism(prog, mech, sizeof(mech)));
			l->attached++;
			l->report(l->ctx, p->name, how);
			return;
		}
		prog = bpf_object__find_program_by_name(obj, p->progs[k]);
		used += snprintf(how + used, used < sizeof(how) ? sizeof(how) - used : 0,
				 " %s %s: %s;", prog ? mechanism(prog, mech, sizeof(mech)) :
				 p->progs[k], stage, strerror(err < 0 ? -err : ENOENT));
		if (used >= sizeof(how))
			used = sizeof(how) - 1;
	}
	l->report(l->ctx, p->name, how);
}

static void skip_stream(struct mh_kloader *l, const struct stream_def *s, int err)
{
	char how[160];
	size_t p;

	snprintf(how, sizeof(how), "skipped: BPF object '%s' does not load: %s", s->name,
		 strerror(-err));
	for (p = 0; p < s->nr_probes; p++)
		l->report(l->ctx, s->probes[p].name, how);
}

struct mh_kloader *mh_kloader_new(const struct mh_kconf *conf, size_t ringbuf_bytes,
				  mh_kprobe_report_fn report, void *ctx,
				  char *why, size_t why_len)
{
	struct prog_verdict verdicts[32];
	struct mh_kloader *l = calloc(1, sizeof(*l));
	int err, first_err = 0;
	size_t i, p, nv;

	if (!l) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	l->conf = *conf;
	l->ringbuf_bytes = ringbuf_bytes;
	l->report = report;
	l->ctx = ctx;
	for (i = 0; i < NR_SHARED; i++)
		l->shared_fds[i] = -1;
	for (i = 0; i < NR_STREAMS; i++) {
		err = load_stream(l, i, verdicts, &nv, sizeof(verdicts) / sizeof(verdicts[0]));
		if (err) {
			if (!first_err)
				first_err = err;
			skip_stream(l, &streams[i], err);
			continue;
		}
		for (p = 0; p < streams[i].nr_probes; p++) {
			if (probe_unwanted(l, &streams[i].probes[p]))
				report(ctx, streams[i].probes[p].name, NOT_REQUESTED);
			else
				attach_probe(l, l->objs[i], &streams[i].probes[p], verdicts, nv);
		}
	}
	if (l->attached)
		return l;
	err = first_err == -EPERM ? EPERM : EOPNOTSUPP;
	if (first_err)
		snprintf(why, why_len, "no kernel probe could be attached: %s%s",
			 strerror(-first_err), err == EPERM ?
			 " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
	else
		snprintf(why, why_len, "no kernel probe could be attached");
	mh_kloader_free(l);
	errno = err;
	return NULL;
}

int mh_kloader_map_fd(const struct mh_kloader *l, const char *name)
{
	size_t i;

	for (i = 0; i < NR_SHARED; i++)
		if (!strcmp(shared_maps[i], name))
			return l->shared_fds[i] >= 0 ? l->shared_fds[i] : -ENOENT;
	for (i = 0; i < NR_STREAMS; i++) {
		struct bpf_map *map;

		if (!l->objs[i])
			continue;
		map = bpf_object__find_map_by_name(l->objs[i], name);
		if (map)
			return bpf_map__fd(map);
	}
	return -ENOENT;
}

void mh_kloader_free(struct mh_kloader *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->nr_links; i++)
		bpf_link__destroy(l->links[i]);
	free(l->links);
	for (i = 0; i < NR_STREAMS; i++)
		bpf_object__close(l->objs[i]);
	free(l);
}
