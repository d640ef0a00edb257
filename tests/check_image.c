// SPDX-License-Identifier: MIT
/*
 * check_image.c - the process-image rules (merger/replay/image.c) as the
 * replay applies them: an exec ends an image and its live blocks vanish,
 * whatever the PROCESS record calls itself; the new image starts empty; a
 * fork child starts with its parent's live blocks and arguments; a reused
 * pid is a new process; exit-time verdicts join the image that was
 * scanned even when they are replayed before its PROCESS record; children
 * that ran untraced are counted once per pid. The records are the ones
 * the preload and the recorder write for `sh -c './leaky | cat'` (dash),
 * `bash -c './clean; true'` (bash copies its environment, so an older
 * preload's exec'd children said FORKED) and make's posix_spawn().
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "tests/merger_fixtures.h"
#include "common/image.h"

#define SH 1		/* the shell */
#define CHILD 2		/* its child */

static struct mh_replay *rp;

static void setup(void)
{
	rp = mh_replay_new();
	ck_assert_ptr_nonnull(rp);
}

static void teardown(void)
{
	mh_replay_free(rp);
	rp = NULL;
}

static void ev_process(uint32_t pid, uint32_t ppid, uint32_t start, const char *path)
{
	struct {
		struct mh_rec_process r;
		char path[64];
	} rec = { { { MH_REC_PROCESS, 0, sizeof(rec) }, mh_fx_now_ns++, pid, ppid, start,
		    (uint32_t)strlen(path) }, "" };

	strcpy(rec.path, path);
	mh_fx_feed(rp, &rec);
}

/* An INFO record; value may hold NULs (len bytes). */
static void ev_info(uint32_t pid, const char *key, const char *value, size_t len)
{
	struct {
		struct mh_rec_info i;
		char text[128];
	} rec = { { { MH_REC_INFO, 0, sizeof(rec) }, mh_fx_now_ns++, pid,
		    (uint16_t)strlen(key), (uint16_t)len }, "" };

	memcpy(rec.text, key, strlen(key) + 1);
	memcpy(rec.text + strlen(key) + 1, value, len);
	mh_fx_feed(rp, &rec);
}

static void ev_leak(uint32_t pid, uint64_t addr, uint32_t kind)
{
	struct mh_rec_leak l = { { MH_REC_LEAK, 0, sizeof(l) }, addr, pid, kind };

	mh_fx_feed(rp, &l);
}

static void ev_exit(uint32_t pid)
{
	struct mh_rec_exit e = {
		.hdr = { MH_REC_EXIT, 0, sizeof(e) },
		.ts_ns = mh_fx_now_ns++, .pid = pid, .reason = MH_EXIT_NORMAL,
	};

	mh_fx_feed(rp, &e);
}

/* The nth image (0: the first) of pid, in order of appearance; NULL if fewer. */
static struct mh_process *image(uint32_t pid, int nth)
{
	for (struct mh_process *p = rp->procs; p; p = p->next) {
		if (p->pid == pid && !nth--)
			return p;
	}
	return NULL;
}

static uint64_t stack_live(struct mh_process *p, uint64_t id)
{
	struct mh_stack_stats *st = mh_stack_stats_find(&p->stacks, id);

	return st ? st->live_bytes : 0;
}

/*
 * The shell's fork child inherits its blocks, allocates, then execs: with
 * _i = 0 the new image says EXECED (dash), with _i = 1 FORKED (bash, whose
 * copied environment hides the exec marker). Either way the fork image's
 * blocks vanish and the program starts with an empty heap.
 */
