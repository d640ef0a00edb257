// SPDX-License-Identifier: MIT
/*
 * check_preload.c - libmemhook.so on real programs (tests/progs/
 * preload_calls.c), through the harness in preload_run.h: the events,
 * stacks, modules, threads and processes it records.
 *
 * Oracles: Valgrind memcheck's "total heap usage" and "in use at exit" on
 * the same program; the program's own knowledge (sizes it allocates, who
 * forks and execs, what it names its threads); and replaying the records
 * in ring order, which must be consistent (no address allocated twice
 * while live, none freed that is not live, every stack and module sent
 * before it is referenced).
 */
#include <uthash.h>

#include "tests/preload_run.h"

static bool heap_kind(unsigned int kind)
{
	return kind >= MH_KIND_MALLOC && kind <= MH_KIND_FREE_ALIGNED_SIZED;
}

struct live {
	__u64 addr;
	__u64 size;
	UT_hash_handle hh;
};

struct replay {
	long long allocs, frees, bytes;		/* counted as memcheck counts */
	long long live_blocks, live_bytes;	/* at the end */
};

/*
 * Replay the heap records of process pid in ring order, asserting that it
 * is consistent: nothing allocated while live, nothing freed that is not.
 */
static void replay(const struct trace *t, __u32 pid, struct replay *r)
{
	struct live *set = NULL, *b, *tmp;
	__u64 a;

	memset(r, 0, sizeof(*r));
	for_each_rec(t, h) {
		if (!heap_kind(h->kind) || (h->type != MH_REC_ALLOC && h->type != MH_REC_FREE))
			continue;
		if (h->type == MH_REC_ALLOC) {
			const struct mh_rec_alloc *al = (const void *)h;

			if (al->pid != pid)
				continue;
			a = al->addr;
			HASH_FIND(hh, set, &a, sizeof(a), b);
			ck_assert_msg(!b, "%#llx allocated while live", (unsigned long long)a);
			b = calloc(1, sizeof(*b));
			b->addr = a;
			b->size = al->size;
			HASH_ADD(hh, set, addr, sizeof(b->addr), b);
			r->allocs++;
			r->bytes += (long long)al->size;
		} else {
			const struct mh_rec_free *f = (const void *)h;

			if (f->pid != pid || !f->addr)
				continue;
			a = f->addr;
			HASH_FIND(hh, set, &a, sizeof(a), b);
			ck_assert_msg(b, "%#llx freed while not live", (unsigned long long)a);
			HASH_DEL(set, b);
			free(b);
			r->frees++;
		}
	}
	HASH_ITER(hh, set, b, tmp) {
		r->live_blocks++;
		r->live_bytes += (long long)b->size;
		HASH_DEL(set, b);
		free(b);
	}
}


/*
 * The program maps and unmaps one page, grows an 8 KiB mapping to 16 KiB,
 * and moves the break up and back one page.
 */
static void check_mappings(const struct trace *t)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 mapped = 0, grown = 0;
	unsigned int unmapped = 0, shrunk = 0, remapped = 0;

	for_each_rec(t, h) {
		const struct mh_rec_alloc *a = (const void *)h;
		const struct mh_rec_free *f = (const void *)h;

		if (h->type == MH_REC_ALLOC && h->kind == MH_KIND_MMAP && a->size == (__u64)page)
			mapped = a->addr;
		if (h->type == MH_REC_FREE && h->kind == MH_KIND_MUNMAP && f->addr == mapped &&
		    f->size == (__u64)page)
			unmapped++;
		if (h->type == MH_REC_ALLOC && h->kind == MH_KIND_SBRK && a->size == 4096)
			grown = a->addr;
		if (h->type == MH_REC_REALLOC && h->kind == MH_KIND_MREMAP) {
			const struct mh_rec_realloc *r = (const void *)h;

			ck_assert_uint_eq(r->old_size, 8192);
			ck_assert_uint_eq(r->size, 16384);
			remapped++;
		}
		if (h->type == MH_REC_FREE && h->kind == MH_KIND_SBRK && f->addr == grown &&
		    f->size == 4096)
			shrunk++;
	}
	ck_assert_uint_ne(mapped, 0);
	ck_assert_uint_eq(unmapped, 1);
	ck_assert_uint_ne(grown, 0);
	ck_assert_uint_eq(shrunk, 1);
	ck_assert_uint_eq(remapped, 1);
}

