/* SPDX-License-Identifier: MIT */
/*
 * procmaps.h - a parsed snapshot of /proc/PID/maps, for the recorder's
 * exit-time scan and residency snapshots and for naming the files of the
 * kernel stream's faults.
 */
#ifndef MEMHOOK_COMMON_PROCMAPS_H
#define MEMHOOK_COMMON_PROCMAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

struct mh_map {
	__u64 start;		/* first byte */
	__u64 end;		/* one past the last byte */
	__u64 offset;		/* file offset of start, bytes */
	__u64 inode;		/* 0 for anonymous memory */
	unsigned int dev_major;	/* the device of the file (0:0 for anonymous memory) */
	unsigned int dev_minor;
	unsigned int prot;	/* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool shared;		/* 's' rather than 'p' */
	char *path;		/* file, "[heap]", "[stack]", ... or "" for anonymous */
};

struct mh_maps {
	struct mh_map *maps;	/* ascending by address */
	size_t count;
};

/* Read /proc/PID/maps into out. Returns 0 or -errno (-ESRCH: pid gone). */
int mh_procmaps_read(pid_t pid, struct mh_maps *out);

/* Free what mh_procmaps_read allocated. Accepts a zeroed struct. */
void mh_procmaps_free(struct mh_maps *maps);

/* The mapping containing addr, or NULL. */
const struct mh_map *mh_procmaps_find(const struct mh_maps *maps, __u64 addr);

#endif /* MEMHOOK_COMMON_PROCMAPS_H */
