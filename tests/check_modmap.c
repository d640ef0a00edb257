// SPDX-License-Identifier: MIT
/*
 * check_modmap.c - which module a frame belongs to (merger/replay/modmap.c):
 * where active modules overlap, the first of them in activation order, an
 * unload moving the last one into its place; against a brute-force walk of
 * the same active list, under random loads, unloads, forks and execs.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merger/replay/modmap.h"
#include "tests/testutil.h"

#define KINDS 12		/* distinct (path, bias) modules the random test loads */
#define PIDS 3
#define STEPS 20000
#define SPACE 0x40000ULL	/* random modules lie in [0, SPACE), plus one that wraps */

/* Load path at bias in pid with segments [starts[i], starts[i] + sizes[i]). */
static void load(struct mh_modmap *m, uint32_t pid, uint64_t bias, const char *path,
		 unsigned nsegs, const uint64_t *starts, const uint64_t *sizes)
{
	uint64_t buf[64] = { 0 };
	struct mh_rec_module *rec = (void *)buf;
	struct mh_module_segment *seg = (void *)(rec + 1);
	size_t len = strlen(path);

	rec->hdr.type = MH_REC_MODULE;
	rec->hdr.size = MH_REC_PAD(sizeof(*rec) + nsegs * sizeof(*seg) + len + 1);
	rec->ts_ns = 1;
	rec->load_bias = bias;
	rec->pid = pid;
	rec->segment_count = nsegs;
	rec->path_len = len;
	for (unsigned i = 0; i < nsegs; i++)
		seg[i] = (struct mh_module_segment){ .start = starts[i], .size = sizes[i] };
	memcpy(seg + nsegs, path, len);
	ck_assert_int_eq(mh_modmap_load(m, rec), 0);
}

static void unload(struct mh_modmap *m, uint32_t pid, uint64_t bias)
{
	struct mh_rec_module_unload u = { { MH_REC_MODULE_UNLOAD, 0, sizeof(u) }, 2, bias, pid,
					  0 };

	mh_modmap_unload(m, &u);
}

static const char *module_at(struct mh_modmap *m, uint32_t pid, uint64_t ip)
{
	struct mh_module *mod = NULL;

	mh_modmap_lookup(m, pid, &ip, 1, &mod);
	return mod ? mod->path : "-";
}

static void load_one(struct mh_modmap *m, uint64_t start, uint64_t size, const char *path)
{
	load(m, 1, start, path, 1, &start, &size);
}

/*
 * a [0x1000, 0x3000), b [0x2000, 0x5000), c [0x4000, 0x6000): where they
 * overlap, the first loaded answers. Unloading a moves c into a's place,
 * ahead of b; a reloaded comes last.
 */
START_TEST(overlaps_go_to_the_first_active)
{
	struct mh_modmap *m = mh_modmap_new();

	load_one(m, 0x1000, 0x2000, "a");
	load_one(m, 0x2000, 0x3000, "b");
	ck_assert_str_eq(module_at(m, 1, 0x2800), "a");
	ck_assert_str_eq(module_at(m, 1, 0x4800), "b");
	load_one(m, 0x4000, 0x2000, "c");
	ck_assert_str_eq(module_at(m, 1, 0x4800), "b");
	ck_assert_str_eq(module_at(m, 1, 0x5800), "c");
	unload(m, 1, 0x1000);
	ck_assert_str_eq(module_at(m, 1, 0x1800), "-");
	ck_assert_str_eq(module_at(m, 1, 0x2800), "b");
	ck_assert_str_eq(module_at(m, 1, 0x4800), "c");
	load_one(m, 0x1000, 0x2000, "a");
	ck_assert_str_eq(module_at(m, 1, 0x2800), "b");
	ck_assert_str_eq(module_at(m, 1, 0x1800), "a");
	mh_modmap_exec(m, 1);
	ck_assert_str_eq(module_at(m, 1, 0x4800), "-");
	mh_modmap_free(m);
}
END_TEST

/* A segment may end past 2^64: it covers the top of the space and the bottom. */
START_TEST(segment_wrapping_past_the_top)
{
	struct mh_modmap *m = mh_modmap_new();

	load_one(m, UINT64_MAX - 0xfff, 0x2000, "top");
	ck_assert_str_eq(module_at(m, 1, UINT64_MAX), "top");
	ck_assert_str_eq(module_at(m, 1, 0), "top");
	ck_assert_str_eq(module_at(m, 1, 0xfff), "top");
	ck_assert_str_eq(module_at(m, 1, 0x1000), "-");
	ck_assert_str_eq(module_at(m, 1, UINT64_MAX - 0x1000), "-");
	mh_modmap_free(m);
}
END_TEST

/*
 * The oracle: each pid's active list, kept as modmap.c's rules say. A load
 * of a (path, bias) reuses its module unless that one was unloaded (in any
 * pid): then a new one, a new generation, comes after it.
 */