START_TEST(test_counts_match_memcheck)
{
	const char *args[] = { "calls", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING };
	char *prog = prog_path(), *dir, *out;
	const char *vg_argv[] = { prog, "calls", NULL };
	struct mh_vg_summary vg;
	struct replay r;
	struct trace t;

	if (!have_artefacts("counts_match_memcheck"))
		return;
	if (!mh_test_have_program("valgrind")) {
		mh_test_skip("counts_match_memcheck", "valgrind is not installed");
		return;
	}
	dir = mh_test_tmpdir();
	out = mh_test_join(dir, "stdout");
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status));
	ck_assert_int_eq(WEXITSTATUS(t.status), 0);
	ck_assert_str_eq(t.err, "");
	replay(&t, (__u32)t.pid, &r);
	ck_assert_int_ge(mh_test_valgrind(vg_argv, out, RUN_LIMIT_S, &vg), 0);
	ck_assert_int_eq(r.allocs, vg.allocs);
	ck_assert_int_eq(r.frees, vg.frees);
	ck_assert_int_eq(r.bytes, vg.bytes_allocated);
	ck_assert_int_eq(r.live_blocks, vg.in_use_blocks);
	ck_assert_int_eq(r.live_bytes, vg.in_use_bytes);
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 77), 3);
	check_mappings(&t);
	trace_free(&t);
	mh_test_rmdir(dir);
	free(dir);
	free(out);
	free(prog);
}
END_TEST

struct seen_id {
	__u64 id;
	UT_hash_handle hh;
};

/* Stacks are sent before use; with exactly_once, each id only once. */
static void check_stacks(const struct trace *t, bool exactly_once)
{
	struct seen_id *ids = NULL, *s, *tmp;
	__u64 id;

	for_each_rec(t, h) {
		if (h->type == MH_REC_STACK) {
			id = ((const struct mh_rec_stack *)h)->stack_id;
			HASH_FIND(hh, ids, &id, sizeof(id), s);
			ck_assert_msg(!s || !exactly_once, "stack %#llx sent twice",
				      (unsigned long long)id);
			if (!s) {
				s = calloc(1, sizeof(*s));
				s->id = id;
				HASH_ADD(hh, ids, id, sizeof(s->id), s);
			}
		} else if (h->type == MH_REC_ALLOC) {
			id = ((const struct mh_rec_alloc *)h)->stack_id;
			HASH_FIND(hh, ids, &id, sizeof(id), s);
			ck_assert_msg(s, "stack %#llx used before it was sent",
				      (unsigned long long)id);
		}
	}
	HASH_ITER(hh, ids, s, tmp) {
		HASH_DEL(ids, s);
		free(s);
	}
}

/* True if addr is inside an executable segment of a module sent before `upto`. */
static bool in_exe_module(const struct trace *t, const void *upto, __u64 addr, const char *suffix)
{
	for_each_rec(t, h) {
		const struct mh_rec_module *m = (const void *)h;
		const struct mh_module_segment *seg = (const void *)(m + 1);
		const char *path = (const char *)(seg + m->segment_count);
		unsigned int i;

		if ((const void *)h >= upto)
			break;
		if (h->type != MH_REC_MODULE)
			continue;
		if (suffix && (strlen(path) < strlen(suffix) ||
			       strcmp(path + strlen(path) - strlen(suffix), suffix)))
			continue;
		for (i = 0; i < m->segment_count; i++)
			if (seg[i].prot & 4 /* PROT_EXEC */ && addr - seg[i].start < seg[i].size)
				return true;
	}
	return false;
}

