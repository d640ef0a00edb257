// SPDX-License-Identifier: MIT
/*
 * files.c - name the files behind file-backed faults (files.h).
 *
 * BPF sees a faulting vma's file only as (dev, ino): naming it there
 * would mean walking dentries in the fault path. Instead, at poll time, the
 * first fault naming an unknown (dev, ino) asks the faulting process's
 * /proc/PID/maps about the faulting address (the PROCMAP_QUERY ioctl,
 * Linux 6.11: one vma, not the whole file formatted and parsed, which
 * took a tenth of all CPU samples recording `git log -p`, a program that
 * maps thousands of object files in turn). Where the kernel lacks the
 * ioctl, the whole maps is read instead; it names every file the process
 * maps, so one read usually covers all its libraries. If that process is
 * gone or no longer maps the file, the other traced processes are asked,
 * then memhook's own maps (it maps the same libc and ld.so). Before that,
 * a file is opened by handle where its filesystem takes the common
 * (32-bit inode, generation) handle, as ext4 and xfs do: that names it
 * long after it was unmapped or its process exited (`git log -p` maps
 * and unmaps thousands of object files, most of them gone before the
 * collector gets to them), and the BPF side stops waking the collector
 * early for faults on such a filesystem (handle_devs). Once a handle has
 * named a file of a filesystem, its files are asked by handle first: the
 * query found most of them unmapped already (one wasted ioctl per object
 * file of `git log -p`, a fifth of the collector's syscalls). The path a
 * handle gives is kept only if it still leads to the same (dev, ino). What
 * cannot be named is counted, never guessed. Never prints.
 */
#include "kernel/files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>
#include <uthash.h>

#include "common/procmaps.h"

/* Longest path kept, bytes (longer ones are truncated). */
#define KFILE_PATH_MAX PATH_MAX

#ifndef PROCMAP_QUERY
/* The ioctl's ABI (include/uapi/linux/fs.h, Linux 6.11), for older headers. */
struct procmap_query {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#endif

enum file_state {
	FILE_KNOWN = 1,		/* path read from some maps, not announced yet */
	FILE_ANNOUNCED = 2,	/* its MH_REC_KFILE went out */
	FILE_UNRESOLVED = 3,	/* faults named it, no maps did */
};

struct file_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct file_entry {
	struct file_key key;
	enum file_state state;
	unsigned long round;	/* UNRESOLVED: the round it was last tried */
	pid_t pid;		/* whose maps named it */
	char *path;
	UT_hash_handle hh;
};

/* FILEID_INO32_GEN (include/linux/exportfs.h): a 32-bit inode, then its generation. */
#define HANDLE_INO32_GEN 1

/* How files on one filesystem (kernel dev_t) open by handle. */
struct dev_mount {
	__u32 dev;
	int fd;			/* a mount of its root, open; -1: handles do not work */
	bool named;		/* a handle named a file on it */
	bool told;		/* by_handle was called for it */
	UT_hash_handle hh;
};

struct mh_kfiles {
	struct file_entry *files;
	struct dev_mount *mounts;
	unsigned long round;
	mh_kfiles_pids_fn others;
	mh_kfiles_dev_fn by_handle;
	void *ctx;
	pid_t self;		/* memhook's pid, for the files it names itself */
	/*
	 * The entry found last: a program faults a mapped file several times
	 * in a row, and every fault on a file is looked up twice (note, named).
	 */
	struct file_entry *last;
	int fd_dir;		/* /proc/self/fd, for the paths of handles; -1 not yet */
	/* The faulting process's maps, open for PROCMAP_QUERY; -1 none. */
	int query_fd;
	pid_t query_pid;
	bool no_query;		/* the kernel has no PROCMAP_QUERY */
	pid_t answered;		/* the query said this pid does not map the wanted file */
	char name[KFILE_PATH_MAX];
	/* Scratch for the fallback search. */
	const struct file_key *want;
	int err;
	union {
		struct mh_rec_kfile rec;
		char bytes[sizeof(struct mh_rec_kfile) + KFILE_PATH_MAX + MH_REC_ALIGN];
	} out;
};

struct mh_kfiles *mh_kfiles_new(mh_kfiles_pids_fn others, mh_kfiles_dev_fn by_handle, void *ctx)
{
	struct mh_kfiles *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->others = others;
	f->by_handle = by_handle;
	f->ctx = ctx;
	f->round = 1;
	f->query_fd = -1;
	f->fd_dir = -1;
	f->self = getpid();
	return f;
}

void mh_kfiles_free(struct mh_kfiles *f)
{
	struct file_entry *e, *tmp;
	struct dev_mount *m, *mtmp;

	if (!f)
		return;
	HASH_ITER(hh, f->files, e, tmp) {
		HASH_DEL(f->files, e);
		free(e->path);
		free(e);
	}
	HASH_ITER(hh, f->mounts, m, mtmp) {
		HASH_DEL(f->mounts, m);
		if (m->fd >= 0)
			close(m->fd);
		free(m);
	}
	if (f->query_fd >= 0)
		close(f->query_fd);
	if (f->fd_dir >= 0)
		close(f->fd_dir);
	free(f);
}

void mh_kfiles_next_round(struct mh_kfiles *f)
{
	f->round++;
}

size_t mh_kfiles_unresolved(const struct mh_kfiles *f)
{
	const struct file_entry *e;
	size_t n = 0;

	for (e = f->files; e; e = e->hh.next)
		n += e->state == FILE_UNRESOLVED;
	return n;
}

static struct file_entry *find(struct mh_kfiles *f, __u32 dev, __u64 ino)
{
	struct file_key key = { .ino = ino, .dev = dev };
	struct file_entry *e = f->last;

