// SPDX-License-Identifier: MIT
/*
 * follow.c - the replay of a trace being written (follow.h).
 *
 * The reader and the replay are kept between calls and only read what was
 * added since the last one, so a recording of many processes replays its
 * trace once, not once per request. A trace reader at the end of a
 * growing file returns 0 and reads on when more chunks come.
 */
#include "recorder/follow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/replay.h"
#include "trace/reader.h"

struct mh_follow {
	char *path;
	struct mh_trace_reader *reader;	/* NULL until the first catch-up */
	struct mh_replay *replay;
};

struct mh_follow *mh_follow_new(const char *path)
{
	struct mh_follow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	return f;
}

/* Drop the reader and the replay: the next catch-up starts afresh. */
static void reset(struct mh_follow *f)
{
	mh_trace_reader_free(f->reader);
	mh_replay_free(f->replay);
	f->reader = NULL;
	f->replay = NULL;
}

void mh_follow_free(struct mh_follow *f)
{
	if (!f)
		return;
	reset(f);
	free(f->path);
	free(f);
}

int mh_follow_catch_up(struct mh_follow *f, uint64_t max_records)
{
	const struct mh_rec_hdr *rec;
	uint64_t n = 0;
	int ret;

	if (!f->reader) {
		f->reader = mh_trace_reader_open(f->path);
		f->replay = f->reader ? mh_replay_new() : NULL;
		if (!f->replay) {
			ret = -errno;
			reset(f);
			return ret;
		}
	}
	while ((ret = mh_trace_reader_next(f->reader, MH_STREAM_ALLOC, &rec, NULL)) > 0) {
		ret = mh_replay_record(f->replay, rec);
		if (ret)
			break;
		if (max_records && ++n == max_records)
			return 1;
	}
	if (ret)
		reset(f);
	return ret;
}

struct mh_replay *mh_follow_replay(const struct mh_follow *f)
{
	return f->replay;
}
