// SPDX-License-Identifier: MIT
/*
 * probes.c - the kernel streams' generic fallback (probes.h): rule
 * programs out with cheap feature probes, load only each probe's first
 * program left, narrow a refused load down by test-loading, attach, and
 * say how each probe ended.
 *
 * What is known about a probe's programs (ruled out, and why) is kept by
 * position (probe i, program k), so it carries over from one opened copy
 * of the object to the next. Never prints; never looks at kernel versions.
 */
#include "kernel/probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Why a program is out of the running. */
struct verdict {
	const char *stage;	/* NULL: still a candidate; else "probe", "load" or "attach" */
	const char *why;	/* stage "probe": the reason */
	int err;		/* stage "load" or "attach": -errno */
	bool probed;		/* the feature probe ran (or has nothing to ask) */
};

struct probe_state {
	struct verdict v[MH_KPROBE_MAX_PROGS];
	const char *mech[MH_KPROBE_MAX_PROGS];	/* "tp_btf", ...: kept past the object's close */
	int attached;				/* index of the program attached, or -1 */
};

struct mh_kprobes {
	const struct mh_kobject_ops *ops;
	void *ctx;
	int btf_err;			/* the kernel has no BTF: -errno */
	char *events;			/* tracefs' available_events, once a tp_btf probe read it */
	bool events_read;		/* it was read (events NULL: it cannot be) */
	int raw_tp_fd;			/* an empty raw_tp program for the raw_tp probe, or -1 */
	void *handle;			/* the copy opened last */
	struct bpf_object *obj;
	struct mh_kprobe_list list;
	struct probe_state st[MH_KPROBES_MAX];
	struct bpf_link **links;
	size_t nr_links;
	int load_err;			/* no copy loads: -errno, told for every probe */
};

int mh_kprobe_add(struct mh_kprobe_list *list, unsigned int group, const struct mh_kprobe *probes,
		  size_t n)
{
	size_t i;

	if (n > MH_KPROBES_MAX - list->count)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		list->group[list->count] = group;
		list->probes[list->count++] = probes[i];
	}
	return 0;
}

/* The part of a program's section after its first '/': the tracepoint. */
static const char *target_of(const struct bpf_program *prog)
{
	const char *slash = strchr(bpf_program__section_name(prog), '/');

	return slash ? slash + 1 : "";
}

/* Can a raw_tp open tp? Asked with an empty program, opened and closed at once. */
static const char *probe_raw_tp(struct mh_kprobes *p, const char *tp)
{
	const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (p->raw_tp_fd < 0)
		p->raw_tp_fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "mh_probe", "GPL", ret0,
					     sizeof(ret0) / sizeof(ret0[0]), NULL);
	if (p->raw_tp_fd < 0)
		return NULL;	/* cannot ask: loading will tell */
	fd = bpf_raw_tracepoint_open(tp, p->raw_tp_fd);
	if (fd >= 0)
		close(fd);
	return fd == -ENOENT ? "no such tracepoint" : NULL;
}

/*
 * Can tp_btf attach to tp? It attaches through the typedef btf_trace_<tp>
 * the kernel's BTF has for each of its tracepoints, so asked as: has the
 * kernel BTF, and is tp one of tracefs' events (one read for all probes),
 * else can a raw_tp open it (slower: registers tp). Not by parsing the
 * BTF (~12 ms a run, libbpf parses it again at load anyway).
 */
static const char *probe_tp_btf(struct mh_kprobes *p, const char *tp)
{
	char name[128];
	const char *found;

	if (p->btf_err)
		return "the kernel has no BTF";
	if (!p->events_read) {
		p->events_read = true;
		p->events = mh_ktracefs_read("available_events");
	}
	/* Lines are "<category>:<name>\n": look for ":<tp>\n". */
	snprintf(name, sizeof(name), ":%s\n", tp);
	found = p->events ? strstr(p->events, name) : NULL;
	return found ? NULL : probe_raw_tp(p, tp);
}

/* Done probing: only the programs attached stay loaded. */
static void close_raw_tp_probe(struct mh_kprobes *p)
{
	if (p->raw_tp_fd >= 0)
		close(p->raw_tp_fd);
	p->raw_tp_fd = -1;
}

