// SPDX-License-Identifier: MIT
/*
 * core.c - the recording core: stacks, threads, the process record and
 * the allocation events, written into the shared ring.
 *
 * Never allocates through malloc (tables are mmap'd by raw system call),
 * never calls stdio (messages go through write(2) to a saved stderr, each
 * once), never blocks without a deadline. Every entry point runs with the
 * caller's re-entrancy guard held (core.h).
 *
 * Ordering: each thread writes to its own slot of the ring, and the
 * recorder merges the slots by timestamp (include/memhook/ring.h). A FREE
 * is stamped before the real release and an ALLOC after the real
 * allocation returns, each after its slot was marked busy, so no thread's
 * reuse of an address can be stamped before its release. A new stack goes
 * into the thread's slot before the first event that uses it, and module
 * changes before that stack.
 */
#include "preload/core.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload/clock.h"
#include "preload/dtv.h"
#include "preload/fds.h"
#include "preload/modules.h"
#include "preload/ownmaps.h"
#include "preload/ring.h"
#include "preload/stackids.h"
#include "preload/stamp.h"
#include "preload/sys.h"
#include "common/compiler.h"

/* The stack-id set holds 2^20 ids: 8 MiB of address space, touched as used. */
#define STACKDB_CAPACITY_LOG2 20
/* Frames of the preload itself that a capture may see above the caller. */
#define OWN_FRAMES_SLACK 8
/* The longest argument list sent for an image ("process.argv"), bytes; longer ones are cut. */
#define ARGV_MAX_BYTES 4096

/* glibc: free what libc itself keeps until exit (memcheck calls it too). */
extern void __libc_freeres(void);
/*
 * libstdc++'s __gnu_cxx::__freeres (its exception pool), which memcheck
 * also calls. A weak reference, bound at load if libstdc++ is there: a
 * failed dlsym would allocate an error string behind our back.
 */
extern void cxx_freeres(void) __asm__("_ZN9__gnu_cxx9__freeresEv") __attribute__((weak));

__thread struct mh_thread mh_self __attribute__((tls_model("initial-exec")));
int mh_core_recording;

static struct mh_core_config cfg;
static struct mh_ring ring;
static struct mh_stackids *stacks;
static pid_t cur_pid;
static char exe_path[PATH_MAX];
/* This image's arguments, read from /proc/self/cmdline once at start. */
static char argv_buf[ARGV_MAX_BYTES];
/* memhook's copy of stderr, at the top of the fd range, and what it and fd 2 referred to. */
static int log_fd = -1;
static struct mh_fd_id log_id, stderr_id;
/* Separates this image's stack ids from other images' (see mh_stack_hash). */
static __u64 image_seed;
static unsigned int said;
/* Bumped by mh_core_names_changed: threads compare it with their name_gen. */
static unsigned int names_gen;
/* The name this thread last sent. */
static __thread char sent_name[MH_THREAD_NAME_LEN] __attribute__((tls_model("initial-exec")));
/* Set once this process has sent its exit records (reset in a fork child). */
static int exit_sent;
/* Its destructor closes a thread's slot when the thread ends. */
static pthread_key_t slot_key;
static bool slot_key_ok;

enum problem {
	PROBLEM_GONE = 0x1,
	PROBLEM_ATTACH = 0x2,
	PROBLEM_UNWIND = 0x4,
	PROBLEM_LOG_FD = 0x8,
};

static int utoa(char *buf, unsigned long v);

/* "memhook: <msg>[<num>][: <reason>]\n" on fd; num < 0: none. */
static void say(int fd, const char *msg, long num, int err)
{
	const char *reason = err ? strerrordesc_np(err) : NULL;
	struct iovec iov[6];
	char digits[24];
	int n = 0;

	iov[n++] = (struct iovec){ "memhook: ", 9 };
	iov[n++] = (struct iovec){ (void *)msg, strlen(msg) };
	if (num >= 0)
		iov[n++] = (struct iovec){ digits, (size_t)utoa(digits, (unsigned long)num) };
	if (reason) {
		iov[n++] = (struct iovec){ ": ", 2 };
		iov[n++] = (struct iovec){ (void *)reason, strlen(reason) };
	}
	iov[n++] = (struct iovec){ "\n", 1 };
	/* Nothing to do if stderr is gone: the message is best effort. */
	(void)!writev(fd, iov, n);
}

/*
 * Where messages go: memhook's copy of stderr while that number still
 * refers to it; once the program has closed it (and perhaps opened a file
 * of its own there), the program's fd 2 if that is still the stderr it
 * started with, saying once what happened; else nowhere. Never into a
 * file of the program's.
 */
