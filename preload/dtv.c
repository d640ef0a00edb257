// SPDX-License-Identifier: MIT
/*
 * dtv.c - keep memhook's TLS modules out of the program's DTV sizes.
 *
 * glibc gives every new thread a dynamic thread vector (DTV), calloc'd by
 * the loader (_dl_allocate_tls) with one 16-byte slot per TLS module in
 * the process plus a fixed surplus. libmemhook.so has TLS, and so has
 * libunwind, which the process loads only for memhook: under memhook each
 * DTV is 16 bytes per such module larger than in a plain run, and the
 * program's heap totals and its leak of a live thread's DTV would differ
 * from memcheck's. This module finds the loader's DTV allocation site and
 * memhook's share; the calloc record of a DTV then carries the program's
 * size. The share sits at the end of the vector, in surplus slots a
 * process uses only after dlopen'ing a dozen TLS modules, so the exit
 * scan, which reads the recorded size, loses no pointer the program has.
 *
 * Runs once at start (dlsym may allocate: the caller holds the guard);
 * never allocates or prints afterwards.
 */
#include "preload/dtv.h"

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <string.h>

#define DTV_SLOT_BYTES 16
/* Names of the libraries memhook loads for itself only when nobody else needs them. */
#define OWN_LIBRARY_PREFIX "libunwind"

/* The preload's own ELF header: which loaded object is ours. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));

static uintptr_t site_lo, site_hi;	/* _dl_allocate_tls's code */
static size_t share_bytes;		/* memhook's slots in every DTV */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool is_own_library(const char *path)
{
	return !strncmp(base_name(path), OWN_LIBRARY_PREFIX, strlen(OWN_LIBRARY_PREFIX));
}

static bool is_preload(const struct dl_phdr_info *info)
{
	uintptr_t self = (uintptr_t)__ehdr_start;

	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && self >= lo && self < lo + ph->p_memsz)
			return true;
	}
	return false;
}

static bool has_tls(const struct dl_phdr_info *info)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_TLS && info->dlpi_phdr[i].p_memsz)
			return true;
	}
	return false;
}

/* True if the object lists one of memhook's own libraries in DT_NEEDED. */
static bool needs_own_library(const struct dl_phdr_info *info)
{
	const ElfW(Dyn) *dyn = NULL;
	uintptr_t strtab = 0;

	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	}
	if (!dyn || !info->dlpi_addr)
		return false;	/* the vDSO, or a static or non-PIE image: nothing it needs */
	for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_STRTAB)
			strtab = d->d_un.d_ptr;
	}
	/* The loader relocates these in place unless the section is read-only. */
	if (strtab && strtab < info->dlpi_addr)
		strtab += info->dlpi_addr;
	for (const ElfW(Dyn) *d = dyn; strtab && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_NEEDED && is_own_library((const char *)strtab + d->d_un.d_val))
			return true;
	}
	return false;
}

struct tls_count {
	unsigned int preload;		/* the preload's own TLS module */
	unsigned int libraries;		/* TLS modules of memhook's own libraries */
	bool program_needs_them;	/* another object needs those libraries */
};

static int count_tls(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct tls_count *c = arg;

	(void)size;
	if (is_preload(info)) {
		c->preload += has_tls(info);
	} else if (info->dlpi_name && is_own_library(info->dlpi_name)) {
		c->libraries += has_tls(info);
	} else if (needs_own_library(info)) {
		c->program_needs_them = true;
	}
	return 0;
}

void mh_dtv_setup(void)
{
	struct tls_count c = { 0 };
	void *fn = dlsym(RTLD_DEFAULT, "_dl_allocate_tls");
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!fn || !dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size)
		return;		/* another libc: records keep the sizes asked for */
	dl_iterate_phdr(count_tls, &c);
	share_bytes = DTV_SLOT_BYTES * (c.preload + (c.program_needs_them ? 0 : c.libraries));
	site_lo = (uintptr_t)fn;
	site_hi = site_lo + sym->st_size;
}

size_t mh_dtv_program_size(__u64 caller_of_caller, size_t size)
{
	if (mh_unlikely(caller_of_caller - site_lo < site_hi - site_lo) && size > share_bytes)
		return size - share_bytes;
	return size;
}