START_TEST(test_exec_ends_the_image)
{
	struct mh_process *fork_image, *program;

	ev_process(SH, 0, MH_PROCESS_LAUNCHED, "/bin/sh");
	mh_fx_alloc(rp, SH, SH, 0x10, 100, 1, MH_KIND_MALLOC);
	ev_process(CHILD, SH, MH_PROCESS_FORKED, "/bin/sh");
	mh_fx_alloc(rp, CHILD, CHILD, 0x20, 7, 2, MH_KIND_MALLOC);
	ev_process(CHILD, SH, _i ? MH_PROCESS_FORKED : MH_PROCESS_EXECED, "/bin/leaky");
	mh_fx_alloc(rp, CHILD, CHILD, 0x30, 40, 3, MH_KIND_MALLOC);
	mh_fx_free(rp, CHILD, CHILD, 0x10, MH_KIND_FREE, 0);	/* gone with the exec */
	ev_exit(CHILD);
	ck_assert_int_eq(mh_replay_finish(rp), 0);

	fork_image = image(CHILD, 0);
	program = image(CHILD, 1);
	ck_assert_ptr_nonnull(fork_image);
	ck_assert_ptr_nonnull(program);
	ck_assert(fork_image->replaced_by_exec);
	ck_assert_uint_eq(fork_image->live_bytes, 0);
	ck_assert_uint_eq(fork_image->live_blocks, 0);
	ck_assert_uint_eq(stack_live(fork_image, 1), 0);
	ck_assert_uint_eq(stack_live(fork_image, 2), 0);
	ck_assert_str_eq(program->command, "/bin/leaky");
	ck_assert(!program->replaced_by_exec);
	ck_assert_uint_eq(program->live_bytes, 40);
	ck_assert_uint_eq(program->live_blocks, 1);
	ck_assert_uint_eq(program->unmatched_frees, 1);
	ck_assert_uint_eq(image(SH, 0)->live_bytes, 100);
}
END_TEST

/*
 * The timeline replays verdicts (which carry no timestamp) as soon as it
 * can, before the exec'd image's PROCESS record; the scan's status INFO,
 * after the exit, names the image they judge.
 */
START_TEST(test_verdicts_join_the_scanned_image)
{
	struct mh_process *program;

	ev_process(SH, 0, MH_PROCESS_LAUNCHED, "/bin/sh");
	ev_process(CHILD, SH, MH_PROCESS_FORKED, "/bin/sh");
	ev_leak(CHILD, 0x30, MH_LEAK_DEFINITE);
	ev_process(CHILD, SH, MH_PROCESS_EXECED, "/bin/leaky");
	mh_fx_alloc(rp, CHILD, CHILD, 0x30, 40, 3, MH_KIND_MALLOC);
	ev_exit(CHILD);
	ev_info(CHILD, "leakscan.status", "complete", 8);
	ck_assert_int_eq(mh_replay_finish(rp), 0);

	program = image(CHILD, 1);
	ck_assert_ptr_nonnull(program);
	ck_assert_uint_eq(program->leak_kind_bytes[MH_LEAK_DEFINITE], 40);
	ck_assert_uint_eq(program->leak_kind_blocks[MH_LEAK_DEFINITE], 1);
	ck_assert_uint_eq(program->leak_kind_blocks[0], 0);
	ck_assert_uint_eq(image(CHILD, 0)->leak_verdicts, 0);
}
END_TEST

/* A pid the kernel gave again, after its first process exited, is a new fork child. */
START_TEST(test_reused_pid_is_a_new_process)
{
	struct mh_process *first, *second;

	ev_process(SH, 0, MH_PROCESS_LAUNCHED, "/bin/sh");
	mh_fx_alloc(rp, SH, SH, 0x10, 100, 1, MH_KIND_MALLOC);
	ev_process(CHILD, SH, MH_PROCESS_FORKED, "/bin/sh");
	ev_exit(CHILD);
	ev_process(CHILD, SH, MH_PROCESS_FORKED, "/bin/sh");
	ck_assert_int_eq(mh_replay_finish(rp), 0);

	first = image(CHILD, 0);
	second = image(CHILD, 1);
	ck_assert_ptr_nonnull(second);
	ck_assert(first->exited && !first->replaced_by_exec);
	ck_assert_uint_eq(first->live_bytes, 100);
	ck_assert(!second->exited);
	ck_assert_uint_eq(second->live_bytes, 100);
}
END_TEST

/* A fork child runs its parent's arguments until it execs a program with its own. */
START_TEST(test_arguments_follow_the_image)
{
	static const char sh_args[] = "sh\0-c\0./leaky | cat";

	ev_process(SH, 0, MH_PROCESS_LAUNCHED, "/bin/sh");
	ev_info(SH, "process.argv", sh_args, sizeof(sh_args) - 1);
	ev_process(CHILD, SH, MH_PROCESS_FORKED, "/bin/sh");
	ev_process(CHILD, SH, MH_PROCESS_EXECED, "/bin/leaky");
	ev_info(CHILD, "process.argv", "./leaky", 7);
	ck_assert_int_eq(mh_replay_finish(rp), 0);

	ck_assert_uint_eq(image(SH, 0)->argv_len, sizeof(sh_args) - 1);
	ck_assert_mem_eq(image(SH, 0)->argv, sh_args, sizeof(sh_args));
	ck_assert_mem_eq(image(CHILD, 0)->argv, sh_args, sizeof(sh_args));
	ck_assert_uint_eq(image(CHILD, 0)->exec_index, 0);
	ck_assert_str_eq(image(CHILD, 1)->argv, "./leaky");
	ck_assert_uint_eq(image(CHILD, 1)->exec_index, 1);
}
END_TEST