static int log_target(void)
{
	bool stderr_ok = mh_fd_is(STDERR_FILENO, &stderr_id);

	if (log_fd >= 0 && mh_fd_is(log_fd, &log_id))
		return log_fd;
	if (log_fd >= 0 && stderr_ok &&
	    !(__atomic_fetch_or(&said, PROBLEM_LOG_FD, __ATOMIC_RELAXED) & PROBLEM_LOG_FD))
		say(STDERR_FILENO, "the program closed memhook's copy of stderr, fd ", log_fd, 0);
	return stderr_ok ? STDERR_FILENO : -1;
}

/* "memhook: <msg>[: <reason>]\n", once per problem. */
static void say_once(unsigned int problem, const char *msg, int err)
{
	int fd;

	if (__atomic_fetch_or(&said, problem, __ATOMIC_RELAXED) & problem)
		return;
	fd = log_target();
	if (fd >= 0)
		say(fd, msg, -1, err);
}

/* The ring refused a record: stop for good if the recorder is gone. */
static void ring_refused(void)
{
	if (mh_ring_consumer_gone(&ring)) {
		__atomic_store_n(&mh_core_recording, 0, __ATOMIC_RELAXED);
		say_once(PROBLEM_GONE, "recorder gone, no longer recording", 0);
	}
}

static int utoa(char *buf, unsigned long v)
{
	char tmp[24];
	int n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* The calling thread's name (its comm): no fd, no stdio, no malloc. */
static void thread_name(char *name)
{
	char comm[MH_THREAD_NAME_LEN + 1] = "";

	/* Cannot fail for the calling thread; the name stays empty if it did. */
	(void)prctl(PR_GET_NAME, comm);
	memcpy(name, comm, MH_THREAD_NAME_LEN - 1);
	name[MH_THREAD_NAME_LEN - 1] = '\0';
}

static void send_thread(const char *name)
{
	struct mh_rec_thread *r = mh_ring_reserve(&ring, sizeof(*r));

	if (!r) {
		ring_refused();
		return;
	}
	r->ts_ns = mh_stamp();
	r->pid = (__u32)cur_pid;
	r->tid = mh_self.tid;
	memcpy(r->name, name, MH_THREAD_NAME_LEN);
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_THREAD, .size = sizeof(*r) });
}

/* A thread's first event, a rename announced, or time to look at the name again. */
static __attribute__((noinline, cold)) void thread_slow(void)
{
	char name[MH_THREAD_NAME_LEN] = "";
	bool first = !mh_self.tid;

	if (first) {
		mh_self.tid = (__u32)syscall(SYS_gettid);
		/* A key below PTHREAD_KEY_2NDLEVEL_SIZE needs no memory; above, the guard lets calloc through. */
		if (slot_key_ok)
			(void)pthread_setspecific(slot_key, &slot_key);
	}
	mh_self.name_gen = __atomic_load_n(&names_gen, __ATOMIC_ACQUIRE);
	mh_self.name_countdown = MH_CORE_NAME_RECHECK;
	thread_name(name);
	if (!first && !memcmp(name, sent_name, sizeof(name)))
		return;
	memcpy(sent_name, name, sizeof(name));
	send_thread(name);
}

/* Send the thread's name before its first event and again when it changed. */
static inline void thread_check(void)
{
	if (mh_unlikely(!mh_self.name_countdown-- ||
			mh_self.name_gen != __atomic_load_n(&names_gen, __ATOMIC_RELAXED)))
		thread_slow();
}

void mh_core_thread_sync(void)
{
	thread_slow();
}

void mh_core_names_changed(void)
{
	__atomic_fetch_add(&names_gen, 1, __ATOMIC_RELEASE);
}

static __attribute__((noinline, cold)) void send_stack(__u64 id, const __u64 *ips,
						       unsigned int depth, bool truncated)
{
	__u32 bytes = (__u32)(sizeof(struct mh_rec_stack) + depth * sizeof(__u64));
	struct mh_rec_stack *r;

	if (mh_modules_note(&ring, cur_pid, exe_path, ips, depth)) {
		ring_refused();
		return;
	}
	r = mh_ring_reserve(&ring, bytes);
	if (!r) {
		ring_refused();
		return;
	}
	r->stack_id = id;
	r->pid = (__u32)cur_pid;
	r->depth = (__u16)depth;
	r->flags = truncated ? MH_STACK_TRUNCATED : 0;
	memcpy(r + 1, ips, depth * sizeof(__u64));
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_STACK, .size = bytes });
	mh_stackids_sent(stacks, id);
}

