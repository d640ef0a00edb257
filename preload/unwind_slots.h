/* SPDX-License-Identifier: MIT */
/*
 * unwind_slots.h - auto mode's return-address-slot cache (unwind_slots.c):
 * per thread, the frames libunwind found beyond a call site, with the
 * exact stack words their return addresses were read from, served again
 * while the site's frame is where it was and those words still hold its
 * return addresses (compared by a keyed 64-bit hash). The argument for why
 * that is libunwind's answer, and where it is not sure, is atop unwind_slots.c.
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_UNWIND_SLOTS_H
#define MEMHOOK_PRELOAD_UNWIND_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "preload/unwind.h"

/* Most frames beyond the site one entry holds (the default depth and the slack above it). */
#define MH_SLOTS_FRAMES (MH_STACK_DEFAULT_DEPTH + 8)

/*
 * The program's frame that called into the preload, exactly as the frame
 * pointers of the preload's own code give it: where its return address
 * (the site) sits, and the caller's RBP at the call, which the preload's
 * outermost frame saved.
 */
struct mh_site_frame {
	uintptr_t slot;		/* stack word holding ip */
	__u64 ip;		/* the site: the return address into the program */
	__u64 rbp;		/* the program's RBP at the call */
	uintptr_t stack_hi;	/* top of the calling thread's stack */
};

/* Map the table of 2^log2 entries (log2 <= 15), once. 0 or -errno (then nothing is cached). */
int mh_slots_setup(unsigned int log2);

/* Why mh_slots_serve missed. */
enum mh_slots_miss {
	MH_SLOTS_COLD = 0,	/* no entry for this site frame and the caller found above it */
	MH_SLOTS_CHANGED = 1,	/* such an entry, but a slot further out no longer holds its frame */
};

/*
 * The frames from the site outward (frames[0] == s->ip) if the cache
 * holds them for this exact site frame and every return-address slot
 * beyond it still holds its value: at most room into frames, *n of them,
 * *truncated when the stack has more than room. *memo refers to the
 * entry's memo (unwind.h). False on a miss, *why saying why (frames,
 * frames[0] included, may be overwritten).
 */
bool mh_slots_serve(const struct mh_site_frame *s, __u64 *frames, unsigned int room,
		    unsigned int *n, bool *truncated, struct mh_memo_ref *memo,
		    enum mh_slots_miss *why);

/*
 * Remember libunwind's frames from the site outward (frames[0] == s->ip;
 * cut: libunwind stopped at its limit with frames left, the first nb of
 * which are beyond[], outward), if the slot of each one can be proved
 * (unwind_slots.c, "Proving the slots"); else nothing is cached. Returns
 * the new entry's memo (and its key in *key), NULL if none was made.
 */
struct mh_stack_memo *mh_slots_learn(const struct mh_site_frame *s, const __u64 *frames,
				     unsigned int n, const __u64 *beyond, unsigned int nb,
				     bool cut, __u64 *key);

/* Forget every entry (of every thread): a check found one wrong. */
void mh_slots_flush(void);

/*
 * A slot-cache answer of the calling thread was just checked against
 * libunwind (agreed: it was libunwind's; false also when the check could
 * not run): how many of its answers to serve before the next check. The
 * schedule is argued atop unwind_slots.c. Call mh_slots_flush first on a
 * difference.
 */
unsigned int mh_slots_recheck_after(bool agreed);

/* The calling thread is ending: give back its hints (it is then not served from the cache). */
void mh_slots_thread_end(void);

#endif /* MEMHOOK_PRELOAD_UNWIND_SLOTS_H */