START_TEST(test_stacks_and_modules)
{
	const char *args[] = { "calls", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING };
	unsigned int stacks = 0;
	struct trace t;

	if (!have_artefacts("stacks_and_modules"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	check_stacks(&t, true);
	for_each_rec(&t, h) {
		const struct mh_rec_stack *s = (const void *)h;
		const __u64 *ips = (const void *)(s + 1);

		if (h->type != MH_REC_STACK)
			continue;
		ck_assert_uint_ge(s->depth, 2);
		/* Every frame is in a module already announced... */
		for (unsigned int i = 0; i < s->depth; i++)
			ck_assert_msg(in_exe_module(&t, h, ips[i] - 1, NULL),
				      "frame %u %#llx is in no module sent before it", i,
				      (unsigned long long)ips[i]);
		/* ...and ips[0] returns into the program, not into the preload. */
		if (in_exe_module(&t, h, ips[0] - 1, "/preload_calls"))
			stacks++;
	}
	/* The first stacks come from libc's own startup; the program's are most. */
	ck_assert_uint_ge(stacks, 10);
	trace_free(&t);
}
END_TEST

static const struct mh_rec_stack *find_stack(const struct trace *t, __u64 id)
{
	for_each_rec(t, h)
		if (h->type == MH_REC_STACK && ((const struct mh_rec_stack *)h)->stack_id == id)
			return (const void *)h;
	return NULL;
}

/* The first module sent is the program itself. */
static __u64 exe_bias(const struct trace *t)
{
	for_each_rec(t, h)
		if (h->type == MH_REC_MODULE)
			return ((const struct mh_rec_module *)h)->load_bias;
	return 0;
}

/* The stack of the first allocation of size bytes, and the program's load bias. */
static const struct mh_rec_stack *stack_of_size(const struct trace *t, __u64 size)
{
	for_each_rec(t, h) {
		const struct mh_rec_alloc *a = (const void *)h;

		if (h->type == MH_REC_ALLOC && a->size == size)
			return find_stack(t, a->stack_id);
	}
	return NULL;
}

/*
 * The program is built with frame pointers: both unwinders must give the
 * same frames inside it (as offsets from its load address, which ASLR
 * moves between runs).
 */
START_TEST(test_fp_matches_libunwind)
{
	const char *args[] = { "calls", NULL };
	const char *fp_env[] = { MH_ENV_UNWIND "=fp", NULL };
	const char *unw_env[] = { MH_ENV_UNWIND "=libunwind", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = unw_env };
	const struct mh_rec_stack *a, *b;
	const __u64 *ia, *ib;
	struct trace ta, tb;
	unsigned int i;

	if (!have_artefacts("fp_matches_libunwind"))
		return;
	run_traced(&ta, &o);
	o.env = fp_env;
	run_traced(&tb, &o);
	a = stack_of_size(&ta, 77);
	b = stack_of_size(&tb, 77);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ia = (const void *)(a + 1);
	ib = (const void *)(b + 1);
	/* calls() then main(): both in the program. */
	ck_assert_uint_ge(a->depth, 2);
	ck_assert_uint_ge(b->depth, 2);
	for (i = 0; i < 2; i++)
		ck_assert_uint_eq(ia[i] - exe_bias(&ta), ib[i] - exe_bias(&tb));
	trace_free(&ta);
	trace_free(&tb);
}
END_TEST

START_TEST(test_depth_limit)
{
	const char *args[] = { "calls", NULL };
	const char *env[] = { MH_ENV_DEPTH "=2", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = env };
	unsigned int truncated = 0;
	struct trace t;

	if (!have_artefacts("depth_limit"))
		return;
	run_traced(&t, &o);
	for_each_rec(&t, h) {
		const struct mh_rec_stack *s = (const void *)h;

		if (h->type != MH_REC_STACK)
			continue;
		ck_assert_uint_le(s->depth, 2);
		truncated += !!(s->flags & MH_STACK_TRUNCATED);
	}
	/* main() is at least three frames from the top (calls, main, libc). */
	ck_assert_uint_ge(truncated, 10);
	trace_free(&t);
}
END_TEST

START_TEST(test_threads_replay_in_order)
{
	const char *args[] = { "threads", NULL };
	/* One arena, no per-thread cache: a freed block goes straight to another thread. */
	const char *env[] = { "GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1",
			      NULL };
	struct run_opts o = { .argv = args, .ring_bytes = SMALL_RING, .env = env };
	unsigned int threads = 0;
	struct replay r;
	struct trace t;

	if (!have_artefacts("threads_replay_in_order"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	/* A small ring: producers wait for the test, in every thread. */
	replay(&t, (__u32)t.pid, &r);
	ck_assert_int_ge(r.allocs, 4 * 20000);
	ck_assert_int_ge(r.frees, 4 * 20000);
	check_stacks(&t, false);
	for_each_rec(&t, h)
		threads += h->type == MH_REC_THREAD;
	ck_assert_uint_eq(threads, 5);
	trace_free(&t);
}
END_TEST

/* True if addr lies in an executable segment of module record m. */
static bool in_segments(const struct mh_rec_module *m, __u64 addr)
{
	const struct mh_module_segment *seg = (const void *)(m + 1);

	for (unsigned int i = 0; i < m->segment_count; i++)
		if (seg[i].prot & 4 /* PROT_EXEC */ && addr - seg[i].start < seg[i].size)
			return true;
	return false;
}

/*
 * A library dlopen'ed after start and allocating from inside: its MODULE
 * record (with its build-id) is in the ring before the first stack that
 * passes through it.
 */
START_TEST(test_dlopen_dlclose)
{
	const char *args[] = { "dlopen", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING };
	const struct mh_rec_module *libz = NULL;
	unsigned int stacks = 0;
	struct trace t;

	if (!have_artefacts("dlopen_dlclose"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	for_each_rec(&t, h) {
		const struct mh_rec_module *m = (const void *)h;
		const char *path = (const char *)((const struct mh_module_segment *)(m + 1) +
						  m->segment_count);

		if (!libz && h->type == MH_REC_MODULE && strstr(path, "libz.so"))
			libz = m;
	}
	ck_assert_ptr_nonnull(libz);
	ck_assert_uint_gt(libz->build_id_len, 0);
	for_each_rec(&t, h) {
		const struct mh_rec_stack *s = (const void *)h;
		const __u64 *ips = (const void *)(s + 1);

		if (h->type != MH_REC_STACK)
			continue;
		for (unsigned int i = 0; i < s->depth; i++) {
			if (in_segments(libz, ips[i] - 1)) {
				ck_assert_msg((const void *)h > (const void *)libz,
					      "a stack through libz precedes its MODULE record");
				stacks++;
				break;
			}
		}
	}
	/* compress2 allocates its deflate state and buffers from inside libz. */
	ck_assert_uint_ge(stacks, 1);
	trace_free(&t);
}
END_TEST

START_TEST(test_fork)
{
	const char *args[] = { "fork", NULL };
	const char *follow[] = { MH_ENV_FOLLOW_FORKS "=1", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = _i ? follow : NULL };
	const struct mh_rec_process *p;
	struct trace t;
	__u32 child;

	if (!have_artefacts("fork"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	p = find_process(&t, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->start, MH_PROCESS_LAUNCHED);
	ck_assert_uint_eq(p->pid, (__u32)t.pid);
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 222), 1);
	p = find_process(&t, 1);
	if (!_i) {
		ck_assert_ptr_null(p);
	} else {
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(p->start, MH_PROCESS_FORKED);
		ck_assert_uint_eq(p->ppid, (__u32)t.pid);
		child = p->pid;
		ck_assert_uint_ne(child, (__u32)t.pid);
		ck_assert_uint_eq(count_allocs(&t, child, 111), 5);
	}
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 111), 0);
	trace_free(&t);
}
END_TEST

/* The hooks leave errno as the real call left it, on every thread and in a fork child. */
START_TEST(test_errno_kept)
{
	const char *args[] = { "errno", NULL };
	const char *follow[] = { MH_ENV_FOLLOW_FORKS "=1", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = follow };
	const struct mh_rec_process *child;
	struct trace t;

	if (!have_artefacts("errno"))
		return;
	run_traced(&t, &o);
	ck_assert_msg(WIFEXITED(t.status) && !WEXITSTATUS(t.status), "check %d failed",
		      WIFEXITED(t.status) ? WEXITSTATUS(t.status) : -1);
	/* Recorded, not passed through: malloc, calloc and posix_memalign of 4242 per errno_kept. */
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 4242), 2 * 3);
	child = find_process(&t, 1);
	ck_assert_ptr_nonnull(child);
	ck_assert_uint_eq(count_allocs(&t, child->pid, 4242), 3);
	trace_free(&t);
}
END_TEST

START_TEST(test_exec)
{
	/* 0: exec followed; 1: MEMHOOK_FOLLOW_EXEC=0; 2: followed though the fd was closed. */
	const char *args[] = { _i == 2 ? "exec-closefds" : "exec", NULL };
	const char *no_follow[] = { MH_ENV_FOLLOW_EXEC "=0", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING,
			      .env = _i == 1 ? no_follow : NULL };
	const struct mh_rec_process *p;
	struct trace t;

	if (!have_artefacts("exec"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	ck_assert_str_eq(t.err, "");
	p = find_process(&t, 0);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->start, MH_PROCESS_LAUNCHED);
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 333), 1);
	p = find_process(&t, 1);
	if (_i == 1) {
		ck_assert_ptr_null(p);
		ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 444), 0);
	} else {
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(p->start, MH_PROCESS_EXECED);
		ck_assert_uint_eq(p->pid, (__u32)t.pid);
		ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, 444), 1);
	}
	trace_free(&t);
}
END_TEST

