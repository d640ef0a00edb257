// SPDX-License-Identifier: MIT
/*
 * check_scale.c - a report's cost grows linearly with the processes of a
 * trace. The suite writes the trace a `memhook check -- make test` of
 * 60,000 one-allocation programs would leave (each forked from the
 * launched shell, exec'ing its program, with its modules, thread, stack,
 * one 64-byte block, exit scan, leak verdict and exit) and has the built
 * memhook report it, in the leaks format check uses and as JSON, within a
 * time limit a quadratic step misses by far (main took over 60 s). The
 * oracle is the generator's own knowledge: every program leaked its block,
 * definitely.
 *
 * `check_scale write N FILE` writes such a trace of N programs and exits,
 * for bench/scale.sh.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memhook/events.h"
#include "memhook/trace.h"
#include "tests/testutil.h"
#include "trace/writer.h"

/* Programs in the trace the suite writes. */
#define PROGRAMS 60000
/* Seconds the report may take (a few s expected; main's quadratic replay took over 60 s). */
#define REPORT_LIMIT_S 60
/* The root shell's pid; program i has pid ROOT_PID + 1 + i. */
#define ROOT_PID 1000
#define BLOCK_BYTES 64

static const char *const modules[] = {
	"/usr/bin/one_alloc", "/usr/lib/x86_64-linux-gnu/libc.so.6",
	"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
};

struct gen {
	struct mh_trace_writer *w;
	__u64 ts;
};

static void put(struct gen *g, int stream, const void *rec, size_t bytes)
{
	if (mh_trace_writer_append(g->w, stream, rec, bytes)) {
		fprintf(stderr, "check_scale: cannot write the trace\n");
		exit(1);
	}
}

/* A record with a NUL-terminated string after a head of head bytes. */
static void put_tail(struct gen *g, int stream, void *head, size_t head_bytes, const char *a,
		     const char *b)
{
	size_t alen = strlen(a), blen = b ? strlen(b) : 0;
	size_t size = MH_REC_PAD(head_bytes + alen + 1 + (b ? blen + 1 : 0));
	char buf[1024] = { 0 };

	memcpy(buf, head, head_bytes);
	memcpy(buf + head_bytes, a, alen);
	if (b)
		memcpy(buf + head_bytes + alen + 1, b, blen);
	((struct mh_rec_hdr *)buf)->size = (__u32)size;
	put(g, stream, buf, size);
}

static void put_process(struct gen *g, __u32 pid, __u32 ppid, __u32 start, const char *path)
{
	struct mh_rec_process r = {
		.hdr = { .type = MH_REC_PROCESS }, .ts_ns = g->ts++, .pid = pid, .ppid = ppid,
		.start = start, .path_len = (__u32)strlen(path),
	};

	put_tail(g, MH_STREAM_ALLOC, &r, sizeof(r), path, NULL);
}

/* Where module m of pid is loaded: every process its own place, as ASLR does. */
static __u64 module_bias(__u32 pid, size_t m)
{
	return 0x100000000000ULL + ((__u64)pid << 30) + ((__u64)m << 24);
}

static void put_modules(struct gen *g, __u32 pid)
{
	for (size_t m = 0; m < sizeof(modules) / sizeof(modules[0]); m++) {
		struct {
			struct mh_rec_module r;
			struct mh_module_segment seg;
		} head = {
			.r = { .hdr = { .type = MH_REC_MODULE }, .ts_ns = g->ts++,
			       .load_bias = module_bias(pid, m), .pid = pid,
			       .segment_count = 1, .path_len = (__u32)strlen(modules[m]) },
			.seg = { .start = module_bias(pid, m) + 0x1000, .size = 0x10000,
				 .file_offset = 0x1000, .prot = 5 },
		};

		put_tail(g, MH_STREAM_ALLOC, &head, sizeof(head), modules[m], NULL);
	}
}

