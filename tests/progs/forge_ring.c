// SPDX-License-Identifier: MIT
/*
 * forge_ring.c - a hostile traced program: it maps memhook's event ring
 * itself (MEMHOOK_RING_FD) and writes records no preload would write, the
 * way a program could to make a root recorder act on its behalf.
 *
 *   forge_ring scan PID ADDR   PROCESS, ALLOC and FREE records and an exit-scan
 *                              request naming PID, the request's ticket set to
 *                              ADDR (hex)
 *   forge_ring header          rewrite the header (data_bytes 2^40, slot size
 *                              and count), then publish a 16 MiB record
 *   forge_ring huge            publish a record of size 0x7ffffff8
 *   forge_ring type            publish a LEAK record (a type the preload never writes)
 *
 * It claims a slot of its own, as a thread of the preload would, and
 * writes there.
 *
 * Then it allocates and frees a little and prints "forged" on stdout: a
 * program must run to its end whatever the recorder does with its ring.
 * Exit status 0; 2 if the ring cannot be found.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memhook/env.h"
#include "memhook/events.h"
#include "memhook/ring.h"

static struct mh_ring ring;
static struct mh_slot_header *slot;
static unsigned char *slot_data;
static __u64 slot_size;

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Claim a free slot as a producer thread does; false if none. */
static bool claim(void)
{
	for (__u32 i = 0; i < ring.slot_count; i++) {
		__u32 free_state = MH_SLOT_FREE;

		if (__atomic_compare_exchange_n(&ring.slots[i].state, &free_state, MH_SLOT_CLAIMED,
						false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
			slot = &ring.slots[i];
			slot->pid = (__u32)getpid();
			slot->tid = (__u32)getpid();
			slot_data = mh_ring_slot_data(&ring, i);
			slot_size = mh_ring_slot_size(&ring, i);
			return true;
		}
	}
	return false;
}

/*
 * Write the record at the slot's head, stamped now, its header claiming
 * claimed_size, and publish bytes (the head moves by claimed_size, as a
 * producer believing it would).
 */
static void put(const void *rec, __u32 bytes, __u32 claimed_size)
{
	__u64 head = slot->head, ts = now_ns();
	unsigned char *at = slot_data + (head & (slot_size - 1));
	struct mh_rec_hdr hdr;

	memcpy(at, rec, bytes);
	memcpy(&hdr, rec, sizeof(hdr));
	hdr.size = claimed_size;
	memcpy(at, &hdr, sizeof(hdr));
	if (bytes >= 16)
		memcpy(at + sizeof(hdr), &ts, sizeof(ts));
	__atomic_store_n(&slot->last_ts, ts, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->head, head + claimed_size, __ATOMIC_RELEASE);
}

static void forge_scan(pid_t victim, __u64 addr)
{
	struct {
		struct mh_rec_process p;
		char path[8];
	} proc = { .p = { .hdr = { .type = MH_REC_PROCESS, .size = sizeof(proc) },
			  .pid = (__u32)victim, .ppid = (__u32)getpid(),
			  .start = MH_PROCESS_FORKED, .path_len = 4 },
		   .path = "evil" };
	struct mh_rec_alloc a = { .hdr = { .type = MH_REC_ALLOC, .kind = MH_KIND_MALLOC,
					   .size = sizeof(a) },
				  .addr = addr, .size = 64, .pid = (__u32)victim };
	struct mh_rec_free f = { .hdr = { .type = MH_REC_FREE, .kind = MH_KIND_FREE,
					  .size = sizeof(f) },
				 .addr = addr, .pid = (__u32)victim };
	struct mh_rec_exit_scan s = { .hdr = { .type = MH_REC_EXIT_SCAN, .size = sizeof(s) },
				      .sp = addr, .ticket = addr, .pid = (__u32)victim,
				      .tid = (__u32)victim, .path = MH_EXIT_PATH_NORMAL };

	put(&proc, sizeof(proc), sizeof(proc));
	put(&a, sizeof(a), sizeof(a));
	put(&f, sizeof(f), sizeof(f));
	put(&a, sizeof(a), sizeof(a));
	put(&s, sizeof(s), sizeof(s));
}

int main(int argc, char **argv)
{
	const char *fd_s = getenv(MH_ENV_RING_FD);
	struct mh_rec_leak leak = { .hdr = { .type = MH_REC_LEAK, .size = sizeof(leak) },
				    .addr = 0x1000, .pid = 1, .kind = MH_LEAK_DEFINITE };
	struct mh_rec_alloc a = { .hdr = { .type = MH_REC_ALLOC, .kind = MH_KIND_MALLOC,
					   .size = sizeof(a) } };
	struct mh_ring_header h;
	void *keep[64];

	if (argc < 2 || !fd_s || pread(atoi(fd_s), &h, sizeof(h), 0) != sizeof(h) ||
	    mh_ring_map(&ring, atoi(fd_s), h.data_bytes) || !claim()) {
		fprintf(stderr, "forge_ring: no ring to forge into\n");
		return 2;
	}
	if (!strcmp(argv[1], "scan") && argc == 4) {
		forge_scan((pid_t)atoi(argv[2]), strtoull(argv[3], NULL, 16));
	} else if (!strcmp(argv[1], "header")) {
		ring.hdr->data_bytes = 1ULL << 40;
		ring.hdr->slot_bytes = 1ULL << 39;
		ring.hdr->slot_count = 1U << 20;
		put(&a, sizeof(a), 16U << 20);
	} else if (!strcmp(argv[1], "huge")) {
		put(&a, sizeof(a), 0x7ffffff8U);
	} else if (!strcmp(argv[1], "type")) {
		put(&leak, sizeof(leak), sizeof(leak));
	} else {
		fprintf(stderr, "forge_ring: unknown mode\n");
		return 2;
	}
	for (int i = 0; i < 64; i++)
		keep[i] = malloc(32 + i);
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	printf("forged\n");
	return 0;
}
