// SPDX-License-Identifier: MIT
/*
 * preload_run.c - the definitions behind preload_run.h.
 */
#include "tests/preload_run.h"

char *prog_path(void)
{
	return mh_test_path("tests/progs/preload_calls");
}

bool have_artefacts(const char *name)
{
	char *lib = mh_test_path("libmemhook.so"), *prog = prog_path();
	bool ok = !access(lib, R_OK) && mh_test_executable(prog);

	if (!ok)
		mh_test_skip(name, "libmemhook.so or tests/progs/preload_calls not built");
	free(lib);
	free(prog);
	return ok;
}

void keep(struct trace *t, const void *p, size_t bytes)
{
	if (t->len + bytes > t->cap) {
		t->cap = (t->len + bytes) * 2;
		t->buf = realloc(t->buf, t->cap);
		ck_assert_ptr_nonnull(t->buf);
	}
	memcpy(t->buf + t->len, p, bytes);
	t->len += bytes;
}

size_t drain(struct mh_ring *ring, struct trace *t)
{
	size_t bytes;
	const void *p = mh_test_ring_peek(ring, &bytes);

	if (bytes) {
		keep(t, p, bytes);
		mh_ring_release(ring, bytes);
	}
	return bytes;
}

/* Alive and not a zombie: /proc/PID/stat's state field. */
bool process_waiting(pid_t pid)
{
	char path[64], *stat, *paren;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	stat = mh_test_read_file(path, NULL);
	if (!stat)
		return false;
	paren = strrchr(stat, ')');
	alive = paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
	free(stat);
	return alive;
}

/*
 * The recorder's part of the exit handshake, for the records from offset
 * `from` on: check that the process waits with its memory intact (its
 * stack at sp can be read), then answer its ticket.
 */
void answer_scans(struct mh_ring *ring, struct trace *t, size_t from)
{
	/* t->buf holds the ring from its first byte on: offsets are ring positions. */
	for (size_t off = from; off < t->len;) {
		const struct mh_rec_hdr *h = (const void *)(t->buf + off);
		const struct mh_rec_exit_scan *s = (const void *)h;
		__u64 word;
		struct iovec local = { &word, sizeof(word) };
		struct iovec remote = { (void *)(uintptr_t)s->sp, sizeof(word) };

		off += h->size;
		if (h->type != MH_REC_EXIT_SCAN)
			continue;
		t->scans++;
		if (process_waiting((pid_t)s->pid) &&
		    process_vm_readv((pid_t)s->pid, &local, 1, &remote, 1, 0) == sizeof(word))
			t->scans_waiting++;
		/* The reader made the ticket: slot and the position past the request. */
		ck_assert_uint_ne(s->ticket, 0);
		mh_ring_answer(ring, s->ticket);
	}
}

void exec_child(const struct mh_ring *ring, const struct run_opts *o, int err_fd)
{
	char fd[16], pid[16], *lib = mh_test_path("libmemhook.so"), *path = prog_path();
	const char *argv[16] = { "preload_calls" };
	int i;

	if (o->prog) {
		free(path);
		if (asprintf(&path, "%s/tests/progs/%s", mh_test_build_dir(), o->prog) < 0)
			_exit(127);
		argv[0] = o->prog;
	}
	if (o->no_aslr && personality(ADDR_NO_RANDOMIZE) < 0)
		_exit(126);

	snprintf(fd, sizeof(fd), "%d", ring->fd);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LD_PRELOAD", lib, 1);
	setenv(MH_ENV_RING_FD, fd, 1);
	setenv(MH_ENV_ROOT_PID, pid, 1);
	for (i = 0; o->env && o->env[i]; i++)
		putenv((char *)o->env[i]);
	for (i = 0; o->argv && o->argv[i] && i < 14; i++)
		argv[i + 1] = o->argv[i];
	if (o->ignore_sighup)
		signal(SIGHUP, SIG_IGN);
	dup2(err_fd, STDERR_FILENO);
	execv(path, (char *const *)argv);
	_exit(127);
}

/* Launch the program under the preload and collect its records. */
void run_traced(struct trace *t, const struct run_opts *o)
{
	char err_path[] = "/tmp/mh-check-preload-XXXXXX";
	struct mh_ring ring;
	time_t deadline = time(NULL) + RUN_LIMIT_S;
	bool done = false, finished = false;
	int err_fd;

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(mh_ring_create(&ring, o->ring_bytes, o->flags), 0);
	if (o->consumer)
		ring.hdr->consumer_pid = (__u32)o->consumer;
	err_fd = mkstemp(err_path);
	ck_assert_int_ge(err_fd, 0);
	t->pid = fork();
	ck_assert_int_ge(t->pid, 0);
	if (t->pid == 0)
		exec_child(&ring, o, err_fd);
	close(err_fd);
	for (;;) {
		size_t n;

		if (!done && waitpid(t->pid, &t->status, WNOHANG) == t->pid)
			done = true;
		size_t before = t->len;

		/* With a stand-in consumer, the records are read only at the end. */
		n = !o->consumer || done ? drain(&ring, t) : 0;
		answer_scans(&ring, t, before);
		if (done && !n && finished)
			break;
		if (done && !n) {
			/* The program is gone: merge what the watermark still held back. */
			mh_ring_finish(&ring);
			finished = true;
			continue;
		}
		if (time(NULL) > deadline) {
			kill(t->pid, SIGKILL);
			ck_abort_msg("traced program did not finish in %d s", RUN_LIMIT_S);
		}
		if (!n)
			usleep(500);
	}
	t->lost = ring.hdr->lost_records;
	mh_ring_close(&ring);
	mh_ring_destroy(&ring);
	t->err = mh_test_read_file(err_path, NULL);
	unlink(err_path);
	ck_assert_ptr_nonnull(t->err);
}

void trace_free(struct trace *t)
{
	free(t->buf);
	free(t->err);
}

unsigned int count_allocs(const struct trace *t, __u32 pid, __u64 size)
{
	unsigned int n = 0;

	for_each_rec(t, h) {
		const struct mh_rec_alloc *a = (const void *)h;

		if (h->type == MH_REC_ALLOC && a->pid == pid && a->size == size)
			n++;
	}
	return n;
}

const struct mh_rec_process *find_process(const struct trace *t, unsigned int nth)
{
	for_each_rec(t, h)
		if (h->type == MH_REC_PROCESS && !nth--)
			return (const void *)h;
	return NULL;
}
