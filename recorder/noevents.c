// SPDX-License-Identifier: MIT
/*
 * noevents.c - why no allocation event came from a program (noevents.h).
 * Reads the executable's program headers with libelf and its mode and
 * capabilities with stat/getxattr; never runs anything.
 */
#include "recorder/noevents.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The program's path as execvp() finds it; false if it is not found. */
static bool resolve(const char *prog, char *path, size_t len)
{
	const char *dirs = getenv("PATH"), *end;

	if (strchr(prog, '/')) {
		snprintf(path, len, "%s", prog);
		return access(path, X_OK) == 0;
	}
	if (!dirs)
		dirs = "/usr/local/bin:/usr/bin:/bin";
	for (; *dirs; dirs = *end ? end + 1 : end) {
		end = strchrnul(dirs, ':');
		snprintf(path, len, "%.*s%s%s", (int)(end - dirs), dirs, end > dirs ? "/" : "", prog);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

/* 1 if path is an ELF file without a PT_INTERP header, 0 if it has one, -errno if unknown. */
static int is_static_elf(const char *path)
{
	size_t i, count;
	GElf_Phdr ph;
	Elf *elf;
	int fd, ret = 1;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &count)) {
		ret = -ENOEXEC;	/* a script, or not an executable memhook can read */
		goto out;
	}
	for (i = 0; i < count; i++) {
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP) {
			ret = 0;
			break;
		}
	}
out:
	elf_end(elf);
	close(fd);
	return ret;
}

void mh_noevents_reason(const char *prog, uid_t uid, gid_t gid, char *why, size_t len)
{
	char path[PATH_MAX];
	struct stat st;

	if (!resolve(prog, path, sizeof(path)) || stat(path, &st) < 0) {
		snprintf(why, len, "the preload library did not load into '%s'", prog);
		return;
	}
	if (is_static_elf(path) == 1) {
		snprintf(why, len, "'%s' is statically linked: without the dynamic loader the preload library cannot load",
			 path);
	} else if ((st.st_mode & S_ISUID) && st.st_uid != uid) {
		snprintf(why, len, "'%s' is set-user-ID: the dynamic loader ignores LD_PRELOAD for it",
			 path);
	} else if ((st.st_mode & S_ISGID) && st.st_gid != gid) {
		snprintf(why, len, "'%s' is set-group-ID: the dynamic loader ignores LD_PRELOAD for it",
			 path);
	} else if (getxattr(path, "security.capability", NULL, 0) > 0) {
		snprintf(why, len, "'%s' has file capabilities: the dynamic loader ignores LD_PRELOAD for it",
			 path);
	} else {
		snprintf(why, len, "the preload library did not load into '%s' (it may clear LD_PRELOAD or run through a static or set-user-ID program)",
			 path);
	}
}
