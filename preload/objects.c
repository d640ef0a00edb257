// SPDX-License-Identifier: MIT
/*
 * objects.c - the loaded object that holds an address, without the
 * loader's lock.
 *
 * Never allocates, never prints, never takes a lock: it runs inside
 * malloc, possibly in a fork child of a threaded program.
 *
 * Why not dl_iterate_phdr: it takes the loader's write lock, which another
 * thread may hold (it is held while dlopen links an object in, and for
 * the whole of every dl_iterate_phdr call); glibc's fork does not reset
 * it, so a child forked at that moment inherits it held by a thread that
 * no longer exists, and a dl_iterate_phdr from a malloc hook there never
 * returns. _dl_find_object (glibc 2.35) reads a versioned copy of the
 * object list without any lock, is async-signal-safe, and is what GCC's
 * and LLVM's unwinders use for the same reason.
 *
 * It gives the mapping, the link map and the PT_GNU_EH_FRAME address; the
 * program headers come from the object's own ELF header, which the loader
 * maps at the start of the object's first segment (file offset 0). That
 * is checked (magic, class, header sizes, and a first PT_LOAD at offset 0
 * whose page is map_start) before anything is taken from it.
 */
#include "preload/objects.h"

#include <dlfcn.h>
#include <elf.h>
#include <string.h>
#include <unistd.h>

#if __WORDSIZE == 64
#define MH_ELFCLASS ELFCLASS64
#else
#define MH_ELFCLASS ELFCLASS32
#endif

/* Bytes of the object's first page that may hold its headers: the smallest page size. */
#define HEADER_PAGE 4096

/* The first PT_LOAD maps file offset 0 at map_start: then the headers are there. */
static bool headers_at_start(const ElfW(Phdr) *ph, unsigned int n, uintptr_t bias,
			     uintptr_t map_start, size_t headers_end)
{
	for (unsigned int i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		return ph[i].p_offset == 0 && ph[i].p_filesz >= headers_end &&
		       ((bias + ph[i].p_vaddr) & ~(uintptr_t)(HEADER_PAGE - 1)) == map_start;
	}
	return false;
}

bool mh_object_at(uintptr_t addr, struct mh_object *out)
{
	struct dl_find_object fo;
	const ElfW(Ehdr) *eh;
	const struct link_map *lm;
	const ElfW(Phdr) *ph;
	size_t headers_end;

	if (_dl_find_object((void *)addr, &fo) || !fo.dlfo_link_map)
		return false;
	eh = fo.dlfo_map_start;
	lm = fo.dlfo_link_map;
	if ((uintptr_t)eh & (HEADER_PAGE - 1) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != MH_ELFCLASS || eh->e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh->e_phoff < sizeof(*eh))
		return false;
	headers_end = eh->e_phoff + (size_t)eh->e_phnum * sizeof(ElfW(Phdr));
	if (headers_end > HEADER_PAGE)
		return false;
	ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	if (!headers_at_start(ph, eh->e_phnum, lm->l_addr, (uintptr_t)eh, headers_end))
		return false;
	memset(out, 0, sizeof(*out));
	out->info.dlpi_addr = lm->l_addr;
	out->info.dlpi_name = lm->l_name ? lm->l_name : "";
	out->info.dlpi_phdr = ph;
	out->info.dlpi_phnum = eh->e_phnum;
	out->map_start = (uintptr_t)fo.dlfo_map_start;
	out->map_end = (uintptr_t)fo.dlfo_map_end;
	out->link_map = lm;
	return true;
}