struct kind {
	char path[8];
	uint64_t bias;
	unsigned nsegs;
	uint64_t starts[3], sizes[3];
	unsigned gen;			/* of its newest module */
	bool unloaded;			/* that one was */
};

struct entry {
	struct kind *kind;
	unsigned gen;
};

struct oracle_pid {
	bool exists;
	unsigned count;
	struct entry active[2 * KINDS];
};

static void oracle_activate(struct oracle_pid *o, struct entry e)
{
	o->exists = true;
	for (unsigned i = 0; i < o->count; i++)
		if (o->active[i].kind == e.kind && o->active[i].gen == e.gen)
			return;
	ck_assert_uint_lt(o->count, 2 * KINDS);
	o->active[o->count++] = e;
}

static void oracle_load(struct oracle_pid *o, struct kind *k)
{
	if (k->unloaded) {
		k->gen++;
		k->unloaded = false;
	}
	oracle_activate(o, (struct entry){ k, k->gen });
}

static void oracle_unload(struct oracle_pid *o, uint64_t bias)
{
	for (unsigned i = 0; i < o->count; i++) {
		struct entry *e = &o->active[i];

		if (e->kind->bias == bias) {
			if (e->gen == e->kind->gen)
				e->kind->unloaded = true;
			*e = o->active[--o->count];
			return;
		}
	}
}

static const char *oracle_at(const struct oracle_pid *o, uint64_t ip)
{
	for (unsigned i = 0; i < o->count; i++) {
		const struct kind *k = o->active[i].kind;

		for (unsigned j = 0; j < k->nsegs; j++)
			if (ip - k->starts[j] < k->sizes[j])
				return k->path;
	}
	return "-";
}

/* Modules of 1-3 segments, overlapping one another; biases shared by pairs; one wraps. */
static void make_kinds(struct kind *kinds)
{
	for (unsigned i = 0; i < KINDS; i++) {
		struct kind *k = &kinds[i];

		snprintf(k->path, sizeof(k->path), "m%u", i);
		k->bias = 0x1000 * (i / 2);
		k->nsegs = 1 + rand() % 3;
		for (unsigned j = 0; j < k->nsegs; j++) {
			k->starts[j] = (uint64_t)rand() % SPACE;
			k->sizes[j] = (uint64_t)rand() % (SPACE / 4);
		}
	}
	kinds[KINDS - 1].starts[0] = UINT64_MAX - 0x7ff;
	kinds[KINDS - 1].sizes[0] = 0x1000;
}

static uint64_t random_ip(void)
{
	return rand() % 8 ? (uint64_t)rand() % SPACE : UINT64_MAX - (uint64_t)rand() % 0x1000;
}

/* Several frames at once, some already named: those are left alone. */
static void check_lookups(struct mh_modmap *m, const struct oracle_pid *oracle, uint32_t pid)
{
	struct mh_module *out[8], *named = mh_modmap_first(m);
	uint64_t ips[8];

	for (unsigned i = 0; i < 8; i++) {
		ips[i] = random_ip();
		out[i] = i == 3 ? named : NULL;
	}
	mh_modmap_lookup(m, pid, ips, 8, out);
	for (unsigned i = 0; i < 8; i++) {
		const char *want = i == 3 && named ? named->path : oracle_at(&oracle[pid], ips[i]);

		ck_assert_str_eq(out[i] ? out[i]->path : "-", want);
	}
}

START_TEST(random_operations_agree_with_the_scan)
{
	struct mh_modmap *m = mh_modmap_new();
	struct oracle_pid oracle[PIDS] = { 0 };
	struct kind kinds[KINDS] = { 0 };
	uint32_t pid, other;
	struct kind *k;

	srand(4242);
	make_kinds(kinds);
	for (unsigned step = 0; step < STEPS; step++) {
		pid = rand() % PIDS;
		other = rand() % PIDS;
		k = &kinds[rand() % KINDS];
		switch (rand() % 16) {
		case 0 ... 6:
			load(m, pid, k->bias, k->path, k->nsegs, k->starts, k->sizes);
			oracle_load(&oracle[pid], k);
			break;
		case 7 ... 11:
			unload(m, pid, k->bias);
			oracle_unload(&oracle[pid], k->bias);
			break;
		case 12:
			mh_modmap_exec(m, pid);
			oracle[pid].count = 0;
			break;
		case 13:
			ck_assert_int_eq(mh_modmap_fork(m, pid, other), 0);
			if (oracle[pid].exists && !oracle[other].exists)
				oracle[other] = oracle[pid];
			break;
		default:
			break;
		}
		for (unsigned q = 0; q < 4; q++)
			check_lookups(m, oracle, rand() % PIDS);
	}
	mh_modmap_free(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("modmap");
	TCase *core = tcase_create("Core");

	tcase_add_test(core, overlaps_go_to_the_first_active);
	tcase_add_test(core, segment_wrapping_past_the_top);
	tcase_add_test(core, random_operations_agree_with_the_scan);
	suite_add_tcase(s, core);
	return mh_test_run_suite(s);
}
