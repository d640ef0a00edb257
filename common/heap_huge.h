/* SPDX-License-Identifier: MIT */
/*
 * heap_huge.h - the malloc heap of a memhook command, grown ahead on
 * transparent huge pages for a phase that fills much of it: libbpf's read
 * of the kernel's BTF at load, a report's tables. A first touch of a 4 KiB
 * page is a trap (11-15 us in a virtual machine, common/bigmem.h), and
 * these phases touch tens of thousands of pages through malloc. Hints
 * only: whatever glibc or the kernel refuses, the phase runs as before,
 * slower. Process-wide (glibc's thresholds): for memhook's own commands,
 * never for the preload.
 */
#ifndef MEMHOOK_COMMON_HEAP_HUGE_H
#define MEMHOOK_COMMON_HEAP_HUGE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The heap grows now by about `bytes`, advised for transparent huge pages
 * from its first 2 MiB boundary on (untouched, it costs address space
 * only). With fill_head, the pages below that boundary are mapped in one
 * call too (for a phase that fills the new part from its start). With
 * large_in_heap, large blocks come from the heap from now on and stay
 * there when freed (a phase that allocates and frees the same large
 * buffers again); without, they keep their own mappings, which go back
 * to the kernel when freed (a report's tables, which grow by doubling:
 * kept in the heap, each old copy stayed resident).
 */
void mh_heap_huge(size_t bytes, bool fill_head, bool large_in_heap);

/* glibc's default thresholds back (fixed ones from then on); free memory goes back. */
void mh_heap_default(void);

#endif /* MEMHOOK_COMMON_HEAP_HUGE_H */
