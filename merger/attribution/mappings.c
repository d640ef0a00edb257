// SPDX-License-Identifier: MIT
/*
 * mappings.c - the address ranges a process has mapped, as far as the
 * trace tells: the program's own mmaps and sbrk growth (preload records,
 * with their call stack), those only the kernel's syscall records saw,
 * and the brk heap's bounds. attribute.c names memory outside live blocks from them
 * (docs/ATTRIBUTION.md). Unmapping acts as the kernel does, on whole
 * pages.
 *
 * Must never keep anything per page or per event: one entry per mapping
 * live now (a 100 GiB mapping is one entry of the address index).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "merger/attribution/addrindex.h"
#include "merger/attribution/attr_internal.h"
#include "memhook/kernel_events.h"
#include "merger/replay/replay.h"

enum mapping_origin {
	ORIGIN_PROGRAM = 1,	/* the program's mmap, recorded by the preload */
	ORIGIN_KERNEL,		/* a mmap only the kernel's syscall records saw */
	ORIGIN_BREAK,		/* the program's own brk/sbrk growth (bytes, not pages) */
};

struct mh_mapping {
	uint64_t start, size;
	enum mapping_origin origin;
	uint64_t stack_id;		/* ORIGIN_PROGRAM */
	bool held_heap;			/* a live block was seen inside it */
	struct mh_mapping *prev, *next;	/* every mapping of the process (utlist) */
};

static struct mh_mapping *mapping_find(struct mh_attr *a, uint64_t addr)
{
	struct mh_mapping *m = a->last_map;

	if (m && addr - m->start < m->size)
		return m;
	m = mh_addrindex_find(a->map_index, addr, NULL, NULL);
	if (m)
		a->last_map = m;
	return m;
}

struct mh_map_stats *mh_attr_mapping_of(struct mh_attribution *at, struct mh_process *p,
					uint64_t addr)
{
	struct mh_attr *a = p->attr;
	struct mh_mapping *m = mapping_find(a, addr);
	char name[64];

	if (m && (m->origin == ORIGIN_PROGRAM || m->origin == ORIGIN_BREAK)) {
		snprintf(name, sizeof(name), "%s 0x%" PRIx64,
			 m->origin == ORIGIN_BREAK ? "sbrk" : "mmap", m->stack_id);
		return mh_map_stats_get(a, MH_MAP_PROGRAM_MMAP, name, m->stack_id);
	}
	if ((m && m->held_heap) || (addr >= a->brk_start && addr < a->brk_end))
		return mh_map_stats_get(a, MH_MAP_HEAP_FREE, "[heap free]", 0);
	if (m)
		return mh_map_stats_get(a, MH_MAP_LIBC_MMAP, "[libc mmap]", 0);
	return mh_map_stats_get(a, MH_MAP_ANON, "[anon]", 0);
}

/* Nothing to note for blocks in [lo, hi), which holds anchor, until a mapping comes there. */
static void heap_noted_add(struct mh_attr *a, uint64_t lo, uint64_t hi, uint64_t anchor)
{
	unsigned i = a->heap_noted_next++ % MH_HEAP_NOTED;

	a->heap_noted[i][0] = lo;
	a->heap_noted[i][1] = hi;
	a->heap_noted[i][2] = anchor;
}

static int bound_by_start(const void *x, const void *y)
{
	const uint64_t *p = x, *q = y;

	return p[0] < q[0] ? -1 : p[0] > q[0];
}

/*
 * Sort the mappings' bounds by start, each end raised to the largest end
 * so far, so the gap around an address is one binary search away. Built
 * again only on a miss after the mappings changed, so at most once per
 * mapping that comes, changes or goes (a new mmap already costs a walk
 * over every mapping in mapping_clear). It replaces a walk of the list
 * on every miss, capped at 64 mappings, past which no gap was learnt:
 * python3 with its libraries mapped has ~380, and every block of its brk
 * heap walked 64 (a sixth of its report's instructions). False if out of
 * memory (no gap is learnt then).
 */
static bool bounds_build(struct mh_attr *a)
{
	struct mh_mapping *m;
	uint64_t top = 0;
	size_t n = 0;

	DL_FOREACH(a->mappings, m)
		n++;
	if (n > a->map_bound_cap) {
		void *grown = realloc(a->map_bounds, n * 2 * sizeof(*a->map_bounds));

		if (!grown)
			return false;
		a->map_bounds = grown;
		a->map_bound_cap = n * 2;
	}
	n = 0;
	DL_FOREACH(a->mappings, m) {
		a->map_bounds[n][0] = m->start;
		a->map_bounds[n++][1] = m->start + m->size;
	}
	qsort(a->map_bounds, n, sizeof(*a->map_bounds), bound_by_start);
	for (size_t i = 0; i < n; i++) {
		if (a->map_bounds[i][1] < top)
			a->map_bounds[i][1] = top;
		top = a->map_bounds[i][1];
	}
	a->map_bound_count = n;
	a->map_bounds_stale = false;
	return true;
}

