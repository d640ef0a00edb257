// SPDX-License-Identifier: MIT
/*
 * launch.c - fork, park and exec the traced program (launch.h).
 *
 * The child never returns into memhook's code: it either execs the
 * program or _exits. Between fork and exec it only sets environment
 * variables (the parent is single-threaded when it forks) and blocks on
 * the release pipe; if the parent dies, the pipe reads EOF and the child
 * exits instead of running untraced.
 */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit_codes.h"
#include "memhook/env.h"

#define LIBMEMHOOK_NAME "libmemhook.so"

int mh_launch_find_preload(char *buf, size_t len)
{
	const char *env = getenv(MH_ENV_PRELOAD_PATH);
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	snprintf(buf, len, "%s/%s", dirname(exe), LIBMEMHOOK_NAME);
	return access(buf, R_OK) ? -errno : 0;
}

static int set_env_uint(const char *name, unsigned long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lu", v);
	return setenv(name, num, 1);
}

/* In the child: the preload's configuration. */
static int child_env(const struct mh_record_opts *o, int ring_fd, const char *preload)
{
	const char *old = getenv("LD_PRELOAD");
	char *list;
	int err;

	if (set_env_uint(MH_ENV_RING_FD, (unsigned long)ring_fd) ||
	    set_env_uint(MH_ENV_ROOT_PID, (unsigned long)getpid()) ||
	    set_env_uint(MH_ENV_DEPTH, o->depth) ||
	    setenv(MH_ENV_FOLLOW_FORKS, o->follow_forks ? "1" : "0", 1) ||
	    setenv(MH_ENV_FOLLOW_EXEC, o->follow_exec ? "1" : "0", 1) ||
	    setenv(MH_ENV_UNWIND, o->unwind, 1) ||
	    setenv(MH_ENV_FREERES, o->freeres ? "1" : "0", 1))
		return -errno;
	if (old && *old) {
		if (asprintf(&list, "%s:%s", preload, old) < 0)
			return -ENOMEM;
	} else {
		list = strdup(preload);
		if (!list)
			return -ENOMEM;
	}
	err = setenv("LD_PRELOAD", list, 1) ? -errno : 0;
	free(list);
	return err;
}

static void report_errno(int fd, int err)
{
	/* Nothing else can be done if the parent is gone. */
	if (write(fd, &err, sizeof(err)) < 0)
		return;
}

static __attribute__((noreturn)) void child_main(const struct mh_record_opts *o, int ring_fd,
						  const char *preload, const sigset_t *mask,
						  bool sigchld_ignored, int go_fd, int err_fd)
{
	char go;
	ssize_t n;
	int err;

	err = child_env(o, ring_fd, preload);
	if (err) {
		report_errno(err_fd, err);
		_exit(MH_EXIT_INTERNAL);
	}
	do
		n = read(go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(MH_EXIT_INTERNAL);	/* the recorder gave up or died */
	close(go_fd);
	if (sigchld_ignored)
		signal(SIGCHLD, SIG_IGN);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(o->prog_argv[0], o->prog_argv);
	err = errno;
	report_errno(err_fd, err);
	_exit(err == ENOENT || err == ENOTDIR ? MH_EXIT_NOT_FOUND : MH_EXIT_CANT_EXEC);
}

int mh_launch_fork(struct mh_launch *l, const struct mh_record_opts *opts, int ring_fd,
		   const char *preload, const sigset_t *child_mask)
{
	int go[2], err_pipe[2], err;

	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		err = -errno;
		goto out_close_go;
	}
	fflush(NULL);
	l->pid = fork();
	if (l->pid < 0) {
		err = -errno;
		goto out_close_err;
	}
	if (l->pid == 0) {
		close(go[1]);
		close(err_pipe[0]);
		child_main(opts, ring_fd, preload, child_mask, l->sigchld_ignored, go[0],
			   err_pipe[1]);
	}
	close(go[0]);
	close(err_pipe[1]);
	l->go_fd = go[1];
	l->err_fd = err_pipe[0];
	return 0;

out_close_err:
	close(err_pipe[0]);
	close(err_pipe[1]);
out_close_go:
	close(go[0]);
	close(go[1]);
	return err;
}

int mh_launch_release(struct mh_launch *l)
{
	int child_err = 0;
	ssize_t n;

	n = write(l->go_fd, "g", 1);
	close(l->go_fd);
	l->go_fd = -1;
	if (n != 1)
		return -EPIPE;
	/* EOF: the exec succeeded and closed the CLOEXEC end. */
	do
		n = read(l->err_fd, &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	return n == (ssize_t)sizeof(child_err) ? -child_err : 0;
}

void mh_launch_abort(struct mh_launch *l)
{
	if (l->go_fd >= 0)
		close(l->go_fd);
	if (l->err_fd >= 0)
		close(l->err_fd);
	l->go_fd = l->err_fd = -1;
	kill(l->pid, SIGKILL);
	while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
		;
}
