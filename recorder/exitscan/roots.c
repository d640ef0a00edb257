// SPDX-License-Identifier: MIT
/*
 * roots.c - the leak scan's roots (roots.h), as memcheck takes them, but
 * of the program only.
 *
 * memcheck's roots are the program's memory that is not heap: data and
 * .bss of its modules, its own mmap and sbrk memory, thread stacks from
 * the stack pointer up, registers, TLS. Here glibc's malloc is the heap:
 * mappings that hold live blocks and [heap] are not roots, except the
 * parts the program mapped or grew itself (the preload's mmap and sbrk
 * records), which the kernel may have merged into them. memhook's own
 * memory is never a root: its ring, tables and libraries (own.h), the
 * preload's TLS block in every thread, and the frames and registers of
 * the thread that waits in memhook's exit path for the scan, whose
 * stack is scanned from its first frame outside memhook (found along its
 * frame-pointer chain: the preload keeps frame pointers).
 *
 * Never prints; reads the process only through in->read.
 */
#include "recorder/exitscan/roots.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Bytes below the stack pointer the ABI lets a leaf function use (x86-64 red zone). */
#define STACK_RED_ZONE_BYTES 128
/* memhook frames followed on the requester's stack, at most. */
#define MAX_OWN_FRAMES 64

struct range_list {
	struct mh_reach_range *v;
	size_t n, cap;
};

static int push(struct range_list *l, __u64 start, __u64 end)
{
	if (end <= start)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct mh_reach_range *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct mh_reach_range){ .start = start, .end = end };
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct mh_reach_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static bool is_root_mapping(const struct mh_map *m)
{
	if ((m->prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE))
		return false;
	if (!strcmp(m->path, "[vvar]") || !strcmp(m->path, "[vsyscall]"))
		return false;
	/* Device memory may have side effects when read. */
	return strncmp(m->path, "/dev/", 5) != 0 || !strncmp(m->path, "/dev/zero", 9);
}

