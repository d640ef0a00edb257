// SPDX-License-Identifier: MIT
/*
 * procmaps.c - parse /proc/PID/maps.
 */
#include "common/procmaps.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static int parse_line(const char *line, struct mh_map *map)
{
	char perms[5] = "";
	int path_at = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n",
		   (uint64_t *)&map->start, (uint64_t *)&map->end, perms,
		   (uint64_t *)&map->offset, &map->dev_major, &map->dev_minor,
		   (uint64_t *)&map->inode, &path_at) < 7)
		return -EPROTO;
	map->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		    (perms[2] == 'x' ? PROT_EXEC : 0);
	map->shared = perms[3] == 's';
	map->path = strndup(line + path_at, strcspn(line + path_at, "\n"));
	return map->path ? 0 : -ENOMEM;
}

int mh_procmaps_read(pid_t pid, struct mh_maps *out)
{
	char name[64], *line = NULL;
	size_t line_cap = 0, capacity = 0;
	FILE *f;
	int err = 0;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "/proc/%d/maps", (int)pid);
	f = fopen(name, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
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
