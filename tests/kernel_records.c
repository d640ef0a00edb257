// SPDX-License-Identifier: MIT
/*
 * kernel_records.c - the definitions behind kernel_records.h.
 */
#include "tests/kernel_records.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/fs.h>

int capture_sink(void *ctx, int stream, const void *records, size_t bytes)
{
	struct capture *c = ctx;

	if (c->len + bytes > c->cap) {
		size_t cap = (c->len + bytes) * 2;
		char *buf = realloc(c->buf, cap);

		if (!buf)
			return -ENOMEM;
		c->buf = buf;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, records, bytes);
	c->len += bytes;
	return 0;
}

/* The value of the first INFO record with this key, or NULL. */
const char *info_value(const struct capture *c, const char *key)
{
	const struct mh_rec_hdr *hdr;

	for_each_rec(hdr, c) {
		const struct mh_rec_info *info = (const void *)hdr;
		const char *k = (const char *)(info + 1);

		if (hdr->type == MH_REC_INFO && !strcmp(k, key))
			return k + info->key_len + 1;
	}
	return NULL;
}

/* The value of "kernel.probe.<probe>", or NULL. */
const char *probe_status(const struct capture *c, const char *probe)
{
	char key[96];

	snprintf(key, sizeof(key), "kernel.probe.%s", probe);
	return info_value(c, key);
}

/* True if the probe attached; else prints SKIP with its status. */
bool need_probe(const struct capture *c, const char *test, const char *probe)
{
	const char *st = probe_status(c, probe);
	char why[320];

	if (st && !strncmp(st, "attached", 8))
		return true;
	snprintf(why, sizeof(why), "probe %s: %s", probe, st ? st : "not reported");
	mh_test_skip(test, why);
	return false;
}

/* True if the kernel dev_t of a fault or file record is st's device. */
bool same_dev(__u32 dev, const struct stat *st)
{
	return dev >> 20 == major(st->st_dev) && (dev & 0xfffff) == minor(st->st_dev);
}

/* The KFILE records for st's file: how many, and the first (with its offset in the capture). */
int find_kfile(const struct capture *c, const struct stat *st,
		      const struct mh_rec_kfile **first, size_t *offset)
{
	const struct mh_rec_hdr *hdr;
	int n = 0;

	*first = NULL;
	for_each_rec(hdr, c) {
		const struct mh_rec_kfile *k = (const void *)hdr;

		if (hdr->type != MH_REC_KFILE || k->ino != st->st_ino || !same_dev(k->dev, st))
			continue;
		ck_assert_uint_ge(hdr->size, sizeof(*k) + k->path_len + 1);
		ck_assert_int_eq(((const char *)(k + 1))[k->path_len], '\0');
		if (!n++) {
			*first = k;
			*offset = (const char *)hdr - c->buf;
		}
	}
	return n;
}

/* The generation the filesystem gives path's file (FS_IOC_GETVERSION); false if none. */
bool file_generation(const char *path, __u32 *gen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), v = 0;
	bool ok = fd >= 0 && ioctl(fd, FS_IOC_GETVERSION, &v) == 0;

	if (fd >= 0)
		close(fd);
	*gen = (__u32)v;
	return ok;
}

/* The number after "key=" at the start of a line of a program's report; aborts if absent. */
long long report_value(const char *report, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = report; (p = strstr(p, pat)); p++)
		if (p == report || p[-1] == '\n')
			return strtoll(p + strlen(pat), NULL, 10);
	ck_abort_msg("the program did not report %s (report: %s)", key, report);
	return -1;
}

/* The latest RSS sample of member for pid taken no later than ts, or -1. */
long long last_rss(const struct capture *c, pid_t pid, __u32 member, __u64 ts)
{
	const struct mh_rec_hdr *hdr;
	__u64 best_ts = 0;
	long long val = -1;

	for_each_rec(hdr, c) {
		const struct mh_rec_krss *s = (const void *)hdr;

		if (hdr->type == MH_REC_KRSS && s->pid == (__u32)pid && s->member == member &&
		    s->ts_ns <= ts && s->ts_ns >= best_ts) {
			best_ts = s->ts_ns;
			val = s->bytes;
		}
	}
	return val;
}

/*
 * The largest anon + file + shmem the KRSS records of pid say it had from
 * ts from to ts to, bytes: the values reported by from, then each group
 * of records read at one instant (one report of several counters).
 */
long long rss_peak_between(const struct capture *c, pid_t pid, __u64 from, __u64 to)
{
	const struct mh_rec_hdr *hdr;
	long long now[4] = { 0 }, peak = 0;
	__u64 group = 0;

	for_each_rec(hdr, c) {
		const struct mh_rec_krss *s = (const void *)hdr;

		if (hdr->type != MH_REC_KRSS || s->pid != (__u32)pid || s->member > MH_RSS_SHMEM ||
		    s->ts_ns > to)
			continue;
		if (s->ts_ns != group && group >= from &&
		    now[MH_RSS_ANON] + now[MH_RSS_FILE] + now[MH_RSS_SHMEM] > peak)
			peak = now[MH_RSS_ANON] + now[MH_RSS_FILE] + now[MH_RSS_SHMEM];
		group = s->ts_ns;
		now[s->member] = s->bytes;
	}
	if (now[MH_RSS_ANON] + now[MH_RSS_FILE] + now[MH_RSS_SHMEM] > peak)
		peak = now[MH_RSS_ANON] + now[MH_RSS_FILE] + now[MH_RSS_SHMEM];
	return peak;
}
