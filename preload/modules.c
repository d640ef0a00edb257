// SPDX-License-Identifier: MIT
/*
 * modules.c - tell the recorder which ELF objects are loaded and where:
 * path, load bias, PT_LOAD segments and GNU build-id, from
 * dl_iterate_phdr, at start and whenever its add/remove counters move.
 *
 * Never allocates through malloc and never prints. Takes no lock of its
 * own: scans run under the loader's lock (see sync_locked).
 */
#include "preload/modules.h"

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/sys.h"

/* Objects tracked at once; past this, new ones are sent but not diffed. */
#define MAX_MODULES 4096
/* Bytes of a note's name and descriptor alignment in a 4-aligned PT_NOTE. */
#define NOTE_ALIGN 4

struct module {
	const void *phdr;	/* identity while loaded */
	__u64 bias;		/* dlpi_addr */
	__u32 gen;		/* scan generation that last saw it */
};

static struct module mods[MAX_MODULES];
static unsigned int nmods;
static __u32 scan_gen;
static unsigned long long seen_adds, seen_subs;
static bool synced;

struct scan {
	struct mh_ring *ring;
	pid_t pid;
	const char *exe;
	__u64 now_ns;
	unsigned long long adds, subs;
	bool first;
	bool force;
	int err;
};

static __u32 seg_prot(__u32 flags)
{
	return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
	       (flags & PF_X ? PROT_EXEC : 0);
}

static __u64 align_up(__u64 x, __u64 a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Copy the GNU build-id note into id; returns its length, 0 if none. */
static unsigned int build_id(const struct dl_phdr_info *info, __u8 *id)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const unsigned char *p, *end;
		__u64 a = ph->p_align == 8 ? 8 : NOTE_ALIGN;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const unsigned char *name = p + sizeof(*nh);
			const unsigned char *desc = name + align_up(nh->n_namesz, a);

			if (desc + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(name, "GNU", 4)) {
				unsigned int len = nh->n_descsz < MH_BUILD_ID_MAX ? nh->n_descsz :
										    MH_BUILD_ID_MAX;

				memcpy(id, desc, len);
				return len;
			}
			p = desc + align_up(nh->n_descsz, a);
		}
	}
	return 0;
}

/*
 * dlopen() keeps a relative name as it was given; the merger opens modules
 * long after, from another directory, so make it absolute. realpath() with
 * a caller's buffer only allocates for paths longer than PATH_MAX, and the
 * caller holds the recursion guard, so that would pass straight through.
 */
static const char *module_path(const struct dl_phdr_info *info, const struct scan *s,
			       char *resolved)
{
	const ElfW(Ehdr) *vdso = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);

	if (vdso && (const char *)info->dlpi_phdr == (const char *)vdso + vdso->e_phoff)
		return "[vdso]";
	if (s->first || !info->dlpi_name || !*info->dlpi_name)
		return s->exe;
	if (info->dlpi_name[0] != '/' && realpath(info->dlpi_name, resolved))
		return resolved;
	return info->dlpi_name;
}

static int send_module(struct scan *s, const struct dl_phdr_info *info)
{
	char resolved[PATH_MAX];
	const char *path = module_path(info, s, resolved);
	size_t path_len = strlen(path);
	unsigned int nseg = 0, i;
	struct mh_module_segment *seg;
	struct mh_rec_module *r;
	__u32 bytes;

	for (i = 0; i < info->dlpi_phnum; i++)
		nseg += info->dlpi_phdr[i].p_type == PT_LOAD;
	bytes = (__u32)(sizeof(*r) + nseg * sizeof(*seg) + MH_REC_PAD(path_len + 1));
	r = mh_ring_reserve(s->ring, bytes);
	if (!r)
		return -EPIPE;
	r->ts_ns = s->now_ns;
	r->load_bias = info->dlpi_addr;
	r->pid = (__u32)s->pid;
	r->segment_count = (__u16)nseg;
	r->build_id_len = (__u8)build_id(info, r->build_id);
	r->path_len = (__u32)path_len;
	seg = (struct mh_module_segment *)(r + 1);
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		seg->start = info->dlpi_addr + ph->p_vaddr;
		seg->size = ph->p_memsz;
		seg->file_offset = ph->p_offset;
		seg->prot = seg_prot(ph->p_flags);
		seg++;
	}
	/* The ring hands out zeroed bytes: the NUL and the padding are there. */
	memcpy(seg, path, path_len);
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_MODULE, .size = bytes });
	return 0;
}

static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	unsigned int i;

	if (s->first) {
		s->adds = info->dlpi_adds;
		s->subs = info->dlpi_subs;
	}
	for (i = 0; i < nmods; i++) {
		if (mods[i].phdr == info->dlpi_phdr && mods[i].bias == info->dlpi_addr) {
			mods[i].gen = scan_gen;
			break;
		}
	}
	/* Remembered only once sent: a lossy ring may drop it, and then it goes again. */
	if (i == nmods && !s->err) {
		s->err = send_module(s, info);
		if (!s->err && nmods < MAX_MODULES)
			mods[nmods++] = (struct module){ info->dlpi_phdr, info->dlpi_addr, scan_gen };
	}
	s->first = false;
	return 0;
}

static int send_unload(struct scan *s, __u64 bias)
{
	struct mh_rec_module_unload *r = mh_ring_reserve(s->ring, sizeof(*r));

	if (!r)
		return -EPIPE;
	r->ts_ns = s->now_ns;
	r->load_bias = bias;
	r->pid = (__u32)s->pid;
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_MODULE_UNLOAD, .size = sizeof(*r) });
	return 0;
}

static bool unchanged(const struct dl_phdr_info *info)
{
	return synced && seen_adds == info->dlpi_adds && seen_subs == info->dlpi_subs;
}

/*
 * Called for the first object only: dl_iterate_phdr holds the loader's
 * (recursive) lock around it, and the scan runs nested inside, under that
 * same lock. So scans are serialised by the loader's lock alone, with no
 * lock of ours to order against it: a program that allocates inside its
 * own dl_iterate_phdr callback cannot deadlock with a scan.
 */
static int sync_locked(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	unsigned int i, kept = 0;

	if (!s->force && unchanged(info))
		return 1;
	if (s->force)
		nmods = 0;
	scan_gen++;
	s->now_ns = mh_now_ns();
	dl_iterate_phdr(scan_one, s);
	for (i = 0; i < nmods; i++) {
		if (mods[i].gen != scan_gen && !s->err) {
			s->err = send_unload(s, mods[i].bias);
			if (!s->err)
				continue;
		}
		mods[kept++] = mods[i];
	}
	nmods = kept;
	/* After a refused record the counters stay stale, so the next sync retries. */
	if (!s->err) {
		seen_adds = s->adds;
		seen_subs = s->subs;
		synced = true;
	}
	return 1;
}

int mh_modules_sync(struct mh_ring *ring, pid_t pid, const char *exe_path, bool force)
{
	struct scan s = { .ring = ring, .pid = pid, .exe = exe_path, .first = true,
			  .force = force };

	dl_iterate_phdr(sync_locked, &s);
	return s.err;
}
