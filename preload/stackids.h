/* SPDX-License-Identifier: MIT */
/*
 * stackids.h - the stack id (a content hash of the return addresses) and
 * the per-process set of ids already sent, so each stack crosses the ring
 * once. Capture is in unwind.h, included here for its users.
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_STACKIDS_H
#define MEMHOOK_PRELOAD_STACKIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memhook/events.h"
#include "preload/unwind.h"

/*
 * The stack id of ips[0..depth): a 64-bit content hash, odd and never 1.
 * seed separates process images: the same addresses in two different
 * executables are different code, so they must not share an id (the
 * merger keys stacks by id across the whole trace).
 */
__u64 mh_stack_hash(__u64 seed, const __u64 *ips, unsigned int depth);

/*
 * A stack key built one frame at a time, for a walker that hashes as it
 * reads (the multiply chain then runs beside the walk's own chain of
 * loads instead of after it): start from MH_STACK_KEY_START, feed every
 * frame in order to mh_stack_key_step, end with mh_stack_key_end. Odd and
 * never 1, like mh_stack_hash (an id for a set of ids), but a different
 * function of the frames: keys and ids are never compared.
 */
#define MH_STACK_KEY_START 0x9e3779b97f4a7c15ULL

static inline __u64 mh_stack_key_step(__u64 h, __u64 ip)
{
	h = (h ^ ip) * 0x87c37b91114253d5ULL;
	return (h << 31) | (h >> 33);
}

/*
 * One more step, over depth and truncation: a bijection of h like every
 * step, so two stacks collide no more often than with a finaliser, and
 * its rotated product spreads the frames over the low bits that tables
 * index by. Inline, and one multiply: it ends every frame-pointer
 * capture, on the path between the walk and the lookup of the result
 * (a call to MurmurHash3's finaliser cost a fifth of its instructions).
 */
static inline __u64 mh_stack_key_end(__u64 h, unsigned int depth, bool truncated)
{
	h = mh_stack_key_step(h, (__u64)depth << 1 | truncated) | 1;
	return h == 1 ? 3 : h;
}

/* The key of ips[0..depth) and truncated, in one call. */
__u64 mh_stack_key(const __u64 *ips, unsigned int depth, bool truncated);

/*
 * The set of stack ids a process has sent: an mmap'd open-addressing
 * table with lock-free insertion. Opaque.
 */
struct mh_stackids;

/* A set with room for 2^capacity_log2 ids; NULL with errno set on failure. */
struct mh_stackids *mh_stackids_new(unsigned int capacity_log2);

/* Unmap the set; accepts NULL. */
void mh_stackids_free(struct mh_stackids *db);

enum mh_intern_result {
	MH_INTERN_KNOWN = 0,	/* already sent: reference it freely */
	MH_INTERN_SEND = 1,	/* the caller must send the stack, then mh_stackids_sent() */
};

/*
 * Look id up and claim it if absent. MH_INTERN_SEND is returned to exactly
 * one caller per id, and also to callers that find the id claimed but not
 * yet sent (they send a duplicate rather than wait: the merger keys stacks
 * by id, so a duplicate is harmless while a reference before its stack is
 * not), and when the table is too full to hold it. Thread-safe, lock-free.
 */
enum mh_intern_result mh_stackids_intern(struct mh_stackids *db, __u64 id);

/* Mark id as sent (its MH_REC_STACK is committed to the ring). */
void mh_stackids_sent(struct mh_stackids *db, __u64 id);

/* Ids held, for tests and statistics. */
size_t mh_stackids_count(const struct mh_stackids *db);

#endif /* MEMHOOK_PRELOAD_STACKIDS_H */
