// SPDX-License-Identifier: MIT
/*
 * own.c - memhook's own memory in a traced process (own.h).
 *
 * memhook's mappings are: the event ring (its memfd is named
 * "memhook-ring"); the preload library (a file whose name starts with
 * "libmemhook") with the anonymous .bss right after its last segment;
 * the libraries only the preload needs (its DT_NEEDED closure less the
 * program's, so libc stays the program's and libunwind is memhook's);
 * and the preload's anonymous tables, which the preload lists in its
 * registry (memhook/own.h) since the kernel cannot name anonymous memory
 * everywhere. The registry is program-writable memory: a range is used
 * only where /proc/PID/maps shows private anonymous memory under it.
 *
 * Never writes to the process, never prints.
 */
#include "recorder/own.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "memhook/own.h"
#include "recorder/pagemap.h"

#define PRELOAD_PREFIX "libmemhook"
#define RING_NAME "memhook-ring"
/* Libraries followed through DT_NEEDED, at most (each side). */
#define CLOSURE_MAX 64
/* A TLS block larger than this is not the preload's (a forged registry). */
#define TLS_MAX_BYTES (1U << 20)
/* pagemap entries read at once. */
#define ENTRIES_PER_READ 4096
/* Runs of present pages asked for at once. */
#define RUNS_PER_SCAN 64
/* Runs of present pages this close are read as one: an entry costs less than a read. */
#define RUN_GAP_PAGES 512
/*
 * Spans of at most this many pages are read whole, with the spans that
 * end within as many pages of their start: one page of entries.
 */
#define NEAR_PAGES 512

/* Set once the kernel had no PAGEMAP_SCAN: every entry is read from then on. */
static bool scan_refused;

