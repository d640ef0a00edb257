// SPDX-License-Identifier: MIT
/*
 * ring_consumer.c - the recorder's half of the event ring
 * (ring_consumer.h; the protocol is in include/memhook/ring.h).
 *
 * Must never read or write outside the mapping whatever the program wrote
 * into the ring: every offset is masked with the recorder's own data size,
 * every length bounded by it, and the tail the recorder works from is its
 * own. It never writes into a traced process's memory.
 */
#include "recorder/ring_consumer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace/records.h"

/* Smallest record: a bare header. */
#define REC_MIN_BYTES ((__u32)sizeof(struct mh_rec_hdr))

int mh_ring_create(struct mh_ring *ring, __u64 data_bytes, __u32 flags)
{
	struct mh_ring_header *h;
	long page = sysconf(_SC_PAGESIZE);
	int fd, err;

	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	if (!mh_ring_size_ok(data_bytes) || page <= 0 || data_bytes % (__u64)page ||
	    MH_RING_HEADER_BYTES % page)
		return -EINVAL;

	/* Not MFD_CLOEXEC: the traced program inherits it across exec. */
	fd = memfd_create("memhook-ring", MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, MH_RING_HEADER_BYTES + data_bytes) < 0) {
		err = -errno;
		goto out_close;
	}
	/* The size is part of the protocol: nobody may change it. */
	(void)fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

	err = mh_ring_map(ring, fd, data_bytes);
	if (err)
		goto out_close;

	h = ring->hdr;
	h->version = MH_RING_VERSION;
	h->flags = flags;
	h->data_bytes = data_bytes;
	h->consumer_pid = (__u32)getpid();
	h->consumer_state = MH_RING_CONSUMER_ALIVE;
	__atomic_store_n(&h->magic, MH_RING_MAGIC, __ATOMIC_RELEASE);
	return 0;

out_close:
	close(fd);
	memset(ring, 0, sizeof(*ring));
	ring->fd = -1;
	return err;
}

/* The committed header at ring position pos (0: not committed yet). */
static struct mh_rec_hdr header_at(const struct mh_ring *ring, __u64 pos)
{
	__u64 w = __atomic_load_n((const __u64 *)(ring->data + (pos & ring->mask)),
				  __ATOMIC_ACQUIRE);
	struct mh_rec_hdr hdr;

	memcpy(&hdr, &w, sizeof(hdr));
	return hdr;
}

static const char *frame_error(const struct mh_ring *ring, struct mh_rec_hdr hdr)
{
	if (!hdr.type)
		return "record of type 0";
	if (hdr.size < REC_MIN_BYTES || hdr.size % MH_REC_ALIGN)
		return "record size not a multiple of 8";
	if (hdr.size > mh_ring_max_record(ring))
		return "record larger than any the preload writes";
	return NULL;
}

/* Committed bytes from the tail on that fit in cap (the first record always). */
static size_t committed(const struct mh_ring *ring, size_t cap, const char **why)
{
	size_t off = 0;

	*why = NULL;
	while (off + REC_MIN_BYTES <= ring->mask + 1) {
		struct mh_rec_hdr hdr = header_at(ring, ring->tail + off);

		if (!hdr.type && !hdr.kind && !hdr.size)
			break;
		*why = frame_error(ring, hdr);
		if (*why)
			break;
		if (off + hdr.size > ring->mask + 1 || (off && off + hdr.size > cap))
			break;
		off += hdr.size;
	}
	return off;
}

/* Walk the private copy: the program may have changed the records since. */
static size_t check_copy(const struct mh_ring *ring, const unsigned char *buf, size_t bytes,
			 const char **why)
{
	size_t off = 0;

	while (off < bytes) {
		struct mh_rec_hdr hdr;

		memcpy(&hdr, buf + off, sizeof(hdr));
		*why = frame_error(ring, hdr);
		if (!*why && hdr.size > bytes - off)
			*why = "record changed while it was read";
		if (*why)
			return off;
		off += hdr.size;
	}
	return off;
}

/* The INFO keys the preload sends: the program can claim nothing about the trace itself. */
static bool preload_info_key(const struct mh_rec_info *i)
{
	static const char prefix[] = "process.";

	return i->key_len > sizeof(prefix) - 1 &&
	       !memcmp(i + 1, prefix, sizeof(prefix) - 1);
}

