/* SPDX-License-Identifier: MIT */
/*
 * unwind_sites.h - auto mode's site table (unwind_sites.c): one verdict
 * per call site, shared by every thread, lock-free. What the verdicts mean
 * and how they are reached is atop unwind.c.
 *
 * Never allocates through malloc, never prints: it runs inside malloc.
 */
#ifndef MEMHOOK_PRELOAD_UNWIND_SITES_H
#define MEMHOOK_PRELOAD_UNWIND_SITES_H

#include <stdbool.h>

#include "memhook/events.h"

/* A site's verdict: bits that only ever get set. */
enum {
	MH_VERDICT_UNKNOWN = 0,
	MH_VERDICT_FP = 1,		/* bit: a check found the walk right */
	MH_VERDICT_LIBUNWIND = 2,	/* bit: a check found it wrong (dominates) */
	MH_VERDICT_NOSLOTS = 4,		/* bit: a check found the slot cache wrong here */
};

/* Map the table (once; later calls do nothing). 0, or -ENOMEM. */
int mh_sites_setup(void);

/*
 * The verdict of site, and where the table keeps it (*at; NULL if it has
 * none): a site's place, once taken, never changes, so a caller may keep
 * *at and read the verdict there later, as this would. A site the table
 * has no room for needs libunwind.
 */
unsigned int mh_site_verdict(__u64 site, const __u8 **at);

/* Set a verdict bit of site; true if this call set it. */
bool mh_site_mark(__u64 site, __u8 bit);

#endif /* MEMHOOK_PRELOAD_UNWIND_SITES_H */
