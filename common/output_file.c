// SPDX-License-Identifier: MIT
/*
 * output_file.c - open memhook's output files for their user
 * (output_file.h). Must never follow a symlink at an output path as root,
 * and never leave a file created under sudo owned by root.
 */
#include "common/output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Flags of every output: O_NONBLOCK so a FIFO without a reader fails instead of hanging. */
#define GUARDED_FLAGS (O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return !errno && !*end && *out < (unsigned long)(uid_t)-1;
}

int mh_output_owner_init(struct mh_output_owner *o, bool other_user)
{
	const char *name = getenv("SUDO_USER"), *uid_env = getenv("SUDO_UID");
	const char *gid_env = getenv("SUDO_GID");
	unsigned long uid, gid;
	int n = MH_OUTPUT_MAX_GROUPS;

	memset(o, 0, sizeof(*o));
	if (geteuid() != 0)
		return 0;
	o->guarded = other_user || (uid_env && *uid_env);
	if (!uid_env || !*uid_env)
		return 0;
	if (!parse_id(uid_env, &uid))
		return -EINVAL;
	gid = uid;
	if (gid_env && *gid_env && !parse_id(gid_env, &gid))
		return -EINVAL;
	if (uid == 0)
		return 0;	/* sudo from root: the files are root's anyway */
	o->as_user = true;
	o->uid = (uid_t)uid;
	o->gid = (gid_t)gid;
	if (!name || !*name || getgrouplist(name, o->gid, o->groups, &n) < 0) {
		o->groups[0] = o->gid;
		n = 1;
	}
	o->group_count = n;
	return 0;
}

/* Drop O_NONBLOCK again once open: writes to a pipe or terminal may wait as usual. */
static int finish_open(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* As root for root: only a regular file with one link, emptied after the checks. */
static int open_guarded(const char *path, mode_t mode)
{
	struct stat st;
	int fd = open(path, GUARDED_FLAGS, mode), err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		err = -EMLINK;
		goto out_close;
	}
	if (ftruncate(fd, 0) < 0) {
		err = -errno;
		goto out_close;
	}
	return finish_open(fd);

out_close:
	close(fd);
	return err;
}

/* Pass an fd (or, when fd < 0, the errno err) over a socket. */
static void send_result(int sock, int fd, int err)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		msg.msg_control = ctl;
		msg.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &msg, MSG_NOSIGNAL); /* a lost reply reads as an error over there */
}

/* The fd, or 0 or -errno, that send_result() sent; -EIO if nothing came. */
static int receive_result(int sock)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	int err = EIO, fd = -1;
	struct iovec iov = { .iov_base = &err, .iov_len = sizeof(err) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	ssize_t n;

	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(err))
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd >= 0 ? fd : -err;
}

/* What a child running as the user does: open or unlink. */
enum user_op {
	OP_OPEN,
	OP_UNLINK,
};

static void child_as_user(const struct mh_output_owner *o, int sock, enum user_op op,
			  const char *path, mode_t mode)
{
	struct stat st;
	int fd;

	if (setgroups((size_t)o->group_count, o->groups) || setgid(o->gid) || setuid(o->uid)) {
		send_result(sock, -1, errno);
		_exit(1);
	}
	if (op == OP_OPEN) {
		fd = open(path, GUARDED_FLAGS | O_TRUNC, mode);
		send_result(sock, fd, fd < 0 ? errno : 0);
	} else if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		send_result(sock, -1, EMLINK);
	} else {
		send_result(sock, -1, unlink(path) ? errno : 0);
	}
	_exit(0);
}

/*
 * Do op in a child that has become the user: the kernel checks the path
 * with the user's rights and a new file is the user's. The child makes
 * only async-signal-safe calls (memhook may have threads by now). Returns
 * the fd opened, 0 for an unlink, or -errno.
 */
static int as_user(const struct mh_output_owner *o, enum user_op op, const char *path,
		   mode_t mode)
{
	int sv[2], ret, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (pid == 0) {
		close(sv[0]);
		child_as_user(o, sv[1], op, path, mode);
	}
	close(sv[1]);
	ret = receive_result(sv[0]);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (op == OP_UNLINK || ret < 0)
		return ret;
	return ret ? finish_open(ret) : -EIO;
}

int mh_output_open(const struct mh_output_owner *o, const char *path, mode_t mode)
{
	int fd;

	if (o->as_user)
		return as_user(o, OP_OPEN, path, mode);
	if (o->guarded)
		return open_guarded(path, mode);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	return fd < 0 ? -errno : fd;
}

FILE *mh_output_fopen(const struct mh_output_owner *o, const char *path)
{
	int fd = mh_output_open(o, path, 0666);
	FILE *f;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		int err = errno;

		close(fd);
		errno = err;
	}
	return f;
}

int mh_output_remove(const struct mh_output_owner *o, const char *path)
{
	struct stat st;

	if (o->as_user)
		return as_user(o, OP_UNLINK, path, 0);
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EMLINK;
	return unlink(path) ? -errno : 0;
}

const char *mh_output_strerror(const struct mh_output_owner *o, int err)
{
	if (err < 0)
		err = -err;
	if (o->guarded && err == ELOOP)
		return "it is a symbolic link, which memhook does not follow as root";
	if (o->guarded && err == EMLINK)
		return "it is not a regular file with a single link, which memhook does not write as root";
	if (o->as_user && (err == EACCES || err == EPERM))
		return err == EACCES ? "Permission denied (under sudo, memhook writes as the invoking user)" :
		       "Operation not permitted (under sudo, memhook writes as the invoking user)";
	return strerror(err);
}
