/* SPDX-License-Identifier: MIT */
/*
 * image.h - the process-image rules: what a PROCESS record does to the
 * images of its pid, and which live blocks the image starts with.
 *
 * A process image is a pid running one program. An exec ends the pid's
 * image: its address space, and every block live in it, vanish with it
 * (nobody's leaks, never the new image's), and the new image starts with
 * an empty heap. A fork child starts with a copy of its parent's live
 * blocks and is judged on them if it exits without exec, as memcheck
 * does. docs/LEAKS.md ("Process images") states the rules; this header is
 * the one place that decides them, for every keeper of live blocks (the
 * merger's replay, the recorder's live set for exit scans). Pure: no state,
 * never allocates, never prints.
 */
#ifndef MEMHOOK_COMMON_IMAGE_H
#define MEMHOOK_COMMON_IMAGE_H

#include <stdbool.h>

#include "memhook/events.h"

/* What a PROCESS record means for its pid. */
enum mh_image_start {
	/* It names the image the pid's events already went to (they came first). */
	MH_IMAGE_ADOPT,
	/* An exec: the pid's current image ends and its live blocks vanish; a new image starts empty. */
	MH_IMAGE_EXEC,
	/* A fork child: a new image starting with a copy of the parent image's live blocks. */
	MH_IMAGE_FORK,
	/* A new image with an empty heap: launched, attached, or exec'd after vfork/posix_spawn. */
	MH_IMAGE_NEW,
};

/* What the rules need to know of an image: the pid's current one, or the parent's. */
struct mh_image_facts {
	bool announced;		/* its PROCESS record came */
	bool exited;		/* its EXIT record came: a later image of the pid is a new process */
	bool pristine;		/* it has had no heap event yet */
	const char *command;	/* its exe path, NULL if unknown */
};

/*
 * Classify PROCESS record r (its path follows it: r->path_len bytes).
 * cur is the current image of r->pid (the latest, unless it was replaced
 * by exec), parent the current image of r->ppid; either may be NULL when
 * there is none.
 */
enum mh_image_start mh_image_classify(const struct mh_image_facts *cur,
				      const struct mh_image_facts *parent,
				      const struct mh_rec_process *r);

#endif /* MEMHOOK_COMMON_IMAGE_H */
