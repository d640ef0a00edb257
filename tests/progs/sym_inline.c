// SPDX-License-Identifier: MIT
/*
 * sym_inline.c - a program whose call stack crosses an inlined function
 * (at -O2), a dlopen()ed shared library (tests/progs/sym/sym_lib.c) and
 * back, for the symbolization tests. It captures its own stack inside
 * the library's callback, then prints what memhook would record: every
 * module with its load bias and PT_LOAD segments at that moment, and the
 * stack's return addresses. It dlclose()s the library before printing
 * the stack, so the library's frames must be named from the recorded
 * module list and the file on disk.
 *
 * Usage: sym_inline LIBRARY.so
 * Output: "MODULE <bias> <path>", "SEG <start> <size> <file offset>",
 *         then "STACK <ip> <ip> ..." (innermost first).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_FRAMES 64

typedef void (*sym_entry_fn)(void (*cb)(void));

static void *ips[MAX_FRAMES];
static int nips;

static int print_module(struct dl_phdr_info *info, size_t size, void *arg)
{
	static char exe[4096];
	const char *path = info->dlpi_name;
	ssize_t n;
	int i;

	(void)size;
	(void)arg;
	if (!path || !*path) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return 0;
		exe[n] = '\0';
		path = exe;
	}
	if (path[0] != '/')
		return 0;	/* the vdso has no file */
	printf("MODULE 0x%lx %s\n", (unsigned long)info->dlpi_addr, path);
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD)
			printf("SEG 0x%lx 0x%lx 0x%lx\n", (unsigned long)(info->dlpi_addr + ph->p_vaddr),
			       (unsigned long)ph->p_memsz, (unsigned long)ph->p_offset);
	}
	return 0;
}

/* Called back from the library: capture the stack and the module map. */
__attribute__((noinline)) void sym_capture(void)
{
	nips = backtrace(ips, MAX_FRAMES);
	dl_iterate_phdr(print_module, NULL);
	__asm__ __volatile__("" ::: "memory");
}

static inline void exe_inlined(sym_entry_fn entry)
{
	entry(sym_capture);
	__asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void exe_outer(sym_entry_fn entry)
{
	exe_inlined(entry);
	__asm__ __volatile__("" ::: "memory");
}

int main(int argc, char **argv)
{
	sym_entry_fn entry;
	void *lib;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: sym_inline LIBRARY.so\n");
		return 2;
	}
	lib = dlopen(argv[1], RTLD_NOW);
	if (!lib) {
		fprintf(stderr, "sym_inline: %s\n", dlerror());
		return 1;
	}
	*(void **)&entry = dlsym(lib, "sym_lib_entry");
	if (!entry) {
		fprintf(stderr, "sym_inline: %s\n", dlerror());
		return 1;
	}
	exe_outer(entry);
	dlclose(lib);
	printf("STACK");
	for (i = 0; i < nips; i++)
		printf(" 0x%lx", (unsigned long)ips[i]);
	printf("\n");
	return 0;
}
