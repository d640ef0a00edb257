/* SPDX-License-Identifier: MIT */
/*
 * kernel_records.h - helpers the kernel-stream suites share (check_kernel.c,
 * check_kernel_cli.c, check_kernel_files.c): a growable buffer of records,
 * walking it, finding INFO values and file names in it, a file's inode
 * generation, reading a test program's "key=value" report. Test code only:
 * may allocate and abort.
 */
#ifndef MEMHOOK_TESTS_KERNEL_RECORDS_H
#define MEMHOOK_TESTS_KERNEL_RECORDS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <check.h>

#include "memhook/kernel_events.h"
#include "tests/testutil.h"

/* Every record the collector handed over, back to back. */
struct capture {
	char *buf;
	size_t len;
	size_t cap;
};

int capture_sink(void *ctx, int stream, const void *records, size_t bytes);

#define for_each_rec(hdr, c)							\
	for (hdr = (const struct mh_rec_hdr *)(c)->buf;				\
	     (const char *)hdr < (c)->buf + (c)->len;				\
	     hdr = (const struct mh_rec_hdr *)((const char *)hdr + hdr->size))

/* The value of the first INFO record with this key, or NULL. */
const char *info_value(const struct capture *c, const char *key);

/* The value of "kernel.probe.<probe>", or NULL. */
const char *probe_status(const struct capture *c, const char *probe);

/* True if the probe attached; else prints SKIP with its status. */
bool need_probe(const struct capture *c, const char *test, const char *probe);

/* True if the kernel dev_t of a fault or file record is st's device. */
bool same_dev(__u32 dev, const struct stat *st);

/* The KFILE records for st's file: how many, and the first (with its offset in the capture). */
int find_kfile(const struct capture *c, const struct stat *st,
		      const struct mh_rec_kfile **first, size_t *offset);

/* The generation the filesystem gives path's file (FS_IOC_GETVERSION); false if none. */
bool file_generation(const char *path, __u32 *gen);

/* The number after "key=" at the start of a line of a program's report; aborts if absent. */
long long report_value(const char *report, const char *key);

/* The latest KRSS value of member for pid taken no later than ts, bytes, or -1. */
long long last_rss(const struct capture *c, pid_t pid, __u32 member, __u64 ts);

/* The largest anon + file + shmem the KRSS records of pid say it had from ts from to to, bytes. */
long long rss_peak_between(const struct capture *c, pid_t pid, __u64 from, __u64 to);

#endif /* MEMHOOK_TESTS_KERNEL_RECORDS_H */