/*
 * Capture the program's stack (our own frames dropped), intern it, send it
 * if new. *frame1 gets its second return address (0 if none). When the
 * capture comes with a memo (unwind.h: the same frames as when the memo
 * was kept), the id kept there is this stack's and already sent: no hash,
 * no lookup. The tag ties the memo to this image's seed and id set and to
 * the depth and truncation the id was made for.
 */
static inline __attribute__((always_inline)) __u64 caller_stack(__u64 *frame1)
{
	__u64 ips[MH_STACK_CAPTURE_MAX];
	struct mh_memo_ref memo;
	unsigned int n, skip;
	bool truncated;
	__u64 id, tag;

	n = mh_stack_capture(cfg.unwind, ips, cfg.depth + OWN_FRAMES_SLACK, &truncated, &memo);
	/* Told to skip cfg.skip_lo..skip_hi, the capture often knows how many it would. */
	skip = memo.own;
	if (skip == MH_OWN_UNKNOWN)
		for (skip = 0; skip < n && ips[skip] - cfg.skip_lo < cfg.skip_hi - cfg.skip_lo;)
			skip++;
	n -= skip;
	if (n > cfg.depth) {
		n = cfg.depth;
		truncated = true;
	}
	*frame1 = n > 1 ? ips[skip + 1] : 0;
	tag = image_seed ^ (uintptr_t)stacks ^ ((__u64)n << 1 | truncated) ^ memo.key;
	if (memo.at) {
		id = __atomic_load_n(&memo.at->id, __ATOMIC_RELAXED);
		if (id && __atomic_load_n(&memo.at->check, __ATOMIC_RELAXED) == (id ^ tag))
			return id;
	}
	id = mh_stack_hash(image_seed, ips + skip, n);
	if (mh_unlikely(mh_stackids_intern(stacks, id) == MH_INTERN_SEND))
		send_stack(id, ips + skip, n, truncated);
	if (memo.at) {
		__atomic_store_n(&memo.at->id, id, __ATOMIC_RELAXED);
		__atomic_store_n(&memo.at->check, id ^ tag, __ATOMIC_RELAXED);
	}
	return id;
}

void *mh_core_real(void **slot, const char *name)
{
	void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	int guard = mh_self.guard;

	if (!fn) {
		/* dlsym may allocate: that is the loader's business, not the program's. */
		mh_self.guard = 1;
		fn = dlsym(RTLD_NEXT, name);
		mh_self.guard = guard;
		__atomic_store_n(slot, fn, __ATOMIC_RELEASE);
	}
	return fn;
}

/*
 * The steps every allocation event starts with: this thread's state, the
 * caller's stack (into *id) and room in the ring for bytes. NULL when the
 * ring refused (said once); inlined into each event's hot path.
 */
static inline __attribute__((always_inline)) void *event_begin(size_t bytes, __u64 *id,
								   __u64 *frame1)
{
	void *r;

	thread_check();
	*id = caller_stack(frame1);
	r = mh_ring_reserve(&ring, bytes);
	if (mh_unlikely(!r))
		ring_refused();
	return r;
}

void mh_core_alloc(enum mh_alloc_kind kind, const void *addr, size_t size)
{
	__u64 id, frame1;
	struct mh_rec_alloc *r = event_begin(sizeof(*r), &id, &frame1);

	if (mh_unlikely(!r))
		return;
	r->ts_ns = mh_stamp();
	r->addr = (uintptr_t)addr;
	r->size = kind == MH_KIND_CALLOC ? mh_dtv_program_size(frame1, size) : size;
	r->stack_id = id;
	r->tid = mh_self.tid;
	r->pid = (__u32)cur_pid;
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_ALLOC, .kind = kind,
					       .size = sizeof(*r) });
}

void mh_core_remap(enum mh_alloc_kind kind, const void *old, size_t old_size, const void *addr,
		   size_t size)
{
	__u64 id, frame1;
	struct mh_rec_realloc *r = event_begin(sizeof(*r), &id, &frame1);

	if (mh_unlikely(!r))
		return;
	r->ts_ns = mh_stamp();
	r->old_addr = (uintptr_t)old;
	r->old_size = old_size;
	r->addr = (uintptr_t)addr;
	r->size = size;
	r->stack_id = id;
	r->tid = mh_self.tid;
	r->pid = (__u32)cur_pid;
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_REALLOC, .kind = kind,
					       .size = sizeof(*r) });
}