/*
 * After a miss at addr, learn the gap around it between mappings, so the
 * blocks of an allocator region no mapping covers (the brk heap) need no
 * index lookup each: from the last mapping starting at or below addr
 * (the largest end up to it) to the first one starting above.
 */
static void gap_learn(struct mh_attr *a, uint64_t addr)
{
	size_t lo_i = 0, hi_i;
	uint64_t lo, hi;

	if (a->map_bounds_stale && !bounds_build(a))
		return;
	hi_i = a->map_bound_count;
	while (lo_i < hi_i) {		/* the first bound starting above addr */
		size_t mid = lo_i + (hi_i - lo_i) / 2;

		if (a->map_bounds[mid][0] <= addr)
			lo_i = mid + 1;
		else
			hi_i = mid;
	}
	lo = lo_i ? a->map_bounds[lo_i - 1][1] : 0;
	hi = lo_i < a->map_bound_count ? a->map_bounds[lo_i][0] : UINT64_MAX;
	if (lo <= addr && addr < hi)
		heap_noted_add(a, lo, hi, addr);
}

/*
 * Ranges in heap_noted are gaps between mappings or mappings already
 * marked: both stay so as mappings go or shrink; a mapping that comes or
 * grows into one cuts it down to the side of its anchor (heap_noted_cut).
 * Called for addr in none of them (mh_mapping_note_heap(), inline).
 */
void mh_mapping_note_heap_slow(struct mh_attr *a, uint64_t addr)
{
	struct mh_mapping *m = mapping_find(a, addr);

	if (!m) {
		gap_learn(a, addr);
		return;
	}
	m->held_heap = true;
	heap_noted_add(a, m->start, m->start + m->size, addr);
}

/*
 * A mapping now covers [lo, hi): a noted range it meets keeps only the
 * part on its anchor's side, still a gap or still one mapping (gone if
 * the anchor is inside). Where new mappings go above the heap, inside
 * the gap around it, the heap's gap is cut, not forgotten (git log -p
 * maps 2,700 files while its heap blocks come and go).
 */
static void heap_noted_cut(struct mh_attr *a, uint64_t lo, uint64_t hi)
{
	for (unsigned i = 0; i < MH_HEAP_NOTED; i++) {
		uint64_t *r = a->heap_noted[i];

		if (r[0] >= hi || r[1] <= lo)
			continue;
		if (r[2] < lo)
			r[1] = lo;
		else if (r[2] >= hi)
			r[0] = hi;
		else
			r[0] = r[1] = 0;
	}
}

static void mapping_drop(struct mh_attr *a, struct mh_mapping *m)
{
	a->map_bounds_stale = true;
	mh_addrindex_remove(a->map_index, m->start);
	if (a->last_map == m)
		a->last_map = NULL;
	DL_DELETE(a->mappings, m);
	free(m);
}

/* Give m the range [start, end) (a cut shrinks it, the break grows it), index entry in step. */
static int mapping_reshape(struct mh_attr *a, struct mh_mapping *m, uint64_t start, uint64_t end)
{
	heap_noted_cut(a, start, end);
	a->map_bounds_stale = true;
	mh_addrindex_remove(a->map_index, m->start);
	m->start = start;
	m->size = end - start;
	return mh_addrindex_insert(a->map_index, m->start, m->size, m);
}

/*
 * Take [lo, hi) out of m, as munmap() does: drop it if nothing is left,
 * trim a head or a tail, or split it in two when the hole is in the
 * middle (the far part keeps m's origin and stack). 0 or -ENOMEM; on
 * failure no mapping is left covering [lo, hi).
 */
static int mapping_cut(struct mh_attr *a, struct mh_mapping *m, uint64_t lo, uint64_t hi)
{
	uint64_t end = m->start + m->size;
	struct mh_mapping *tail;
	int err;

	if (lo <= m->start && hi >= end) {
		mapping_drop(a, m);
		return 0;
	}
	if (lo <= m->start)		/* the head goes */
		err = mapping_reshape(a, m, hi, end);
	else if (hi >= end)		/* the tail goes */
		err = mapping_reshape(a, m, m->start, lo);
	else				/* a hole in the middle: m keeps the head */
		err = mapping_reshape(a, m, m->start, lo);
	if (err) {
		DL_DELETE(a->mappings, m);
		if (a->last_map == m)
			a->last_map = NULL;
		free(m);
		return err;
	}
	if (lo <= m->start || hi >= end)
		return 0;
	tail = malloc(sizeof(*tail));
	if (!tail)
		return -ENOMEM;
	*tail = *m;
	tail->start = hi;
	tail->size = end - hi;
	err = mh_addrindex_insert(a->map_index, tail->start, tail->size, tail);
	if (err) {
		free(tail);
		return err;
	}
	DL_APPEND(a->mappings, tail);
	return 0;
}

