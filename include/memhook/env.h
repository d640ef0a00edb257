/* SPDX-License-Identifier: MIT */
/*
 * env.h - the environment variables through which the launcher configures
 * libmemhook.so in the traced program. Nothing else passes between them
 * before the ring is mapped.
 */
#ifndef MEMHOOK_INCLUDE_ENV_H
#define MEMHOOK_INCLUDE_ENV_H

/* Decimal fd of the ring memfd, inherited across fork and exec. */
#define MH_ENV_RING_FD "MEMHOOK_RING_FD"
/* Maximum stack depth in frames (1..MH_STACK_MAX_DEPTH). */
#define MH_ENV_DEPTH "MEMHOOK_DEPTH"
/*
 * How stacks are captured: "auto" (default: frame pointers where they were
 * checked to give libunwind's frames, libunwind elsewhere; preload/unwind.c),
 * "libunwind", or "fp" (frame pointers only, unchecked).
 */
#define MH_ENV_UNWIND "MEMHOOK_UNWIND"
/* "1": fork children keep recording into the ring; "0" (default): they stop. */
#define MH_ENV_FOLLOW_FORKS "MEMHOOK_FOLLOW_FORKS"
/* "1" (default): an exec'd image keeps recording; "0": it is not traced. */
#define MH_ENV_FOLLOW_EXEC "MEMHOOK_FOLLOW_EXEC"
/* Decimal pid of the process allowed to record when forks are not followed. */
#define MH_ENV_ROOT_PID "MEMHOOK_ROOT_PID"
/* "1": call glibc's __libc_freeres at exit, as memcheck does (default 1). */
#define MH_ENV_FREERES "MEMHOOK_FREERES"
/* Path of libmemhook.so when it is not beside the memhook binary. */
#define MH_ENV_PRELOAD_PATH "MEMHOOK_PRELOAD"
/*
 * Marks the environment of a traced image with its pid, so the next image
 * exec'd in the same pid knows it is an exec (MH_PROCESS_EXECED), not the
 * launch. Set by the preload; the launcher never sets it.
 */
#define MH_ENV_TRACED_PID "MEMHOOK_TRACED_PID"
/*
 * "/proc/<recorder pid>/fd/<ring fd>": how an exec'd image reaches the ring
 * when the program closed the inherited fd before exec (Python's
 * subprocess, for one, closes every fd it does not pass on). Set by the
 * preload of the first image; the launcher never sets it.
 */
#define MH_ENV_RING_PATH "MEMHOOK_RING_PATH"

#endif /* MEMHOOK_INCLUDE_ENV_H */
