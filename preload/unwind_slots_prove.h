/* SPDX-License-Identifier: MIT */
/*
 * unwind_slots_prove.h - the slot cache's proof (unwind_slots_prove.c):
 * where libunwind may have read each return address of a stack, argued
 * atop unwind_slots.c ("Proving the slots").
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_UNWIND_SLOTS_PROVE_H
#define MEMHOOK_PRELOAD_UNWIND_SLOTS_PROVE_H

#include <stdbool.h>
#include <stdint.h>

#include "preload/unwind_slots.h"

/* Largest gap between two frames' slots an entry holds, in stack words. */
#define MH_SLOTS_GAP_MAX UINT16_MAX
/* Calls of mh_slots_prove that give up at once on a stack that just failed. */
#define MH_SLOTS_UNPROVED_SKIP 63
/* Most other copies of its frames' return addresses an entry checks. */
#define MH_SLOTS_COPIES_MAX 16

/* Stack words that may be a frame's slot besides the one an entry reads. */
struct mh_slots_copies {
	unsigned int n;
	__u16 at[MH_SLOTS_COPIES_MAX];	/* stack words above the site's slot */
	__u8 of[MH_SLOTS_COPIES_MAX];	/* the frame each holds */
};

/* Find libc's executable segment, once, before mh_slots_sigreturn_at. */
void mh_slots_find_libc_text(void);

/* ip is glibc's signal return trampoline, where libunwind reports a signal frame. */
bool mh_slots_sigreturn_at(__u64 ip);

/*
 * Find where each of frames[1..n) may have been read from (unwind_slots.c,
 * "Proving the slots"). Upward, s_j: the first word equal to frames[j]
 * above s_j-1, the lowest the true slot t_j can be. Then downward, u_j:
 * the last word equal to frames[j] below u_j+1, the highest t_j can be;
 * u_n: the top of the stack, or for a cut stack the bound its frames
 * beyond the cut give, beyond[0..nb) outward (each found in turn the same
 * way down from the top, else the top). Writes the gaps between the s_j into
 * gap[1..n) and the other words equal to frames[j] in (s_j, u_j] into c;
 * false if a slot is not found or too far, or there are too many copies,
 * and then for the next MH_SLOTS_UNPROVED_SKIP calls with the same site
 * frame and hash (a keyed hash of frames[1..n), its key's own business)
 * without looking: a stack that fails, fails again while it stays.
 */
bool mh_slots_prove(const struct mh_site_frame *s, const __u64 *frames, unsigned int n,
		    const __u64 *beyond, unsigned int nb, __u64 hash, __u16 *gap,
		    struct mh_slots_copies *c);

#endif /* MEMHOOK_PRELOAD_UNWIND_SLOTS_PROVE_H */
