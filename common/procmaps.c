// SPDX-License-Identifier: MIT
/*
 * procmaps.c - parse /proc/PID/maps.
 */
#include "common/procmaps.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Blanks as sscanf skips them. */
#define BLANKS " \t\n\v\f\r"

/*
 * A number in base 10 or 16 at *s, which must end with `end` (*s moves
 * past it) or, for end 0, with a blank or the line's end (*s moves to it).
 */
static bool field(const char **s, unsigned int base, char end, __u64 *v)
{
	const char *p = *s;
	__u64 x = 0;

	for (;; p++) {
		unsigned int d = base;

		if (*p >= '0' && *p <= '9')
			d = (unsigned int)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned int)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned int)(*p - 'A' + 10);
		if (d >= base)
			break;
		x = x * base + d;
	}
	if (p == *s || (end ? *p != end : *p && !strchr(BLANKS, *p)))
		return false;
	*s = end ? p + 1 : p;
	*v = x;
	return true;
}

/*
 * One line as the kernel writes it: "start-end perms offset major:minor
 * inode", blanks, then the path (none for anonymous memory). Parsed by
 * hand: sscanf was most of the cost of reading a process's maps, which
 * the sampler and each exit scan do.
 */
static int parse_line(const char *line, struct mh_map *map)
{
	const char *p = line, *perms;
	__u64 major, minor;

	if (!field(&p, 16, '-', &map->start) || !field(&p, 16, ' ', &map->end))
		return -EPROTO;
	perms = p;
	if (strnlen(perms, 5) < 5 || perms[4] != ' ')
		return -EPROTO;
	p += 5;
	if (!field(&p, 16, ' ', &map->offset) || !field(&p, 16, ':', &major) ||
	    !field(&p, 16, ' ', &minor) || !field(&p, 10, 0, &map->inode) ||
	    major > UINT_MAX || minor > UINT_MAX)
		return -EPROTO;
	map->dev_major = (unsigned int)major;
	map->dev_minor = (unsigned int)minor;
	map->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
	map->shared = perms[3] == 's';
	p += strspn(p, BLANKS);
	map->path = strndup(p, strcspn(p, "\n"));
	return map->path ? 0 : -ENOMEM;
}

int mh_procmaps_read(pid_t pid, struct mh_maps *out)
{
	char name[64], *line = NULL, buf[16384];
	size_t line_cap = 0, capacity = 0;
	FILE *f;
	int err = 0;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	/* /proc says 1 KiB blocks: a read for every ten lines, each walking the mappings anew. */
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	while (getline(&line, &line_cap, f) > 0) {
		if (out->count == capacity) {
			size_t grown = capacity ? 2 * capacity : 64;
			struct mh_map *maps = realloc(out->maps, grown * sizeof(*maps));

			if (!maps) {
				err = -ENOMEM;
				break;
			}
			out->maps = maps;
			capacity = grown;
		}
		err = parse_line(line, &out->maps[out->count]);
		if (err)
			break;
		out->count++;
	}
	free(line);
	fclose(f);
	if (err)
		mh_procmaps_free(out);
	return err;
}

void mh_procmaps_free(struct mh_maps *maps)
{
	for (size_t i = 0; i < maps->count; i++)
		free(maps->maps[i].path);
	free(maps->maps);
	memset(maps, 0, sizeof(*maps));
}

const struct mh_map *mh_procmaps_find(const struct mh_maps *maps, __u64 addr)
{
	size_t lo = 0, hi = maps->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct mh_map *m = &maps->maps[mid];

		if (addr < m->start)
			hi = mid;
		else if (addr >= m->end)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}