/* mh_core_free_begin, inlined into mh_core_free too. */
static inline __attribute__((always_inline)) struct mh_rec_free *
free_begin(const void *addr, size_t size)
{
	struct mh_rec_free *r;

	thread_check();
	/* Reserved (the slot marked busy) first, then stamped: ring.h. */
	r = mh_ring_reserve(&ring, sizeof(*r));
	if (mh_unlikely(!r)) {
		ring_refused();
		return NULL;
	}
	r->ts_ns = mh_stamp();
	r->addr = (uintptr_t)addr;
	r->size = size;
	r->tid = mh_self.tid;
	r->pid = (__u32)cur_pid;
	return r;
}

struct mh_rec_free *mh_core_free_begin(enum mh_alloc_kind kind, const void *addr, size_t size)
{
	(void)kind;	/* in the header, written by mh_core_free_end */
	return free_begin(addr, size);
}

/* mh_core_free_end, inlined into mh_core_free too. */
static inline __attribute__((always_inline)) void free_end(struct mh_rec_free *r,
							   enum mh_alloc_kind kind, bool released)
{
	if (!r)
		return;
	if (!released) {
		r->addr = 0;
		r->size = 0;
	}
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_FREE, .kind = kind,
					       .size = sizeof(*r) });
}

void mh_core_free_end(struct mh_rec_free *r, enum mh_alloc_kind kind, bool released)
{
	free_end(r, kind, released);
}

void mh_core_free(enum mh_alloc_kind kind, const void *addr, size_t size)
{
	free_end(free_begin(addr, size), kind, true);
}

static int send_process(enum mh_process_start start)
{
	size_t len = strlen(exe_path);
	__u32 bytes = (__u32)(sizeof(struct mh_rec_process) + MH_REC_PAD(len + 1));
	struct mh_rec_process *r = mh_ring_reserve(&ring, bytes);

	if (!r)
		return -EPIPE;
	r->ts_ns = mh_stamp();
	r->pid = (__u32)cur_pid;
	r->ppid = (__u32)getppid();
	r->start = start;
	r->path_len = (__u32)len;
	memcpy(r + 1, exe_path, len);
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_PROCESS, .size = bytes });
	return 0;
}

/*
 * An INFO record about this process from ring r: key, then value of len
 * bytes (it may hold NULs). -EPIPE when the ring refuses it.
 */
static int send_info(struct mh_ring *r, const char *key, const char *value, size_t len)
{
	size_t klen = strlen(key);
	__u32 bytes = (__u32)MH_REC_PAD(sizeof(struct mh_rec_info) + klen + len + 2);
	struct mh_rec_info *rec = mh_ring_reserve(r, bytes);
	char *text;

	if (!rec)
		return -EPIPE;
	rec->ts_ns = mh_stamp();
	rec->pid = (__u32)cur_pid;
	rec->key_len = (__u16)klen;
	rec->value_len = (__u16)len;
	text = (char *)(rec + 1);
	memcpy(text, key, klen + 1);
	memcpy(text + klen + 1, value, len);
	text[klen + 1 + len] = '\0';
	mh_ring_commit(rec, (struct mh_rec_hdr){ .type = MH_REC_INFO, .size = bytes });
	return 0;
}

/* "process.argv": the arguments, each NUL-terminated (the last NUL is the value's own). */
static int send_argv(void)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n = 1;

	if (fd < 0)
		return 0;	/* the report names the image by its executable instead */
	while (n > 0 && len < sizeof(argv_buf)) {
		n = read(fd, argv_buf + len, sizeof(argv_buf) - len);
		len += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	while (len && !argv_buf[len - 1])
		len--;
	return len ? send_info(&ring, "process.argv", argv_buf, len) : 0;
}

static void read_exe_path(void)
{
	ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);

	exe_path[n > 0 ? n : 0] = '\0';
}

/*
 * Map the ring from the inherited fd or, if the program closed it before
 * exec (the fd then fails the header check or is gone), from the
 * recorder's /proc entry for it.
 */
static int attach(struct mh_ring *r)
{
	int err = mh_ring_attach(r, cfg.ring_fd), fd;

	if (!err || !cfg.ring_path)
		return err;
	fd = open(cfg.ring_path, O_RDWR);
	if (fd < 0)
		return err;
	err = mh_ring_attach(r, fd);
	if (err)
		close(fd);
	return err;
}

