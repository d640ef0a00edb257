// SPDX-License-Identifier: MIT
/*
 * modules.c - tell the recorder which ELF objects are loaded and where:
 * path, load bias, PT_LOAD segments and GNU build-id. All of them once at
 * start (dl_iterate_phdr); afterwards each object the first time a new
 * stack passes through it (objects.c, without the loader's lock).
 *
 * Never allocates through malloc, never prints, and takes no lock inside
 * the hooks: the table of sent objects is append-only, its entries claimed
 * with an atomic counter and published with a release store.
 *
 * What the recorder learns, and when: every object loaded at start; a
 * dlopen'ed object before the first stack through it (objects never on a
 * stack are not needed to name a frame); an unloaded object when another
 * object is seen where it was. An object sent at start is identified by
 * _dl_find_object's answer for its first segment, so a later lookup
 * recognises it.
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

#include "preload/objects.h"
#include "preload/sys.h"

/* Objects remembered at once; past this, new ones are sent at every sighting. */
#define MAX_MODULES 4096
/* Bytes of a note's name and descriptor alignment in a 4-aligned PT_NOTE. */
#define NOTE_ALIGN 4

enum {
	SLOT_EMPTY = 0,		/* claimed, not written yet */
	SLOT_SENT = 1,		/* its MODULE record is in the ring (or going in) */
	SLOT_GONE = 2,		/* unloaded (UNLOAD sent) or never sent: ignore */
};

struct module {
	uintptr_t map_start;	/* identity: _dl_find_object's mapping ... */
	uintptr_t map_end;
	const void *link_map;	/* ... and link map */
	__u64 bias;		/* dlpi_addr, for MODULE_UNLOAD */
	int state;		/* SLOT_*, written last (release) */
};

static struct module mods[MAX_MODULES];
static unsigned int nmods;

struct sender {
	struct mh_ring *ring;
	pid_t pid;
	const char *exe;
	__u64 now_ns;
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
 * The loader names the main program "" (the caller passes its path) and
 * keeps a relative dlopen() name as given; the merger opens modules long
 * after, from another directory, so make it absolute. realpath() with a
 * caller's buffer only allocates for paths longer than PATH_MAX, and the
 * caller holds the recursion guard, so that would pass straight through.
 */
static const char *module_path(const struct dl_phdr_info *info, const struct sender *s,
			       char *resolved)
{
	const ElfW(Ehdr) *vdso = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);

	if (vdso && (const char *)info->dlpi_phdr == (const char *)vdso + vdso->e_phoff)
		return "[vdso]";
	if (!info->dlpi_name || !*info->dlpi_name)
		return s->exe;
	if (info->dlpi_name[0] != '/' && realpath(info->dlpi_name, resolved))
		return resolved;
	return info->dlpi_name;
}

static int send_module(struct sender *s, const struct dl_phdr_info *info)
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

static int send_unload(struct sender *s, __u64 bias)
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

/*
 * Send the object and remember it as sent (a slot is claimed first, so
 * nothing waits for anything). A refused record leaves the slot GONE, so
 * the object is tried again at its next sighting.
 */
static void send_and_remember(struct sender *s, const struct mh_object *o)
{
	unsigned int i = __atomic_fetch_add(&nmods, 1, __ATOMIC_ACQ_REL);
	struct module *m = i < MAX_MODULES ? &mods[i] : NULL;

	if (i >= MAX_MODULES)
		__atomic_store_n(&nmods, MAX_MODULES, __ATOMIC_RELAXED);
	if (m) {
		*m = (struct module){ o->map_start, o->map_end, o->link_map, o->info.dlpi_addr,
				      SLOT_EMPTY };
		__atomic_store_n(&m->state, SLOT_SENT, __ATOMIC_RELEASE);
	}
	if (!s->err)
		s->err = send_module(s, &o->info);
	if (s->err && m)
		__atomic_store_n(&m->state, SLOT_GONE, __ATOMIC_RELEASE);
}

static bool same_object(const struct module *m, const struct mh_object *o)
{
	return m->map_start == o->map_start && m->map_end == o->map_end &&
	       m->link_map == o->link_map && m->bias == o->info.dlpi_addr;
}

/* Sent already? Else unload what it took the place of. */
static bool known(struct sender *s, const struct mh_object *o)
{
	unsigned int n = __atomic_load_n(&nmods, __ATOMIC_ACQUIRE), i;

	for (i = 0; i < n && i < MAX_MODULES; i++) {
		struct module *m = &mods[i];
		int state = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);

		if (state == SLOT_SENT && same_object(m, o))
			return true;
	}
	for (i = 0; i < n && i < MAX_MODULES; i++) {
		struct module *m = &mods[i];
		int state = SLOT_SENT;

		if (m->map_start >= o->map_end || o->map_start >= m->map_end ||
		    same_object(m, o))
			continue;
		/* Exactly one thread unloads each: the one that moves it to GONE. */
		if (__atomic_compare_exchange_n(&m->state, &state, SLOT_GONE, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) &&
		    !s->err)
			s->err = send_unload(s, m->bias);
	}
	return false;
}

int mh_modules_note(struct mh_ring *ring, pid_t pid, const char *exe_path, const __u64 *ips,
		    unsigned int n)
{
	struct sender s = { .ring = ring, .pid = pid, .exe = exe_path };
	struct mh_object o = { .map_end = 0 };
	unsigned int i;

	for (i = 0; i < n && !s.err; i++) {
		/* A return address points after its call: look up the call itself. */
		uintptr_t ip = (uintptr_t)ips[i] - 1;

		if (ip - o.map_start < o.map_end - o.map_start)
			continue;
		if (!mh_object_at(ip, &o)) {
			o.map_start = o.map_end = 0;
			continue;
		}
		if (known(&s, &o))
			continue;
		if (!s.now_ns)
			s.now_ns = mh_now_ns();
		send_and_remember(&s, &o);
	}
	return s.err;
}

/* One object of the start scan: its identity comes from _dl_find_object. */
static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sender *s = arg;
	struct mh_object o = { .info = *info };
	unsigned int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		struct mh_object found;

		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		if (mh_object_at(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr, &found)) {
			o.map_start = found.map_start;
			o.map_end = found.map_end;
			o.link_map = found.link_map;
		}
		break;
	}
	send_and_remember(s, &o);
	return s->err ? 1 : 0;
}

int mh_modules_scan(struct mh_ring *ring, pid_t pid, const char *exe_path)
{
	struct sender s = { .ring = ring, .pid = pid, .exe = exe_path, .now_ns = mh_now_ns() };

	__atomic_store_n(&nmods, 0, __ATOMIC_RELEASE);
	dl_iterate_phdr(scan_one, &s);
	return s.err;
}
