// SPDX-License-Identifier: MIT
/*
 * temp_trace.c - private temporary trace files.
 */
#include "cli/temp_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *mh_temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

int mh_temp_trace(char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "%s/memhook.XXXXXX.mht", mh_temp_dir());
	fd = mkstemps(buf, 4);	/* mode 0600 */
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}
