// SPDX-License-Identifier: MIT
/*
 * stackids.c - hash call stacks into stack ids and remember which ids this
 * process already sent (capturing them is unwind.c's job).
 *
 * Never allocates through malloc and never prints: it runs inside the
 * target's malloc. The id set is an mmap'd array; uthash would allocate
 * its buckets with malloc (re-entering the allocator we wrap, possibly
 * from a signal handler or under the allocator's own lock) and needs a
 * lock around every lookup, while here the hot path is one acquire load
 * and a new id costs one compare-and-swap.
 */
#include "preload/stackids.h"

#include <errno.h>
#include <sys/mman.h>

#include "preload/ownmaps.h"
#include "preload/sys.h"

/* Probes before an insertion gives up and the stack is simply re-sent. */
#define MAX_PROBES 64
/*
 * The levels before the large one: 2^SMALL_LOG2 ids in 4 pages, then each
 * 2^SMALL_GROWTH times the one before while smaller than the large one,
 * for sets of 2^SMALL_MIN_LOG2 ids and more; SMALL_PROBES probes per look.
 */
#define SMALL_LOG2 11
#define SMALL_GROWTH 3
#define SMALL_MIN_LOG2 16
#define SMALL_PROBES 8
#define LEVELS_MAX 8

/*
 * Levels of the same open addressing, smallest first, the large one last.
 * The large table is 8 MiB for the stacks of a process, and an id lands
 * on a random page of it: each of the first few hundred ids cost a page
 * fault (a trap of 1 us on bare metal, 10-40 us in a virtual machine: git
 * log -p, 430 stacks, took 378 of them), and past the first level's 2k ids
 * each id did again until all 2,048 pages were touched (python3 py3.py,
 * 13k stacks: 2k of its 6.9k faults). An id goes into the first level
 * whose probe path (SMALL_PROBES slots from its home; MAX_PROBES in the
 * large one) still has an empty slot, so a level's pages fill before ids
 * spill into the next, eight times larger. Slots are never emptied, so the
 * first empty slot on an id's path is the same for every thread until one
 * claims it (the compare-and-swap picks one claimer, as in one level), an
 * id in a level is always found on its path before an empty slot, and a
 * path once full stays full: every look at an id goes through the levels
 * before it, whose paths are full without it, to the level that holds it.
 */
struct mh_stackids {
	__u64 count;		/* ids claimed */
	size_t map_bytes;
	unsigned int levels;
	struct {
		__u64 *slots;	/* 0 empty, id ^ 1 being sent, id sent */
		__u64 mask;	/* slots - 1 */
		unsigned int probes;
	} level[LEVELS_MAX];
	__u64 slots[];		/* the large level, then the smaller ones */
};

