/* SPDX-License-Identifier: MIT */
/*
 * config.h - what the launcher asked of the preload (MEMHOOK_* variables,
 * include/memhook/env.h), whether this process records at all, how this
 * image started, and the environment edits that carry that across exec.
 *
 * Never allocates through malloc and never prints: it runs in the
 * preload's constructor, possibly before the program's allocator is up.
 */
#ifndef MEMHOOK_PRELOAD_CONFIG_H
#define MEMHOOK_PRELOAD_CONFIG_H

#include <stdbool.h>
#include <sys/types.h>

#include "memhook/events.h"
#include "preload/stackids.h"

struct mh_core_config {
	int ring_fd;			/* the inherited ring memfd */
	const char *ring_path;		/* MH_ENV_RING_PATH, or NULL */
	unsigned int depth;		/* frames per stack, 1..MH_STACK_MAX_DEPTH */
	enum mh_unwind unwind;		/* how stacks are captured */
	bool follow_forks;		/* fork children keep recording */
	bool follow_exec;		/* exec'd images keep recording */
	bool freeres;			/* call __libc_freeres at exit */
	pid_t root_pid;			/* the launched process */
	enum mh_process_start start;	/* how this image came to be traced */
	/* Leading stack frames inside [skip_lo, skip_hi) are the preload's own. */
	__u64 skip_lo, skip_hi;
};

/*
 * Read the MEMHOOK_* variables into cfg. Returns 0 if this process must
 * record, -ENOENT if there is no ring (silent pass-through), -EPERM if the
 * process is neither the root nor a followed child, -EINVAL on a malformed
 * variable (with *bad naming it).
 */
int mh_config_load(struct mh_core_config *cfg, const char **bad);

/*
 * Mark the environment with this process's pid (MH_ENV_TRACED_PID) and
 * the ring's path (MH_ENV_RING_PATH, if ring_path is not NULL) without
 * allocating. Call once per image, before main. 0 or -errno.
 */
int mh_config_mark_image(pid_t pid, const char *ring_path);

/*
 * The ring moved to fd: name the new number in the environment (without
 * allocating), for images exec'd later. Call before main, as
 * mh_config_mark_image. 0, or -ENOENT if the environment names no ring fd.
 */
int mh_config_set_ring_fd(int fd);

/* In a fork child: make the marker name the child, touching only our own memory. */
void mh_config_mark_child(pid_t pid);

/*
 * Remove MEMHOOK_* variables and our entry in LD_PRELOAD from the
 * environment, in place, so exec'd programs are not traced. self_path is
 * the path this library was loaded from.
 */
void mh_config_strip_env(const char *self_path);

#endif /* MEMHOOK_PRELOAD_CONFIG_H */
