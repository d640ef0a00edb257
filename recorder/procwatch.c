// SPDX-License-Identifier: MIT
/*
 * procwatch.c - the proc connector's fork, exec and exit events of the
 * recorded processes, as trace records (procwatch.h).
 *
 * The connector reports every process of the machine; only the launched
 * program and the processes it forks (followed by the kernel's fork
 * events, never by what the ring claims) are looked at. Must never stop,
 * read the memory of, or write to a process: /proc metadata only.
 */
#include "recorder/procwatch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uthash.h>

#include "trace/records.h"

/* Receive buffer asked for: a burst of the whole machine's forks must not overflow it. */
#define SOCKET_BUFFER_BYTES (4 << 20)
/* Bytes of a process's environment read to find LD_PRELOAD. */
#define ENVIRON_BYTES (256 << 10)

struct watched {
	pid_t pid;
	UT_hash_handle hh;
};

struct mh_procwatch {
	struct mh_recorder *r;
	int sock;
	int stop_fd;			/* eventfd: the thread drains and returns */
	pthread_mutex_t lock;		/* held while a datagram is taken and handled (take_one) */
	pthread_t thread;
	struct watched *pids;		/* the launched program and its descendants */
	pid_t self;
	dev_t ring_dev;			/* the ring's memfd, to find it among a process's fds */
	ino_t ring_ino;
	int ring_fd;			/* its number in the launched program */
	uid_t uid;			/* memhook's */
	const char *preload;		/* basename of libmemhook.so */
	char buf[64 << 10];
};

/* The connector's control message: listen or ignore. */
static int send_op(int sock, enum proc_cn_mcast_op op)
{
	struct __attribute__((aligned(NLMSG_ALIGNTO))) {
		struct nlmsghdr nl;
		struct __attribute__((packed)) {
			struct cn_msg cn;
			enum proc_cn_mcast_op op;
		} msg;
	} req;

	memset(&req, 0, sizeof(req));
	req.nl.nlmsg_len = sizeof(req);
	req.nl.nlmsg_type = NLMSG_DONE;
	req.msg.cn.id.idx = CN_IDX_PROC;
	req.msg.cn.id.val = CN_VAL_PROC;
	req.msg.cn.len = sizeof(enum proc_cn_mcast_op);
	req.msg.op = op;
	return send(sock, &req, sizeof(req), 0) < 0 ? -errno : 0;
}

static bool watched(struct mh_procwatch *w, pid_t pid)
{
	struct watched *e;

	HASH_FIND_INT(w->pids, &pid, e);
	return e != NULL;
}

static void watch(struct mh_procwatch *w, pid_t pid)
{
	struct watched *e;

	if (watched(w, pid))
		return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;	/* that process then goes unwatched: nothing is written about it */
	e->pid = pid;
	HASH_ADD_INT(w->pids, pid, e);
}

static void unwatch(struct mh_procwatch *w, pid_t pid)
{
	struct watched *e;

	HASH_FIND_INT(w->pids, &pid, e);
	if (e) {
		HASH_DEL(w->pids, e);
		free(e);
	}
}

/* INFO key = value about pid, stamped ts_ns (when the kernel saw it, not now). */
static void info(struct mh_procwatch *w, pid_t pid, __u64 ts_ns, const char *key,
		 const char *value)
{
	size_t size;
	struct mh_rec_info *rec = mh_rec_info_new((__u32)pid, key, value, &size);

	if (!rec)
		return;
	rec->ts_ns = ts_ns;
	(void)mh_recorder_append(w->r, MH_STREAM_META, rec, size); /* reported inside */
	free(rec);
}

/* Does pid's environment put memhook's preload in LD_PRELOAD? */
static bool has_preload(const struct mh_procwatch *w, pid_t pid, bool *known)
{
	char path[64], *env = malloc(ENVIRON_BYTES);
	ssize_t n = -1;
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = env ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, env, ENVIRON_BYTES - 1);
		close(fd);
	}
	*known = n >= 0;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1) {
		env[n] = '\0';
		if (!strncmp(env + i, "LD_PRELOAD=", 11) && strstr(env + i, w->preload))
			found = true;
	}
	free(env);
	return found;
}

/* Does pid still hold the ring's memfd (under any number)? */
static bool has_ring(const struct mh_procwatch *w, pid_t pid, bool *known)
{
	char path[64], link[PATH_MAX];
	struct dirent *d;
	struct stat st;
	bool found = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	*known = dir != NULL;
	while (dir && !found && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, d->d_name);
		found = !stat(link, &st) && st.st_dev == w->ring_dev && st.st_ino == w->ring_ino;
	}
	if (dir)
		closedir(dir);
	return found;
}