static bool holds_block(const struct mh_root_input *in, const struct mh_map *m)
{
	size_t lo = 0, hi = in->block_count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (in->blocks[mid].addr < m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < in->block_count && in->blocks[lo].addr < m->end;
}

static const struct mh_root_thread *thread_on(const struct mh_root_input *in,
					      const struct mh_map *m)
{
	for (size_t i = 0; i < in->thread_count; i++) {
		if (in->threads[i].sp >= m->start && in->threads[i].sp < m->end)
			return &in->threads[i];
	}
	return NULL;
}

static bool is_memhook_code(const struct mh_root_input *in, __u64 addr)
{
	const struct mh_own_span *sp = mh_own_span_at(in->own, addr);
	const struct mh_map *m = sp && sp->kind == MH_OWN_LIBRARY ?
				 mh_procmaps_find(in->maps, addr) : NULL;

	return m && (m->prot & PROT_EXEC);
}

/*
 * Where the requester's caller's frames begin: the frame-pointer chain
 * from its registers through memhook's frames, to the stack pointer its
 * outermost memhook frame returns to. 0 when the chain does not lead
 * out of memhook within the stack.
 */
static __u64 first_program_frame(const struct mh_root_input *in, const struct mh_root_thread *th,
				 const struct mh_map *stack)
{
#if defined(__x86_64__)
	const struct user_regs_struct *regs = (const void *)th->regs;
	__u64 fp = regs->rbp, frame[2];

	for (int i = 0; i < MAX_OWN_FRAMES; i++) {
		if (fp < th->sp || fp % sizeof(__u64) || fp + sizeof(frame) > stack->end ||
		    in->read(in->ctx, fp, frame, sizeof(frame)))
			return 0;
		if (!is_memhook_code(in, frame[1]))
			return i ? fp + sizeof(frame) : 0;
		if (frame[0] <= fp)
			return 0;
		fp = frame[0];
	}
#endif
	return 0;
}

/* Where a thread's stack is scanned from. */
static __u64 stack_start(const struct mh_root_input *in, const struct mh_root_thread *th,
			 const struct mh_map *m)
{
	__u64 start;

	if (th->requester) {
		start = th->stopped ? first_program_frame(in, th, m) : 0;
		if (!start && in->request_sp > th->sp && in->request_sp < m->end)
			start = in->request_sp;
		if (start)
			return start;
	}
	start = th->sp - STACK_RED_ZONE_BYTES;
	return start > m->start && start < th->sp ? start : m->start;
}

/* The program's own regions within heap mapping m. */
static int heap_parts(const struct mh_root_input *in, const struct mh_reach_range *regions,
		      const struct mh_map *m, struct range_list *out)
{
	size_t lo = 0, hi = in->region_count;
	int err = 0;

	/* Regions are sorted and disjoint: start at the first that may reach m. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (regions[mid].end <= m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < in->region_count && regions[lo].start < m->end && !err; lo++) {
		__u64 start = regions[lo].start > m->start ? regions[lo].start : m->start;
		__u64 end = regions[lo].end < m->end ? regions[lo].end : m->end;

		err = push(out, start, end);
	}
	return err;
}

/* What is never a root: memhook's spans and each known thread's preload TLS block. */
static int holes_of(const struct mh_root_input *in, struct range_list *holes)
{
	int err = 0;

	for (size_t i = 0; i < in->own->count && !err; i++)
		err = push(holes, in->own->spans[i].start, in->own->spans[i].end);
#if defined(__x86_64__)
	for (size_t i = 0; i < in->thread_count && !err && in->own->tls_bytes; i++) {
		const struct user_regs_struct *regs = (const void *)in->threads[i].regs;
		__u64 block = regs->fs_base + (__u64)in->own->tls_offset;

		if (in->threads[i].stopped && regs->fs_base)
			err = push(holes, block, block + in->own->tls_bytes);
	}
#endif
	if (!err)
		qsort(holes->v, holes->n, sizeof(*holes->v), by_start);
	return err;
}

/* Push [start, end) less the holes (sorted by start). */
static int push_less(struct range_list *out, const struct range_list *holes, __u64 start,
		     __u64 end)
{
	int err = 0;

	for (size_t i = 0; i < holes->n && start < end && !err; i++) {
		const struct mh_reach_range *h = &holes->v[i];

		if (h->end <= start || h->start >= end)
			continue;
		err = push(out, start, h->start < start ? start : h->start);
		start = h->end;
	}
	return err ? err : push(out, start, end);
}

static int collect_ranges(const struct mh_root_input *in, const struct mh_reach_range *regions,
			  const struct range_list *holes, struct range_list *out)
{
	struct range_list parts = { 0 };
	int err = 0;

	for (size_t i = 0; i < in->maps->count && !err; i++) {
		const struct mh_map *m = &in->maps->maps[i];
		const struct mh_root_thread *th = thread_on(in, m);

		if (!is_root_mapping(m))
			continue;
		parts.n = 0;
		if (th)
			err = push(&parts, stack_start(in, th, m), m->end);
		else if (!strcmp(m->path, "[heap]") || holds_block(in, m))
			err = heap_parts(in, regions, m, &parts);
		else
			err = push(&parts, m->start, m->end);
		for (size_t k = 0; k < parts.n && !err; k++)
			err = push_less(out, holes, parts.v[k].start, parts.v[k].end);
	}
	free(parts.v);
	return err;
}

int mh_roots_collect(const struct mh_root_input *in, struct mh_reach_roots *roots)
{
	struct range_list ranges = { 0 }, holes = { 0 };
	struct mh_reach_range *regions = NULL;
	__u64 *values;
	size_t nvalues = 0;
	int err;

	memset(roots, 0, sizeof(*roots));
	values = calloc(in->thread_count * MH_ROOT_REG_WORDS + 1, sizeof(*values));
	if (in->region_count)
		regions = malloc(in->region_count * sizeof(*regions));
	if (!values || (in->region_count && !regions)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < in->thread_count; i++) {
		if (!in->threads[i].stopped || in->threads[i].requester)
			continue;
		memcpy(values + nvalues, in->threads[i].regs, sizeof(in->threads[i].regs));
		nvalues += MH_ROOT_REG_WORDS;
	}
	if (in->region_count) {
		memcpy(regions, in->regions, in->region_count * sizeof(*regions));
		qsort(regions, in->region_count, sizeof(*regions), by_start);
	}
	err = holes_of(in, &holes);
	if (!err)
		err = collect_ranges(in, regions, &holes, &ranges);
out:
	free(regions);
	free(holes.v);
	if (err) {
		free(values);
		free(ranges.v);
		return err;
	}
	roots->ranges = ranges.v;
	roots->range_count = ranges.n;
	roots->values = values;
	roots->value_count = nvalues;
	return 0;
}

void mh_roots_free(struct mh_reach_roots *roots)
{
	free((void *)roots->ranges);
	free((void *)roots->values);
	memset(roots, 0, sizeof(*roots));
}