/*
 * tracefs as an open directory: where it is mounted, else a mount of it
 * attached nowhere (fsopen/fsmount, Linux 5.2, CAP_SYS_ADMIN), which
 * changes nothing anyone else sees and lasts as long as the fd. Without
 * tracefs the loader parses the kernel's BTF for what one tracefs page
 * says (loader.c: 35-55 ms of CPU a run, measured). Opened once per
 * process; -1 if neither works.
 */
static int tracefs_dir(void)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	static int dir = -2;
	char path[64];
	size_t i;
	int fs;

	if (dir != -2)
		return dir;
	dir = -1;
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]) && dir < 0; i++) {
		snprintf(path, sizeof(path), "%s/events", roots[i]);
		if (!access(path, F_OK))
			dir = open(roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (dir >= 0)
		return dir;
	fs = fsopen("tracefs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return dir;
	if (!fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		dir = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	close(fs);
	if (dir < 0)
		dir = -1;
	return dir;
}

char *mh_ktracefs_read(const char *file)
{
	int dir = tracefs_dir(), fd;
	size_t len = 0, cap = 0;
	char *text = NULL, *grown;
	ssize_t got = 1;

	if (dir < 0)
		return NULL;
	fd = openat(dir, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	/* tracefs files say they are empty (st_size 0): read until the end. */
	while (got > 0) {
		if (cap - len < 4096) {
			cap = cap ? 2 * cap : 65536;
			grown = realloc(text, cap);
			if (!grown)
				break;
			text = grown;
		}
		got = read(fd, text + len, cap - len - 1);
		len += got > 0 ? (size_t)got : 0;
	}
	close(fd);
	if (got < 0 || !text || got > 0) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

/* Is the tracepoint ("category/name") in tracefs? Without tracefs, attaching will tell. */
static const char *probe_tracepoint(struct mh_kprobes *p, const char *tp)
{
	int dir = tracefs_dir();
	char path[256];

	if (dir < 0)
		return NULL;
	snprintf(path, sizeof(path), "events/%s", tp);
	return faccessat(dir, path, F_OK, 0) ? "no such tracepoint in tracefs" : NULL;
}

/* The attach mechanisms, by program type: their name and their feature probe. */
static const struct mechanism {
	enum bpf_prog_type type;
	const char *name;
	const char *(*rule_out)(struct mh_kprobes *p, const char *target);
} mechanisms[] = {
	{ BPF_PROG_TYPE_TRACING, "tp_btf", probe_tp_btf },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, "raw_tp", probe_raw_tp },
	{ BPF_PROG_TYPE_TRACEPOINT, "tracepoint", probe_tracepoint },
	{ BPF_PROG_TYPE_PERF_EVENT, "perf event", NULL },
};

static const struct mechanism *mechanism_of(const struct bpf_program *prog)
{
	static const struct mechanism other = { BPF_PROG_TYPE_UNSPEC, "program", NULL };
	size_t i;

	for (i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
		if (mechanisms[i].type == bpf_program__type(prog))
			return &mechanisms[i];
	return &other;
}

/*
 * The first program of probe i (in list, an opened copy) still in the
 * running, feature-probed on the way; -1 if none is left or it is unwanted.
 */
static int first_left(struct mh_kprobes *p, const struct mh_kprobe_list *list, size_t i)
{
	const struct mh_kprobe *pr = &list->probes[i];
	struct probe_state *st = &p->st[i];
	int k;

	if (pr->unwanted)
		return -1;
	for (k = 0; k < MH_KPROBE_MAX_PROGS && pr->progs[k]; k++) {
		const struct mechanism *m = mechanism_of(pr->progs[k]);
		struct verdict *v = &st->v[k];

		st->mech[k] = m->name;
		if (!v->probed) {
			v->probed = true;
			v->why = m->rule_out ? m->rule_out(p, target_of(pr->progs[k])) : NULL;
			if (v->why)
				v->stage = "probe";
		}
		if (!v->stage)
			return k;
	}
	return -1;
}

/* Autoload, in the copy list describes, the first program left of probes [from, to) only. */
static int choose(struct mh_kprobes *p, const struct mh_kprobe_list *list, size_t from, size_t to)
{
	size_t i;
	int k, chosen, err = 0;

	for (i = 0; i < list->count; i++) {
		chosen = i >= from && i < to ? first_left(p, list, i) : -1;
		for (k = 0; k < MH_KPROBE_MAX_PROGS && list->probes[i].progs[k]; k++)
			if (!err)
				err = bpf_program__set_autoload(list->probes[i].progs[k], k == chosen);
	}
	return err;
}

/* Open a fresh copy into p (test: only to test-load it). 0 or -errno. */
static int open_copy(struct mh_kprobes *p, bool test, void **handle, struct bpf_object **obj,
		     struct mh_kprobe_list *list)
{
	list->count = 0;
	*handle = p->ops->open(p->ctx, test, obj, list);
	return *handle ? 0 : -errno;
}

/* Test-load a copy with only probes [from, to) chosen. 0 or -errno. */
static int test_load(struct mh_kprobes *p, size_t from, size_t to)
{
	struct mh_kprobe_list list;
	struct bpf_object *obj;
	void *handle;
	int err;

	err = open_copy(p, true, &handle, &obj, &list);
	if (err)
		return err;
	err = choose(p, &list, from, to);
	if (!err)
		err = bpf_object__load(obj);
	p->ops->close(p->ctx, handle);
	return err;
}

/* Rule out probe i's chosen program: it failed at stage with err. */
static void rule_out(struct mh_kprobes *p, size_t i, const char *stage, int err)
{
	int k = first_left(p, &p->list, i);

	if (k >= 0)
		p->st[i].v[k] = (struct verdict){ .stage = stage, .err = err, .probed = true };
}

/*
 * The copy opened last did not load: find the programs the kernel refuses,
 * a group (one stream) at a time, then a probe at a time within a group
 * that fails. Returns true if it ruled any out, so another copy may load.
 */
static bool narrow(struct mh_kprobes *p)
{
	bool progress = false, found;
	size_t from, to, i;
	int err, group_err;

	for (from = 0; from < p->list.count; from = to) {
		for (to = from + 1; to < p->list.count && p->list.group[to] == p->list.group[from];
		     to++)
			;
		group_err = test_load(p, from, to);
		if (!group_err)
			continue;
		found = false;
		for (i = from; i < to && to - from > 1; i++) {
			err = first_left(p, &p->list, i) < 0 ? 0 : test_load(p, i, i + 1);
			if (err) {
				rule_out(p, i, "load", err);
				found = true;
			}
		}
		/* A group of one, or each loads alone but not all together: rule them all out. */
		for (i = from; i < to && !found; i++) {
			if (first_left(p, &p->list, i) >= 0) {
				rule_out(p, i, "load", group_err);
				progress = true;
			}
		}
		progress = progress || found;
	}
	return progress;
}

static int add_link(struct mh_kprobes *p, struct bpf_link *link)
{
	struct bpf_link **links = realloc(p->links, (p->nr_links + 1) * sizeof(*links));

	if (!links) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	links[p->nr_links++] = link;
	p->links = links;
	return 0;
}

/* Destroy the links from index from on. */
static void drop_links(struct mh_kprobes *p, size_t from)
{
	while (p->nr_links > from)
		bpf_link__destroy(p->links[--p->nr_links]);
}

/* Attach a perf_event program to a software event on every CPU, or on none. 0 or -errno. */
static int attach_perf(struct mh_kprobes *p, struct bpf_program *prog, int config)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = config,
		.sample_period = 1,
	};
	int cpus = libbpf_num_possible_cpus(), cpu, fd, err = 0;
	size_t first = p->nr_links;
	struct bpf_link *link;

	for (cpu = 0; cpu < cpus && !err; cpu++) {
		fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			err = errno == ENODEV ? 0 : -errno;	/* ENODEV: an offline CPU */
			continue;
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			err = -errno;
			close(fd);
			continue;
		}
		err = add_link(p, link);
	}
	if (cpus < 0)
		err = cpus;
	else if (!err && p->nr_links == first)
		err = -ENODEV;
	if (err)
		drop_links(p, first);
	return err;
}

/*
 * Attach every probe's loaded program. Returns true if one failed and its
 * probe has a program left to try (in another copy).
 */
static bool attach_all(struct mh_kprobes *p)
{
	bool again = false;
	struct bpf_link *link;
	size_t i;
	int k, err;

	for (i = 0; i < p->list.count; i++) {
		struct bpf_program *prog;

		k = first_left(p, &p->list, i);
		if (k < 0)
			continue;
		prog = p->list.probes[i].progs[k];
		if (bpf_program__type(prog) == BPF_PROG_TYPE_PERF_EVENT) {
			err = attach_perf(p, prog, p->list.probes[i].perf_config);
		} else {
			link = bpf_program__attach(prog);
			err = link ? add_link(p, link) : -errno;
		}
		if (!err) {
			p->st[i].attached = k;
			continue;
		}
		rule_out(p, i, "attach", err);
		again = again || first_left(p, &p->list, i) >= 0;
	}
	return again;
}

/* Detach and close the copy opened last. */
static void unload(struct mh_kprobes *p)
{
	size_t i;

	drop_links(p, 0);
	p->ops->close(p->ctx, p->handle);
	p->handle = NULL;
	p->obj = NULL;
	for (i = 0; i < MH_KPROBES_MAX; i++)
		p->st[i].attached = -1;
}

struct mh_kprobes *mh_kprobes_new(const struct mh_kobject_ops *ops, void *ctx)
{
	struct mh_kprobes *p = calloc(1, sizeof(*p));
	size_t i;

	if (!p)
		return NULL;
	p->ops = ops;
	p->ctx = ctx;
	p->raw_tp_fd = -1;
	for (i = 0; i < MH_KPROBES_MAX; i++)
		p->st[i].attached = -1;
	/* What libbpf reads at load: without it, no tp_btf. */
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		p->btf_err = -errno;
	return p;
}

int mh_kprobes_load(struct mh_kprobes *p, void **handle)
{
	size_t i, attached = 0;
	bool again;
	int err;

	*handle = NULL;
	for (;;) {
		err = open_copy(p, false, &p->handle, &p->obj, &p->list);
		if (err)
			break;
		err = choose(p, &p->list, 0, p->list.count);
		if (!err)
			err = bpf_object__load(p->obj);
		/* Narrowed down while the copy is open: its programs say what they are. */
		again = err ? err != -EPERM && narrow(p) : attach_all(p);
		if (!err && !again)
			break;
		unload(p);
		if (!again)
			break;
	}
	close_raw_tp_probe(p);
	if (err) {
		p->load_err = err;
		return err;
	}
	*handle = p->handle;
	for (i = 0; i < p->list.count; i++)
		attached += p->st[i].attached >= 0;
	return attached;
}

/* "skipped: <mechanism> <stage>: <why>; ..." for a probe that did not attach. */
static void skipped(const struct probe_state *st, char *how, size_t len)
{
	size_t used;
	int k;

	used = snprintf(how, len, "skipped:");
	for (k = 0; k < MH_KPROBE_MAX_PROGS && st->mech[k] && used < len; k++) {
		const struct verdict *v = &st->v[k];

		used += snprintf(how + used, len - used, " %s %s: %s;", st->mech[k],
				 v->stage ? v->stage : "load", v->why ? v->why : strerror(-v->err));
	}
}

void mh_kprobes_report(const struct mh_kprobes *p, mh_kprobe_report_fn report, void *ctx)
{
	char how[256];
	size_t i;

	for (i = 0; i < p->list.count; i++) {
		const struct mh_kprobe *pr = &p->list.probes[i];
		const struct probe_state *st = &p->st[i];

		if (pr->unwanted)
			snprintf(how, sizeof(how), "skipped: %s", pr->unwanted);
		else if (p->load_err)
			snprintf(how, sizeof(how), "skipped: BPF object does not load: %s",
				 strerror(-p->load_err));
		else if (st->attached >= 0)
			snprintf(how, sizeof(how), "attached via %s", st->mech[st->attached]);
		else
			skipped(st, how, sizeof(how));
		report(ctx, pr->name, how);
	}
}

size_t mh_kprobes_link_fds(const struct mh_kprobes *p, int *fds, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < p->nr_links && n < max; i++)
		fds[n++] = bpf_link__fd(p->links[i]);
	return n;
}

void mh_kprobes_free(struct mh_kprobes *p)
{
	if (!p)
		return;
	unload(p);
	free(p->links);
	free(p->events);
	close_raw_tp_probe(p);
	free(p);
}
