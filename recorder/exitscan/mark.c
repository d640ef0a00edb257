// SPDX-License-Identifier: MIT
/*
 * mark.c - memcheck-compatible leak classification.
 *
 * Follows the algorithm of Valgrind's mc_leakcheck.c so that verdicts
 * compare with memcheck's defaults: a first pass from the roots marks
 * blocks Reachable (a start pointer, or an interior pointer one of the
 * default heuristics accepts, from a root or a Reachable block) or Possible
 * (any other pointer into the block, or any pointer from a Possible block);
 * a second pass walks the remaining blocks in address order, each one a
 * clique leader whose DFS turns the unreached blocks it reaches into
 * indirect leaks. Leaders stay definitely lost.
 *
 * Never touches the target except through mem->read; never prints.
 */
#include "recorder/exitscan/mark.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes read from the target per call while scanning a range. */
#define SCAN_WINDOW_BYTES (64 * 1024)
/* Addresses below this are small integers, never vtables (memcheck's page0 check). */
#define LOWEST_VTABLE_ADDR 4096
/* No clique leader (first pass). */
#define NO_CLIQUE SIZE_MAX

/* Marking states, kept in mh_reach_block.kind until the end. */
enum mark {
	UNREACHED = 0,
	POSSIBLE = MH_LEAK_POSSIBLE,
	REACHABLE = MH_LEAK_REACHABLE,
	INDIRECT = MH_LEAK_INDIRECT,
};

struct scan {
	struct mh_reach_block *blocks;
	size_t count;
	const struct mh_reach_memory *mem;
	size_t *stack;		/* mark stack of block indices */
	size_t depth;
	size_t capacity;
	__u64 *window;		/* SCAN_WINDOW_BYTES of target memory */
	__u64 lo, hi;		/* no block outside [lo, hi): most words miss all of them */
};

