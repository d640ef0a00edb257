// SPDX-License-Identifier: MIT
/*
 * launch.c - fork, park and exec the traced program (launch.h).
 *
 * The child never returns into memhook's code: it either execs the
 * program or _exits. Between fork and exec it only sets environment
 * variables (the parent is single-threaded when it forks), blocks on the
 * release pipe and, once released, gives up root if it must; if the
 * parent dies, the pipe reads EOF and the child exits instead of running
 * untraced. Root is given up only after the release, so everything the
 * recorder attaches to the child's pid was attached with root's rights.
 */
#include "recorder/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/exit_codes.h"
#include "memhook/env.h"

#define LIBMEMHOOK_NAME "libmemhook.so"
/* Where `make install` puts the preload, relative to the bin/ folder of memhook. */
#define INSTALLED_PRELOAD_DIR "../lib/memhook"

/* 0 if dir/rel/LIBMEMHOOK_NAME is readable (buf names it either way), else -errno. */
static int try_preload(char *buf, size_t len, const char *dir, const char *rel)
{
	char found[PATH_MAX];

	snprintf(buf, len, "%s%s%s/%s", dir, *rel ? "/" : "", rel, LIBMEMHOOK_NAME);
	if (access(buf, R_OK))
		return -errno;
	/* LD_PRELOAD gets the plain path, not ".../bin/../lib/...". */
	if (realpath(buf, found))
		snprintf(buf, len, "%s", found);
	return 0;
}

int mh_launch_find_preload(char *buf, size_t len)
{
	const char *env = getenv(MH_ENV_PRELOAD_PATH);
	const char *first, *second;
	char exe[PATH_MAX], *dir, *name;
	ssize_t n;
	int err;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) ? -errno : 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = '\0';
	dir = dirname(exe);
	name = strrchr(dir, '/');
	/*
	 * Installed, memhook is PREFIX/bin/memhook; in the build tree the
	 * preload sits beside it. The layout the folder's name suggests is
	 * tried first and named when neither is there.
	 */
	first = INSTALLED_PRELOAD_DIR;
	second = "";
	if (strcmp(name ? name + 1 : dir, "bin")) {
		first = "";
		second = INSTALLED_PRELOAD_DIR;
	}
	err = try_preload(buf, len, dir, first);
	if (err && !try_preload(buf, len, dir, second))
		return 0;
	if (err)
		(void)try_preload(buf, len, dir, first); /* name the expected place */
	return err;
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

/* Parse a whole decimal id; false if s is not one. */
static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out < (unsigned long)(uid_t)-1;
}

static void take_passwd(struct mh_launch_identity *id, const struct passwd *pw)
{
	id->uid = pw->pw_uid;
	id->gid = pw->pw_gid;
	snprintf(id->name, sizeof(id->name), "%s", pw->pw_name);
	snprintf(id->home, sizeof(id->home), "%s", pw->pw_dir ? pw->pw_dir : "");
}

/* --user NAME|UID. A uid without a passwd entry runs with gid = uid and no groups. */
static int lookup_user(const char *spec, struct mh_launch_identity *id, char *why, size_t len)
{
	unsigned long num;
	struct passwd *pw;
	bool numeric = parse_id(spec, &num);

	errno = 0;
	pw = numeric ? getpwuid((uid_t)num) : getpwnam(spec);
	if (pw) {
		take_passwd(id, pw);
	} else if (numeric) {
		id->uid = (uid_t)num;
		id->gid = (gid_t)num;
	} else {
		snprintf(why, len, "no such user '%s'", spec);
		return errno ? -errno : -ENOENT;
	}
	id->drop = id->uid != 0;
	return 0;
}

/* The invoking user of sudo, from SUDO_UID, SUDO_GID and SUDO_USER. */
static int sudo_user(struct mh_launch_identity *id, char *why, size_t len)
{
	const char *gid_env = getenv("SUDO_GID"), *name = getenv("SUDO_USER");
	unsigned long uid, gid;
	struct passwd *pw;

	if (!parse_id(getenv("SUDO_UID"), &uid)) {
		snprintf(why, len, "SUDO_UID='%s' is not a user id", getenv("SUDO_UID"));
		return -EINVAL;
	}
	pw = getpwuid((uid_t)uid);
	if (pw)
		take_passwd(id, pw);
	id->uid = (uid_t)uid;
	if (!pw)
		id->gid = (gid_t)uid;
	if (gid_env && *gid_env) {
		if (!parse_id(gid_env, &gid)) {
			snprintf(why, len, "SUDO_GID='%s' is not a group id", gid_env);
			return -EINVAL;
		}
		id->gid = (gid_t)gid;
	}
	if (name && *name)
		snprintf(id->name, sizeof(id->name), "%s", name);
	id->drop = id->uid != 0;
	return 0;
}

