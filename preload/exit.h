/* SPDX-License-Identifier: MIT */
/*
 * exit.h - the three ways a traced process ends, each turned into an exit
 * scan request (core.h, mh_core_exit_scan) while its memory is intact:
 *
 *   exit() / return from main  from the last exit handler, after every
 *                              destructor and after __libc_freeres:
 *                              MH_EXIT_PATH_NORMAL, status from on_exit();
 *   _exit() / _Exit() /        interposed: MH_EXIT_PATH_IMMEDIATE, then the
 *   quick_exit()               real call;
 *   a fatal signal the program MH_EXIT_PATH_SIGNAL from our handler, then the
 *   does not handle            signal again with its default action, so the
 *                              exit status and core dump are unchanged.
 *
 * Our handler is installed for SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGABRT,
 * SIGBUS, SIGFPE, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM,
 * SIGXCPU, SIGXFSZ and SIGSYS, each only if its disposition is SIG_DFL
 * when the image starts (an ignored signal, as under nohup, stays ignored;
 * a program's own handler is never replaced). SIGTRAP (debuggers),
 * SIGPROF/SIGVTALRM (profilers) and real-time signals are left alone;
 * SIGKILL cannot be caught, and a stack overflow on a thread without an
 * alternate signal stack kills before any handler runs: no scan then.
 *
 * Trade-off: a program asking for a disposition would see our handler
 * where it expects SIG_DFL, and some install theirs only over the default
 * (CPython's SIGINT, for one). So the interposed sigaction() and signal()
 * report ours as SIG_DFL, and a request for SIG_DFL gets ours back, which
 * ends the process the same way. rt_sigaction called directly and
 * bsd_signal(), sysv_signal() and sigset() see our handler as it is.
 *
 * Never allocates, never prints; a signal arriving while its thread is
 * inside the preload is deferred until the preload is left.
 */
#ifndef MEMHOOK_PRELOAD_EXIT_H
#define MEMHOOK_PRELOAD_EXIT_H

#include "preload/core.h"

#define mh_exit_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * Once recording started in this image: register the exit handlers
 * (on_exit, at_quick_exit) and install the fatal-signal handlers. Call
 * with the guard held, where dlsym may run. 0 or -errno (the scan then
 * happens on the paths that were set up).
 */
int mh_exit_setup(void);

/* From the preload's ELF destructor. Caller holds no guard. */
void mh_exit_destructor(void);

/* Deliver a fatal signal deferred while the guard was held: scan, then die of it. */
void mh_exit_deliver_pending(void);

/*
 * Leave the preload: drop the calling thread's guard and, if a fatal
 * signal arrived meanwhile, deliver it now. Async-signal-safe.
 */
static inline void mh_guard_drop(void)
{
	mh_self.guard = 0;
	/* A signal's handler sees the guard dropped before this looks for a deferred one. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (mh_exit_unlikely(mh_self.pending_signal))
		mh_exit_deliver_pending();
}

#endif /* MEMHOOK_PRELOAD_EXIT_H */
