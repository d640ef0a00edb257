// SPDX-License-Identifier: MIT
/*
 * check_kernel_files.c - the collector's user-space side without BPF:
 * naming the files behind file-backed faults (kernel/files.h) from another
 * process's maps or from a file handle, counting what cannot be named,
 * and describing every kernel record type (trace/describe_kernel.h). The
 * oracle is the files this suite creates, maps and deletes itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <check.h>

#include "kernel/files.h"
#include "trace/describe_kernel.h"
#include "memhook/kernel_events.h"
#include "memhook/trace.h"
#include "tests/kernel_records.h"
#include "tests/testutil.h"

/* A fault record on st's file by pid. */
static struct mh_rec_kfault file_fault(const struct stat *st, pid_t pid)
{
	struct mh_rec_kfault f = {
		.hdr = { .type = MH_REC_KFAULT, .size = sizeof(f) },
		.ts_ns = 1,
		.ino = st->st_ino,
		.dev = major(st->st_dev) << 20 | minor(st->st_dev),
		.pid = pid,
		.vma_class = MH_VMA_FILE,
	};

	return f;
}

/* The pid of a child that has exited and been reaped: a process that is gone. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/*
 * Naming files without BPF: a file the faulting process (gone) no longer
 * maps is named from another process that maps it (here, this one), once;
 * one nobody maps is counted, not named.
 */
START_TEST(test_files_fallback_and_unresolved)
{
	char *dir = mh_test_tmpdir(), *mapped = mh_test_join(dir, "mapped");
	char *unmapped = mh_test_join(dir, "unmapped");
	const struct mh_rec_kfile *rec = NULL;
	struct mh_rec_kfault f;
	struct mh_kfiles *files = mh_kfiles_new(NULL, NULL, NULL);
	struct stat st, st2;
	pid_t gone = gone_pid();
	void *map;
	int fd;

	ck_assert_ptr_nonnull(files);
	fd = open(mapped, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	close(fd);
	fd = open(unmapped, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(stat(mapped, &st), 0);
	ck_assert_int_eq(stat(unmapped, &st2), 0);

	f = file_fault(&st, gone);
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 1);
	ck_assert_str_eq((const char *)(rec + 1), mapped);
	ck_assert_int_eq(rec->pid, getpid());
	ck_assert_uint_eq(rec->ino, st.st_ino);
	ck_assert_uint_eq(rec->hdr.size % MH_REC_ALIGN, 0);
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 0);	/* announced once */

	f = file_fault(&st2, gone);
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 0);
	ck_assert_uint_eq(mh_kfiles_unresolved(files), 1);
	f.vma_class = MH_VMA_ANON;
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 0);
	ck_assert_uint_eq(mh_kfiles_unresolved(files), 1);

	munmap(map, 4096);
	mh_kfiles_free(files);
	mh_test_rmdir(dir);
	free(unmapped);
	free(mapped);
	free(dir);
}
END_TEST

static void count_dev(void *ctx, __u32 dev)
{
	*(__u32 *)ctx = dev;
}

/*
 * A child that maps path (read-only) at the address it returns in *addr
 * until *hold, the write end of a pipe it reads, is closed (by the caller,
 * or by the test's exit if an assertion fails first).
 */
