// SPDX-License-Identifier: MIT
/*
 * merger_fixtures.c - the definitions behind merger_fixtures.h.
 */
#include "tests/merger_fixtures.h"

uint64_t mh_fx_now_ns = 1000;

void mh_fx_feed(struct mh_replay *rp, const void *rec)
{
	ck_assert_int_eq(mh_replay_record(rp, rec), 0);
}

void mh_fx_alloc(struct mh_replay *rp, uint32_t pid, uint32_t tid, uint64_t addr,
			       uint64_t size, uint64_t stack, int kind)
{
	struct mh_rec_alloc a = {
		.hdr = { MH_REC_ALLOC, kind, sizeof(a) },
		.ts_ns = mh_fx_now_ns++, .addr = addr, .size = size, .stack_id = stack,
		.tid = tid, .pid = pid,
	};

	mh_fx_feed(rp, &a);
}

/* A free-family record of `kind`; size is what munmap/brk release, else 0. */
void mh_fx_free(struct mh_replay *rp, uint32_t pid, uint32_t tid, uint64_t addr,
			      int kind, uint64_t size)
{
	struct mh_rec_free f = {
		.hdr = { MH_REC_FREE, kind, sizeof(f) },
		.ts_ns = mh_fx_now_ns++, .addr = addr, .size = size, .tid = tid, .pid = pid,
	};

	mh_fx_feed(rp, &f);
}

/* The first image of pid in rp; fails the test if there is none. */
struct mh_process *mh_fx_proc(const struct mh_replay *rp, uint32_t pid)
{
	struct mh_process *p, *found = NULL;

	for (p = rp->procs; p; p = p->next) {
		if (p->pid == pid && !found)
			found = p;
	}
	ck_assert_msg(found != NULL, "no process %u", pid);
	return found;
}

/* pid's aggregate of stack id; fails the test if there is none. */
struct mh_stack_stats *mh_fx_stack(const struct mh_replay *rp, uint32_t pid,
						 uint64_t id)
{
	struct mh_stack_stats *st = mh_stack_stats_find(&mh_fx_proc(rp, pid)->stacks, id);

	ck_assert_msg(st != NULL, "no stack 0x%llx in process %u", (unsigned long long)id, pid);
	return st;
}

char *mh_fx_tmpdir;

void mh_fx_tmpdir_setup(void)
{
	mh_fx_tmpdir = mh_test_tmpdir();
}

void mh_fx_tmpdir_teardown(void)
{
	mh_test_rmdir(mh_fx_tmpdir);
	free(mh_fx_tmpdir);
	mh_fx_tmpdir = NULL;
}

/* A trace file header as the recorder writes it on this machine. */
struct mh_trace_header mh_fx_header(uint32_t root_pid, uint32_t page_size)
{
	return (struct mh_trace_header){
		.magic = MH_TRACE_MAGIC, .version = MH_TRACE_VERSION,
		.header_bytes = sizeof(struct mh_trace_header), .flags = MH_TRACE_LITTLE_ENDIAN,
		.page_size = page_size, .root_pid = root_pid, .pointer_bytes = 8,
	};
}

void mh_fx_append(struct mh_trace_writer *w, int stream, const void *rec)
{
	ck_assert_int_eq(mh_trace_writer_append(w, stream, rec,
						((const struct mh_rec_hdr *)rec)->size), 0);
}

/* The report of trace (written to dir/report.out), sorted and valued by key. Caller frees. */
char *mh_fx_report(const char *dir, const char *trace, enum mh_report_format format,
				 enum mh_report_key key)
{
	struct mh_report_opts opts = { .format = format, .sort = key, .value = key };
	char *out_path = mh_test_join(dir, "report.out");
	FILE *out = fopen(out_path, "w");
	char *text, why[MH_REPORT_ERROR_BYTES];

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(mh_report_generate(trace, &opts, out, why) == 0, "%s", why);
	fclose(out);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(text);
	free(out_path);
	return text;
}

/* The integer at a dotted path of a JSON report; fails the test if it is missing. */
long long mh_fx_json_int(const char *json, const char *path)
{
	long long v = -1;

	ck_assert_msg(mh_test_json_int(json, path, &v) == 0, "no %s in %s", path, json);
	return v;
}