/* Whatever was recorded before an abrupt end is in the ring: nothing waits for exit. */
START_TEST(test_abrupt_exit)
{
	const char *args[] = { _i ? "_exit" : "abort", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING };
	struct trace t;

	if (!have_artefacts("abrupt_exit"))
		return;
	run_traced(&t, &o);
	if (_i)
		ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	else
		ck_assert(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGABRT);
	ck_assert_uint_eq(count_allocs(&t, (__u32)t.pid, _i ? 666 : 555), 1);
	trace_free(&t);
}
END_TEST

START_TEST(test_malformed_env)
{
	const char *args[] = { "calls", NULL };
	const char *env[] = { MH_ENV_DEPTH "=1000", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING, .env = env };
	struct trace t;

	if (!have_artefacts("malformed_env"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	ck_assert_str_eq(t.err, "memhook: malformed " MH_ENV_DEPTH ", not recording\n");
	ck_assert_uint_eq(t.len, 0);
	trace_free(&t);
}
END_TEST

START_TEST(test_recorder_death)
{
	const char *args[] = { "churn", "200000", NULL };
	/* The process would wait for its exit scan if it did not notice. */
	struct run_opts o = { .argv = args, .ring_bytes = SMALL_RING, .flags = MH_RING_EXIT_SCAN };
	struct trace t;
	int status;

	if (!have_artefacts("recorder_death"))
		return;
	/* A stand-in recorder that never drains and dies at once. */
	o.consumer = fork();
	ck_assert_int_ge(o.consumer, 0);
	if (o.consumer == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(o.consumer, &status, 0), o.consumer);
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status));
	ck_assert_int_eq(WEXITSTATUS(t.status), 0);
	ck_assert_str_eq(t.err, "memhook: recorder gone, no longer recording\n");
	trace_free(&t);
}
END_TEST

