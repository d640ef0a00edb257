/* SPDX-License-Identifier: MIT */
/*
 * core.h - the recording core of libmemhook.so: turns "this call happened"
 * into ring records (events, stacks, threads, the process, modules). The
 * interposed names in hooks.c are thin wrappers over it; tests drive it
 * directly without LD_PRELOAD.
 *
 * Never allocates through malloc, never calls stdio, never blocks without
 * a deadline (the ring's liveness check), never takes a lock the program
 * may hold, and keeps its fds out of the program's way (fds.h). Every
 * event function expects the caller to hold the calling thread's
 * re-entrancy guard (mh_self.guard set), so that whatever the core calls
 * (libunwind) passes through the hooks unrecorded.
 */
#ifndef MEMHOOK_PRELOAD_CORE_H
#define MEMHOOK_PRELOAD_CORE_H

#include <stdbool.h>
#include <stddef.h>

#include "preload/config.h"
#include "memhook/events.h"

/* Per-thread state of the preload; initial-exec TLS (see build.mk). */
struct mh_thread {
	int guard;		/* non-zero while inside the preload: pass through */
	__u32 tid;		/* cached gettid(), 0 until the thread's first event */
	int pending_signal;	/* fatal signal deferred until the guard drops (exit.c) */
	unsigned int name_gen;	/* the rename generation this thread's name was sent at */
	unsigned int name_countdown; /* events until the name is read again */
	int *errno_at;		/* this thread's errno, once a hook looked it up (hooks.c) */
};

extern __thread struct mh_thread mh_self __attribute__((tls_model("initial-exec")));

/* Non-zero while this process records; read on every hooked call. */
extern int mh_core_recording;

/*
 * Attach the ring named by cfg (cfg->ring_fd), send the PROCESS record
 * (start cfg->start, exe path from /proc/self/exe) and a MODULE record per
 * loaded object, and start recording. 0 or -errno; on failure nothing is
 * recorded and the reason is said once on stderr.
 */
int mh_core_start(const struct mh_core_config *cfg);

/*
 * In an image that must not record (a child, without follow_forks; cfg
 * as mh_config_load() filled it): send one "process.untraced" record so
 * the report can count the children that ran untraced, then let go of
 * the ring. Best effort: failures are silent and only lower the count.
 */
void mh_core_note_untraced(const struct mh_core_config *cfg);

/*
 * Where an exec'd image finds the ring if the program closed its fd:
 * "/proc/<recorder pid>/fd/<fd>". NULL before mh_core_start succeeded.
 */
const char *mh_core_ring_path(void);

/*
 * Stop recording: pass through from now on. The ring stays mapped, since
 * another thread may still be inside a hook writing to it.
 */
void mh_core_stop(void);

/*
 * A block came into existence (call after the real function returned):
 * captures the stack, sends it and the thread's name if new, then the
 * ALLOC record.
 */
void mh_core_alloc(enum mh_alloc_kind kind, const void *addr, size_t size);

/*
 * A mapping moved or changed size (mremap; call after it succeeded): one
 * REALLOC record. Mappings are not heap blocks, so this one record, made
 * after the call, is ordered well enough (see hooks.c for the heap).
 */
void mh_core_remap(enum mh_alloc_kind kind, const void *old, size_t old_size, const void *addr,
		   size_t size);

/*
 * A block is about to go away (call before the real function): stamps and
 * reserves its FREE record so no other thread's reuse of the address can
 * come first in the ring. Returns the reservation for mh_core_free_end,
 * NULL if nothing is recorded.
 */
struct mh_rec_free *mh_core_free_begin(enum mh_alloc_kind kind, const void *addr, size_t size);

/*
 * Publish a reservation from mh_core_free_begin with the same kind (the
 * kind lives in the header, which is written last). released false means the
 * real call failed and nothing went away: the record is published with
 * address 0, which readers treat as a no-op (like free(NULL)).
 */
void mh_core_free_end(struct mh_rec_free *rec, enum mh_alloc_kind kind, bool released);

/* begin + end(true), for calls that cannot fail (free). */
void mh_core_free(enum mh_alloc_kind kind, const void *addr, size_t size);

/*
 * pthread_atfork child handler: with follow_forks the child records under
 * its own pid (PROCESS FORKED), else it sends "process.untraced" and stops
 * recording.
 */
void mh_core_fork_child(void);

/*
 * At exit: if configured, run glibc's __libc_freeres while still recording (the guard is dropped around it so
 * its frees are in the trace), as memcheck does.
 */
void mh_core_exit(void);

/*
 * The process is ending: send MH_REC_EXIT (reason, status) and, if the
 * consumer answers scans (MH_RING_EXIT_SCAN), MH_REC_EXIT_SCAN (path,
 * status), then wait, polling every millisecond, until the recorder has
 * scanned the process and written the ack, or is gone. No fixed timeout:
 * the recorder always answers. Does nothing in a process that does not
 * record, in a vfork child (its pid is not ours) and after the first call
 * in this process. Async-signal-safe; the caller holds the guard.
 */
void mh_core_exit_scan(enum mh_exit_path path, enum mh_exit_reason reason, int status);

/*
 * Another thread was renamed (pthread_setname_np): every thread reads its
 * name again at its next event and re-sends MH_REC_THREAD if it changed.
 * Renames made another way (prctl(PR_SET_NAME), writing comm) are picked
 * up within MH_CORE_NAME_RECHECK events of the renamed thread.
 * Thread-safe, async-signal-safe.
 */
void mh_core_names_changed(void);

/* Read the calling thread's name now; send MH_REC_THREAD if it changed. */
void mh_core_thread_sync(void);

/* A thread re-reads its own name after this many events. */
#define MH_CORE_NAME_RECHECK 65536

/*
 * The next definition of name after libmemhook.so (the real libc
 * function), cached in *slot; NULL when there is none. dlsym may allocate:
 * it runs under this thread's guard, so that is never recorded.
 * Thread-safe.
 */
void *mh_core_real(void **slot, const char *name);

#endif /* MEMHOOK_PRELOAD_CORE_H */
