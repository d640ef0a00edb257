// SPDX-License-Identifier: MIT
/*
 * sampler.c - read RssAnon, RssFile, RssShmem and VmSwap from
 * /proc/PID/status into an MH_REC_RSS_SAMPLE record. Never prints.
 */
#include "sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* /proc/PID/status is a few KiB; the fields we need are in its first half. */
#define STATUS_BUF_BYTES 8192

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Value of "Name:   123 kB" in bytes, or 0 when the field is absent. */
static __u64 field_bytes(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	if (!p)
		return 0;
	return strtoull(p + strlen(name), NULL, 10) * 1024;
}

int mh_sampler_read(pid_t pid, struct mh_rec_rss_sample *s)
{
	char path[64], text[STATUS_BUF_BYTES];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		err = -errno;
	close(fd);
	if (err)
		return err;
	text[n] = '\0';
	/* A zombie has no Rss lines: treat it as gone. */
	if (!strstr(text, "\nRssAnon:"))
		return -ESRCH;
	memset(s, 0, sizeof(*s));
	s->hdr.type = MH_REC_RSS_SAMPLE;
	s->hdr.size = sizeof(*s);
	s->ts_ns = now_ns();
	s->anon_bytes = field_bytes(text, "\nRssAnon:");
	s->file_bytes = field_bytes(text, "\nRssFile:");
	s->shmem_bytes = field_bytes(text, "\nRssShmem:");
	s->swap_bytes = field_bytes(text, "\nVmSwap:");
	s->pid = (__u32)pid;
	return 0;
}
