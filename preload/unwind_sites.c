// SPDX-License-Identifier: MIT
/*
 * unwind_sites.c - auto mode's site table: an mmap'd open-addressing
 * table from a call site's address to its verdict byte, shared by every
 * thread. Keys are claimed by compare-and-swap and never removed or moved,
 * so every lookup of a site probes the same path to the same slot: a
 * thread may keep a site's verdict byte's address and read it there.
 * Verdicts only gain bits (unwind.c says what they mean).
 *
 * Never allocates (one table mmap'd at setup), never prints, never
 * blocks: it runs inside the target's malloc.
 */
#include "preload/unwind_sites.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

#include "preload/ownmaps.h"
#include "preload/sys.h"

/* The table: 2^16 call sites, 9 bytes each, touched as used. */
#define SITES_LOG2 16
/* Probes before a site lookup gives up: the site is then served by libunwind. */
#define SITE_PROBES 32

struct site_table {
	__u64 mask;		/* slots - 1 */
	size_t map_bytes;
	__u8 *verdicts;		/* one per slot, after keys[] */
	__u64 keys[];		/* 0 empty, else a site address */
};

static struct site_table *sites;

int mh_sites_setup(void)
{
	size_t slots = (size_t)1 << SITES_LOG2;
	size_t bytes = sizeof(struct site_table) + slots * (sizeof(__u64) + 1);
	struct site_table *t;

	if (sites)
		return 0;
	/* MAP_NORESERVE: pages are touched only as sites land in them. */
	t = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t == MAP_FAILED)
		return -ENOMEM;
	mh_ownmaps_note(t, bytes);
	t->mask = slots - 1;
	t->map_bytes = bytes;
	t->verdicts = (__u8 *)(t->keys + slots);
	sites = t;
	return 0;
}

static __u64 mix(__u64 k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

/* The verdict byte of site; NULL if the table has no room (then: libunwind). */
static __u8 *site_slot(__u64 site, bool insert, bool *absent)
{
	__u64 i = mix(site) & sites->mask;
	unsigned int probe;

	*absent = false;
	for (probe = 0; probe < SITE_PROBES; probe++, i = (i + 1) & sites->mask) {
		__u64 k = __atomic_load_n(&sites->keys[i], __ATOMIC_ACQUIRE);

		if (!k) {
			if (!insert) {
				*absent = true;
				return NULL;
			}
			if (__atomic_compare_exchange_n(&sites->keys[i], &k, site, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return &sites->verdicts[i];
			/* Lost the race: k now holds the winner's key. */
		}
		if (k == site)
			return &sites->verdicts[i];
	}
	return NULL;
}

unsigned int mh_site_verdict(__u64 site, const __u8 **at)
{
	bool absent;
	__u8 *v = site_slot(site, false, &absent);

	*at = v;
	if (!v)
		return absent ? MH_VERDICT_UNKNOWN : MH_VERDICT_LIBUNWIND;
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

bool mh_site_mark(__u64 site, __u8 bit)
{
	bool absent;
	__u8 *v = site_slot(site, true, &absent);

	return v && !(__atomic_fetch_or(v, bit, __ATOMIC_RELAXED) & bit);
}