	/* Entries live as long as f: the last one found stays valid. */
	if (e && e->key.ino == ino && e->key.dev == dev)
		return e;
	HASH_FIND(hh, f->files, &key, sizeof(key), e);
	if (e)
		f->last = e;
	return e;
}

/* Remember path for (dev, ino) unless it is already named. 0 or -ENOMEM. */
static int learn(struct mh_kfiles *f, __u32 dev, __u64 ino, const char *path, pid_t pid)
{
	struct file_entry *e = find(f, dev, ino);
	char *copy;

	if (e && e->state != FILE_UNRESOLVED)
		return 0;
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e) {
			free(copy);
			return -ENOMEM;
		}
		e->key.ino = ino;
		e->key.dev = dev;
		HASH_ADD(hh, f->files, key, sizeof(e->key), e);
	}
	e->state = FILE_KNOWN;
	e->pid = pid;
	e->path = copy;
	return 0;
}

/*
 * Learn every file mapping of pid. Returns 0, -ESRCH when the maps cannot
 * be read (the process is gone), or -ENOMEM.
 */
static int read_maps(struct mh_kfiles *f, pid_t pid)
{
	struct mh_maps maps;
	size_t i;
	int err;

	err = mh_procmaps_read(pid, &maps);
	for (i = 0; !err && i < maps.count; i++) {
		const struct mh_map *m = &maps.maps[i];

		/* The kernel's dev_t: major in the bits above 20, as in struct super_block. */
		if (m->inode && m->path[0])
			err = learn(f, m->dev_major << 20 | m->dev_minor, m->inode, m->path, pid);
	}
	mh_procmaps_free(&maps);
	return err;
}

/* True once the wanted file has a path. */
static bool wanted_known(struct mh_kfiles *f)
{
	struct file_entry *e = find(f, f->want->dev, f->want->ino);

	return e && e->state == FILE_KNOWN;
}

/* Fallback search: read pid's maps; non-zero stops (found, or out of memory). */
static int try_pid(void *arg, pid_t pid)
{
	struct mh_kfiles *f = arg;
	int err;

	if (pid == f->answered)
		return 0;
	err = read_maps(f, pid);
	if (err == -ENOMEM) {
		f->err = err;
		return 1;
	}
	return wanted_known(f);
}

/*
 * Ask pid's maps which file is mapped at addr. 1: it names the wanted
 * file, now learned; 0: it does not (the vma is gone or holds another
 * file), so reading the whole maps would not name it either; -ENOTTY: no
 * answer (no ioctl, or the process is gone); -ENOMEM.
 */
static int query_vma(struct mh_kfiles *f, pid_t pid, __u64 addr)
{
	struct procmap_query q = {
		.size = sizeof(q),
		.query_flags = PROCMAP_QUERY_FILE_BACKED_VMA,
		.query_addr = addr,
		.vma_name_addr = (__u64)(uintptr_t)f->name,
		.vma_name_size = sizeof(f->name),
	};
	char path[64];
	int err;

	if (f->no_query)
		return -ENOTTY;
	for (int tries = 0;; tries++) {
		if (f->query_fd < 0 || f->query_pid != pid || tries) {
			if (f->query_fd >= 0)
				close(f->query_fd);
			snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
			f->query_fd = open(path, O_RDONLY | O_CLOEXEC);
			f->query_pid = pid;
			if (f->query_fd < 0)
				return -ENOTTY;
		}
		if (ioctl(f->query_fd, PROCMAP_QUERY, &q) == 0)
			break;
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTTY || errno == EINVAL) {
			f->no_query = true;
			return -ENOTTY;
		}
		/* ESRCH: the open file still names the image an exec replaced. */
		if (tries)
			return -ENOTTY;
	}
	if (q.inode != f->want->ino || (q.dev_major << 20 | q.dev_minor) != f->want->dev ||
	    !q.vma_name_size)
		return 0;
	err = learn(f, f->want->dev, f->want->ino, f->name, pid);
	return err ? err : 1;
}

