// SPDX-License-Identifier: MIT
/*
 * fid_status.c - touch MIB MiB of heap (default 8) and return from main;
 * then, as the last code of its own (its ELF destructor, after exit()'s
 * handlers), read its /proc/self/status (RssAnon, RssFile, RssShmem, in
 * kB) and its /proc/self/smaps, and write to OUT
 * "anon_kb file_kb shmem_kb own_anon_kb own_file_kb own_shmem_kb": the
 * process's counters and the part of them in memhook's mappings, as smaps
 * counts them. memhook's mappings, as this program knows them: its ring
 * (a memfd named "memhook-ring"), the libraries it does not link itself
 * (libmemhook, libunwind, liblzma) with the .bss after each, and the
 * tables the preload lists in its exported registry (memhook/own.h).
 * From the reading on it calls no allocator and no stdio: only read(2),
 * write(2) and close(2), so nothing it does afterwards can move its RSS.
 *
 * Usage: fid_status OUT [MIB]
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memhook/own.h"

/* Bytes of /proc/self/smaps read at most. */
#define SMAPS_BYTES (1 << 20)

static void *volatile keep;
static int out_fd = -1;
static char smaps[SMAPS_BYTES], status[8192];

/* The whole of a /proc file into buf (NUL-terminated), with read(2) only. */
static void slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	size_t used = 0;
	ssize_t n;

	if (fd < 0)
		_exit(1);
	while (used + 1 < size && (n = read(fd, buf + used, size - 1 - used)) > 0)
		used += (size_t)n;
	buf[used] = '\0';
	close(fd);
}

static long status_kb(const char *name)
{
	const char *p = strstr(status, name);

	return p ? atol(p + strlen(name)) : -1;
}

static const struct mh_own_registry *registry;
/* kB of memhook's pages by counter: anon, file, shmem. */
static long own_kb[3];

static bool is_own_library(const char *path)
{
	const char *base = strrchr(path, '/');
	static const char *const libs[] = { "libmemhook", "libunwind", "liblzma" };

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (!strncmp(base, libs[i], strlen(libs[i])))
			return true;
	}
	return false;
}

/* True if the registry's ranges (page-rounded) cover [start, end): the kernel may merge them. */
static bool in_registry(uintptr_t start, uintptr_t end)
{
	uintptr_t at = start;
	bool moved = true;

	while (registry && at < end && moved) {
		moved = false;
		for (unsigned i = 0; i < registry->range_count && i < MH_OWN_RANGES; i++) {
			uintptr_t lo = registry->ranges[i].start & ~(uintptr_t)4095;
			uintptr_t hi = (registry->ranges[i].start + registry->ranges[i].bytes + 4095) &
				       ~(uintptr_t)4095;

			if (registry->ranges[i].bytes && at >= lo && at < hi) {
				at = hi;
				moved = true;
			}
		}
	}
	return registry && at >= end;
}

/* One smaps entry's header: is it memhook's, and of which kind (0 anon, 1 file, 2 shmem)? */
static int own_kind(const char *line, uintptr_t *prev_end, bool *prev_lib)
{
	unsigned long start, end, inode;
	char path[512] = "";
	int kind = -1;
	bool lib;

	if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %511[^\n]", &start, &end, &inode, path) < 3)
		return -1;
	lib = inode && is_own_library(path);
	if (strstr(path, "memhook-ring"))
		kind = 2;
	else if (lib)
		kind = 1;
	else if (!inode && !path[0] && ((*prev_lib && *prev_end == start) || in_registry(start, end)))
		kind = 0;
	*prev_end = end;
	*prev_lib = lib;
	return kind;
}

/* memhook's share of each counter, from smaps: Rss, of which Anonymous is anon. */
static void own_from_smaps(void)
{
	uintptr_t prev_end = 0;
	bool prev_lib = false;
	long rss = 0;
	int kind = -1;

	for (char *line = smaps; *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (strspn(line, "0123456789abcdef") && line[strspn(line, "0123456789abcdef")] == '-') {
			kind = own_kind(line, &prev_end, &prev_lib);
		} else if (kind >= 0 && !strncmp(line, "Rss:", 4)) {
			rss = atol(line + 4);
			own_kb[kind] += rss;
		} else if (kind == 1 && !strncmp(line, "Anonymous:", 10)) {
			/* Written pages of a library's private mapping are anonymous. */
			own_kb[1] -= atol(line + 10);
			own_kb[0] += atol(line + 10);
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	(void)rss;
}

__attribute__((destructor)) static void read_own_figures(void)
{
	char line[160];
	int n;

	if (out_fd < 0)
		return;
	slurp("/proc/self/smaps", smaps, sizeof(smaps));
	slurp("/proc/self/status", status, sizeof(status));
	own_from_smaps();
	n = snprintf(line, sizeof(line), "%ld %ld %ld %ld %ld %ld\n", status_kb("\nRssAnon:"),
		     status_kb("\nRssFile:"), status_kb("\nRssShmem:"), own_kb[0], own_kb[1],
		     own_kb[2]);
	if (write(out_fd, line, (size_t)n) != n || close(out_fd))
		_exit(1);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 8;
	char *heap = malloc(mib << 20);

	if (argc < 2 || !heap)
		return 2;
	memset(heap, 1, mib << 20);
	keep = heap;
	registry = dlsym(RTLD_DEFAULT, MH_OWN_REGISTRY_SYMBOL);
	if (registry && registry->magic != MH_OWN_MAGIC)
		registry = NULL;
	/* Formatting and parsing now, so their code is resident before the reading. */
	slurp("/proc/self/smaps", smaps, sizeof(smaps));
	own_from_smaps();
	memset(own_kb, 0, sizeof(own_kb));
	(void)snprintf(smaps, sizeof(smaps), "%ld %ld %ld %ld %ld %ld\n", status_kb("x"), 1L, 2L, 3L,
		       4L, 5L);
	out_fd = open(argv[1], O_CREAT | O_TRUNC | O_WRONLY, 0644);
	return out_fd < 0;
}
