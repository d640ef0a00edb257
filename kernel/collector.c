// SPDX-License-Identifier: MIT
/*
 * collector.c - the BPF collector's public face (collector.h): configure
 * the BPF side for this kernel, keep the tgid filter, drain the shared ring
 * buffer into the caller's sink in batches, and report what was skipped
 * (MH_REC_INFO) and what was dropped (MH_REC_LOST). Faults on files are
 * preceded by one MH_REC_KFILE per file, named in user space (files.c).
 *
 * The INFO records are built at open but handed to the sink by the first
 * poll (or by free), so the sink only ever runs on the polling thread.
 * Never prints: libbpf's own messages are swallowed while loading (the
 * outcome of every probe is reported as an INFO record instead).
 */
#include "kernel/collector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "kernel/files.h"
#include "kernel/kconf.h"
#include "kernel/loader.h"
#include "kernel/streams.skel.h"
#include "common/clock.h"
#include "trace/records.h"

/*
 * Default BPF ring buffer: RINGBUF_PER_CPU bytes for every possible CPU
 * (each CPU a traced thread runs on writes into it; a fault is ~96 bytes
 * of records), between RINGBUF_MIN and RINGBUF_MAX. The kernel allocates
 * and zeroes the whole ring at creation, charged to memhook's memory
 * cgroup, and maps it page by page into the reader: 32 MiB took 5-28 ms
 * of every start on 2 CPUs, 8 MiB a quarter of that.
 */
#define RINGBUF_PER_CPU (4U << 20)
#define RINGBUF_MIN (8U << 20)
#define RINGBUF_MAX (64U << 20)
/*
 * The reader is woken when 1/WAKEUP_FRACTION of the ring is filled (or at
 * its poll timeout): rarer wakeups cost the faulting threads less (1/4 of
 * 32 MiB measured ~20% cheaper per fault than 1/8 of 16 MiB with
 * bench/kernel_faults.sh) and still leave 3/4 of the ring for the reader
 * to catch up.
 */
#define WAKEUP_FRACTION 4
/* Records are handed to the sink in batches of up to this many bytes. */
#define BATCH_BYTES (64U << 10)

struct mh_collector {
	struct mh_kloader *loader;
	struct ring_buffer *rb;
	struct mh_kfiles *files;
	mh_collector_sink_fn sink;
	void *sink_ctx;
	int sink_err;			/* first error the sink returned */
	bool exit_after_free;		/* mh_collector_opts.exit_after_free */
	int delivered;			/* records delivered by the current poll */
	char *meta;			/* INFO records not yet handed to the sink */
	size_t meta_len;
	size_t batch_len;
	char batch[BATCH_BYTES];
};

/*
 * Why the calling thread's last mh_collector_open() failed: no collector
 * exists to hold it, so it is kept per thread, as dlerror() keeps its own.
 */
static __thread char reason[256];

