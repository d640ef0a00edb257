// SPDX-License-Identifier: MIT
/*
 * image.c - the process-image rules (image.h).
 *
 * Must never let a record keep an image alive across an exec, whatever
 * the record calls itself: a shell that copies its environment (bash)
 * hides the preload's exec marker from its children, so their exec'd
 * programs announce themselves as fork children. A second announcement
 * from a pid that has not exited is an exec all the same.
 */
#include "common/image.h"

#include <string.h>

/*
 * A fork child runs its parent's program until it execs: a FORKED record
 * naming the parent's program is the fork itself (the preload's atfork
 * handler); one naming another program is a new image whose fork the
 * preload never saw (vfork, posix_spawn, or a trace of an older memhook).
 */
static bool is_fork_of(const struct mh_image_facts *parent, const struct mh_rec_process *r)
{
	const char *path = (const char *)(r + 1);

	return r->start == MH_PROCESS_FORKED && r->pid != r->ppid && parent &&
	       parent->announced && parent->command && strlen(parent->command) == r->path_len &&
	       !memcmp(parent->command, path, r->path_len);
}

enum mh_image_start mh_image_classify(const struct mh_image_facts *cur,
				      const struct mh_image_facts *parent,
				      const struct mh_rec_process *r)
{
	bool live = cur && !cur->exited;

	/* Events (or kernel records) of the pid came before its announcement. */
	if (live && !cur->announced)
		return is_fork_of(parent, r) && cur->pristine ? MH_IMAGE_FORK : MH_IMAGE_ADOPT;
	if (live)
		return MH_IMAGE_EXEC;
	/* No image, or one that exited: the pid is a new process. */
	return is_fork_of(parent, r) ? MH_IMAGE_FORK : MH_IMAGE_NEW;
}