/* One program: forked by the shell, exec'd, one leaked malloc, scanned, gone. */
static void put_program(struct gen *g, __u32 pid)
{
	struct mh_rec_thread t = {
		.hdr = { .type = MH_REC_THREAD, .size = sizeof(t) }, .pid = pid, .tid = pid,
		.name = "one_alloc",
	};
	struct {
		struct mh_rec_stack s;
		__u64 ips[3];
	} st = {
		.s = { .hdr = { .type = MH_REC_STACK, .size = sizeof(st) }, .stack_id = 0xabc0000 + pid,
		       .pid = pid, .depth = 3 },
		.ips = { module_bias(pid, 0) + 0x1100, module_bias(pid, 1) + 0x1200,
			 module_bias(pid, 0) + 0x1300 },
	};
	struct mh_rec_alloc a = {
		.hdr = { .type = MH_REC_ALLOC, .kind = MH_KIND_MALLOC, .size = sizeof(a) },
		.addr = 0x55000000, .size = BLOCK_BYTES, .stack_id = 0xabc0000 + pid, .tid = pid,
		.pid = pid,
	};
	struct mh_rec_exit e = { .hdr = { .type = MH_REC_EXIT, .size = sizeof(e) }, .pid = pid,
				 .reason = MH_EXIT_NORMAL };
	struct mh_rec_exit_scan scan = { .hdr = { .type = MH_REC_EXIT_SCAN, .size = sizeof(scan) },
					 .pid = pid, .tid = pid, .path = MH_EXIT_PATH_NORMAL };
	struct mh_rec_leak leak = { .hdr = { .type = MH_REC_LEAK, .size = sizeof(leak) },
				    .addr = 0x55000000, .pid = pid, .kind = MH_LEAK_DEFINITE };
	struct mh_rec_info info = { .hdr = { .type = MH_REC_INFO }, .pid = pid, .key_len = 15,
				    .value_len = 8 };

	put_process(g, pid, ROOT_PID, MH_PROCESS_FORKED, "/bin/sh");
	put_process(g, pid, ROOT_PID, MH_PROCESS_EXECED, modules[0]);
	put_modules(g, pid);
	t.ts_ns = g->ts++;
	put(g, MH_STREAM_ALLOC, &t, sizeof(t));
	put(g, MH_STREAM_ALLOC, &st, sizeof(st));
	a.ts_ns = g->ts++;
	put(g, MH_STREAM_ALLOC, &a, sizeof(a));
	e.ts_ns = g->ts++;
	put(g, MH_STREAM_ALLOC, &e, sizeof(e));
	scan.ts_ns = g->ts++;
	put(g, MH_STREAM_ALLOC, &scan, sizeof(scan));
	/*
	 * The recorder writes the verdicts, then the status; a verdict has no
	 * timestamp and is replayed after the meta record before it, so the
	 * status goes first here: the verdict then finds the exec'd image.
	 */
	info.ts_ns = g->ts++;
	put_tail(g, MH_STREAM_META, &info, sizeof(info), "leakscan.status", "complete");
	put(g, MH_STREAM_META, &leak, sizeof(leak));
	e.ts_ns = g->ts++;
	put(g, MH_STREAM_META, &e, sizeof(e));
}

static int write_trace(const char *path, unsigned programs)
{
	struct mh_trace_header h = {
		.version = MH_TRACE_VERSION, .header_bytes = sizeof(h),
		.flags = MH_TRACE_LITTLE_ENDIAN, .start_ns = 1000, .page_size = 4096,
		.root_pid = ROOT_PID, .pointer_bytes = 8,
	};
	struct mh_rec_exit e = { .hdr = { .type = MH_REC_EXIT, .size = sizeof(e) },
				 .pid = ROOT_PID, .reason = MH_EXIT_NORMAL };
	struct gen g = { .ts = 2000 };

	memcpy(h.magic, MH_TRACE_MAGIC, sizeof(h.magic));
	g.w = mh_trace_writer_open(path, &h);
	if (!g.w)
		return -1;
	put_process(&g, ROOT_PID, 1, MH_PROCESS_LAUNCHED, "/bin/sh");
	put_modules(&g, ROOT_PID);
	for (unsigned i = 0; i < programs; i++)
		put_program(&g, ROOT_PID + 1 + i);
	e.ts_ns = g.ts++;
	put(&g, MH_STREAM_META, &e, sizeof(e));
	return mh_trace_writer_close(g.w, true) ? -1 : 0;
}

/* Seconds since t0. */
static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(sixty_thousand_processes_in_seconds)
{
	char *memhook = mh_test_path("memhook"), *trace = mh_test_join(mh_test_tmp, "many.mht");
	char *out = mh_test_join(mh_test_tmp, "out"), *text;
	struct timespec t0;
	int status;

	if (!mh_test_executable(memhook)) {
		mh_test_skip("sixty_thousand_processes_in_seconds", "memhook is not built");
		goto done;
	}
	ck_assert_int_eq(write_trace(trace, PROGRAMS), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	status = mh_test_run(&(struct mh_test_cmd){
		.argv = (const char *[]){ memhook, "report", "--format=leaks", trace, NULL },
		.stdout_path = out, .timeout_s = REPORT_LIMIT_S });
	ck_assert_msg(status != -ETIMEDOUT, "the report of %d processes took over %d s",
		      PROGRAMS, REPORT_LIMIT_S);
	ck_assert_msg(status == 0, "memhook report failed: %d", status);
	printf("# leaks report of %d processes: %.2f s\n", PROGRAMS, since(&t0));
	text = mh_test_read_file(out, NULL);
	ck_assert_ptr_nonnull(text);
	/* Every program leaked its one block (the shell images exec'd away hold none). */
	ck_assert_int_eq(mh_test_count(text, "definitely lost 64 bytes in 1 blocks"), PROGRAMS);
	free(text);
done:
	free(memhook);
	free(trace);
	free(out);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;

	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_trace(argv[3], (unsigned)strtoul(argv[2], NULL, 10)) ? 1 : 0;
	s = suite_create("scale");
	tc = tcase_create("ManyProcesses");
	tcase_add_checked_fixture(tc, mh_test_tmp_setup, mh_test_tmp_teardown);
	tcase_set_timeout(tc, 3 * REPORT_LIMIT_S);
	tcase_add_test(tc, sixty_thousand_processes_in_seconds);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