/* Sonames and the mapped files they resolved to. */
struct closure {
	const char *paths[CLOSURE_MAX];	/* into the maps */
	size_t count;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static bool is_preload_file(const struct mh_map *m)
{
	return m->inode && !strncmp(base_name(m->path), PRELOAD_PREFIX, strlen(PRELOAD_PREFIX));
}

/* The mapped file soname loads as: "libunwind.so.8" is ".../libunwind.so.8.0.1". */
static const char *mapped_soname(const struct mh_maps *maps, const char *soname)
{
	size_t len = strlen(soname);

	for (size_t i = 0; i < maps->count; i++) {
		const char *b = base_name(maps->maps[i].path);

		if (maps->maps[i].inode && !strncmp(b, soname, len) && (!b[len] || b[len] == '.'))
			return maps->maps[i].path;
	}
	return NULL;
}

static bool closure_has(const struct closure *c, const char *path)
{
	for (size_t i = 0; i < c->count; i++) {
		if (!strcmp(c->paths[i], path))
			return true;
	}
	return false;
}

/*
 * The DT_NEEDED sonames of the files seen, by path and the device and
 * inode they were mapped from: every traced process asks for its closures
 * twice (exit figures, exit scan), most of them of the same few files,
 * and reading them with libelf cost ~0.2 ms per request. Shared by the
 * scan and sampler threads; dropped whole when full.
 */
#define NEEDED_CACHE_FILES 64

struct needed_entry {
	char *path;
	__u64 inode;
	unsigned int dev_major, dev_minor;
	char **sonames;			/* NULL-terminated */
};

static struct {
	pthread_mutex_t lock;
	struct needed_entry v[NEEDED_CACHE_FILES];
	size_t count;
} needed_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void needed_entry_free(struct needed_entry *e)
{
	for (char **n = e->sonames; n && *n; n++)
		free(*n);
	free(e->sonames);
	free(e->path);
}

/* The DT_NEEDED sonames of the file at path, NULL-terminated, read with libelf. NULL: no memory. */
static char **read_needed(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	char **v = calloc(CLOSURE_MAX + 1, sizeof(*v));
	Elf_Scn *scn = NULL;
	bool oom = !v;
	size_t n = 0;
	GElf_Shdr sh;

	while (!oom && elf && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNAMIC ?
				 elf_getdata(scn, NULL) : NULL;
		GElf_Dyn dyn;

		for (int i = 0; !oom && data && n < CLOSURE_MAX && gelf_getdyn(data, i, &dyn); i++) {
			const char *name = dyn.d_tag == DT_NEEDED ?
					   elf_strptr(elf, sh.sh_link, dyn.d_un.d_val) : NULL;

			if (name)
				oom = !(v[n++] = strdup(name));
		}
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (oom && v) {
		needed_entry_free(&(struct needed_entry){ .sonames = v });
		v = NULL;
	}
	return v;
}

/* The mapping path is mapped from (its file's identity), or NULL. */
static const struct mh_map *mapping_of(const struct mh_maps *maps, const char *path)
{
	for (size_t i = 0; i < maps->count; i++) {
		if (maps->maps[i].inode && !strcmp(maps->maps[i].path, path))
			return &maps->maps[i];
	}
	return NULL;
}

/*
 * Call add(c, maps, soname) for each DT_NEEDED soname of the mapped file
 * path, from the cache when the same file was read before.
 */
static void for_each_needed(struct closure *c, const struct mh_maps *maps, const char *path,
			    void (*add)(struct closure *, const struct mh_maps *, const char *))
{
	const struct mh_map *m = mapping_of(maps, path);
	struct needed_entry *e = NULL;
	char **sonames;

	pthread_mutex_lock(&needed_cache.lock);
	for (size_t i = 0; m && i < needed_cache.count && !e; i++) {
		struct needed_entry *x = &needed_cache.v[i];

		if (x->inode == m->inode && x->dev_major == m->dev_major &&
		    x->dev_minor == m->dev_minor && !strcmp(x->path, path))
			e = x;
	}
	sonames = e ? e->sonames : read_needed(path);
	if (!e && sonames && m) {
		if (needed_cache.count == NEEDED_CACHE_FILES) {
			while (needed_cache.count)
				needed_entry_free(&needed_cache.v[--needed_cache.count]);
		}
		e = &needed_cache.v[needed_cache.count];
		*e = (struct needed_entry){ .path = strdup(path), .inode = m->inode,
					    .dev_major = m->dev_major, .dev_minor = m->dev_minor,
					    .sonames = sonames };
		if (e->path)
			needed_cache.count++;
		else
			e = NULL;	/* out of memory: used once, below */
	}
	for (char **n = sonames; n && *n; n++)
		add(c, maps, *n);
	pthread_mutex_unlock(&needed_cache.lock);
	if (!e && sonames)
		needed_entry_free(&(struct needed_entry){ .sonames = sonames });
}

static void add_soname(struct closure *c, const struct mh_maps *maps, const char *soname)
{
	const char *mapped = mapped_soname(maps, soname);

	if (mapped && !closure_has(c, mapped) && c->count < CLOSURE_MAX)
		c->paths[c->count++] = mapped;
}

/* Add path and, through the DT_NEEDED entries of its file, what it loads. */
static void closure_add(struct closure *c, const struct mh_maps *maps, const char *path)
{
	size_t next = c->count;

	if (closure_has(c, path) || c->count == CLOSURE_MAX)
		return;
	c->paths[c->count++] = path;
	for (; next < c->count; next++)
		for_each_needed(c, maps, c->paths[next], add_soname);
}

/* The program's executable as mapped, or NULL. */
static const char *mapped_exe(pid_t pid, const struct mh_maps *maps)
{
	char link[64], exe[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (size_t i = 0; i < maps->count; i++) {
		if (maps->maps[i].inode && !strcmp(maps->maps[i].path, exe))
			return maps->maps[i].path;
	}
	return NULL;
}

static int span_add(struct mh_own_map *own, size_t *cap, __u64 start, __u64 end,
		    enum mh_own_kind kind)
{
	if (own->count == *cap) {
		size_t grown = *cap ? 2 * *cap : 16;
		struct mh_own_span *spans = realloc(own->spans, grown * sizeof(*spans));

		if (!spans)
			return -ENOMEM;
		own->spans = spans;
		*cap = grown;
	}
	own->spans[own->count++] = (struct mh_own_span){ .start = start, .end = end, .kind = kind };
	return 0;
}

/*
 * The registry symbol's offset from the start of the preload's first
 * mapping, read with libelf: its value less the lowest PT_LOAD's page.
 * False if unknown.
 */
static bool registry_offset(const char *path, __u64 *offset)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf *elf = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
	__u64 load_vaddr = UINT64_MAX;
	bool found = false;
	Elf_Scn *scn = NULL;
	size_t phnum = 0;
	GElf_Phdr ph;
	GElf_Shdr sh;
	GElf_Sym sym;

	for (size_t i = 0; elf && !elf_getphdrnum(elf, &phnum) && i < phnum; i++) {
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_vaddr < load_vaddr)
			load_vaddr = ph.p_vaddr & ~(__u64)(sysconf(_SC_PAGESIZE) - 1);
	}
	while (elf && load_vaddr != UINT64_MAX && !found && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *data = gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM ?
				 elf_getdata(scn, NULL) : NULL;

		for (int i = 0; data && gelf_getsym(data, i, &sym); i++) {
			const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);

			if (name && !strcmp(name, MH_OWN_REGISTRY_SYMBOL) && sym.st_value) {
				*offset = sym.st_value - load_vaddr;
				found = true;
				break;
			}
		}
	}
	elf_end(elf);
	if (fd >= 0)
		close(fd);
	return found;
}