const char *mh_collector_reason(void)
{
	return reason;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Queue key = value as an INFO record for the META stream. */
static void queue_info(struct mh_collector *c, const char *key, const char *value)
{
	size_t size;
	struct mh_rec_info *rec = mh_rec_info_new(0, key, value, &size);
	char *meta = rec ? realloc(c->meta, c->meta_len + size) : NULL;

	if (meta) {
		c->meta = meta;
		memcpy(meta + c->meta_len, rec, size);
		c->meta_len += size;
	}
	/* On failure only the INFO line is lost; the probe itself is unaffected. */
	free(rec);
}

/* Queue "kernel.probe.<probe>" = how (the loader's report callback). */
static void queue_probe_info(void *ctx, const char *probe, const char *how)
{
	char key[96];

	snprintf(key, sizeof(key), "kernel.probe.%s", probe);
	queue_info(ctx, key, how);
}

static int flush_batch(struct mh_collector *c)
{
	int err;

	if (!c->batch_len || c->sink_err)
		return c->sink_err;
	err = c->sink(c->sink_ctx, MH_STREAM_KERNEL, c->batch, c->batch_len);
	c->batch_len = 0;
	if (err)
		c->sink_err = err;
	return err;
}

/* Copy one whole record into the batch, flushing first if it would not fit. */
static int batch_add(struct mh_collector *c, const void *data, size_t size)
{
	if (c->batch_len + size > sizeof(c->batch) && flush_batch(c))
		return c->sink_err;
	memcpy(c->batch + c->batch_len, data, size);
	c->batch_len += size;
	c->delivered++;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct mh_collector *c = ctx;
	const struct mh_rec_hdr *hdr = data;
	const struct mh_rec_kfile *file;

	if (size < sizeof(*hdr) || hdr->size != size || size % MH_REC_ALIGN)
		return 0;	/* cannot happen: every BPF record is emitted whole */
	if (hdr->type != MH_REC_KFAULT || size < sizeof(struct mh_rec_kfault))
		return batch_add(c, data, size);
	/* Out of memory only leaves the file unnamed: the fault itself still goes out. */
	if (mh_kfiles_note(c->files, data, &file) > 0 && batch_add(c, file, file->hdr.size))
		return c->sink_err;
	if (batch_add(c, data, size))
		return c->sink_err;
	/*
	 * The file's KFILE holds its generation: a random 32-bit number per
	 * inode on ext4, repeated in every fault it was half of the faults'
	 * bytes in a trace (git log -p maps one file per object).
	 */
	if (mh_kfiles_named(c->files, data))
		((struct mh_rec_kfault *)(c->batch + c->batch_len - size))->gen = 0;
	return 0;
}

/* The tgids in the BPF filter, for naming a file its faulting process no longer maps. */
static void traced_pids(void *ctx, int (*try_pid)(void *arg, pid_t pid), void *arg)
{
	struct mh_collector *c = ctx;
	int fd = bpf_map__fd(mh_kloader_skel(c->loader)->maps.traced);
	__u32 key, next;
	int err;

	for (err = bpf_map_get_next_key(fd, NULL, &next); !err;
	     err = bpf_map_get_next_key(fd, &key, &next)) {
		if (try_pid(arg, next))
			return;
		key = next;
	}
}

/* Faults on files of dev need not wake us early: they can be named by handle later. */
static void handle_dev(void *ctx, __u32 dev)
{
	struct mh_collector *c = ctx;
	int fd = bpf_map__fd(mh_kloader_skel(c->loader)->maps.handle_devs);
	__u8 one = 1;

	/* If the map is full, those faults keep waking us: slower, still correct. */
	(void)bpf_map_update_elem(fd, &dev, &one, BPF_ANY);
}

static int flush_meta(struct mh_collector *c)
{
	int err;

	if (!c->meta_len || c->sink_err)
		return c->sink_err;
	err = c->sink(c->sink_ctx, MH_STREAM_META, c->meta, c->meta_len);
	free(c->meta);
	c->meta = NULL;
	c->meta_len = 0;
	if (err)
		c->sink_err = err;
	return err;
}

/* The ring's bytes when none is asked for: see RINGBUF_PER_CPU. */
static size_t ringbuf_default(void)
{
	int cpus = libbpf_num_possible_cpus();
	size_t want = cpus > 0 ? (size_t)cpus * RINGBUF_PER_CPU : RINGBUF_MIN;

	return want < RINGBUF_MIN ? RINGBUF_MIN : want > RINGBUF_MAX ? RINGBUF_MAX : want;
}

static size_t ringbuf_size(size_t want)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);

	if (!want)
		want = ringbuf_default();
	while (size < want)
		size <<= 1;
	return size;
}

int mh_collector_open(const struct mh_collector_opts *opts, struct mh_collector **out)
{
	struct mh_kloader_opts lo = { .report = queue_probe_info };
	libbpf_print_fn_t old_print;
	struct mh_collector *c;
	int err;

	*out = NULL;
	reason[0] = '\0';
	if (!opts || !opts->sink || opts->pid <= 0) {
		snprintf(reason, sizeof(reason), "invalid collector options");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(reason, sizeof(reason), "out of memory");
		return -ENOMEM;
	}
	c->sink = opts->sink;
	c->sink_ctx = opts->sink_ctx;
	c->exit_after_free = opts->exit_after_free;
	c->files = mh_kfiles_new(traced_pids, handle_dev, c);
	if (!c->files) {
		free(c);
		snprintf(reason, sizeof(reason), "out of memory");
		return -ENOMEM;
	}
	lo.follow_children = opts->follow_children;
	lo.memcg_events = opts->memcg_events;
	lo.ringbuf_bytes = ringbuf_size(opts->ringbuf_bytes);
	lo.wakeup_bytes = lo.ringbuf_bytes / WAKEUP_FRACTION;
	lo.ctx = c;
	old_print = libbpf_set_print(silent_print);
	c->loader = mh_kloader_new(&lo, reason, sizeof(reason));
	err = -errno;
	libbpf_set_print(old_print);
	if (!c->loader)
		goto out_free;
	c->rb = ring_buffer__new(bpf_map__fd(mh_kloader_skel(c->loader)->maps.events), on_record,
				 c, NULL);
	if (!c->rb) {
		err = -errno;
		snprintf(reason, sizeof(reason), "cannot open the BPF ring buffer: %s",
			 strerror(-err));
		goto out_free;
	}
	err = mh_collector_add_pid(c, opts->pid);
	if (err) {
		snprintf(reason, sizeof(reason), "cannot add pid %d to the BPF filter: %s",
			 (int)opts->pid, strerror(-err));
		goto out_free;
	}
	*out = c;
	return 0;
out_free:
	ring_buffer__free(c->rb);
	mh_kloader_free(c->loader);
	mh_kfiles_free(c->files);
	free(c->meta);
	free(c);
	return err;
}