static __u64 fmix64(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static inline __u64 rotl(__u64 k, unsigned int r)
{
	return (k << r) | (k >> (64 - r));
}

__u64 mh_stack_hash(__u64 seed, const __u64 *ips, unsigned int depth)
{
	/*
	 * Four independent lanes (frame i in lane i % 4, the last depth % 4
	 * frames in the first): the multiply chain of a 30-frame stack is 8
	 * steps long instead of 15, which is most of the hash's time on the
	 * hot path. Each lane's step is a bijection of its state.
	 */
	__u64 a = 0x9e3779b97f4a7c15ULL ^ depth ^ seed, b = 0xc2b2ae3d27d4eb4fULL;
	__u64 c = 0x165667b19e3779f9ULL, d = 0x27d4eb2f165667c5ULL;
	unsigned int i;

	for (i = 0; i + 3 < depth; i += 4) {
		a = rotl((a ^ ips[i]) * 0x87c37b91114253d5ULL, 31);
		b = rotl((b ^ ips[i + 1]) * 0x4cf5ad432745937fULL, 29);
		c = rotl((c ^ ips[i + 2]) * 0x9fb21c651e98df25ULL, 27);
		d = rotl((d ^ ips[i + 3]) * 0xd6e8feb86659fd93ULL, 33);
	}
	for (; i < depth; i++)
		a = rotl((a ^ ips[i]) * 0x87c37b91114253d5ULL, 31);
	/* A frame changed in one lane changes only it, and fmix64 is a bijection: one suffices. */
	a = fmix64(a ^ rotl(b, 13) ^ rotl(c, 29) ^ rotl(d, 47)) | 1;
	/* 1 ^ 1 would be 0, the empty-slot mark. */
	return a == 1 ? 3 : a;
}

__u64 mh_stack_key(const __u64 *ips, unsigned int depth, bool truncated)
{
	__u64 h = MH_STACK_KEY_START;

	for (unsigned int i = 0; i < depth; i++)
		h = mh_stack_key_step(h, ips[i]);
	return mh_stack_key_end(h, depth, truncated);
}

struct mh_stackids *mh_stackids_new(unsigned int capacity_log2)
{
	size_t slots = (size_t)1 << capacity_log2, small = 0, bytes;
	struct mh_stackids *db;
	unsigned int log2, n = 0;
	__u64 *at;

	if (capacity_log2 < 4 || capacity_log2 > 30) {
		errno = EINVAL;
		return NULL;
	}
	if (capacity_log2 >= SMALL_MIN_LOG2)
		for (log2 = SMALL_LOG2; log2 < capacity_log2; log2 += SMALL_GROWTH)
			small += (size_t)1 << log2;
	bytes = sizeof(struct mh_stackids) + (slots + small) * sizeof(__u64);
	/* MAP_NORESERVE: pages are touched only as ids land in them. */
	db = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (db == MAP_FAILED)
		return NULL;
	mh_ownmaps_note(db, bytes);
	at = db->slots + slots;
	if (capacity_log2 >= SMALL_MIN_LOG2) {
		for (log2 = SMALL_LOG2; log2 < capacity_log2; log2 += SMALL_GROWTH, n++) {
			db->level[n].slots = at;
			db->level[n].mask = ((__u64)1 << log2) - 1;
			db->level[n].probes = SMALL_PROBES;
			at += (size_t)1 << log2;
		}
	}
	db->level[n].slots = db->slots;
	db->level[n].mask = slots - 1;
	db->level[n].probes = MAX_PROBES;
	db->levels = n + 1;
	db->map_bytes = bytes;
	return db;
}

void mh_stackids_free(struct mh_stackids *db)
{
	if (!db)
		return;
	mh_ownmaps_forget(db);
	mh_sys_munmap(db, db->map_bytes);
}

/* What a look along one level's probe path found. */
enum probe_result {
	PROBE_KNOWN = MH_INTERN_KNOWN,
	PROBE_SEND = MH_INTERN_SEND,
	PROBE_FULL,		/* no empty slot and no id on the path */
};

static enum probe_result intern_in(__u64 *slots, __u64 mask, unsigned int probes, __u64 id,
				   __u64 *count)
{
	__u64 pending = id ^ 1, i = (id >> 1) & mask;
	unsigned int probe;

	for (probe = 0; probe < probes; probe++, i = (i + 1) & mask) {
		__u64 v = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (!v) {
			if (__atomic_compare_exchange_n(&slots[i], &v, pending, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
				return PROBE_SEND;
			}
			/* Lost the race: v now holds the winner's value. */
		}
		if (v == id)
			return PROBE_KNOWN;
		if (v == pending)
			return PROBE_SEND;
	}
	return PROBE_FULL;
}

enum mh_intern_result mh_stackids_intern(struct mh_stackids *db, __u64 id)
{
	enum probe_result r = PROBE_FULL;
	unsigned int i;

	for (i = 0; i < db->levels && r == PROBE_FULL; i++)
		r = intern_in(db->level[i].slots, db->level[i].mask, db->level[i].probes, id,
			      &db->count);
	/* The large table too full to hold it: sent again each time. */
	return r == PROBE_KNOWN ? MH_INTERN_KNOWN : MH_INTERN_SEND;
}

/* Mark id sent in one level; false if its path there is full without it. */
static bool sent_in(__u64 *slots, __u64 mask, unsigned int probes, __u64 id)
{
	__u64 pending = id ^ 1, i = (id >> 1) & mask;
	unsigned int probe;

	for (probe = 0; probe < probes; probe++, i = (i + 1) & mask) {
		__u64 v = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (v == pending) {
			/* Release: our STACK record is committed before anyone sees "sent". */
			__atomic_store_n(&slots[i], id, __ATOMIC_RELEASE);
			return true;
		}
		if (!v || v == id)
			return true;
	}
	return false;
}

void mh_stackids_sent(struct mh_stackids *db, __u64 id)
{
	unsigned int i;

	for (i = 0; i < db->levels; i++)
		if (sent_in(db->level[i].slots, db->level[i].mask, db->level[i].probes, id))
			return;
}

size_t mh_stackids_count(const struct mh_stackids *db)
{
	return __atomic_load_n(&db->count, __ATOMIC_RELAXED);
}
