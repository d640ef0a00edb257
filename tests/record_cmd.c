// SPDX-License-Identifier: MIT
/*
 * record_cmd.c - the definitions behind record_cmd.h.
 */
#include "tests/record_cmd.h"

#include <fcntl.h>

char *dir;
char *memhook;
char *target;
char *trace;
char *out_path;
char *err_path;

void setup(void)
{
	dir = mh_test_tmpdir();
	memhook = mh_test_path("memhook");
	target = mh_test_path("tests/progs/rec_target");
	trace = mh_test_join(dir, "t.mht");
	out_path = mh_test_join(dir, "out");
	err_path = mh_test_join(dir, "err");
}

void teardown(void)
{
	mh_test_rmdir(dir);
	free(dir);
	free(memhook);
	free(target);
	free(trace);
	free(out_path);
	free(err_path);
}

struct mh_trace_reader *chunk_walk_open(const char *path, int *fd, off_t *off)
{
	struct mh_trace_reader *r = mh_trace_reader_open(path);

	ck_assert_ptr_nonnull(r);
	*fd = open(path, O_RDONLY);
	ck_assert_int_ge(*fd, 0);
	*off = (off_t)mh_trace_reader_header(r)->header_bytes;
	return r;
}

bool chunk_at(int fd, off_t off, struct mh_chunk_header *ch)
{
	return pread(fd, ch, sizeof(*ch), off) == (ssize_t)sizeof(*ch) &&
	       ch->stream != MH_STREAM_END;
}

/* True (after printing SKIP) when memhook or libmemhook.so is not built. */
bool skip_unbuilt(const char *name)
{
	char *lib = mh_test_path("libmemhook.so");
	bool missing = access(lib, R_OK) != 0;

	free(lib);
	if (!mh_test_executable(memhook)) {
		mh_test_skip(name, "memhook is not built");
		return true;
	}
	if (missing) {
		mh_test_skip(name, "libmemhook.so is not built");
		return true;
	}
	return false;
}

/*
 * Run memhook with argv (after "memhook"), stdin from stdin_path (NULL:
 * /dev/null) and env added to its environment (NULL: none); stdout/stderr
 * to out_path/err_path. Returns its exit code.
 */
int run_memhook_env(const char *const *args, const char *stdin_path,
			const char *const *env)
{
	const char *argv[32] = { memhook };
	struct mh_test_cmd cmd = {
		.argv = argv,
		.env = env,
		.stdin_path = stdin_path,
		.stdout_path = out_path,
		.stderr_path = err_path,
	};
	int i, status;

	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	status = mh_test_run(&cmd);
	ck_assert_int_ge(status, 0);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Run memhook with argv (after "memhook"); stdout/stderr to out_path/err_path. */
int run_memhook(const char *const *args, const char *stdin_path)
{
	return run_memhook_env(args, stdin_path, NULL);
}

/* The number of lines in a file. */
unsigned line_count(const char *path)
{
	char *text = mh_test_read_file(path, NULL);
	unsigned n = 0;
	char *p;

	ck_assert_ptr_nonnull(text);
	for (p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}