/* The kernel's dev_t of a stat's st_dev (as in struct super_block). */
static __u32 kernel_dev(dev_t dev)
{
	return major(dev) << 20 | minor(dev);
}

/*
 * A mount of dev's root that opens (32-bit inode, generation) handles,
 * or -1. Learned from /proc/self/mountinfo once per filesystem:
 * mount points with escaped characters are passed over.
 */
static int open_mount(__u32 dev)
{
	char line[4096], root[PATH_MAX], point[PATH_MAX];
	struct {
		struct file_handle h;
		__u32 words[32];
	} fh;
	unsigned int maj, min;
	int fd = -1, mount_id;
	FILE *in = fopen("/proc/self/mountinfo", "re");

	while (in && fd < 0 && fgets(line, sizeof(line), in)) {
		if (sscanf(line, "%*d %*d %u:%u %4095s %4095s", &maj, &min, root, point) != 4 ||
		    (maj << 20 | min) != dev || strcmp(root, "/") || strchr(point, '\\'))
			continue;
		/* Not O_PATH: open_by_handle_at() refuses such a mount fd. */
		fd = open(point, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		fh.h.handle_bytes = sizeof(fh.words);
		/* Its root's handle says which kind the filesystem makes. */
		if (fd >= 0 && (name_to_handle_at(fd, "", &fh.h, &mount_id, AT_EMPTY_PATH) ||
				fh.h.handle_type != HANDLE_INO32_GEN ||
				fh.h.handle_bytes != 2 * sizeof(__u32))) {
			close(fd);
			fd = -1;
		}
	}
	if (in)
		fclose(in);
	return fd;
}

static struct dev_mount *mount_of(struct mh_kfiles *f, __u32 dev)
{
	struct dev_mount *m;

	HASH_FIND(hh, f->mounts, &dev, sizeof(dev), m);
	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->dev = dev;
	m->fd = open_mount(dev);
	HASH_ADD(hh, f->mounts, dev, sizeof(m->dev), m);
	return m;
}

/* Does st name (dev, ino), a file that still has a link? */
static bool same_file(const struct stat *st, __u32 dev, __u64 ino)
{
	return st->st_ino == ino && kernel_dev(st->st_dev) == dev && st->st_nlink;
}

/*
 * Name (dev, ino) from its handle. 1: named, now learned; 0: no handle
 * works (another filesystem, no generation, deleted, renamed meanwhile);
 * -ENOMEM.
 */
static int open_handle(struct mh_kfiles *f, __u32 dev, __u64 ino, __u32 gen)
{
	/* Generation 0 matches any (ext4): a reused inode number could be named. */
	struct dev_mount *m = ino <= UINT32_MAX && gen ? mount_of(f, dev) : NULL;
	struct {
		struct file_handle h;
		__u32 words[2];
	} fh = { .h = { .handle_bytes = sizeof(fh.words), .handle_type = HANDLE_INO32_GEN },
		 .words = { (__u32)ino, gen } };
	char link[16];
	struct stat st;
	ssize_t len;
	int fd, err;

	if (!m || m->fd < 0)
		return 0;
	if (f->fd_dir < 0)
		f->fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	fd = f->fd_dir < 0 ? -1 : open_by_handle_at(m->fd, &fh.h, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(link, sizeof(link), "%d", fd);
	len = readlinkat(f->fd_dir, link, f->name, sizeof(f->name) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	f->name[len] = '\0';
	/*
	 * The path must lead back to the file: a dentry the handle found
	 * outside the dcache has no full path, and a deleted file's ends in
	 * " (deleted)".
	 */
	if (f->name[0] != '/' || stat(f->name, &st) || !same_file(&st, dev, ino))
		return 0;
	/* The path is as memhook sees it, as when its own maps name a file. */
	err = learn(f, dev, ino, f->name, f->self);
	if (err)
		return err;
	m->named = true;
	if (f->by_handle && !m->told) {
		m->told = true;
		f->by_handle(f->ctx, dev);
	}
	return 1;
}

/*
 * Look (dev, ino) up for a fault of pid at addr, falling back as described
 * atop. 0 or -ENOMEM.
 */
static int resolve(struct mh_kfiles *f, __u32 dev, __u64 ino, __u32 gen, pid_t pid, __u64 addr)
{
	struct file_key key = { .ino = ino, .dev = dev };
	struct dev_mount *m = NULL;
	struct file_entry *e;
	bool handles_first;
	int asked, named;

	f->want = &key;
	f->err = 0;
	f->answered = 0;
	/* Handles name files on its filesystem: the cheapest way, mapped or not. */
	HASH_FIND(hh, f->mounts, &dev, sizeof(dev), m);
	handles_first = m && m->named;
	named = handles_first ? open_handle(f, dev, ino, gen) : 0;
	if (named)
		return named < 0 ? named : 0;
	asked = query_vma(f, pid, addr);
	/* Named by the query: the process's whole maps would cost ~100x more. */
	if (asked == -ENOMEM || asked == 1)
		return asked < 0 ? asked : 0;
	/* Gone from the process: its handle is the cheapest way left. */
	named = handles_first ? 0 : open_handle(f, dev, ino, gen);
	if (named)
		return named < 0 ? named : 0;
	/*
	 * The process answered that it no longer maps the file there: it was
	 * unmapped (a file read through mmap), so memhook's own libraries
	 * will not name it either; another traced process still may.
	 */
	if (asked == 0)
		f->answered = pid;
	else
		(void)try_pid(f, pid);	/* the outcome is read from the table below */
	if (!wanted_known(f) && !f->err && f->others)
		f->others(f->ctx, try_pid, f);
	if (!wanted_known(f) && !f->err && !f->answered)
		(void)try_pid(f, f->self);
	if (f->err)
		return f->err;
	if (wanted_known(f))
		return 0;
	e = find(f, dev, ino);
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e)
			return -ENOMEM;
		e->key = key;
		HASH_ADD(hh, f->files, key, sizeof(e->key), e);
	}
	e->state = FILE_UNRESOLVED;
	e->round = f->round;
	return 0;
}

/* Fill f->out with e's record. */
static const struct mh_rec_kfile *build(struct mh_kfiles *f, const struct file_entry *e,
					const struct mh_rec_kfault *fault)
{
	size_t len = strnlen(e->path, KFILE_PATH_MAX);
	size_t size = MH_REC_PAD(sizeof(f->out.rec) + len + 1);

	memset(f->out.bytes, 0, size);
	f->out.rec.hdr.type = MH_REC_KFILE;
	f->out.rec.hdr.size = size;
	f->out.rec.ts_ns = fault->ts_ns;
	f->out.rec.ino = e->key.ino;
	f->out.rec.dev = e->key.dev;
	f->out.rec.pid = e->pid;
	f->out.rec.path_len = len;
	f->out.rec.gen = fault->gen;
	memcpy(f->out.bytes + sizeof(f->out.rec), e->path, len);
	return &f->out.rec;
}

int mh_kfiles_note(struct mh_kfiles *f, const struct mh_rec_kfault *fault,
		   const struct mh_rec_kfile **rec)
{
	struct file_entry *e;
	int err;

	if ((fault->vma_class != MH_VMA_FILE && fault->vma_class != MH_VMA_SHMEM) || !fault->ino)
		return 0;
	e = find(f, fault->dev, fault->ino);
	if (e && (e->state == FILE_ANNOUNCED ||
		  (e->state == FILE_UNRESOLVED && e->round == f->round)))
		return 0;
	if (!e || e->state == FILE_UNRESOLVED) {
		err = resolve(f, fault->dev, fault->ino, fault->gen, fault->pid, fault->addr);
		if (err)
			return err;
		e = find(f, fault->dev, fault->ino);
		if (!e || e->state != FILE_KNOWN)
			return 0;
	}
	e->state = FILE_ANNOUNCED;
	*rec = build(f, e, fault);
	return 1;
}

bool mh_kfiles_named(struct mh_kfiles *f, const struct mh_rec_kfault *fault)
{
	const struct file_entry *e;

	if ((fault->vma_class != MH_VMA_FILE && fault->vma_class != MH_VMA_SHMEM) || !fault->ino)
		return false;
	e = find(f, fault->dev, fault->ino);
	return e && e->state == FILE_ANNOUNCED;
}