static int by_addr(const void *a, const void *b)
{
	const struct mh_reach_block *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Index of the block containing p, or -1. A 0-byte block contains its start. */
static ssize_t find_block(const struct scan *s, __u64 p)
{
	size_t lo = 0, hi = s->count;

	if (p < s->lo || p >= s->hi)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->blocks[mid].addr <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	const struct mh_reach_block *b = &s->blocks[lo - 1];
	__u64 extent = b->size ? b->size : 1;

	return p - b->addr < extent ? (ssize_t)(lo - 1) : -1;
}

static bool read_word(const struct scan *s, __u64 addr, __u64 *word)
{
	return s->mem->read(s->mem->ctx, addr, word, sizeof(*word)) == 0;
}

static bool is_word_aligned(__u64 v)
{
	return (v & (sizeof(__u64) - 1)) == 0;
}

static bool is_vtable(const struct scan *s, __u64 addr)
{
	return is_word_aligned(addr) && addr >= LOWEST_VTABLE_ADDR &&
	       s->mem->is_vtable_addr(s->mem->ctx, addr);
}

/*
 * memcheck's default --leak-check-heuristics=all: interior pointers that
 * C++ runtimes and sqlite produce on purpose count as start pointers.
 */
static bool heuristic_reaches(const struct scan *s, __u64 p, const struct mh_reach_block *b)
{
	const __u64 word = sizeof(__u64);
	__u64 first, second, inner;

	if (!read_word(s, b->addr, &first))
		return false;
	/* stdstring: pre-C++11 layout {length, capacity, refcount, chars[]}. */
	if (p == b->addr + 3 * word && read_word(s, b->addr + word, &second) &&
	    3 * word + second + 1 == b->size && first <= second)
		return true;
	/* length64: {u64 remaining length, data[]}, as sqlite allocates. */
	if (p == b->addr + word && first > 0 && b->size - word == first)
		return true;
	/* newarray: new[] cookie {element count, elements[]}. */
	if (p == b->addr + word && first > 0 && (b->size - word) % first == 0)
		return true;
	/* multipleinheritance: p is a secondary vtable pointer inside the object. */
	if (s->mem->is_vtable_addr && is_word_aligned(p) && read_word(s, p, &inner) &&
	    is_vtable(s, inner) && is_vtable(s, first))
		return true;
	return false;
}

/*
 * glibc's malloc keeps pointers to chunk headers (the top chunk, bins).
 * The header of the chunk after b lies at b->addr - 16 + chunksize(b),
 * which can fall inside b's requested bytes: the next chunk's prev_size
 * overlaps the last word of b's usable space. Such a pointer is the
 * allocator's own, not the program's.
 */
static bool is_next_chunk_header(const struct scan *s, __u64 p, const struct mh_reach_block *b)
{
	__u64 size_field;
	ssize_t next;

	if (p <= b->addr || !read_word(s, b->addr - 8, &size_field) ||
	    p != b->addr - 16 + (size_field & ~(__u64)7))
		return false;
	/*
	 * glibc points only at free chunks and the top chunk. When a live
	 * block starts right after that header, the next chunk is in use and
	 * p is the program's own interior pointer (a C++ base sub-object).
	 */
	next = find_block(s, p + 16);
	return next < 0 || s->blocks[next].addr != p + 16;
}

static int push(struct scan *s, size_t index)
{
	if (s->depth == s->capacity) {
		size_t capacity = s->capacity ? 2 * s->capacity : 1024;
		size_t *stack = realloc(s->stack, capacity * sizeof(*stack));

		if (!stack)
			return -ENOMEM;
		s->stack = stack;
		s->capacity = capacity;
	}
	s->stack[s->depth++] = index;
	return 0;
}

/* First pass: what a pointer p, found in prior-definite or not memory, reaches. */
static int mark_from_roots(struct scan *s, __u64 p, bool prior_definite)
{
	ssize_t k = find_block(s, p);
	struct mh_reach_block *b;
	bool start_like;

	if (k < 0)
		return 0;
	b = &s->blocks[k];
	if (b->kind == REACHABLE || is_next_chunk_header(s, p, b))
		return 0;
	start_like = p == b->addr || heuristic_reaches(s, p, b);
	if (start_like && prior_definite) {
		b->kind = REACHABLE;
		return push(s, k);
	}
	if (b->kind == UNREACHED) {
		b->kind = POSSIBLE;
		return push(s, k);
	}
	return 0;
}

/* Second pass: an unreached block reached from clique `leader` joins it. */
static int mark_clique(struct scan *s, __u64 p, size_t leader)
{
	ssize_t k = find_block(s, p);

	if (k < 0 || (size_t)k == leader || s->blocks[k].kind != UNREACHED)
		return 0;
	s->blocks[k].kind = INDIRECT;
	s->blocks[k].clique = leader;
	return push(s, k);
}

/* Visit every aligned word of [start, end) of the target. */
static int scan_range(struct scan *s, __u64 start, __u64 end, bool prior_definite, size_t leader)
{
	start = (start + sizeof(__u64) - 1) & ~(__u64)(sizeof(__u64) - 1);
	while (start + sizeof(__u64) <= end) {
		size_t bytes = end - start < SCAN_WINDOW_BYTES ? end - start : SCAN_WINDOW_BYTES;
		size_t words = bytes / sizeof(__u64);
		int err = 0;

		if (s->mem->read(s->mem->ctx, start, s->window, words * sizeof(__u64)) == 0) {
			for (size_t i = 0; i < words && !err; i++) {
				err = leader == NO_CLIQUE ?
					mark_from_roots(s, s->window[i], prior_definite) :
					mark_clique(s, s->window[i], leader);
			}
		}
		if (err)
			return err;
		start += words * sizeof(__u64);
	}
	return 0;
}

/* Scan the blocks on the mark stack until it is empty. */
static int drain(struct scan *s, size_t leader)
{
	while (s->depth) {
		const struct mh_reach_block *b = &s->blocks[s->stack[--s->depth]];
		int err = scan_range(s, b->addr, b->addr + b->size, b->kind == REACHABLE, leader);

		if (err)
			return err;
	}
	return 0;
}

void mh_reach_sort(struct mh_reach_block *blocks, size_t count)
{
	qsort(blocks, count, sizeof(*blocks), by_addr);
}

int mh_reach_classify(struct mh_reach_block *blocks, size_t count,
		      const struct mh_reach_roots *roots, const struct mh_reach_memory *mem)
{
	struct scan s = { .blocks = blocks, .count = count, .mem = mem };
	int err = 0;

	s.window = malloc(SCAN_WINDOW_BYTES);
	if (!s.window)
		return -ENOMEM;
	mh_reach_sort(blocks, count);
	s.lo = count ? blocks[0].addr : 0;
	for (size_t i = 0; i < count; i++) {
		__u64 end = blocks[i].addr + (blocks[i].size ? blocks[i].size : 1);

		blocks[i].kind = UNREACHED;
		blocks[i].clique = 0;
		s.hi = end > s.hi ? end : s.hi;
	}

	for (size_t v = 0; v < roots->value_count && !err; v++) {
		err = mark_from_roots(&s, roots->values[v], true);
		if (!err)
			err = drain(&s, NO_CLIQUE);
	}
	for (size_t r = 0; r < roots->range_count && !err; r++) {
		err = scan_range(&s, roots->ranges[r].start, roots->ranges[r].end, true, NO_CLIQUE);
		if (!err)
			err = drain(&s, NO_CLIQUE);
	}
	for (size_t i = 0; i < count && !err; i++) {
		if (blocks[i].kind != UNREACHED)
			continue;
		err = push(&s, i);
		if (!err)
			err = drain(&s, i);
	}
	for (size_t i = 0; i < count; i++) {
		if (blocks[i].kind == UNREACHED)
			blocks[i].kind = MH_LEAK_DEFINITE;
	}
	free(s.stack);
	free(s.window);
	return err;
}