/*
 * Unmap [addr, addr + size) rounded out to pages, as munmap() and a
 * MAP_FIXED mmap do: mappings wholly inside go, those across an end are
 * trimmed or split. When one mapping covers the whole range (the usual
 * munmap of what one mmap returned) it is found in O(1); otherwise every
 * mapping of the process is checked, which costs O(live mappings) per
 * such call. 0 or -ENOMEM.
 */
static int mapping_clear(struct mh_attr *a, uint64_t addr, uint64_t size)
{
	uint64_t page_mask = a->page_size - 1;
	uint64_t lo = addr & ~page_mask, hi = (addr + size + page_mask) & ~page_mask;
	struct mh_mapping *m, *tmp;
	int err = 0;

	if (hi <= lo)
		return 0;
	m = mh_addrindex_find(a->map_index, lo, NULL, NULL);
	if (m && m->start + m->size >= hi)
		return mapping_cut(a, m, lo, hi);
	DL_FOREACH_SAFE(a->mappings, m, tmp) {
		if (m->start < hi && m->start + m->size > lo && !err)
			err = mapping_cut(a, m, lo, hi);
	}
	return err;
}

/* Index a new mapping over [addr, addr + size); one already there keeps its place. */
static int mapping_insert(struct mh_attr *a, uint64_t addr, uint64_t size,
			  enum mapping_origin origin, uint64_t stack_id)
{
	struct mh_mapping *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	*m = (struct mh_mapping){ .start = addr, .size = size, .origin = origin,
				  .stack_id = stack_id };
	heap_noted_cut(a, addr, addr + size);
	a->map_bounds_stale = true;
	err = mh_addrindex_insert(a->map_index, addr, size, m);
	if (err) {
		free(m);
		return err == -EEXIST ? 0 : err;
	}
	DL_APPEND(a->mappings, m);
	return 0;
}

static int mapping_add(struct mh_attr *a, uint64_t addr, uint64_t size, enum mapping_origin origin,
		       uint64_t stack_id)
{
	int err;

	if (!size)
		return 0;
	err = mapping_clear(a, addr, size);
	if (err)
		return err;
	return mapping_insert(a, addr, size, origin, stack_id);
}

int mh_attr_mmap(struct mh_process *p, uint64_t addr, uint64_t size, uint64_t stack_id)
{
	return mapping_add(p->attr, addr, size, ORIGIN_PROGRAM, stack_id);
}

int mh_attr_munmap(struct mh_process *p, uint64_t addr, uint64_t size)
{
	return mapping_clear(p->attr, addr, size);
}

/*
 * The break moves by bytes, not pages: growth right after the program's
 * last growth extends it, and shrinking cuts exactly what it gives back.
 */
int mh_attr_brk(struct mh_process *p, uint64_t addr, uint64_t size, uint64_t stack_id, bool grow)
{
	struct mh_attr *a = p->attr;
	struct mh_mapping *m, *tmp;
	int err = 0;

	if (!size)
		return 0;
	m = addr ? mapping_find(a, addr - 1) : NULL;
	if (grow && m && m->origin == ORIGIN_BREAK && m->start + m->size == addr)
		return mapping_reshape(a, m, m->start, addr + size);
	if (grow) {
		return mapping_insert(a, addr, size, ORIGIN_BREAK, stack_id);
	}
	DL_FOREACH_SAFE(a->mappings, m, tmp) {
		if (m->origin == ORIGIN_BREAK && m->start < addr + size &&
		    m->start + m->size > addr && !err)
			err = mapping_cut(a, m, addr, addr + size);
	}
	return err;
}

int mh_mappings_syscall(struct mh_attr *a, const struct mh_rec_ksyscall *s)
{
	int err;

	if (s->ret < 0)
		return 0;
	switch (s->sys) {
	case MH_KSYS_MMAP:
		return mapping_add(a, (uint64_t)s->ret, s->args[1], ORIGIN_KERNEL, 0);
	case MH_KSYS_MUNMAP:
		return mapping_clear(a, s->args[0], s->args[1]);
	case MH_KSYS_MREMAP:
		err = mapping_clear(a, s->args[0], s->args[1]);
		return err ? err : mapping_add(a, (uint64_t)s->ret, s->args[2], ORIGIN_KERNEL, 0);
	case MH_KSYS_BRK:
		if (!a->brk_start)
			a->brk_start = (uint64_t)s->ret;
		if ((uint64_t)s->ret >= a->brk_start)
			a->brk_end = (uint64_t)s->ret;
		return 0;
	default:
		return 0;
	}
}

void mh_mappings_free(struct mh_attr *a)
{
	struct mh_mapping *m, *next;

	DL_FOREACH_SAFE(a->mappings, m, next)
		free(m);
	a->mappings = NULL;
	a->last_map = NULL;
	free(a->map_bounds);
	a->map_bounds = NULL;
	a->map_bound_count = a->map_bound_cap = 0;
}