START_TEST(test_lossy_counts_drops)
{
	const char *args[] = { "churn", "100000", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = SMALL_RING, .flags = MH_RING_LOSSY };
	unsigned long long events = 0;
	struct trace t;

	if (!have_artefacts("lossy_counts_drops"))
		return;
	/* The test never drains while the program runs, the lossy ring never waits. */
	o.consumer = getpid();
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	for_each_rec(&t, h)
		events += h->type == MH_REC_ALLOC || h->type == MH_REC_FREE;
	ck_assert_uint_gt(t.lost, 0);
	ck_assert_uint_ge(events + t.lost, 2 * 100000);
	ck_assert_str_eq(t.err, "");
	trace_free(&t);
}
END_TEST

START_TEST(test_no_ring_passes_through)
{
	char *lib = mh_test_path("libmemhook.so"), *prog = prog_path();
	char *dir, *err_path, *env0, *text;
	const char *argv[] = { prog, "calls", NULL };
	const char *env[2] = { NULL, NULL };
	struct mh_test_cmd cmd = { .argv = argv, .env = env };
	int status;

	if (!have_artefacts("no_ring_passes_through"))
		return;
	dir = mh_test_tmpdir();
	err_path = mh_test_join(dir, "stderr");
	if (asprintf(&env0, "LD_PRELOAD=%s", lib) < 0)
		ck_abort();
	env[0] = env0;
	cmd.stderr_path = err_path;
	status = mh_test_run(&cmd);
	ck_assert(WIFEXITED(status) && !WEXITSTATUS(status));
	text = mh_test_read_file(err_path, NULL);
	ck_assert_str_eq(text, "");
	mh_test_rmdir(dir);
	free(text);
	free(err_path);
	free(dir);
	free(env0);
	free(lib);
	free(prog);
}
END_TEST