const char *mh_core_ring_path(void)
{
	static char path[64] = "/proc/";
	int len = 6;

	if (cfg.ring_path)
		return cfg.ring_path;
	if (!ring.hdr)
		return NULL;
	len += utoa(path + len, ring.hdr->consumer_pid);
	memcpy(path + len, "/fd/", 4);
	len += 4;
	/* The number the recorder holds it at: the one this image inherited. */
	len += utoa(path + len, (unsigned long)cfg.ring_fd);
	path[len] = '\0';
	return path;
}

/*
 * Take the ring's fd out of the program's way (fds.h). Exec'd images find
 * it by its number, so it stays inheritable and the environment names the
 * new number; if they do not record, nothing needs it once it is mapped.
 */
static void ring_fd_aside(void)
{
	int fd;

	if (!cfg.follow_exec) {
		close(ring.fd);
		ring.fd = -1;
		return;
	}
	fd = mh_fd_dup_high(ring.fd, false);
	/* No room up there: it stays where it is, which only costs the program a number. */
	if (fd < 0)
		return;
	close(ring.fd);
	ring.fd = fd;
	/* Failing leaves the old number named: exec'd images then use the /proc path. */
	(void)mh_config_set_ring_fd(fd);
}

/* Keep a copy of stderr for messages, out of the program's way (fds.h). */
static void log_setup(void)
{
	if (log_fd >= 0)
		return;
	mh_fd_id_take(STDERR_FILENO, &stderr_id);
	log_fd = mh_fd_dup_high(STDERR_FILENO, true);
	if (log_fd >= 0)
		mh_fd_id_take(log_fd, &log_id);
}

/*
 * A thread's end (its pthread key destructor): its slot goes back to the
 * recorder, its unwinding memory to the pool.
 */
static void thread_ended(void *unused)
{
	int guard = mh_self.guard;

	(void)unused;
	mh_self.guard = 1;
	mh_ring_close_slot(&ring);
	mh_unwind_thread_end();
	mh_self.guard = guard;
}

/* dlsym may allocate: that is the loader's business, not the program's. */
static void dtv_setup(void)
{
	int guard = mh_self.guard;

	mh_self.guard = 1;
	mh_dtv_setup();
	mh_self.guard = guard;
}

int mh_core_start(const struct mh_core_config *c)
{
	int err;

	log_setup();
	cfg = *c;
	cur_pid = getpid();
	image_seed = mh_now_ns() ^ ((__u64)cur_pid << 32);
	mh_self.tid = 0;
	mh_self.name_countdown = 0;
	read_exe_path();
	err = attach(&ring);
	if (err)
		goto out_say;
	mh_clock_setup(ring.hdr->flags & MH_RING_TSC);
	/* The slots this pid held before an exec are done with. */
	mh_ring_close_stale(&ring);
	mh_stamp_reset(&ring);
	if (!slot_key_ok)
		slot_key_ok = !pthread_key_create(&slot_key, thread_ended);
	mh_ownmaps_note_tls();
	dtv_setup();
	ring_fd_aside();
	stacks = mh_stackids_new(STACKDB_CAPACITY_LOG2);
	if (!stacks) {
		err = -errno;
		goto out_unmap;
	}
	if (mh_stack_setup(cfg.unwind, cfg.skip_lo, cfg.skip_hi))
		say_once(PROBLEM_UNWIND, "cannot map the unwinding tables, stacks by libunwind",
			 ENOMEM);
	err = send_process(cfg.start);
	if (!err)
		err = send_argv();
	if (!err && ring.busy_xchg && ring.hdr->flags & MH_RING_MEMBARRIER)
		err = send_info(&ring, "process.ring_order", "exchange: membarrier registration refused",
				strlen("exchange: membarrier registration refused"));
	if (!err)
		err = mh_modules_scan(&ring, cur_pid, exe_path);
	if (err)
		goto out_free;
	__atomic_store_n(&mh_core_recording, 1, __ATOMIC_RELEASE);
	return 0;

out_free:
	mh_stackids_free(stacks);
	stacks = NULL;
out_unmap:
	mh_ring_close_slot(&ring);
	mh_ring_unmap(&ring);
out_say:
	say_once(PROBLEM_ATTACH, "cannot attach the event ring, not recording", -err);
	return err;
}