/*
 * The last preload file whose registry offset was read, by its mapping's
 * identity: every own_find of every process (sampler ticks, exit figures,
 * exit scans) asks about the same file, and reading it with libelf was an
 * open and a walk of its symbols each time.
 */
static struct {
	pthread_mutex_t lock;
	char path[PATH_MAX];
	__u64 inode, offset;
	unsigned int dev_major, dev_minor;
	bool found;
} registry_cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Where the preload's registry is in pid: its first mapping's start plus the offset. 0: unknown. */
static __u64 registry_addr(const struct mh_map *first)
{
	__u64 addr;

	pthread_mutex_lock(&registry_cache.lock);
	if (registry_cache.inode != first->inode || registry_cache.dev_major != first->dev_major ||
	    registry_cache.dev_minor != first->dev_minor || strcmp(registry_cache.path, first->path)) {
		registry_cache.found = registry_offset(first->path, &registry_cache.offset);
		registry_cache.inode = first->inode;
		registry_cache.dev_major = first->dev_major;
		registry_cache.dev_minor = first->dev_minor;
		snprintf(registry_cache.path, sizeof(registry_cache.path), "%s", first->path);
	}
	addr = registry_cache.found ? first->start + registry_cache.offset : 0;
	pthread_mutex_unlock(&registry_cache.lock);
	return addr;
}

/* A registry range is used only inside one private anonymous mapping. */
static bool is_anon_under(const struct mh_maps *maps, __u64 start, __u64 end)
{
	const struct mh_map *m = mh_procmaps_find(maps, start);

	return m && !m->inode && !m->shared && end <= m->end && end > start &&
	       (m->path[0] == '\0' || !strncmp(m->path, "[anon:", 6));
}

static int add_registry(pid_t pid, const struct mh_maps *maps, const struct mh_map *lib,
			struct mh_own_map *own, size_t *cap)
{
	struct mh_own_registry reg;
	__u64 addr = registry_addr(lib), page = (__u64)sysconf(_SC_PAGESIZE);
	struct iovec local = { .iov_base = &reg, .iov_len = sizeof(reg) };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = sizeof(reg) };
	int err = 0;

	if (!addr || process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(reg) ||
	    reg.magic != MH_OWN_MAGIC)
		return 0;
	own->registry = true;
	if (reg.tls_bytes && reg.tls_bytes <= TLS_MAX_BYTES) {
		own->tls_offset = reg.tls_offset;
		own->tls_bytes = reg.tls_bytes;
	}
	for (__u32 i = 0; i < reg.range_count && i < MH_OWN_RANGES && !err; i++) {
		__u64 start = reg.ranges[i].start & ~(page - 1);
		__u64 end = (reg.ranges[i].start + reg.ranges[i].bytes + page - 1) & ~(page - 1);

		if (reg.ranges[i].bytes && is_anon_under(maps, start, end))
			err = span_add(own, cap, start, end, MH_OWN_TABLE);
	}
	return err;
}

