// SPDX-License-Identifier: MIT
/*
 * testutil.c - helpers shared by the test suites (see testutil.h): paths of
 * built artefacts, a command runner with a time limit, file helpers, the
 * Valgrind oracle, cgroup and swap fixtures and the Check suite runner
 * (the JSON reader is testutil_json.c).
 */
#include "tests/testutil.h"
#include "recorder/ring_consumer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS_PER_S 1000
#define MIB (1024LL * 1024)

static void *xalloc(void *p)
{
	if (!p)
		abort();
	return p;
}

const char *mh_test_build_dir(void)
{
	const char *dir = getenv("MEMHOOK_BUILD_DIR");

	return dir && *dir ? dir : "build";
}

char *mh_test_join(const char *dir, const char *name)
{
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	return path;
}

char *mh_test_path(const char *rel)
{
	return mh_test_join(mh_test_build_dir(), rel);
}

bool mh_test_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

bool mh_test_have_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = xalloc(strdup(path));
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *full = mh_test_join(dir, name);

		found = mh_test_executable(full);
		free(full);
	}
	free(copy);
	return found;
}

void mh_test_skip(const char *name, const char *reason)
{
	printf("SKIP %s: %s\n", name, reason);
	fflush(stdout);
}

/* In the child: point fd at path (opened with flags), or _exit(127). */
static void redirect(int fd, const char *path, int flags)
{
	int f = open(path ? path : "/dev/null", flags, 0644);

	if (f < 0 || dup2(f, fd) < 0)
		_exit(127);
	if (f != fd)
		close(f);
}

