// SPDX-License-Identifier: MIT
/*
 * check_modules.c - the preload's module records (preload/modules.c,
 * preload/objects.c), driven directly in this process: an object loaded
 * after the start scan is sent once, at the first stack through it, and
 * an object the loader maps where an unloaded one was makes the unloaded
 * one's MODULE_UNLOAD come first. The oracle is the loader itself
 * (dlinfo's link map, _dl_find_object) and the program headers on disk.
 */
#include <check.h>
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload/modules.h"
#include "preload/objects.h"
#include "preload/ring.h"
#include "recorder/ring_consumer.h"
#include "tests/testutil.h"

#define RING_BYTES (1 << 20)
/* Placeholders mapped, at most, to steer the loader into a hole. */
#define MAX_PROBES 4096

struct seen {
	unsigned int modules, unloads;
	__u64 module_bias[8];
	char module_path[8][256];
	__u64 unload_bias[8];
	unsigned int order[16];	/* 'M' or 'U', in ring order */
	unsigned int count;
};

static void drain(struct mh_ring *ring, struct seen *s)
{
	static unsigned char p[RING_BYTES];
	size_t bytes, off = 0;
	const char *why;

	memset(s, 0, sizeof(*s));
	/* One producer, this thread: everything it published may be merged now. */
	mh_ring_finish(ring);
	ck_assert_int_eq(mh_ring_read(ring, p, sizeof(p), &bytes, &why), 0);
	while (off < bytes) {
		const struct mh_rec_hdr *h = (const void *)(p + off);

		if (h->type == MH_REC_MODULE && s->modules < 8) {
			const struct mh_rec_module *m = (const void *)h;
			const char *path = (const char *)((const struct mh_module_segment *)(m + 1) +
							  m->segment_count);

			s->module_bias[s->modules] = m->load_bias;
			snprintf(s->module_path[s->modules++], 256, "%s", path);
			s->order[s->count++ % 16] = 'M';
		} else if (h->type == MH_REC_MODULE_UNLOAD && s->unloads < 8) {
			s->unload_bias[s->unloads++] = ((const struct mh_rec_module_unload *)h)->load_bias;
			s->order[s->count++ % 16] = 'U';
		}
		off += h->size;
	}
	mh_ring_release(ring, bytes);
}

static void note(struct mh_ring *ring, void *fn)
{
	/* A return address just past a call inside fn. */
	__u64 ip = (uintptr_t)fn + 1;

	ck_assert_int_eq(mh_modules_note(ring, getpid(), "/proc/self/exe", &ip, 1), 0);
}

static __u64 bias_of(void *handle)
{
	struct link_map *lm;

	ck_assert_int_eq(dlinfo(handle, RTLD_DI_LINKMAP, &lm), 0);
	return lm->l_addr;
}

static void ring_setup(struct mh_ring *ring)
{
	struct seen s;

	ck_assert_int_eq(mh_ring_create(ring, RING_BYTES, 0), 0);
	ck_assert_int_eq(mh_modules_scan(ring, getpid(), "/proc/self/exe"), 0);
	drain(ring, &s);
	ck_assert_uint_ge(s.modules, 2);
}

/* An object dlopen'ed after the scan: sent at the first stack through it, once, named. */
START_TEST(late_object_sent_once)
{
	struct mh_ring ring;
	struct seen s;
	void *h, *fn;

	ring_setup(&ring);
	h = dlopen("libz.so.1", RTLD_NOW);
	if (!h) {
		mh_test_skip("late_object_sent_once", "libz.so.1 cannot be loaded");
		return;
	}
	fn = dlsym(h, "compress2");
	ck_assert_ptr_nonnull(fn);
	note(&ring, fn);
	drain(&ring, &s);
	ck_assert_uint_eq(s.modules, 1);
	ck_assert_uint_eq(s.unloads, 0);
	ck_assert_uint_eq(s.module_bias[0], bias_of(h));
	ck_assert_ptr_nonnull(strstr(s.module_path[0], "libz.so"));
	note(&ring, fn);
	drain(&ring, &s);
	ck_assert_uint_eq(s.modules, 0);
	dlclose(h);
	mh_ring_destroy(&ring);
}
END_TEST

/* The page-rounded size of the mapping of the object holding fn. */
static size_t span_of(void *fn)
{
	struct mh_object o;
	long page = sysconf(_SC_PAGESIZE);

	ck_assert(mh_object_at((uintptr_t)fn, &o));
	return (o.map_end - o.map_start + (size_t)page - 1) / (size_t)page * (size_t)page;
}

/*
 * Map placeholders of span bytes until the kernel offers [lo, hi): the
 * loader's next mapping of that size then goes there. The placeholders
 * stay for the rest of the test's process. False if it never does.
 */
static bool steer_into(uintptr_t lo, uintptr_t hi, size_t span)
{
	for (unsigned int i = 0; i < MAX_PROBES; i++) {
		char *p = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return false;
		if ((uintptr_t)p < hi && (uintptr_t)p + span > lo) {
			munmap(p, span);
			return true;
		}
	}
	return false;
}

/* An object mapped over an unloaded one: MODULE_UNLOAD of the old one, then MODULE. */
START_TEST(replacing_object_unloads_the_old)
{
	char *lib = mh_test_path("tests/progs/libleak_dlclose.so");
	struct mh_object zo;
	struct mh_ring ring;
	struct seen s;
	void *h, *fn;
	size_t span;
	__u64 zbias;

	if (access(lib, R_OK)) {
		mh_test_skip("replacing_object_unloads_the_old", "libleak_dlclose.so not built");
		free(lib);
		return;
	}
	h = dlopen(lib, RTLD_NOW);
	ck_assert_ptr_nonnull(h);
	span = span_of(dlsym(h, "leak_lib_run"));
	dlclose(h);
	ring_setup(&ring);
	h = dlopen("libz.so.1", RTLD_NOW);
	if (!h) {
		mh_test_skip("replacing_object_unloads_the_old", "libz.so.1 cannot be loaded");
		free(lib);
		return;
	}
	fn = dlsym(h, "compress2");
	ck_assert(mh_object_at((uintptr_t)fn, &zo));
	zbias = bias_of(h);
	note(&ring, fn);
	dlclose(h);
	ck_assert(steer_into(zo.map_start, zo.map_end, span));
	h = dlopen(lib, RTLD_NOW);
	ck_assert_ptr_nonnull(h);
	fn = dlsym(h, "leak_lib_run");
	ck_assert_msg((uintptr_t)fn >= zo.map_start && (uintptr_t)fn < zo.map_end,
		      "the loader did not reuse libz's addresses");
	note(&ring, fn);
	drain(&ring, &s);
	/* libz, then its unload, then the library in its place. */
	ck_assert_uint_eq(s.modules, 2);
	ck_assert_uint_eq(s.unloads, 1);
	ck_assert_uint_eq(s.unload_bias[0], zbias);
	ck_assert_uint_eq(s.module_bias[1], bias_of(h));
	ck_assert(s.order[0] == 'M' && s.order[1] == 'U' && s.order[2] == 'M');
	dlclose(h);
	mh_ring_destroy(&ring);
	free(lib);
}
END_TEST

static Suite *modules_suite(void)
{
	Suite *s = suite_create("modules");
	TCase *tc = tcase_create("Lazy");

	tcase_add_test(tc, late_object_sent_once);
	tcase_add_test(tc, replacing_object_unloads_the_old);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(modules_suite());
}