/*
 * Why the image pid just exec'd may not attach to the ring, or "" when
 * nothing speaks against it. Read at the exec, before its first
 * instruction has had time to change anything.
 */
static void attach_problem(const struct mh_procwatch *w, pid_t pid, char *why, size_t len)
{
	char path[64];
	struct stat st;
	bool env_known, fd_known;

	why[0] = '\0';
	if (!has_preload(w, pid, &env_known) && env_known) {
		snprintf(why, len, "it was exec'd without memhook's preload in LD_PRELOAD");
		return;
	}
	if (has_ring(w, pid, &fd_known) || !fd_known)
		return;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (!stat(path, &st) && st.st_uid != w->uid)
		snprintf(why, len, "the program closed memhook's ring (fd %d) before exec, and as uid %u the new image cannot open the recorder's /proc/%d/fd/%d",
			 w->ring_fd, (unsigned)st.st_uid, (int)w->self, w->ring_fd);
	else
		snprintf(why, len, "the program closed memhook's ring (fd %d) before exec", w->ring_fd);
}

/* pid's command name (/proc/PID/comm, kept until the process is reaped) into buf; its length. */
static ssize_t read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	return n;
}

static void on_exec(struct mh_procwatch *w, pid_t pid, __u64 ts_ns)
{
	char link[64], exe[PATH_MAX], why[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	/*
	 * A short program may have exited by now: its executable's link went
	 * with its memory, its command name stays until it is reaped, which
	 * the supervisor does only after mh_procwatch_catch_up().
	 */
	if (n <= 0)
		n = read_comm(pid, exe, sizeof(exe));
	exe[n > 0 ? n : 0] = '\0';
	attach_problem(w, pid, why, sizeof(why));
	info(w, pid, ts_ns, "exec", n > 0 ? exe : "?");
	if (why[0])
		info(w, pid, ts_ns, "exec.why", why);
}

/*
 * A watched process ended. Its exit is recorded here only when another
 * process reaps it: memhook's own children (and orphans it adopted) get
 * theirs from waitpid(), with what only waitpid knows (core dumps, OOM).
 */
static void on_process_exit(struct mh_procwatch *w, const struct proc_event *ev)
{
	struct mh_rec_exit e = {
		.hdr = { .type = MH_REC_EXIT, .size = sizeof(e) },
		.ts_ns = ev->timestamp_ns,
		.pid = (__u32)ev->event_data.exit.process_tgid,
	};
	int status = (int)ev->event_data.exit.exit_code;

	unwatch(w, (pid_t)e.pid);
	if ((pid_t)ev->event_data.exit.parent_tgid == w->self)
		return;
	if (WIFSIGNALED(status)) {
		e.reason = MH_EXIT_SIGNAL;
		e.status = WTERMSIG(status);
		e.core_dumped = WCOREDUMP(status) ? 1 : 0;
	} else {
		e.reason = MH_EXIT_NORMAL;
		e.status = WEXITSTATUS(status);
	}
	(void)mh_recorder_append(w->r, MH_STREAM_META, &e, sizeof(e)); /* reported inside */
}

static void on_event(struct mh_procwatch *w, const struct proc_event *ev)
{
	switch (ev->what) {
	case PROC_EVENT_FORK:
		/* A new process (not a thread) of a watched one. */
		if (ev->event_data.fork.child_pid == ev->event_data.fork.child_tgid &&
		    watched(w, ev->event_data.fork.parent_tgid))
			watch(w, ev->event_data.fork.child_tgid);
		break;
	case PROC_EVENT_EXEC:
		if (watched(w, ev->event_data.exec.process_tgid))
			on_exec(w, ev->event_data.exec.process_tgid, ev->timestamp_ns);
		break;
	case PROC_EVENT_EXIT:
		/* The thread group leader's exit: the process's (threads end before it). */
		if (ev->event_data.exit.process_pid == ev->event_data.exit.process_tgid &&
		    watched(w, ev->event_data.exit.process_tgid))
			on_process_exit(w, ev);
		break;
	default:
		break;
	}
}

/* Handle what one recv() returned. */
static void on_datagram(struct mh_procwatch *w, size_t len)
{
	for (struct nlmsghdr *nl = (void *)w->buf; NLMSG_OK(nl, len); nl = NLMSG_NEXT(nl, len)) {
		const struct cn_msg *cn = NLMSG_DATA(nl);

		if (nl->nlmsg_type != NLMSG_DONE || cn->id.idx != CN_IDX_PROC ||
		    cn->len < sizeof(struct proc_event))
			continue;
		on_event(w, (const struct proc_event *)cn->data);
	}
}

/*
 * Take one datagram off the socket, if one is queued, and handle it, under
 * w->lock: a caller that finds none knows every one taken before was
 * handled. recv()'s result; -errno if none.
 */
static ssize_t take_one(struct mh_procwatch *w)
{
	ssize_t n;

	pthread_mutex_lock(&w->lock);
	n = recv(w->sock, w->buf, sizeof(w->buf), MSG_DONTWAIT);
	if (n < 0)
		n = -errno;
	else if (n > 0)
		on_datagram(w, (size_t)n);
	pthread_mutex_unlock(&w->lock);
	return n;
}

static void *watch_main(void *arg)
{
	struct mh_procwatch *w = arg;
	struct pollfd fds[2] = { { .fd = w->sock, .events = POLLIN },
				 { .fd = w->stop_fd, .events = POLLIN } };
	bool stopping = false;
	ssize_t n;

	for (;;) {
		if (!stopping && poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		stopping |= fds[1].revents != 0;
		n = take_one(w);
		if (n > 0)
			continue;
		/* ENOBUFS: the machine outran us; go on with what comes next. */
		if (stopping && n < 0 && n != -ENOBUFS && n != -EINTR)
			break;
	}
	return NULL;
}

/* The connector's socket, listening. -errno. */
static int open_socket(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	int sock = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR), size, err;

	if (sock < 0)
		return -errno;
	size = SOCKET_BUFFER_BYTES;
	/* FORCE needs CAP_NET_ADMIN, which listening needs too; the plain one is capped. */
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		close(sock);
		return err;
	}
	err = send_op(sock, PROC_CN_MCAST_LISTEN);
	if (err) {
		close(sock);
		return err;
	}
	return sock;
}

