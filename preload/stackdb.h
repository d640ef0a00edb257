/* SPDX-License-Identifier: MIT */
/*
 * stackdb.h - call-stack capture (libunwind or frame pointers), the stack
 * id (a content hash of the return addresses) and the per-process set of
 * ids already sent, so each stack crosses the ring once.
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_STACKDB_H
#define MEMHOOK_PRELOAD_STACKDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memhook/events.h"

/* Most frames one capture returns: the depth limit plus room for frames to skip. */
#define MH_STACK_CAPTURE_MAX (MH_STACK_MAX_DEPTH + 16)

enum mh_unwind {
	MH_UNWIND_LIBUNWIND = 0,	/* unw_backtrace, DWARF/CFI based */
	MH_UNWIND_FP = 1,		/* frame-pointer chain, bounds-checked */
};

/*
 * One-time setup of the unwinder (libunwind's per-thread cache). Call once
 * before the first capture, from a context where malloc may be called.
 */
void mh_stack_setup(enum mh_unwind mode);

/*
 * Capture the current call stack into ips (at most max entries). ips[0] is
 * the return address into the caller of mh_stack_capture; every entry is
 * a return address. Returns the number of entries; sets *truncated when
 * the stack was deeper than max. max is capped at MH_STACK_CAPTURE_MAX.
 * Async-signal-safe for MH_UNWIND_FP; MH_UNWIND_LIBUNWIND is as safe as
 * libunwind's local unwinding.
 */
unsigned int mh_stack_capture(enum mh_unwind mode, __u64 *ips, unsigned int max, bool *truncated);

/*
 * The stack id of ips[0..depth): a 64-bit content hash, odd and never 1.
 * seed separates process images: the same addresses in two different
 * executables are different code, so they must not share an id (the
 * merger keys stacks by id across the whole trace).
 */
__u64 mh_stack_hash(__u64 seed, const __u64 *ips, unsigned int depth);

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

#endif /* MEMHOOK_PRELOAD_STACKDB_H */
