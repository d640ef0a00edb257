/* SPDX-License-Identifier: MIT */
/*
 * peek.h - read a stopped process's memory for the leak scan without
 * changing it: only the pages it has are read. A page never touched
 * (neither present nor swapped out, as /proc/PID/pagemap says) holds
 * zeros, or the bytes of the file it maps, which cannot point to a heap
 * block: it is not read, so the scan never faults memory in. A page
 * swapped out is read, as memcheck would read it; those reads are
 * counted, since bringing pages back is memhook's doing.
 *
 * Not thread-safe: one reader per scan. Never writes to the process.
 */
#ifndef MEMHOOK_RECORDER_EXITSCAN_PEEK_H
#define MEMHOOK_RECORDER_EXITSCAN_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <linux/types.h>

/* pagemap entries cached per reader (they cover 2 MiB of 4 KiB pages). */
#define MH_PEEK_CACHE_PAGES 512
/* Pages read together, and chunks kept: 64 chunks of 64 KiB (4 KiB pages). */
#define MH_PEEK_CHUNK_PAGES 16
#define MH_PEEK_CHUNKS 64
/* Runs of pages one process_vm_readv takes at most (a direct read's; a chunk's are fewer). */
#define MH_PEEK_DIRECT_RUNS 64

/* One cached chunk of the process's memory. */
struct mh_peek_chunk {
	__u64 first_page;		/* page number of its first page */
	__u16 have;			/* bit n: page n was read (else zeros) */
	__u16 swapped;			/* bit n: page n is swapped out, not read yet */
	bool valid;
};

struct mh_peek {
	pid_t pid;
	int pagemap_fd;			/* -1: pagemap unreadable, every page is read */
	__u64 page_bytes;
	__u64 cache_first;		/* page number of cache[0] */
	size_t cache_count;		/* valid entries */
	__u64 cache[MH_PEEK_CACHE_PAGES];
	__u64 no_entry;			/* what a page pagemap cannot say about reads as */
	unsigned char *data;		/* MH_PEEK_CHUNKS chunks, direct-mapped by page number */
	struct mh_peek_chunk chunks[MH_PEEK_CHUNKS];
	__u64 read_pages;		/* resident pages read (again if read again) */
	__u64 swapped_in_pages;		/* swapped-out pages read: each came back into RAM */
	__u64 untouched_pages;		/* never-touched pages skipped (twice if asked twice) */
};

/*
 * Start reading pid: without pagemap, every page is read (pagemap_fd
 * -1). 0, or -ENOMEM.
 */
int mh_peek_open(struct mh_peek *pk, pid_t pid);
void mh_peek_close(struct mh_peek *pk);

/*
 * Copy [addr, addr + bytes) of the process into buf, zeros where the
 * process has no page (never touched, or not mapped). Reads shorter than
 * a page are served from chunks read a chunk at a time and kept: a scan
 * reads words and small blocks in pointer order, and one system call per
 * word would cost more than the scan. Longer reads go straight into buf.
 * Returns 0; -ENODATA when the process has none of those pages (buf is
 * all zeros: the range holds no pointer, a scan may skip it); -EFAULT
 * when pagemap is unreadable and the range could not be read.
 */
int mh_peek_read(struct mh_peek *pk, __u64 addr, void *buf, size_t bytes);

#endif /* MEMHOOK_RECORDER_EXITSCAN_PEEK_H */
