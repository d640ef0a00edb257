// SPDX-License-Identifier: MIT
/*
 * exit.c - turn each way a traced process ends into an exit scan request
 * (exit.h): the exit handlers, the interposed _exit, _Exit and quick_exit,
 * the fatal-signal handlers, and the sigaction()/signal() wrappers that
 * keep those handlers out of the program's sight.
 *
 * Never allocates, never prints, never changes how the program ends: the
 * same exit status, the same signal, the same core dump. A fault inside
 * the handler cannot loop: SA_RESETHAND has restored the default action
 * before the handler runs.
 */
#include "preload/exit.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MH_EXPORT __attribute__((visibility("default")))

/* Signals whose default action ends the process and that a program may get. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGUSR1,
	SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ, SIGSYS,
};

static struct {
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*quick_exit)(int);
} real;

/* Handlers installed in this image: the wrappers keep them in place. */
static bool handlers_on;
static bool on_exit_registered;
/* exit()'s status, from the on_exit handler. */
static int exit_status;
static bool exit_status_known;
static bool destructor_ran;
static int normal_done;
/* quick_exit()'s status, for the at_quick_exit handler. */
static int quick_status;

static int real_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	/* libc always has it; without it there is nothing sound to fall back on. */
	if (!mh_core_real((void **)&real.sigaction, "sigaction")) {
		errno = ENOSYS;
		return -1;
	}
	return real.sigaction(sig, act, old);
}

/* exit(), _exit() and quick_exit() from the program: scan now, unless we are inside the preload. */
static void scan_now(enum mh_exit_path path, int status)
{
	if (mh_self.guard)
		return;
	mh_self.guard = 1;
	mh_core_exit_scan(path, MH_EXIT_NORMAL, status);
	mh_guard_drop();
}

/*
 * The normal path, once: module changes, __libc_freeres (its frees are
 * recorded), then the scan. Runs from whichever of the ELF destructor and
 * the on_exit handler comes last, so after the program's destructors.
 */
static void normal_exit(void)
{
	if (__atomic_exchange_n(&normal_done, 1, __ATOMIC_ACQ_REL) || mh_self.guard)
		return;
	mh_self.guard = 1;
	mh_core_exit();
	mh_core_exit_scan(MH_EXIT_PATH_NORMAL, MH_EXIT_NORMAL, exit_status);
	mh_guard_drop();
}

static void on_exit_handler(int status, void *arg)
{
	exit_status = status;
	exit_status_known = true;
	if (destructor_ran)
		normal_exit();
}

void mh_exit_destructor(void)
{
	destructor_ran = true;
	if (exit_status_known || !on_exit_registered)
		normal_exit();
}

static void quick_exit_handler(void)
{
	scan_now(MH_EXIT_PATH_IMMEDIATE, quick_status);
}

static bool is_fault(int sig, const siginfo_t *si)
{
	/* si_code > 0: the kernel raised it for the instruction that will run again. */
	return si && si->si_code > 0 &&
	       (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
}

static void raise_self(int sig)
{
	(void)syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig); /* cannot fail on ourselves */
}

/*
 * Our handler; the action is already SIG_DFL again (SA_RESETHAND). A
 * fault re-executes its instruction on return and so dies of it with its
 * own siginfo; any other signal is sent again, and stays pending (it is
 * blocked while we run) until we return.
 */
static void on_fatal_signal(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int saved = errno;
	bool fault = is_fault(sig, si);

	/* SA_RESETHAND did it already; made sure of, so a re-executed fault cannot loop. */
	sigemptyset(&dfl.sa_mask);
	(void)real_sigaction(sig, &dfl, NULL); /* resolved at setup: cannot fail for a valid sig */

	if (mh_self.guard) {
		/* Inside the preload, maybe holding an unpublished record: not now. */
		if (!fault)
			mh_self.pending_signal = sig;
		errno = saved;
		return;
	}
	mh_self.guard = 1;
	mh_core_exit_scan(MH_EXIT_PATH_SIGNAL, MH_EXIT_SIGNAL, sig);
	mh_self.guard = 0;
	if (!fault)
		raise_self(sig);
	errno = saved;
}

void mh_exit_deliver_pending(void)
{
	int sig = mh_self.pending_signal;

	mh_self.pending_signal = 0;
	mh_self.guard = 1;
	mh_core_exit_scan(MH_EXIT_PATH_SIGNAL, MH_EXIT_SIGNAL, sig);
	mh_self.guard = 0;
	raise_self(sig);
}

static bool is_fatal(int sig)
{
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		if (fatal_signals[i] == sig)
			return true;
	return false;
}

static void our_action(struct sigaction *act)
{
	*act = (struct sigaction){ .sa_sigaction = on_fatal_signal,
				   .sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND | SA_RESTART };
	sigfillset(&act->sa_mask);
}

static bool is_ours(const struct sigaction *act)
{
	return (act->sa_flags & SA_SIGINFO) && act->sa_sigaction == on_fatal_signal;
}

static bool is_default(const struct sigaction *act)
{
	return act->sa_handler == SIG_DFL;
}

int mh_exit_setup(void)
{
	struct sigaction old, mine;
	int err = 0;

	on_exit_registered = !on_exit(on_exit_handler, NULL);
	if (!on_exit_registered || at_quick_exit(quick_exit_handler))
		err = -ENOMEM;
	mh_core_real((void **)&real.quick_exit, "quick_exit");
	our_action(&mine);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		int sig = fatal_signals[i];

		if (real_sigaction(sig, NULL, &old) || !is_default(&old))
			continue;
		if (real_sigaction(sig, &mine, NULL))
			err = -errno;
	}
	__atomic_store_n(&handlers_on, true, __ATOMIC_RELEASE);
	return err;
}

MH_EXPORT void _exit(int status)
{
	scan_now(MH_EXIT_PATH_IMMEDIATE, status);
	for (;;)
		syscall(SYS_exit_group, status);
}

MH_EXPORT void _Exit(int status) __attribute__((alias("_exit")));

MH_EXPORT void quick_exit(int status)
{
	quick_status = status;
	if (mh_core_real((void **)&real.quick_exit, "quick_exit"))
		real.quick_exit(status);
	/* Without libc's (never the case): leave as it would, scanning first. */
	_exit(status);
}

/*
 * The program asks for or sets a disposition. Ours is reported as SIG_DFL;
 * a request for SIG_DFL on a fatal signal installs ours, which ends the
 * process the same way after the scan.
 */
MH_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine;
	int ret;

	if (act && is_default(act) && is_fatal(sig) &&
	    __atomic_load_n(&handlers_on, __ATOMIC_ACQUIRE)) {
		our_action(&mine);
		act = &mine;
	}
	ret = real_sigaction(sig, act, old);
	if (!ret && old && is_ours(old)) {
		*old = (struct sigaction){ .sa_handler = SIG_DFL };
		sigemptyset(&old->sa_mask);
	}
	return ret;
}

/* glibc's signal(): BSD semantics, as sigaction with SA_RESTART and the signal masked. */
MH_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act = { .sa_handler = handler, .sa_flags = SA_RESTART }, old;

	if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}