const char *mh_ring_record_error(const struct mh_rec_hdr *rec)
{
	const struct mh_rec_process *p = (const void *)rec;
	const struct mh_rec_info *info = (const void *)rec;

	switch (rec->type) {
	case MH_REC_ALLOC:
	case MH_REC_FREE:
	case MH_REC_REALLOC:
	case MH_REC_STACK:
	case MH_REC_MODULE:
	case MH_REC_MODULE_UNLOAD:
	case MH_REC_THREAD:
	case MH_REC_PROCESS:
	case MH_REC_EXIT:
	case MH_REC_EXIT_SCAN:
	case MH_REC_INFO:
		break;
	default:
		return "record of a type the preload never writes";
	}
	if (rec->size < mh_rec_min_size(rec->type))
		return "record shorter than its type";
	if (rec->type == MH_REC_INFO &&
	    rec->size < sizeof(*info) + (__u64)info->key_len + info->value_len + 2)
		return "info record shorter than its key and value";
	if (rec->type == MH_REC_INFO && !preload_info_key(info))
		return "info record with a key the preload never sends";
	if (rec->type == MH_REC_PROCESS && rec->size < sizeof(*p) + (__u64)p->path_len + 1)
		return "process record shorter than its path";
	return NULL;
}

int mh_ring_read(struct mh_ring *ring, void *buf, size_t cap, size_t *bytes, const char **why)
{
	size_t n = committed(ring, cap, why), good;

	memcpy(buf, ring->data + (ring->tail & ring->mask), n);
	good = check_copy(ring, buf, n, why);
	*bytes = good;
	return *why ? -EBADMSG : 0;
}

void mh_ring_release(struct mh_ring *ring, size_t bytes)
{
	struct mh_ring_header *h = ring->hdr;

	if (bytes > ring->mask + 1)
		bytes = ring->mask + 1;
	/* Zeroed bytes are the "not committed" mark for the next lap. */
	memset(ring->data + (ring->tail & ring->mask), 0, bytes);
	ring->tail += bytes;
	__atomic_store_n(&h->tail, ring->tail, __ATOMIC_SEQ_CST);
	mh_ring_wake_word(&h->tail_wake, &h->producers_sleeping);
}

void mh_ring_wait(struct mh_ring *ring, long timeout_ns)
{
	struct mh_ring_header *h = ring->hdr;
	__u32 seen = __atomic_load_n(&h->wake_seq, __ATOMIC_SEQ_CST);
	struct mh_rec_hdr hdr;

	__atomic_store_n(&h->consumer_sleeping, 1, __ATOMIC_SEQ_CST);
	/* A record committed before the flag was seen would wake nobody: look once more. */
	hdr = header_at(ring, ring->tail);
	if (!hdr.type && !hdr.kind && !hdr.size)
		mh_ring_futex_wait(&h->wake_seq, seen, timeout_ns);
	__atomic_store_n(&h->consumer_sleeping, 0, __ATOMIC_RELAXED);
}

void mh_ring_wake(struct mh_ring *ring)
{
	mh_ring_wake_word(&ring->hdr->wake_seq, &ring->hdr->consumer_sleeping);
}

__u64 mh_ring_pending_bytes(const struct mh_ring *ring)
{
	__u64 head = __atomic_load_n(&ring->hdr->head, __ATOMIC_ACQUIRE);
	const char *why;
	__u64 reserved;

	if (head <= ring->tail)
		return 0;
	reserved = head - ring->tail;
	if (reserved > ring->mask + 1)
		reserved = ring->mask + 1;
	return reserved - committed(ring, ring->mask + 1, &why);
}

void mh_ring_answer(struct mh_ring *ring, __u64 ticket)
{
	struct mh_ring_header *h = ring->hdr;

	__atomic_store_n(&h->scans_answered, ticket, __ATOMIC_SEQ_CST);
	mh_ring_wake_word(&h->scan_seq, &h->scan_waiters);
}

void mh_ring_close(struct mh_ring *ring)
{
	__atomic_store_n(&ring->hdr->consumer_state, MH_RING_CONSUMER_GONE, __ATOMIC_RELEASE);
	/* Processes waiting for room or for an answer look again now. */
	mh_ring_wake_word(&ring->hdr->tail_wake, &ring->hdr->producers_sleeping);
	mh_ring_wake_word(&ring->hdr->scan_seq, &ring->hdr->scan_waiters);
}
