/* SPDX-License-Identifier: MIT */
/*
 * objects.h - which loaded ELF object holds a code address, answered
 * without the loader's lock: glibc's _dl_find_object (lock-free, made for
 * unwinders) plus the object's program headers read from its own mapped
 * ELF header. For the hooks, where dl_iterate_phdr must not be called
 * (see objects.c).
 *
 * Never allocates, never prints, never blocks.
 */
#ifndef MEMHOOK_PRELOAD_OBJECTS_H
#define MEMHOOK_PRELOAD_OBJECTS_H

#include <link.h>
#include <stdbool.h>
#include <stdint.h>

/* One loaded object, as dl_iterate_phdr would describe it, and its identity. */
struct mh_object {
	struct dl_phdr_info info;	/* name, load bias, program headers; counters 0 */
	uintptr_t map_start;		/* [map_start, map_end): the object's whole mapping */
	uintptr_t map_end;
	const void *link_map;		/* the loader's handle, for identity only */
};

/*
 * The object that holds address addr. False if none does (JIT code, an
 * anonymous mapping) or if its program headers are not where an ELF
 * object loaded by glibc has them (its first segment, mapped from file
 * offset 0, starts with the ELF header). Lock-free and async-signal-safe;
 * addr must lie in an object that stays loaded during the call (a return
 * address of the calling thread does).
 */
bool mh_object_at(uintptr_t addr, struct mh_object *out);

#endif /* MEMHOOK_PRELOAD_OBJECTS_H */