static int by_start(const void *a, const void *b)
{
	const struct mh_own_span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The mappings of memhook's libraries, with the .bss after each one's last segment. */
static int add_libraries(pid_t pid, const struct mh_maps *maps, struct mh_own_map *own,
			 size_t *cap, const struct mh_map **preload)
{
	struct closure mine = { .count = 0 }, program = { .count = 0 };
	const char *exe = mapped_exe(pid, maps);
	int err = 0;

	for (size_t i = 0; i < maps->count && !*preload; i++) {
		if (is_preload_file(&maps->maps[i]) && maps->maps[i].offset == 0)
			*preload = &maps->maps[i];
	}
	if (!*preload)
		return 0;
	closure_add(&mine, maps, (*preload)->path);
	/* Without the program's own closure, only the preload itself is surely memhook's. */
	if (exe)
		closure_add(&program, maps, exe);
	else
		mine.count = 1;
	for (size_t i = 0; i < maps->count && !err; i++) {
		const struct mh_map *m = &maps->maps[i], *prev = i ? &maps->maps[i - 1] : NULL;
		bool lib = m->inode && closure_has(&mine, m->path) && !closure_has(&program, m->path);
		bool bss = !m->inode && !m->path[0] && prev && prev->end == m->start &&
			   prev->inode && closure_has(&mine, prev->path) &&
			   !closure_has(&program, prev->path) && (prev->prot & PROT_WRITE);

		if (lib || bss)
			err = span_add(own, cap, m->start, m->end, MH_OWN_LIBRARY);
	}
	return err;
}

int mh_own_find(pid_t pid, const struct mh_maps *maps, struct mh_own_map *out)
{
	const struct mh_map *preload = NULL;
	size_t cap = 0;
	int err;

	memset(out, 0, sizeof(*out));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	for (size_t i = 0; i < maps->count; i++) {
		const struct mh_map *m = &maps->maps[i];

		if (strstr(m->path, RING_NAME) && m->shared) {
			err = span_add(out, &cap, m->start, m->end, MH_OWN_RING);
			if (err)
				goto fail;
		}
	}
	err = add_libraries(pid, maps, out, &cap, &preload);
	if (!err && preload)
		err = add_registry(pid, maps, preload, out, &cap);
	if (err)
		goto fail;
	qsort(out->spans, out->count, sizeof(*out->spans), by_start);
	return 0;
fail:
	mh_own_free(out);
	return err;
}

void mh_own_free(struct mh_own_map *own)
{
	free(own->spans);
	memset(own, 0, sizeof(*own));
}

const struct mh_own_span *mh_own_span_at(const struct mh_own_map *own, __u64 addr)
{
	size_t lo = 0, hi = own->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < own->spans[mid].start)
			hi = mid;
		else if (addr >= own->spans[mid].end)
			lo = mid + 1;
		else
			return &own->spans[mid];
	}
	return NULL;
}

/* Add the present pages among n entries of a span of kind to out. */
static void count_present(const __u64 *entries, size_t n, enum mh_own_kind kind, __u64 page,
			  struct mh_own_bytes *out)
{
	for (size_t i = 0; i < n; i++) {
		if (!(entries[i] & MH_PAGEMAP_PRESENT))
			continue;
		if (!(entries[i] & MH_PAGEMAP_FILE)) {
			/*
			 * The shared zero page (read, never written) is
			 * neither exclusive nor dirty, and in no RSS counter.
			 */
			if (entries[i] & (MH_PAGEMAP_EXCLUSIVE | MH_PAGEMAP_SOFT_DIRTY))
				out->anon += page;
		} else if (kind == MH_OWN_RING) {
			out->shmem += page;
		} else {
			out->file += page;
		}
	}
}

/* Count the pages [start, end) of a span of kind from their pagemap entries. */
static int measure_pages(int fd, __u64 start, __u64 end, enum mh_own_kind kind, __u64 page,
			 struct mh_own_bytes *out)
{
	__u64 entries[ENTRIES_PER_READ];
	int err = 0;

	for (__u64 at = start / page; at < end / page && !err;) {
		size_t n = end / page - at < ENTRIES_PER_READ ? (size_t)(end / page - at) :
			   ENTRIES_PER_READ;

		err = mh_pagemap_entries(fd, at, n, entries);
		if (!err)
			count_present(entries, n, kind, page, out);
		at += n;
	}
	return err;
}

/*
 * Count the pages of a span of more than NEAR_PAGES, reading the entries of
 * its present runs only (runs closer than RUN_GAP_PAGES read as one): the
 * ring and the big tables are mostly untouched, and an entry read for
 * each of their pages was most of the work of a short program's exit
 * figures. 1 if the kernel cannot tell the runs (before Linux 6.7), else
 * 0 or -errno.
 */
static int measure_present(int fd, const struct mh_own_span *sp, __u64 page,
			   struct mh_own_bytes *out)
{
	struct mh_pagemap_run runs[RUNS_PER_SCAN];
	int n, err = 0;

