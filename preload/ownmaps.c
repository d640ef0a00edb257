// SPDX-License-Identifier: MIT
/*
 * ownmaps.c - the registry of memhook's own memory in this process
 * (memhook/own.h), exported under MH_OWN_REGISTRY_SYMBOL for the
 * recorder.
 *
 * A fork child inherits it with the mappings it names; an exec starts a
 * new one. Never allocates, never prints: it runs while the preload maps
 * its tables.
 */
#include "preload/ownmaps.h"

#include <link.h>
#include <stdbool.h>
#include <stdint.h>

#include "memhook/own.h"

#define MH_EXPORT __attribute__((visibility("default")))

MH_EXPORT struct mh_own_registry mh_own_registry;

/* The preload's own ELF header: which loaded object is ours. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));

void mh_ownmaps_note(const void *addr, size_t bytes)
{
	struct mh_own_registry *r = &mh_own_registry;
	__u32 slot = __atomic_fetch_add(&r->range_count, 1, __ATOMIC_RELAXED);

	if (slot >= MH_OWN_RANGES) {
		__atomic_store_n(&r->range_count, MH_OWN_RANGES, __ATOMIC_RELAXED);
		return;
	}
	r->ranges[slot].start = (uintptr_t)addr;
	__atomic_store_n(&r->ranges[slot].bytes, bytes, __ATOMIC_RELEASE);
	__atomic_store_n(&r->magic, MH_OWN_MAGIC, __ATOMIC_RELEASE);
}

void mh_ownmaps_forget(const void *addr)
{
	struct mh_own_registry *r = &mh_own_registry;

	for (unsigned int i = 0; i < MH_OWN_RANGES; i++) {
		if (r->ranges[i].start == (uintptr_t)addr)
			__atomic_store_n(&r->ranges[i].bytes, 0, __ATOMIC_RELEASE);
	}
}

static int find_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t self = (uintptr_t)__ehdr_start;
	const ElfW(Phdr) *tls = NULL;
	bool ours = false;

	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && self >= lo && self < lo + ph->p_memsz)
			ours = true;
		if (ph->p_type == PT_TLS)
			tls = ph;
	}
	if (!ours)
		return 0;
	if (tls && info->dlpi_tls_data) {
		mh_own_registry.tls_offset = (intptr_t)info->dlpi_tls_data -
					     (intptr_t)__builtin_thread_pointer();
		mh_own_registry.tls_bytes = tls->p_memsz;
		__atomic_store_n(&mh_own_registry.magic, MH_OWN_MAGIC, __ATOMIC_RELEASE);
	}
	return 1;
}

void mh_ownmaps_note_tls(void)
{
	dl_iterate_phdr(find_tls, NULL);
}