static pid_t mapping_child(const char *path, __u64 *addr, int *hold)
{
	int fd = open(path, O_RDONLY), ready[2], wait_end[2];
	void *map;
	pid_t pid;
	char c;

	ck_assert_int_ge(fd, 0);
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	close(fd);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(wait_end), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(wait_end[1]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(wait_end[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(wait_end[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	munmap(map, 4096);	/* the child's copy stays */
	*addr = (__u64)(uintptr_t)map;
	*hold = wait_end[1];
	return pid;
}

/*
 * A file nobody maps any more, of a process that is gone, is named from
 * its handle, and the filesystem is reported once; a wrong generation or
 * a deleted file is not named. Once handles name files on a filesystem,
 * they are asked first, even for a file a live process still maps.
 */
START_TEST(test_files_by_handle)
{
	char *dir = mh_test_tmpdir(), *path = mh_test_join(dir, "read once");
	char *gone_path = mh_test_join(dir, "deleted"), *mapped_path = mh_test_join(dir, "mapped");
	const struct mh_rec_kfile *rec = NULL;
	__u32 told = 0, gen, gone_gen;
	struct mh_kfiles *files = mh_kfiles_new(NULL, count_dev, &told);
	struct mh_rec_kfault f;
	struct stat st, gone_st, mapped_st;
	pid_t gone = gone_pid(), child;
	__u64 addr;
	int fd, hold;

	ck_assert_ptr_nonnull(files);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fd = open(mapped_path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4096), 0);
	close(fd);
	fd = open(gone_path, O_CREAT | O_RDWR, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(stat(gone_path, &gone_st), 0);
	if (!file_generation(path, &gen) || !file_generation(gone_path, &gone_gen)) {
		mh_test_skip("files_by_handle", "the filesystem has no inode generations");
		goto out;
	}
	f = file_fault(&st, gone);
	f.gen = gen + 1;
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 0);	/* not this file */
	mh_kfiles_next_round(files);
	f.gen = gen;
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 1);
	ck_assert_str_eq((const char *)(rec + 1), path);
	ck_assert_uint_eq(rec->ino, st.st_ino);
	ck_assert_uint_eq(told, f.dev);
	ck_assert_uint_eq(mh_kfiles_unresolved(files), 0);

	ck_assert_int_eq(stat(mapped_path, &mapped_st), 0);
	ck_assert(file_generation(mapped_path, &gen));
	child = mapping_child(mapped_path, &addr, &hold);
	f = file_fault(&mapped_st, child);
	f.gen = gen;
	f.addr = addr;
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 1);
	ck_assert_str_eq((const char *)(rec + 1), mapped_path);
	ck_assert_int_eq(rec->pid, getpid());	/* by handle, not from the child's maps */
	close(hold);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);

	ck_assert_int_eq(unlink(gone_path), 0);
	f = file_fault(&gone_st, gone);
	f.gen = gone_gen;
	ck_assert_int_eq(mh_kfiles_note(files, &f, &rec), 0);
	ck_assert_uint_eq(mh_kfiles_unresolved(files), 1);
out:
	mh_kfiles_free(files);
	mh_test_rmdir(dir);
	free(mapped_path);
	free(gone_path);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_describe_every_type)
{
	union {
		struct mh_rec_hdr hdr;
		char bytes[256];
	} rec;
	char *text;
	size_t len;
	FILE *out;
	int type;

	for (type = MH_REC_KERNEL_FIRST; type <= MH_REC_KERNEL_LAST + 1; type++) {
		memset(&rec, 0, sizeof(rec));
		rec.hdr.type = type;
		rec.hdr.size = sizeof(rec);
		out = open_memstream(&text, &len);
		ck_assert_ptr_nonnull(out);
		if (type <= MH_REC_KERNEL_LAST)
			ck_assert_int_eq(mh_kernel_describe(out, &rec.hdr), 0);
		else
			ck_assert_int_eq(mh_kernel_describe(out, &rec.hdr), -EINVAL);
		fclose(out);
		ck_assert_ptr_null(strchr(text, '\n'));
		if (type <= MH_REC_KERNEL_LAST)
			ck_assert_int_gt(len, 0);
		free(text);
	}
	rec.hdr.type = MH_REC_KFAULT;
	rec.hdr.size = 8;
	ck_assert_int_eq(mh_kernel_describe(stdout, &rec.hdr), -EINVAL);
}
END_TEST

static Suite *kernel_files_suite(void)
{
	Suite *s = suite_create("kernel_files");
	TCase *tc = tcase_create("Userspace");

	tcase_add_test(tc, test_describe_every_type);
	tcase_add_test(tc, test_files_fallback_and_unresolved);
	tcase_add_test(tc, test_files_by_handle);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(kernel_files_suite());
}
