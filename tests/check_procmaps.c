// SPDX-License-Identifier: MIT
/*
 * check_procmaps.c - the /proc/PID/maps parser (common/procmaps.c) on the
 * test's own mappings, made for the purpose: an anonymous mapping, a
 * shared file mapping at an offset whose path holds blanks, the stack and
 * the code. Its lines must read as the kernel wrote them: bounds,
 * protection, sharing, offset, device, inode and path.
 *
 * Oracles: the addresses mmap returned, stat() of the mapped file, and
 * the addresses of a local variable and of a function.
 */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/procmaps.h"
#include "tests/testutil.h"

static long page;

static const struct mh_map *read_and_find(struct mh_maps *maps, const void *addr)
{
	ck_assert_int_eq(mh_procmaps_read(getpid(), maps), 0);
	ck_assert_uint_gt(maps->count, 0);
	for (size_t i = 1; i < maps->count; i++)
		ck_assert_uint_le(maps->maps[i - 1].end, maps->maps[i].start);
	return mh_procmaps_find(maps, (__u64)(uintptr_t)addr);
}

START_TEST(test_anonymous)
{
	unsigned char *p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
	struct mh_maps maps;
	const struct mh_map *m;

	ck_assert_ptr_ne(p, MAP_FAILED);
	/* Neighbours with other rights keep the kernel from merging pages 1-2 with anything. */
	ck_assert_int_eq(mprotect(p, page, PROT_NONE), 0);
	ck_assert_int_eq(mprotect(p + 3 * page, page, PROT_READ), 0);
	m = read_and_find(&maps, p + 2 * page);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->start, (uintptr_t)p + page);
	ck_assert_uint_eq(m->end, (uintptr_t)p + 3 * page);
	ck_assert_uint_eq(m->prot, PROT_READ | PROT_WRITE);
	ck_assert(!m->shared);
	ck_assert_uint_eq(m->offset, 0);
	ck_assert_uint_eq(m->inode, 0);
	ck_assert_uint_eq(m->dev_major, 0);
	ck_assert_uint_eq(m->dev_minor, 0);
	ck_assert_str_eq(m->path, "");
	m = mh_procmaps_find(&maps, (uintptr_t)p + 3 * page);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->prot, PROT_READ);
	m = mh_procmaps_find(&maps, (uintptr_t)p);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->prot, 0);
	mh_procmaps_free(&maps);
	munmap(p, 4 * page);
}
END_TEST

START_TEST(test_shared_file_at_offset)
{
	char *dir = mh_test_tmpdir(), *path = mh_test_join(dir, "a b  c"), real[PATH_MAX];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct mh_maps maps;
	const struct mh_map *m;
	struct stat st;
	void *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 4 * page), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_ptr_nonnull(realpath(path, real));
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 2 * page);
	ck_assert_ptr_ne(p, MAP_FAILED);
	m = read_and_find(&maps, p);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->start, (uintptr_t)p);
	ck_assert_uint_eq(m->end, (uintptr_t)p + page);
	ck_assert_uint_eq(m->prot, PROT_READ);
	ck_assert(m->shared);
	ck_assert_uint_eq(m->offset, 2 * page);
	ck_assert_uint_eq(m->inode, st.st_ino);
	ck_assert_uint_eq(m->dev_major, major(st.st_dev));
	ck_assert_uint_eq(m->dev_minor, minor(st.st_dev));
	ck_assert_str_eq(m->path, real);
	mh_procmaps_free(&maps);
	munmap(p, page);
	close(fd);
	unlink(path);
	free(path);
	mh_test_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(test_stack_and_code)
{
	volatile int local = 0;
	struct mh_maps maps;
	const struct mh_map *m = read_and_find(&maps, (const void *)&local);

	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->path, "[stack]");
	ck_assert_uint_eq(m->prot, PROT_READ | PROT_WRITE);
	m = mh_procmaps_find(&maps, (uintptr_t)read_and_find);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->prot & PROT_EXEC);
	ck_assert_uint_ne(m->inode, 0);
	ck_assert(strstr(m->path, "check_procmaps") != NULL);
	mh_procmaps_free(&maps);
}
END_TEST

static Suite *procmaps_suite(void)
{
	Suite *s = suite_create("procmaps");
	TCase *core = tcase_create("Core");

	page = sysconf(_SC_PAGESIZE);
	tcase_add_test(core, test_anonymous);
	tcase_add_test(core, test_shared_file_at_offset);
	tcase_add_test(core, test_stack_and_code);
	suite_add_tcase(s, core);
	return s;
}

int main(void)
{
	return mh_test_run_suite(procmaps_suite());
}