/* Children not followed are counted once per pid (fork, then exec) and make no image. */
START_TEST(test_untraced_children_counted)
{
	ev_process(SH, 0, MH_PROCESS_LAUNCHED, "/bin/sh");
	ev_info(7, "process.untraced", "/bin/sh", 7);
	ev_info(7, "process.untraced", "/bin/leaky", 10);
	ev_info(8, "process.untraced", "/bin/cat", 8);
	ck_assert_int_eq(mh_replay_finish(rp), 0);

	ck_assert_uint_eq(rp->untraced_children, 2);
	ck_assert_ptr_null(image(7, 0));
	ck_assert_ptr_null(image(8, 0));
}
END_TEST

/* The rules themselves, one row per case image.h names. */
START_TEST(test_classify)
{
	static const struct {
		const char *what;
		int cur;		/* 0 none, 1 announced, 2 exited, 3 events only, 4 events only, pristine */
		bool parent;		/* the parent is /bin/sh, announced */
		uint32_t start;
		const char *path;
		enum mh_image_start want;
	} rows[] = {
		{ "launch", 0, false, MH_PROCESS_LAUNCHED, "/bin/sh", MH_IMAGE_NEW },
		{ "fork", 0, true, MH_PROCESS_FORKED, "/bin/sh", MH_IMAGE_FORK },
		{ "old trace: vfork + exec", 0, true, MH_PROCESS_FORKED, "/bin/cat", MH_IMAGE_NEW },
		{ "spawn", 0, true, MH_PROCESS_EXECED, "/bin/sh", MH_IMAGE_NEW },
		{ "exec", 1, true, MH_PROCESS_EXECED, "/bin/cat", MH_IMAGE_EXEC },
		{ "exec, marker lost", 1, true, MH_PROCESS_FORKED, "/bin/cat", MH_IMAGE_EXEC },
		{ "exec of the same program", 1, true, MH_PROCESS_FORKED, "/bin/sh", MH_IMAGE_EXEC },
		{ "reused pid", 2, true, MH_PROCESS_FORKED, "/bin/sh", MH_IMAGE_FORK },
		{ "events first", 3, true, MH_PROCESS_FORKED, "/bin/sh", MH_IMAGE_ADOPT },
		{ "kernel records first", 4, true, MH_PROCESS_FORKED, "/bin/sh", MH_IMAGE_FORK },
		{ "attach", 4, false, MH_PROCESS_ATTACHED, "/bin/sh", MH_IMAGE_ADOPT },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct {
			struct mh_rec_process r;
			char path[32];
		} rec = { { .pid = CHILD, .ppid = SH, .start = rows[i].start,
			    .path_len = (uint32_t)strlen(rows[i].path) }, "" };
		struct mh_image_facts cur = {
			.announced = rows[i].cur == 1 || rows[i].cur == 2,
			.exited = rows[i].cur == 2,
			.pristine = rows[i].cur == 4,
			.command = "/bin/sh",
		};
		struct mh_image_facts parent = { .announced = true, .command = "/bin/sh" };

		strcpy(rec.path, rows[i].path);
		ck_assert_msg(mh_image_classify(rows[i].cur ? &cur : NULL,
						rows[i].parent ? &parent : NULL, &rec.r) == rows[i].want,
			      "%s: classified %d, want %d", rows[i].what,
			      mh_image_classify(rows[i].cur ? &cur : NULL,
						rows[i].parent ? &parent : NULL, &rec.r),
			      rows[i].want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("Replay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_exec_ends_the_image, 0, 2);
	tcase_add_test(tc, test_verdicts_join_the_scanned_image);
	tcase_add_test(tc, test_reused_pid_is_a_new_process);
	tcase_add_test(tc, test_arguments_follow_the_image);
	tcase_add_test(tc, test_untraced_children_counted);
	suite_add_tcase(s, tc);
	tc = tcase_create("Rules");
	tcase_add_test(tc, test_classify);
	suite_add_tcase(s, tc);
	return mh_test_run_suite(s);
}