void mh_core_note_untraced(const struct mh_core_config *c)
{
	struct mh_ring r = { 0 };

	cfg = *c;
	cur_pid = getpid();
	read_exe_path();
	if (attach(&r))
		return;
	/* Best effort: a full lossy ring or a recorder gone only lowers the count. */
	(void)send_info(&r, "process.untraced", exe_path, strlen(exe_path));
	mh_ring_close_slot(&r);
	/* The inherited fd stays open, as the program got it: its own children note themselves. */
	if (r.fd == cfg.ring_fd)
		r.fd = -1;
	mh_ring_unmap(&r);
}

void mh_core_stop(void)
{
	__atomic_store_n(&mh_core_recording, 0, __ATOMIC_RELEASE);
	/* The mappings stay: a thread may still be inside a hook using them. */
}

void mh_core_fork_child(void)
{
	cur_pid = getpid();
	mh_self.tid = 0;
	mh_self.name_countdown = 0;
	exit_sent = 0;
	mh_clock_fork_child();
	if (ring.hdr) {
		mh_ring_fork_child(&ring);
		mh_stamp_reset(&ring);
	}
	if (!__atomic_load_n(&mh_core_recording, __ATOMIC_RELAXED))
		return;
	if (!cfg.follow_forks) {
		/* Counted for the report ("N child processes ran untraced"); best effort. */
		(void)send_info(&ring, "process.untraced", exe_path, strlen(exe_path));
		mh_ring_close_slot(&ring);
		mh_core_stop();
		return;
	}
	mh_config_mark_child(cur_pid);
	if (send_process(MH_PROCESS_FORKED))
		ring_refused();
}

static void ask_recorder(enum mh_exit_path path, int status);

void mh_core_exit(void)
{
	if (!__atomic_load_n(&mh_core_recording, __ATOMIC_ACQUIRE) || getpid() != cur_pid)
		return;
	/*
	 * The program is done: its figures at exit now, before
	 * __libc_freeres touches pages the program never would.
	 */
	if (ring.hdr->flags & MH_RING_EXIT_SCAN && !__atomic_load_n(&exit_sent, __ATOMIC_ACQUIRE))
		ask_recorder(MH_EXIT_PATH_FIGURES, 0);
	if (cfg.freeres) {
		mh_self.guard = 0;
		if (cxx_freeres)
			cxx_freeres();
		__libc_freeres();
		mh_self.guard = 1;
	}
}

static void send_exit(enum mh_exit_reason reason, int status)
{
	struct mh_rec_exit *r = mh_ring_reserve(&ring, sizeof(*r));

	if (!r) {
		ring_refused();
		return;
	}
	r->ts_ns = mh_stamp();
	r->pid = (__u32)cur_pid;
	r->reason = reason;
	r->status = status;
	/* Whether a core is written is the kernel's decision, after us: the recorder's waitpid knows. */
	r->core_dumped = 0;
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_EXIT, .size = sizeof(*r) });
}

/* Send an EXIT_SCAN request and wait until the recorder answers it (or is gone). */
static void ask_recorder(enum mh_exit_path path, int status)
{
	struct mh_rec_exit_scan *r;
	volatile char here;
	__u64 pos;

	if (!mh_self.tid)
		mh_self.tid = (__u32)syscall(SYS_gettid);
	r = mh_ring_reserve_at(&ring, sizeof(*r), &pos);
	if (!r) {
		ring_refused();
		return;
	}
	r->ts_ns = mh_stamp();
	/* Everything the caller's frames hold is above this. */
	r->sp = (uintptr_t)&here;
	r->ticket = pos + sizeof(*r);	/* in this thread's slot */
	r->pid = (__u32)cur_pid;
	r->tid = mh_self.tid;
	r->path = path;
	r->status = status;
	mh_ring_commit(r, (struct mh_rec_hdr){ .type = MH_REC_EXIT_SCAN, .size = sizeof(*r) });
	mh_ring_wake_consumer(&ring);
	mh_ring_wait_answer(&ring, pos + sizeof(*r));
}

void mh_core_exit_scan(enum mh_exit_path path, enum mh_exit_reason reason, int status)
{
	if (!__atomic_load_n(&mh_core_recording, __ATOMIC_ACQUIRE) || getpid() != cur_pid ||
	    __atomic_exchange_n(&exit_sent, 1, __ATOMIC_ACQ_REL))
		return;
	if (!mh_self.tid)
		mh_self.tid = (__u32)syscall(SYS_gettid);
	send_exit(reason, status);
	if (ring.hdr->flags & MH_RING_EXIT_SCAN)
		ask_recorder(path, status);
	/* Whatever still comes (later exit handlers) claims a slot anew. */
	mh_ring_close_slot(&ring);
}