static void __attribute__((noreturn)) child_exec(const struct mh_test_cmd *cmd)
{
	const char *const *e;

	setpgid(0, 0);
	redirect(STDIN_FILENO, cmd->stdin_path, O_RDONLY);
	redirect(STDOUT_FILENO, cmd->stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
	redirect(STDERR_FILENO, cmd->stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
	for (e = cmd->env; e && *e; e++)
		putenv((char *)*e);
	execvp(cmd->argv[0], (char *const *)cmd->argv);
	_exit(127);
}

int mh_test_run(const struct mh_test_cmd *cmd)
{
	unsigned timeout_s = cmd->timeout_s ? cmd->timeout_s : MH_TEST_DEFAULT_TIMEOUT_S;
	struct pollfd pfd = { .events = POLLIN };
	int status, n;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(cmd);
	/* Both sides set the group, so a kill cannot race the child's setpgid. */
	setpgid(pid, pid);
	pfd.fd = pidfd_open(pid, 0);
	if (pfd.fd < 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ENOSYS;
	}
	do
		n = poll(&pfd, 1, (int)(timeout_s * MS_PER_S));
	while (n < 0 && errno == EINTR);
	close(pfd.fd);
	if (n == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -ETIMEDOUT;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	/* Take down anything the command left behind in its group. */
	kill(-pid, SIGKILL);
	return status;
}

char *mh_test_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	buf = xalloc(malloc(cap));
	while ((n = read(fd, buf + used, cap - used - 1)) > 0) {
		used += (size_t)n;
		if (cap - used < 2) {
			cap *= 2;
			buf = xalloc(realloc(buf, cap));
		}
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	return buf;
}

bool mh_test_files_equal(const char *a, const char *b)
{
	size_t la, lb;
	char *da = mh_test_read_file(a, &la);
	char *db = mh_test_read_file(b, &lb);
	bool same = da && db && la == lb && memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return same;
}

char *mh_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *dir = mh_test_join(base && *base ? base : "/tmp", "memhook-test-XXXXXX");

	if (!mkdtemp(dir))
		abort();
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void mh_test_rmdir(const char *dir)
{
	if (dir)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A decimal number with thousands separators ("1,644"); -1 if none. */
static long long vg_number(const char *s, const char **end)
{
	long long v = 0;
	bool any = false;

	while (*s == ' ')
		s++;
	for (; (*s >= '0' && *s <= '9') || (*s == ',' && any); s++) {
		if (*s == ',')
			continue;
		v = v * 10 + (*s - '0');
		any = true;
	}
	*end = s;
	return any ? v : -1;
}

/* After `label` in log: "<a> <word> <b>" -> a and b (e.g. "12 bytes in 3"). */
static bool vg_pair(const char *log, const char *label, const char *mid, long long *a,
		    long long *b)
{
	const char *p = strstr(log, label);

	if (!p)
		return false;
	*a = vg_number(p + strlen(label), &p);
	if (strncmp(p, mid, strlen(mid)) != 0)
		return false;
	*b = vg_number(p + strlen(mid), &p);
	return *a >= 0 && *b >= 0;
}

int mh_test_valgrind_parse(const char *log, struct mh_vg_summary *out)
{
	const char *p;

	memset(out, 0xff, sizeof(*out));	/* every field -1 */
	if (!vg_pair(log, "in use at exit:", " bytes in", &out->in_use_bytes,
		     &out->in_use_blocks))
		return -EBADMSG;
	p = strstr(log, "total heap usage:");
	if (!p)
		return -EBADMSG;
	out->allocs = vg_number(p + strlen("total heap usage:"), &p);
	if (strncmp(p, " allocs,", 8) != 0)
		return -EBADMSG;
	out->frees = vg_number(p + 8, &p);
	if (strncmp(p, " frees,", 7) != 0)
		return -EBADMSG;
	out->bytes_allocated = vg_number(p + 7, &p);
	if (strstr(log, "All heap blocks were freed")) {
		out->definite_bytes = out->definite_blocks = 0;
		out->indirect_bytes = out->indirect_blocks = 0;
		out->possible_bytes = out->possible_blocks = 0;
		out->reachable_bytes = out->reachable_blocks = 0;
		return 0;
	}
	vg_pair(log, "definitely lost:", " bytes in", &out->definite_bytes, &out->definite_blocks);
	vg_pair(log, "indirectly lost:", " bytes in", &out->indirect_bytes, &out->indirect_blocks);
	vg_pair(log, "possibly lost:", " bytes in", &out->possible_bytes, &out->possible_blocks);
	vg_pair(log, "still reachable:", " bytes in", &out->reachable_bytes,
		&out->reachable_blocks);
	return 0;
}

int mh_test_valgrind_log(const char *const *opts, const char *const *argv,
			 const char *stdout_path, unsigned timeout_s, char **log)
{
	const char *vg[] = { "valgrind", "--leak-check=full", "--show-leak-kinds=all",
			     "--errors-for-leak-kinds=none", NULL };
	size_t nvg = sizeof(vg) / sizeof(vg[0]) - 1, nopts = 0, nargs = 0, i, n = 0;
	char *log_path = NULL, *log_opt = NULL;
	const char **full;
	int status;

	while (opts && opts[nopts])
		nopts++;
	while (argv[nargs])
		nargs++;
	if (asprintf(&log_path, "%s.vg", stdout_path) < 0 ||
	    asprintf(&log_opt, "--log-file=%s", log_path) < 0)
		abort();
	full = xalloc(calloc(nvg + nopts + nargs + 2, sizeof(*full)));
	for (i = 0; i < nvg; i++)
		full[n++] = vg[i];
	for (i = 0; i < nopts; i++)
		full[n++] = opts[i];
	full[n++] = log_opt;
	for (i = 0; i < nargs; i++)
		full[n++] = argv[i];
	status = mh_test_run(&(struct mh_test_cmd){ .argv = full, .stdout_path = stdout_path,
						    .timeout_s = timeout_s });
	*log = NULL;
	if (status >= 0) {
		*log = mh_test_read_file(log_path, NULL);
		if (!*log)
			status = -errno;
	}
	free(full);
	free(log_opt);
	free(log_path);
	return status;
}

int mh_test_valgrind(const char *const *argv, const char *stdout_path, unsigned timeout_s,
		     struct mh_vg_summary *out)
{
	char *log;
	int status = mh_test_valgrind_log(NULL, argv, stdout_path, timeout_s, &log), rc;

	if (status < 0)
		return status;
	rc = mh_test_valgrind_parse(log, out);
	free(log);
	return rc < 0 ? rc : status;
}

/* The pid in a "==PID==" line prefix at s, or -1. */
static long vg_line_pid(const char *s)
{
	char *end;
	long pid;

	if (strncmp(s, "==", 2) != 0)
		return -1;
	pid = strtol(s + 2, &end, 10);
	return end > s + 2 && strncmp(end, "==", 2) == 0 ? pid : -1;
}

long mh_test_valgrind_pid(const char *log, int nth)
{
	long seen[64];
	int nseen = 0, i;
	const char *line;

	for (line = log; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		long pid = vg_line_pid(line);

		if (pid < 0)
			continue;
		for (i = 0; i < nseen && seen[i] != pid; i++)
			;
		if (i < nseen)
			continue;
		if (nseen == nth)
			return pid;
		if (nseen < (int)(sizeof(seen) / sizeof(seen[0])))
			seen[nseen++] = pid;
	}
	return -1;
}

char *mh_test_valgrind_lines(const char *log, long pid)
{
	size_t len = strlen(log), used = 0;
	char *out = xalloc(malloc(len + 1));
	const char *line, *next;

	for (line = log; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (vg_line_pid(line) == pid) {
			memcpy(out + used, line, (size_t)(next - line));
			used += (size_t)(next - line);
		}
	}
	out[used] = '\0';
	return out;
}

long long mh_test_count(const char *text, const char *needle)
{
	long long n = 0;
	size_t len = strlen(needle);

	if (!len)
		return 0;
	for (text = strstr(text, needle); text; text = strstr(text + len, needle))
		n++;
	return n;
}

char *mh_test_tmp;

void mh_test_tmp_setup(void)
{
	mh_test_tmp = mh_test_tmpdir();
}

void mh_test_tmp_teardown(void)
{
	mh_test_rmdir(mh_test_tmp);
	free(mh_test_tmp);
	mh_test_tmp = NULL;
}

int mh_test_write_number(const char *dir, const char *name, long long value)
{
	char path[512], text[32];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = snprintf(text, sizeof(text), "%lld", value);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != n)
		err = -errno;
	close(fd);
	return err;
}

void mh_test_cgroup_make(struct mh_test_swapcg *f, const char *tag, long long limit, bool memsw)
{
	int err;

	snprintf(f->cgroup_dir, sizeof(f->cgroup_dir), "%s/memhook-%s.%d",
		 MH_TEST_CGROUP_V1_MEMORY, tag, (int)getpid());
	if (mkdir(f->cgroup_dir, 0755)) {
		snprintf(f->skip, sizeof(f->skip), "cannot create memory cgroup %s: %s",
			 f->cgroup_dir, strerror(errno));
		f->cgroup_dir[0] = '\0';
		return;
	}
	err = mh_test_write_number(f->cgroup_dir, "memory.limit_in_bytes", limit);
	if (!err && memsw)
		err = mh_test_write_number(f->cgroup_dir, "memory.memsw.limit_in_bytes", limit);
	if (err)
		snprintf(f->skip, sizeof(f->skip), "cannot set the cgroup's limit: %s",
			 strerror(-err));
}

void mh_test_cgroup_remove(struct mh_test_swapcg *f)
{
	int tries;

	if (!f->cgroup_dir[0])
		return;
	/* The last task leaves the cgroup shortly after it is reaped. */
	for (tries = 0; tries < 50 && rmdir(f->cgroup_dir) && errno == EBUSY; tries++)
		usleep(100000);
	f->cgroup_dir[0] = '\0';
}

/*
 * Swap files and cgroups a test run left behind when it was killed before
 * its teardown (a timeout): /var/tmp/memhook-<tag>-swap.<pid> and
 * <memory controller>/memhook-<tag>.<pid> of a pid that is gone. Left
 * active, such a swap file would change what later tests measure.
 */
static void sweep_stale(const char *dir, const char *suffix_after)
{
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp))) {
		char path[512], *dot = strrchr(d->d_name, '.');
		long pid;

		if (strncmp(d->d_name, "memhook-", 8) || !dot || !strstr(d->d_name, suffix_after))
			continue;
		pid = strtol(dot + 1, NULL, 10);
		if (pid <= 0 || !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (d->d_type == DT_DIR) {
			(void)rmdir(path);
		} else {
			(void)swapoff(path);
			(void)unlink(path);
		}
	}
	closedir(dp);
}

void mh_test_swapcg_setup(struct mh_test_swapcg *f, const char *tag, long long swap_mib,
			  long long limit)
{
	const char *mkswap[] = { "mkswap", "-q", f->swap_path, NULL };
	struct mh_test_cmd cmd = { .argv = mkswap };
	int fd, st;

	memset(f, 0, sizeof(*f));
	if (geteuid() != 0) {
		snprintf(f->skip, sizeof(f->skip), "needs root for swap and cgroups");
		return;
	}
	if (access(MH_TEST_CGROUP_V1_MEMORY "/memory.limit_in_bytes", F_OK)) {
		snprintf(f->skip, sizeof(f->skip), "no cgroup v1 memory controller at %s",
			 MH_TEST_CGROUP_V1_MEMORY);
		return;
	}
	sweep_stale("/var/tmp", "-swap.");
	sweep_stale(MH_TEST_CGROUP_V1_MEMORY, "memhook-");
	snprintf(f->swap_path, sizeof(f->swap_path), "/var/tmp/memhook-%s-swap.%d", tag,
		 (int)getpid());
	fd = open(f->swap_path, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0 || posix_fallocate(fd, 0, swap_mib * MIB)) {
		snprintf(f->skip, sizeof(f->skip), "cannot create swap file %s", f->swap_path);
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	st = mh_test_run(&cmd);
	if (st != 0 || swapon(f->swap_path, 0)) {
		snprintf(f->skip, sizeof(f->skip), "cannot enable swap file %s: %s", f->swap_path,
			 st ? "mkswap failed" : strerror(errno));
		return;
	}
	f->swap_on = true;
	mh_test_cgroup_make(f, tag, limit, false);
}

void mh_test_swapcg_teardown(struct mh_test_swapcg *f)
{
	mh_test_cgroup_remove(f);
	if (f->swap_on)
		(void)swapoff(f->swap_path);	/* nothing else can be done if it fails */
	if (f->swap_path[0])
		unlink(f->swap_path);
	f->swap_on = false;
	f->swap_path[0] = '\0';
}

char *mh_test_artefact(const char *rel)
{
	char *path = mh_test_path(rel);

	ck_assert_msg(mh_test_executable(path), "%s is not built (MEMHOOK_BUILD_DIR=%s)", path,
		      mh_test_build_dir());
	return path;
}

int mh_test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	/*
	 * A suite started in the background of a non-interactive shell (`&`)
	 * inherits SIGINT and SIGQUIT ignored, and so would every program it
	 * runs, natively or traced: tests that read dispositions need the
	 * defaults a program normally starts with.
	 */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void mh_test_stage(const char *dir, const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char *src = mh_test_path(rel), *dst = mh_test_join(dir, base), *bytes;
	size_t len;
	int fd;

	bytes = mh_test_read_file(src, &len);
	ck_assert_msg(bytes != NULL, "%s is not built", src);
	fd = open(dst, O_CREAT | O_TRUNC | O_WRONLY, 0755);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	ck_assert_int_eq(chmod(dst, 0755), 0);
	free(bytes);
	free(dst);
	free(src);
}

char *mh_test_unprivileged_dir(const char *test, const char *const *rels)
{
	const char *probe[] = { "setpriv", "--reuid=" MH_TEST_NOBODY, "--regid=" MH_TEST_NOBODY,
				"--clear-groups", "test", "-w", NULL, NULL };
	struct mh_test_cmd cmd = { .argv = probe };
	char *dir;

	if (geteuid() != 0) {
		mh_test_skip(test, "needs root to switch to an unprivileged user");
		return NULL;
	}
	if (!mh_test_have_program("setpriv")) {
		mh_test_skip(test, "setpriv (util-linux) is not installed");
		return NULL;
	}
	dir = mh_test_tmpdir();
	ck_assert_int_eq(chmod(dir, 0777), 0);
	probe[6] = dir;
	if (mh_test_run(&cmd) != 0) {
		mh_test_skip(test, "the temporary directory is out of reach of uid " MH_TEST_NOBODY);
		mh_test_rmdir(dir);
		free(dir);
		return NULL;
	}
	mh_test_stage(dir, "memhook");
	mh_test_stage(dir, "libmemhook.so");
	for (size_t i = 0; rels && rels[i]; i++)
		mh_test_stage(dir, rels[i]);
	return dir;
}

int mh_test_run_unprivileged(const char *dir, const char *const *args, unsigned timeout_s)
{
	const char *argv[32] = { "setpriv", "--reuid=" MH_TEST_NOBODY, "--regid=" MH_TEST_NOBODY,
				 "--clear-groups" };
	char *memhook = mh_test_join(dir, "memhook"), *out = mh_test_join(dir, "out");
	char *err = mh_test_join(dir, "err");
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out, .stderr_path = err,
				   .timeout_s = timeout_s };
	int i, st;

	argv[4] = memhook;
	for (i = 0; args[i] && i < 26; i++)
		argv[5 + i] = args[i];
	st = mh_test_run(&cmd);
	free(memhook);
	free(out);
	free(err);
	return st;
}

const void *mh_test_ring_peek(struct mh_ring *ring, size_t *bytes)
{
	static unsigned char *buf;
	static size_t cap;
	const char *why;

	if (cap < ring->map_bytes) {
		free(buf);
		cap = ring->map_bytes;
		buf = malloc(cap);
		ck_assert_ptr_nonnull(buf);
	}
	ck_assert_int_eq(mh_ring_read(ring, buf, cap, bytes, &why), 0);
	return buf;
}
