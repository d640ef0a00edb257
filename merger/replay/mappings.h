/* SPDX-License-Identifier: MIT */
/*
 * mappings.h - what mappings.c tells users outside attribution: the
 * memory a process got from its own mmap and sbrk calls (the preload's
 * records), live now. The recorder's exit scan takes it as roots.
 */
#ifndef MEMHOOK_MERGER_REPLAY_MAPPINGS_H
#define MEMHOOK_MERGER_REPLAY_MAPPINGS_H

#include <stdint.h>

struct mh_process;

/*
 * Call fn on every range [start, end) p mapped with its own mmap or
 * grew with its own brk/sbrk and has not released, in no particular
 * order. Nothing when p has no attribution state (it made no such call).
 */
void mh_mappings_foreach_program(const struct mh_process *p,
				 void (*fn)(uint64_t start, uint64_t end, void *arg), void *arg);

#endif /* MEMHOOK_MERGER_REPLAY_MAPPINGS_H */