/* Swap entries the process already has, pages, from /proc/PID/status (0 if unknown). */
static __s64 current_swap_pages(pid_t pid)
{
	char path[64], line[128];
	long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSwap: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024 / sysconf(_SC_PAGESIZE);
}

int mh_collector_add_pid(struct mh_collector *c, pid_t pid)
{
	const struct streams_bpf *skel = mh_kloader_skel(c->loader);
	struct streams_bpf__bss *bss = mh_kloader_bss(c->loader);
	struct mh_traced fresh = { 0 };
	__s64 swap = current_swap_pages(pid);
	__u32 key = pid;

	/* Seed the swap counter so the first swap-in has a baseline. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.swapents), &key, &swap, BPF_ANY))
		return -errno;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.traced), &key, &fresh, BPF_ANY))
		return -errno;
	if (!bss)
		return -ENOMEM;
	/* Shared memory: the BPF side may be setting other bits meanwhile. */
	__atomic_fetch_or(&bss->traced_bits[key % MH_KCONF_TRACED_BITS / 64],
			  1ULL << (key % MH_KCONF_TRACED_BITS % 64), __ATOMIC_RELAXED);
	return 0;
}

int mh_collector_poll(struct mh_collector *c, int timeout_ms)
{
	int n;

	if (flush_meta(c))
		return c->sink_err;
	c->delivered = 0;
	mh_kfiles_next_round(c->files);
	n = ring_buffer__poll(c->rb, timeout_ms);
	/* Records are written without waking us: take what the timeout left. */
	if (n >= 0)
		n = ring_buffer__consume(c->rb);
	if (flush_batch(c))
		return c->sink_err;
	if (n < 0 && n != -EINTR)
		return n;
	return c->delivered;
}

/* Sum of the per-CPU ring-buffer reserve failures, records. */
static __u64 dropped(struct mh_collector *c)
{
	int fd = bpf_map__fd(mh_kloader_skel(c->loader)->maps.drops);
	int cpus = libbpf_num_possible_cpus();
	__u64 *vals, total = 0;
	__u32 zero = 0;
	int i;

	if (cpus <= 0)
		return 0;
	vals = calloc(cpus, sizeof(*vals));
	if (!vals)
		return 0;
	if (!bpf_map_lookup_elem(fd, &zero, vals))
		for (i = 0; i < cpus; i++)
			total += vals[i];
	free(vals);
	return total;
}

int mh_collector_fd(const struct mh_collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

bool mh_collector_oom_victim(struct mh_collector *c, pid_t pid)
{
	int fd = bpf_map__fd(mh_kloader_skel(c->loader)->maps.oom_victims);
	__u32 key = pid;
	__u64 ts_ns;

	return bpf_map_lookup_elem(fd, &key, &ts_ns) == 0;
}

void mh_collector_free(struct mh_collector *c)
{
	struct mh_rec_lost lost = {
		.hdr = { .type = MH_REC_LOST, .size = sizeof(lost) },
		.stream = MH_STREAM_KERNEL,
	};
	char num[32];

	if (!c)
		return;
	(void)flush_meta(c);	/* errors are the sink's own: nobody left to tell */
	if (!c->sink_err) {
		(void)ring_buffer__consume(c->rb);
		(void)flush_batch(c);
	}
	snprintf(num, sizeof(num), "%zu", mh_kfiles_unresolved(c->files));
	queue_info(c, "kernel.files.unresolved", num);
	(void)flush_meta(c);	/* as above */
	lost.ts_ns = mh_clock_now_ns();
	lost.count = dropped(c);
	if (!c->sink_err)
		(void)c->sink(c->sink_ctx, MH_STREAM_META, &lost, sizeof(lost));
	/*
	 * Every record is in: what the probes would still see is no longer
	 * traced. With a helper holding them, the ring buffer's mapping (twice
	 * its size) is left to the memory the helper tears down after the
	 * exit, instead of being unmapped here (~2 ms).
	 */
	if (!c->exit_after_free || mh_kloader_linger(c->loader))
		ring_buffer__free(c->rb);
	mh_kloader_free(c->loader);
	mh_kfiles_free(c->files);
	free(c->meta);
	free(c);
}