static bool has_thread(const struct trace *t, const char *name, bool main_thread)
{
	for_each_rec(t, h) {
		const struct mh_rec_thread *th = (const void *)h;

		if (h->type == MH_REC_THREAD && !strcmp(th->name, name) &&
		    (th->tid == th->pid) == main_thread)
			return true;
	}
	return false;
}

/* Renames after a thread's first event are recorded, however made. */
START_TEST(test_thread_rename)
{
	const char *args[] = { "rename", "70000", NULL };
	struct run_opts o = { .argv = args, .ring_bytes = BIG_RING };
	struct trace t;

	if (!have_artefacts("thread_rename"))
		return;
	run_traced(&t, &o);
	ck_assert(WIFEXITED(t.status) && !WEXITSTATUS(t.status));
	ck_assert(has_thread(&t, "mh-self-named", true));
	ck_assert(has_thread(&t, "mh-other-named", false));
	ck_assert(has_thread(&t, "mh-prctl-named", true));
	trace_free(&t);
}
END_TEST

static Suite *preload_suite(void)
{
	Suite *s = suite_create("preload");
	TCase *events = tcase_create("Events");
	TCase *process = tcase_create("Process");
	TCase *limits = tcase_create("Limits");

	tcase_set_timeout(events, 300);
	tcase_add_test(events, test_counts_match_memcheck);
	tcase_add_test(events, test_stacks_and_modules);
	tcase_add_test(events, test_threads_replay_in_order);
	tcase_add_test(events, test_dlopen_dlclose);
	tcase_add_test(events, test_fp_matches_libunwind);
	tcase_add_test(events, test_depth_limit);
	tcase_add_test(events, test_errno_kept);
	suite_add_tcase(s, events);

	tcase_add_loop_test(process, test_fork, 0, 2);
	tcase_add_loop_test(process, test_exec, 0, 3);
	tcase_add_test(process, test_thread_rename);
	suite_add_tcase(s, process);


	tcase_add_loop_test(limits, test_abrupt_exit, 0, 2);
	tcase_add_test(limits, test_malformed_env);
	tcase_add_test(limits, test_recorder_death);
	tcase_add_test(limits, test_lossy_counts_drops);
	tcase_add_test(limits, test_no_ring_passes_through);
	suite_add_tcase(s, limits);
	return s;
}

int main(void)
{
	return mh_test_run_suite(preload_suite());
}