	for (__u64 at = sp->start; at < sp->end && !err;) {
		__u64 next;

		n = mh_pagemap_present(fd, at, sp->end, runs, RUNS_PER_SCAN, &next);
		if ((n == -ENOTTY || n == -EINVAL) && at == sp->start) {
			__atomic_store_n(&scan_refused, true, __ATOMIC_RELAXED);
			return 1;
		}
		if (n < 0)
			return n;
		for (int i = 0, j; i < n && !err; i = j) {
			for (j = i + 1; j < n && runs[j].start - runs[j - 1].end <= RUN_GAP_PAGES * page;)
				j++;
			err = measure_pages(fd, runs[i].start, runs[j - 1].end, sp->kind, page, out);
		}
		/* A full vector stops the scan at its last run's end: never short of at. */
		at = next > at ? next : sp->end;
	}
	return err;
}

/* Is the span big enough to be read a run at a time? */
static bool is_big(const struct mh_own_span *sp, __u64 page)
{
	return (sp->end - sp->start) / page > NEAR_PAGES;
}

/*
 * Count the small spans from `from` on that end within NEAR_PAGES of its
 * start (a library's segments and .bss are next to each other) with one
 * read. Returns how many spans it counted, or -errno.
 */
static int measure_near(int fd, const struct mh_own_map *own, size_t from, __u64 page,
			struct mh_own_bytes *out)
{
	const struct mh_own_span *sp = own->spans;
	__u64 entries[NEAR_PAGES];
	size_t to = from + 1;
	int err;

	while (to < own->count && sp[to].end - sp[from].start <= NEAR_PAGES * page)
		to++;
	err = mh_pagemap_entries(fd, sp[from].start / page, (sp[to - 1].end - sp[from].start) / page,
				 entries);
	for (size_t i = from; !err && i < to; i++)
		count_present(entries + (sp[i].start - sp[from].start) / page,
			      (sp[i].end - sp[i].start) / page, sp[i].kind, page, out);
	return err ? err : (int)(to - from);
}

int mh_own_measure(pid_t pid, const struct mh_own_map *own, struct mh_own_bytes *out)
{
	__u64 page = (__u64)sysconf(_SC_PAGESIZE), entry;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (!own->count)
		return 0;
	fd = mh_pagemap_open(pid);
	if (fd < 0)
		return fd;
	for (size_t s = 0; s < own->count && err >= 0;) {
		const struct mh_own_span *sp = &own->spans[s];

		if (!is_big(sp, page)) {
			err = measure_near(fd, own, s, page, out);
			s += err > 0 ? (size_t)err : 0;
			continue;
		}
		err = __atomic_load_n(&scan_refused, __ATOMIC_RELAXED) ? 1 :
		      measure_present(fd, sp, page, out);
		if (err == 1)
			err = measure_pages(fd, sp->start, sp->end, sp->kind, page, out);
		s++;
	}
	/* A scan finds no page in a process that is gone: its entries cannot be read. */
	if (err >= 0)
		err = mh_pagemap_entries(fd, own->spans[0].start / page, 1, &entry);
	close(fd);
	return err;
}

int mh_own_sample(pid_t pid, const struct mh_own_map *own, __u64 ts_ns, __u64 hwm_bytes,
		  __u32 flags, struct mh_rec_own_sample *rec)
{
	struct mh_own_bytes b;
	int err = mh_own_measure(pid, own, &b);

	if (err)
		return err;
	*rec = (struct mh_rec_own_sample){
		.hdr = { .type = MH_REC_OWN_SAMPLE, .size = sizeof(*rec) },
		.ring_start = UINT64_MAX,
		.ts_ns = ts_ns,
		.anon_bytes = b.anon,
		.file_bytes = b.file,
		.shmem_bytes = b.shmem,
		.hwm_bytes = hwm_bytes,
		.pid = (__u32)pid,
		.flags = flags | (own->registry ? MH_OWN_TABLES_KNOWN : 0),
	};
	for (size_t i = 0; i < own->count; i++) {
		if (own->spans[i].kind != MH_OWN_RING)
			continue;
		if (own->spans[i].start < rec->ring_start)
			rec->ring_start = own->spans[i].start;
		if (own->spans[i].end > rec->ring_end)
			rec->ring_end = own->spans[i].end;
	}
	if (rec->ring_start == UINT64_MAX)
		rec->ring_start = 0;
	return 0;
}