struct mh_procwatch *mh_procwatch_start(struct mh_recorder *r, pid_t root, const char *preload,
					char *why, size_t why_len)
{
	struct mh_procwatch *w;
	const char *slash = strrchr(preload, '/');
	struct stat st;
	int err;

	if (geteuid() != 0) {
		snprintf(why, why_len, "needs root (the proc connector)");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || fstat(r->ring.fd, &st) < 0) {
		snprintf(why, why_len, "%s", strerror(errno));
		free(w);
		return NULL;
	}
	w->r = r;
	w->self = getpid();
	w->ring_dev = st.st_dev;
	w->ring_ino = st.st_ino;
	w->ring_fd = r->ring.fd;
	w->uid = geteuid();
	w->preload = slash ? slash + 1 : preload;
	pthread_mutex_init(&w->lock, NULL);
	w->sock = open_socket();
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	err = w->sock < 0 ? w->sock : w->stop_fd < 0 ? -errno : 0;
	if (!err) {
		watch(w, root);
		err = -pthread_create(&w->thread, NULL, watch_main, w);
	}
	if (err) {
		snprintf(why, why_len, "the proc connector: %s", strerror(-err));
		if (w->sock >= 0)
			close(w->sock);
		if (w->stop_fd >= 0)
			close(w->stop_fd);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

void mh_procwatch_catch_up(struct mh_procwatch *w)
{
	ssize_t n;

	if (!w)
		return;
	/* ENOBUFS: events were lost to an overflow; those after it are still there. */
	do
		n = take_one(w);
	while (n > 0 || n == -ENOBUFS);
}

void mh_procwatch_stop(struct mh_procwatch *w)
{
	struct watched *e, *tmp;
	__u64 one = 1;

	if (!w)
		return;
	/* Adding 1 to a fresh eventfd cannot fail (only an overflow would). */
	(void)!write(w->stop_fd, &one, sizeof(one));
	pthread_join(w->thread, NULL);
	(void)send_op(w->sock, PROC_CN_MCAST_IGNORE); /* closing the socket ends it anyway */
	close(w->sock);
	close(w->stop_fd);
	pthread_mutex_destroy(&w->lock);
	HASH_ITER(hh, w->pids, e, tmp) {
		HASH_DEL(w->pids, e);
		free(e);
	}
	free(w);
}