int mh_launch_identity(const struct mh_record_opts *o, struct mh_launch_identity *id, char *why,
		       size_t why_len)
{
	const char *sudo_uid = getenv("SUDO_UID");

	memset(id, 0, sizeof(*id));
	if (geteuid() != 0) {
		if (!o->user && !o->as_root)
			return 0;
		snprintf(why, why_len, "%s needs memhook to run as root",
			 o->user ? "--user" : "--as-root");
		return -EPERM;
	}
	if (o->as_root)
		return 0;
	if (o->user)
		return lookup_user(o->user, id, why, why_len);
	if (!sudo_uid || !*sudo_uid)
		return 0;
	return sudo_user(id, why, why_len);
}

bool mh_launch_sudo_owner(uid_t *uid, gid_t *gid)
{
	struct mh_launch_identity id;
	char why[128];

	if (geteuid() != 0 || !getenv("SUDO_UID") || sudo_user(&id, why, sizeof(why)))
		return false;
	*uid = id.uid;
	*gid = id.gid;
	return true;
}

/* Nothing else can be done if the parent is gone. */
static void report_errno(int fd, enum mh_launch_step step, int err)
{
	int msg[2] = { (int)step, err };

	if (write(fd, msg, sizeof(msg)) < 0)
		return;
}

/*
 * In the released child: become id (groups first, uid last: after setuid
 * nothing else may be changed) and check the preload is still readable,
 * or ld.so would run the program untraced. Returns 0 or -errno, *step says
 * where.
 */
static int become(const struct mh_launch_identity *id, const char *preload,
		  enum mh_launch_step *step)
{
	*step = MH_LAUNCH_STEP_DROP;
	if ((id->name[0] ? initgroups(id->name, id->gid) : setgroups(0, NULL)) < 0 ||
	    setgid(id->gid) < 0 || setuid(id->uid) < 0)
		return -errno;
	if (id->home[0] && (setenv("HOME", id->home, 1) || setenv("USER", id->name, 1) ||
			    setenv("LOGNAME", id->name, 1)))
		return -errno;
	*step = MH_LAUNCH_STEP_PRELOAD;
	return access(preload, R_OK) ? -errno : 0;
}

static __attribute__((noreturn)) void child_main(const struct mh_launch *l,
						  const struct mh_record_opts *o, int ring_fd,
						  const char *preload, const sigset_t *mask,
						  int go_fd, int err_fd)
{
	enum mh_launch_step step = MH_LAUNCH_STEP_ENV;
	char go;
	ssize_t n;
	int err;

	err = child_env(o, ring_fd, preload);
	if (err)
		goto out_fail;
	do
		n = read(go_fd, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(MH_EXIT_INTERNAL);	/* the recorder gave up or died */
	close(go_fd);
	if (l->id.drop) {
		err = become(&l->id, preload, &step);
		if (err)
			goto out_fail;
	}
	if (l->sigchld_ignored)
		signal(SIGCHLD, SIG_IGN);
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(o->prog_argv[0], o->prog_argv);
	err = errno;
	report_errno(err_fd, MH_LAUNCH_STEP_EXEC, err);
	_exit(err == ENOENT || err == ENOTDIR ? MH_EXIT_NOT_FOUND : MH_EXIT_CANT_EXEC);

out_fail:
	report_errno(err_fd, step, -err);
	_exit(MH_EXIT_INTERNAL);
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
		child_main(l, opts, ring_fd, preload, child_mask, go[0], err_pipe[1]);
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
	ssize_t n = write(l->go_fd, "g", 1);

	close(l->go_fd);
	l->go_fd = -1;
	return n == 1 ? 0 : -EPIPE;
}

int mh_launch_exec_result(struct mh_launch *l)
{
	int msg[2] = { 0, 0 };
	ssize_t n;

	/* EOF: the exec succeeded and closed the CLOEXEC end. */
	do
		n = read(l->err_fd, msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	close(l->err_fd);
	l->err_fd = -1;
	if (n != (ssize_t)sizeof(msg))
		return 0;
	l->failed_step = (enum mh_launch_step)msg[0];
	return -msg[1];
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
