// SPDX-License-Identifier: MIT
/*
 * check_attribution.c - the join of the two streams (merger/attribution/attribute.c,
 * merger/attribution/residency.c, merger/attribution/rss_timeline.c): synthetic traces whose
 * answers are worked out by hand in each test's comment: blocks sharing
 * pages of a residency snapshot each get their own bytes, the retained
 * free heap, faults charged to the block, to the allocation in progress
 * or to the mapping by name (the same block at every run where live
 * blocks overlap), swap-ins, reclaim stalls and the RSS peak.
 * The reports that carry all of it: check_attribution_reports.c.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/merger_fixtures.h"
#include "merger/attribution/attribute.h"

#define PID 7
#define TID 7
#define PAGE 4096ULL
#define MAX_PAGES 64

static struct mh_replay *rp;
static struct mh_attribution *attribution;

static void setup(void)
{
	rp = mh_replay_new();
	ck_assert_ptr_nonnull(rp);
	attribution = mh_attribution_new(rp);
	ck_assert_ptr_nonnull(attribution);
	mh_replay_set_header(rp, 0, PAGE);
}

static void teardown(void)
{
	mh_replay_free(rp);
	mh_attribution_free(attribution);
	rp = NULL;
	attribution = NULL;
}

static void feed(const void *rec)
{
	mh_fx_feed(rp, rec);
}

static void ev_alloc(uint64_t addr, uint64_t size, uint64_t stack, int kind)
{
	mh_fx_alloc(rp, PID, TID, addr, size, stack, kind);
}

static void ev_free(uint64_t addr)
{
	mh_fx_free(rp, PID, TID, addr, MH_KIND_FREE, 0);
}

/* A PAGEMAP record: states[i] is 'P' present, 'S' swapped, '.' neither. */
static void ev_pagemap(uint64_t start, const char *states)
{
	struct {
		struct mh_rec_pagemap r;
		uint64_t bits[(2 * MAX_PAGES + 63) / 64];
	} rec = { { { MH_REC_PAGEMAP, 0, sizeof(rec) }, mh_fx_now_ns++, start, strlen(states), PID,
		    PAGE }, { 0 } };
	size_t i;

	ck_assert_uint_le(strlen(states), MAX_PAGES);
	for (i = 0; states[i]; i++) {
		if (states[i] == 'P')
			rec.bits[i / 32] |= 1ULL << (2 * (i % 32));
		else if (states[i] == 'S')
			rec.bits[i / 32] |= 1ULL << (2 * (i % 32) + 1);
	}
	feed(&rec);
}

static void ev_rss(uint64_t anon)
{
	struct mh_rec_rss_sample s = {
		.hdr = { MH_REC_RSS_SAMPLE, 0, sizeof(s) },
		.ts_ns = mh_fx_now_ns++, .anon_bytes = anon, .file_bytes = 1000, .pid = PID,
	};

	feed(&s);
}

static void ev_fault(uint64_t addr, uint64_t ip, uint32_t vma_class)
{
	struct mh_rec_kfault f = {
		.hdr = { MH_REC_KFAULT, 0, sizeof(f) },
		.ts_ns = mh_fx_now_ns++, .addr = addr, .ip = ip, .tid = TID, .pid = PID,
		.vma_class = vma_class, .dev = (8 << 20) | 1, .ino = 1234,
	};

	feed(&f);
}

static void ev_kernel_mmap(uint64_t addr, uint64_t len)
{
	struct mh_rec_ksyscall s = {
		.hdr = { MH_REC_KSYSCALL, 0, sizeof(s) },
		.ts_ns = mh_fx_now_ns++, .args = { 0, len }, .ret = (int64_t)addr,
		.tid = TID, .pid = PID, .sys = MH_KSYS_MMAP,
	};

	feed(&s);
}

static void ev_kernel_munmap(uint64_t addr, uint64_t len)
{
	struct mh_rec_ksyscall s = {
		.hdr = { MH_REC_KSYSCALL, 0, sizeof(s) },
		.ts_ns = mh_fx_now_ns++, .args = { addr, len }, .ret = 0,
		.tid = TID, .pid = PID, .sys = MH_KSYS_MUNMAP,
	};

	feed(&s);
}

/* The program's own munmap(), as the preload records it. */
static void ev_munmap(uint64_t addr, uint64_t len)
{
	mh_fx_free(rp, PID, TID, addr, MH_KIND_MUNMAP, len);
}

static void ev_kfile(uint32_t dev, uint64_t ino, const char *path)
{
	struct {
		struct mh_rec_kfile r;
		char path[32];
	} rec = { { { MH_REC_KFILE, 0, sizeof(rec) }, mh_fx_now_ns++, ino, dev, PID,
		    (uint32_t)strlen(path), 0 }, "" };

	strcpy(rec.path, path);
	feed(&rec);
}

/* A no-op record: the replay moves on, so pending snapshot ranges are applied. */
static void ev_tick(void)
{
	struct mh_rec_thread t = { .hdr = { MH_REC_THREAD, 0, sizeof(t) }, .ts_ns = mh_fx_now_ns++,
				   .pid = PID, .tid = TID };

	feed(&t);
}

static struct mh_process *proc(void)
{
	return mh_fx_proc(rp, PID);
}

static struct mh_stack_stats *stack(uint64_t id)
{
	return mh_fx_stack(rp, PID, id);
}

static struct mh_map_stats *mapping(const char *name)
{
	struct mh_map_stats *ms;

	ck_assert_ptr_nonnull(proc()->attr);
	HASH_FIND_STR(proc()->attr->map_stats, name, ms);
	ck_assert_msg(ms != NULL, "no mapping named %s", name);
	return ms;
}

/*
 * Heap pages 0x10000.. : P P . S P. Stack 1: [0x10000, +6000) = all of
 * page 0 and 1904 bytes of page 1 -> 6000 resident. Stack 2: [0x11770,
 * +100) in page 1 (present) -> 100, and [0x12000, +4096), page 2 not
 * present -> 0. Stack 3: [0x13000, +8192): page 3 swapped, page 4
 * present -> 4096 resident, 4096 swapped. Heap resident = 3 pages =
 * 12288, covered 6000 + 100 + 4096 = 10196, retained free heap 2092.
 * A second range with no block, 2 present pages, is "[anon]": 8192.
 */
START_TEST(test_shared_pages_split_fairly)
{
	struct mh_attr *a;

	ev_alloc(0x10000, 6000, 1, MH_KIND_MALLOC);
	ev_alloc(0x11770, 100, 2, MH_KIND_MALLOC);
	ev_alloc(0x12000, 4096, 2, MH_KIND_MALLOC);
	ev_alloc(0x13000, 8192, 3, MH_KIND_MALLOC);
	ev_pagemap(0x10000, "PP.SP");
	ev_pagemap(0x100000, "PP");
	mh_replay_finish(rp);
	a = proc()->attr;
	ck_assert_uint_eq(stack(1)->resident_bytes, 6000);
	ck_assert_uint_eq(stack(2)->resident_bytes, 100);
	ck_assert_uint_eq(stack(3)->resident_bytes, 4096);
	ck_assert_uint_eq(stack(3)->swapped_bytes, 4096);
	ck_assert_uint_eq(stack(1)->swapped_bytes, 0);
	ck_assert_uint_eq(a->heap_resident_bytes, 12288);
	ck_assert_uint_eq(a->retained_free_heap_bytes, 12288 - 10196);
	ck_assert_uint_eq(a->resident_bytes, 12288 + 8192);
	ck_assert_uint_eq(mapping("[anon]")->resident_bytes, 8192);
	ck_assert_uint_eq(a->snapshots, 1);
}
END_TEST

/*
 * A block crossing two records (two adjacent mappings) is counted in both.
 * [0x20800, +0x1000) spans page 0x20000 (P) and 0x21000 (P, next record):
 * 0x800 + 0x800 = 4096.
 */
START_TEST(test_block_across_records)
{
	ev_alloc(0x20800, 0x1000, 1, MH_KIND_MALLOC);
	ev_pagemap(0x20000, "P");
	ev_pagemap(0x21000, "P");
	mh_replay_finish(rp);
	ck_assert_uint_eq(stack(1)->resident_bytes, 4096);
	ck_assert_uint_eq(proc()->attr->retained_free_heap_bytes, 2 * 4096 - 4096);
}
END_TEST

/*
 * A range whose blocks were all freed before the only snapshot is still
 * allocator memory (a block started there): its 2 resident pages are
 * retained free heap. A range where no block ever was is "[anon]".
 */
START_TEST(test_freed_heap_is_retained)
{
	ev_alloc(0x80010, 64, 1, MH_KIND_MALLOC);
	ev_free(0x80010);
	ev_pagemap(0x80000, "PP");
	ev_pagemap(0x900000, "P");
	mh_replay_finish(rp);
	ck_assert_uint_eq(proc()->attr->retained_free_heap_bytes, 8192);
	ck_assert_uint_eq(mapping("[anon]")->resident_bytes, 4096);
	ck_assert_uint_eq(stack(1)->resident_bytes, 0);
}
END_TEST

/*
 * Snapshot 1 at RSS 10 MiB: stack 1 has 2 pages resident. Its block is
 * freed; snapshot 2 at RSS 2 MiB: stack 1 has nothing live (0), stack 2
 * one page. At the RSS peak (snapshot 1) stack 1 had 8192. The heap range
 * still counts as heap in snapshot 2 (it held a block before): its two
 * resident pages minus stack 2's page are retained free heap.
 */
START_TEST(test_latest_snapshot_and_rss_peak)
{
	struct mh_attr *a;

	ev_alloc(0x40000, 8192, 1, MH_KIND_MALLOC);
	ev_rss(10 << 20);
	ev_pagemap(0x40000, "PP.");
	ev_free(0x40000);
	ev_alloc(0x42000, 4096, 2, MH_KIND_MALLOC);
	ev_rss(2 << 20);
	ev_pagemap(0x40000, "PPP");
	ev_tick();
	mh_replay_finish(rp);
	a = proc()->attr;
	ck_assert_uint_eq(a->snapshots, 2);
	ck_assert_uint_eq(stack(1)->resident_bytes, 0);
	ck_assert_uint_eq(stack(1)->resident_at_rss_peak, 8192);
	ck_assert_uint_eq(stack(2)->resident_bytes, 4096);
	ck_assert_uint_eq(stack(2)->resident_at_rss_peak, 0);
	ck_assert_uint_eq(a->retained_free_heap_bytes, 8192);
	ck_assert_uint_eq(a->rss_peak_bytes, (10 << 20) + 1000);
	ck_assert_uint_ge(a->point_count, 2);
}
END_TEST

/*
 * Faults: in stack 1's block (x2, two ips) -> faults 2, first-touch ips
 * 0xaaa (1) and 0xbbb (1). At 0x50ff0, in no block: the thread's next
 * allocation [0x51000, +64) does not overlap page 0x50000, so it is not
 * claimed and goes to "[anon]". At 0x52010, then allocation [0x52020,
 * +32) in the same page -> faults_during_alloc 1 for stack 3. A fault in a file mapping covered
 * by a module is named by its path; a stack fault is "[stack]"; a fault
 * in the program's own mmap goes to "mmap 0x9"; a file is shown by the
 * path the kernel's file record gives its device and inode; one in a kernel-only
 * mmap that never held a block is "[libc mmap]".
 */
START_TEST(test_faults_charged)
{
	ev_alloc(0x30000, 8192, 1, MH_KIND_MALLOC);
	ev_fault(0x30010, 0xaaa, MH_VMA_ANON);
	ev_fault(0x31010, 0xbbb, MH_VMA_ANON);
	ev_fault(0x50ff0, 0xccc, MH_VMA_ANON);
	ev_alloc(0x51000, 64, 2, MH_KIND_MALLOC);
	ev_fault(0x52010, 0xddd, MH_VMA_ANON);
	ev_alloc(0x52020, 32, 3, MH_KIND_MALLOC);
	ev_fault(0x7ffc0000, 0xeee, MH_VMA_STACK);
	ev_fault(0x900000, 0xfff, MH_VMA_FILE);
	ev_kfile((8 << 20) | 1, 1234, "/usr/lib/libdemo.so");
	ev_alloc(0xa00000, 1 << 20, 9, MH_KIND_MMAP);
	ev_fault(0xa10000, 0x111, MH_VMA_ANON);
	ev_kernel_mmap(0xc00000, 1 << 20);
	ev_fault(0xc00100, 0x222, MH_VMA_ANON);
	mh_replay_finish(rp);
	ck_assert_uint_eq(stack(1)->faults, 2);
	ck_assert_uint_eq(stack(1)->touch[0].faults + stack(1)->touch[1].faults, 2);
	ck_assert_uint_eq(stack(2)->faults + stack(2)->faults_during_alloc, 0);
	ck_assert_uint_eq(stack(3)->faults_during_alloc, 1);
	ck_assert_uint_eq(mapping("[stack]")->faults, 1);
	ck_assert_uint_eq(mapping("file dev 8:1 inode 1234")->faults, 1);
	ck_assert_str_eq(mh_attr_map_name(attribution, proc(), mapping("file dev 8:1 inode 1234")),
			 "/usr/lib/libdemo.so");
	ck_assert_uint_eq(mapping("mmap 0x9")->faults, 1);
	ck_assert_uint_eq(mapping("[libc mmap]")->faults, 1);
	ck_assert_uint_eq(mapping("[anon]")->faults, 1);	/* 0x50ff0 */
	ck_assert_uint_eq(proc()->attr->faults, 8);
	ck_assert_uint_eq(proc()->attr->faults_in_blocks, 2);
}
END_TEST

/*
 * Blocks allocated and freed after the first fault built the index of
 * live blocks (attribute.c notes them and indexes them only after 32
 * lookups): a fault inside a live block is its stack's before and after
 * that, and an address freed, or reused by a smaller block, is no
 * block's. Truth by construction: which block covers each address.
 */
START_TEST(test_faults_in_blocks_added_later)
{
	int i;

	ev_alloc(0x10000, 32, 3, MH_KIND_MALLOC);
	ev_fault(0x7ffc0000, 0x1, MH_VMA_STACK);	/* builds the index: no block there */
	ev_alloc(0x100000, 64, 4, MH_KIND_MALLOC);
	ev_fault(0x100010, 0x2, MH_VMA_ANON);		/* stack 4 */
	ev_free(0x100000);
	ev_fault(0x100010, 0x3, MH_VMA_ANON);		/* freed: no block */
	ev_alloc(0x200000, 2 * PAGE, 5, MH_KIND_MALLOC);
	ev_alloc(0x300000, 16, 6, MH_KIND_MALLOC);
	for (i = 0; i < 40; i++)
		ev_fault(0x200000 + i * 128, 0x4, MH_VMA_ANON);	/* stack 5 */
	ev_fault(0x300008, 0x5, MH_VMA_ANON);		/* stack 6 */
	ev_free(0x200000);
	ev_alloc(0x200000, 16, 7, MH_KIND_MALLOC);
	ev_fault(0x200008, 0x6, MH_VMA_ANON);		/* stack 7 */
	ev_fault(0x200100, 0x7, MH_VMA_ANON);		/* past its 16 bytes: no block */
	ev_free(0x300000);
	ev_fault(0x300008, 0x8, MH_VMA_ANON);		/* freed: no block */
	ev_fault(0x10010, 0x9, MH_VMA_ANON);		/* stack 3, indexed at the first fault */
	mh_replay_finish(rp);
	ck_assert_uint_eq(stack(3)->faults, 1);
	ck_assert_uint_eq(stack(4)->faults, 1);
	ck_assert_uint_eq(stack(5)->faults, 40);
	ck_assert_uint_eq(stack(6)->faults, 1);
	ck_assert_uint_eq(stack(7)->faults, 1);
	ck_assert_uint_eq(proc()->attr->faults_in_blocks, 44);
}
END_TEST

/*
 * A lookup skips the blocks noted since the index was last brought up to
 * date when the address lies above all of them: a 0-byte block (it owns
 * its address), a block's first and last bytes, and the addresses just
 * outside each are charged as the blocks say, before any is indexed.
 */
START_TEST(test_faults_at_the_edges_of_noted_blocks)
{
	ev_fault(0x7ffc0000, 0x1, MH_VMA_STACK);	/* builds the index: no block there */
	ev_alloc(0x500000, 0, 8, MH_KIND_MALLOC);
	ev_alloc(0x400000, 16, 9, MH_KIND_MALLOC);
	ev_fault(0x500000, 0x2, MH_VMA_ANON);		/* stack 8 */
	ev_fault(0x500001, 0x3, MH_VMA_ANON);		/* past the 0-byte block: none */
	ev_fault(0x400000, 0x4, MH_VMA_ANON);		/* stack 9 */
	ev_fault(0x40000f, 0x4, MH_VMA_ANON);		/* stack 9 */
	ev_fault(0x400010, 0x5, MH_VMA_ANON);		/* past its 16 bytes: none */
	ev_fault(0x3fffff, 0x6, MH_VMA_ANON);		/* before it: none */
	mh_replay_finish(rp);
	ck_assert_uint_eq(stack(8)->faults, 1);
	ck_assert_uint_eq(stack(9)->faults, 2);
	ck_assert_uint_eq(proc()->attr->faults_in_blocks, 3);
}
END_TEST

/*
 * Live blocks may overlap (their frees were lost). The index of live
 * blocks is first built from the block table, whose order changes from
 * run to run (a random multiplier): a fault where 16 blocks of two pages
 * overlap is charged to the same one of them at every run.
 */
START_TEST(test_overlapping_blocks_charged_alike)
{
	uint64_t first = 0;

	for (int run = 0; run < 8; run++) {
		uint64_t charged = 0;

		if (run) {
			teardown();
			setup();
		}
		for (uint64_t i = 0; i < 16; i++)
			ev_alloc(0x400000 + i * 0x100, 2 * PAGE, 10 + i, MH_KIND_MALLOC);
		ev_fault(0x401800, 0x1, MH_VMA_ANON);	/* builds the index */
		mh_replay_finish(rp);
		for (uint64_t i = 0; i < 16; i++)
			if (stack(10 + i)->faults)
				charged = 10 + i;
		ck_assert_uint_ne(charged, 0);
		if (!run)
			first = charged;
		ck_assert_uint_eq(charged, first);
	}
}
END_TEST

/*
 * munmap() as the kernel does it, on whole pages. The program maps 8
 * pages at 0xa00000 (stack 9) and unmaps pages 2-3 (a hole: pages 0-1 and
 * 4-7 stay) and then 100 bytes at page 6 (the whole page 6 goes: 4-5 and
 * 7 stay). A kernel-only mmap of 4 pages at 0xc00000 is unmapped by a
 * munmap from 0xbff000 to 0xc05000, wider on both sides; one at 0xe00000
 * loses its first page to a munmap from 0xdff000. Faults: 0xa00010,
 * 0xa05010, 0xa07010 in what is left of the program's mapping -> "mmap
 * 0x9" 3; 0xe02010 in what is left of the kernel-only one -> "[libc
 * mmap]" 1; 0xa02010, 0xa06800, 0xc01000, 0xe00010 in unmapped holes ->
 * "[anon]" 4.
 */
START_TEST(test_munmap_splits_and_removes)
{
	ev_alloc(0xa00000, 8 * PAGE, 9, MH_KIND_MMAP);
	ev_kernel_mmap(0xc00000, 4 * PAGE);
	ev_kernel_mmap(0xe00000, 4 * PAGE);
	ev_munmap(0xa02000, 2 * PAGE);
	ev_munmap(0xa06000, 100);
	ev_kernel_munmap(0xbff000, 0x6000);
	ev_kernel_munmap(0xdff000, 2 * PAGE);
	ev_fault(0xa00010, 0x1, MH_VMA_ANON);
	ev_fault(0xa05010, 0x2, MH_VMA_ANON);
	ev_fault(0xa07010, 0x3, MH_VMA_ANON);
	ev_fault(0xe02010, 0x4, MH_VMA_ANON);
	ev_fault(0xa02010, 0x5, MH_VMA_ANON);
	ev_fault(0xa06800, 0x6, MH_VMA_ANON);
	ev_fault(0xc01000, 0x7, MH_VMA_ANON);
	ev_fault(0xe00010, 0x8, MH_VMA_ANON);
	mh_replay_finish(rp);
	ck_assert_uint_eq(mapping("mmap 0x9")->faults, 3);
	ck_assert_uint_eq(mapping("[libc mmap]")->faults, 1);
	ck_assert_uint_eq(mapping("[anon]")->faults, 4);
	ck_assert_uint_eq(proc()->munmap_calls, 2);
}
END_TEST

/*
 * A block inside a kernel-only mmap marks it as allocator memory: a fault
 * there outside the block is "[heap free]". Major faults and swap-ins go
 * by address; a reclaim stall that begins 10 ns after a fault in stack
 * 1's block is stack 1's (990 ns); one with no fault before it goes to the
 * thread's next allocation (stack 2, 500 ns).
 */
START_TEST(test_swapins_majors_reclaim)
{
	struct mh_rec_kmajfault mj = { { MH_REC_KMAJFAULT, 0, sizeof(mj) }, 0, 0x600010, 0x1, TID,
				       PID };
	struct mh_rec_kswapin sw = { { MH_REC_KSWAPIN, 0, sizeof(sw) }, 0, 0x600010, 3, TID, PID };
	struct mh_rec_kreclaim rc;
	uint64_t t;

	ev_kernel_mmap(0x600000, 1 << 20);
	ev_alloc(0x600010, 4096, 1, MH_KIND_MALLOC);
	ev_fault(0x600010, 0x1, MH_VMA_ANON);
	t = mh_fx_now_ns;
	mj.ts_ns = mh_fx_now_ns++;
	feed(&mj);
	sw.ts_ns = mh_fx_now_ns++;
	feed(&sw);
	rc = (struct mh_rec_kreclaim){ { MH_REC_KRECLAIM, 0, sizeof(rc) }, t + 1000, t + 10, 5, 0,
				       TID, PID, MH_RECLAIM_DIRECT, 0 };
	mh_fx_now_ns = t + 1001;
	feed(&rc);
	ev_fault(0x680000, 0x2, MH_VMA_ANON);	/* outside the block, inside the mmap */
	mh_fx_now_ns += 5 * 1000 * 1000;		/* later than any window */
	rc.start_ns = mh_fx_now_ns;
	rc.ts_ns = mh_fx_now_ns + 500;
	mh_fx_now_ns += 501;
	feed(&rc);
	ev_alloc(0x700000, 64, 2, MH_KIND_MALLOC);
	mh_replay_finish(rp);
	ck_assert_uint_eq(stack(1)->major_faults, 1);
	ck_assert_uint_eq(stack(1)->swapins, 3);
	ck_assert_uint_eq(stack(1)->reclaim_stall_ns, 990);
	ck_assert_uint_eq(stack(2)->reclaim_stall_ns, 500);
	ck_assert_uint_eq(mapping("[heap free]")->faults, 1);
	ck_assert_uint_eq(proc()->attr->reclaim_stall_ns, 1490);
	ck_assert_uint_eq(proc()->attr->reclaim_unattributed_ns, 0);
}
END_TEST

/*
 * A mapping that comes where blocks used to land outside any mapping: a
 * block in it still marks it allocator memory. Stack 1's block lies in
 * no mapping (only 0x600000 is mapped); it is freed, the kernel maps a
 * MiB at 0x10000000 over that address, stack 2 allocates there again,
 * and a fault in the new mapping outside the block is "[heap free]"
 * (the allocator's), not "[libc mmap]".
 */
START_TEST(test_new_mapping_over_heap_gap)
{
	ev_kernel_mmap(0x600000, 1 << 20);
	ev_fault(0x600010, 0x1, MH_VMA_ANON);	/* the block index exists from here */
	ev_alloc(0x10000010, 64, 1, MH_KIND_MALLOC);
	ev_free(0x10000010);
	ev_kernel_mmap(0x10000000, 1 << 20);
	ev_alloc(0x10000010, 64, 2, MH_KIND_MALLOC);
	ev_fault(0x10080000, 0x2, MH_VMA_ANON);
	mh_replay_finish(rp);
	ck_assert_ptr_nonnull(mapping("[heap free]"));
	ck_assert_uint_eq(mapping("[heap free]")->faults, 1);
}
END_TEST

/*
 * Blocks among many mappings: 100 kernel-only mmaps of 64 KiB, 1 MiB
 * apart, one unmapped, given a block and mapped again; a block below
 * them all, then a mapping in that gap and a block in it. Then after each
 * mapping a block in the gap that follows it (which the attribution
 * learns), and in every third mapping a block. A fault in each mapping
 * outside its block: "[heap free]" where a block lay, "[libc mmap]"
 * elsewhere; faults in the gaps are "[anon]". Truth by construction; a
 * learnt gap that reached over the next mapping, or kept its extent when
 * a mapping came into it, would leave that mapping's block unnoticed (a
 * "[libc mmap]" fault too many).
 */
START_TEST(test_gaps_among_many_mappings)
{
	const uint64_t base = 0x40000000, step = 1 << 20, len = 64 << 10;
	uint64_t stack_id = 1, held = 0;

	for (int i = 0; i < 100; i++)
		ev_kernel_mmap(base + i * step, len);
	ev_fault(base + len, 0x1, MH_VMA_ANON);	/* the block index exists from here */
	ev_kernel_munmap(base + 51 * step, len);
	ev_alloc(base + 51 * step + 128, 64, stack_id++, MH_KIND_MALLOC);
	ev_kernel_mmap(base + 51 * step, len);
	ev_alloc(base - 4096, 64, stack_id++, MH_KIND_MALLOC);	/* the gap below them all */
	ev_kernel_mmap(base - 64 * step, len);			/* comes into that gap */
	ev_alloc(base - 64 * step + 16, 64, stack_id++, MH_KIND_MALLOC);
	ev_fault(base - 64 * step + len / 2, 0x2, MH_VMA_ANON);
	held++;
	for (int i = 0; i < 100; i++) {
		ev_alloc(base + i * step + len + 64, 64, stack_id++, MH_KIND_MALLOC);
		if (i % 3 == 2) {
			ev_alloc(base + (i + 1) * step + 16, 64, stack_id++, MH_KIND_MALLOC);
			held++;
		}
	}
	for (int i = 0; i < 100; i++)
		ev_fault(base + i * step + len / 2, 0x2, MH_VMA_ANON);
	for (int i = 0; i < 100; i += 10)
		ev_fault(base + i * step + len + 8192, 0x3, MH_VMA_ANON);
	mh_replay_finish(rp);
	ck_assert_uint_eq(mapping("[heap free]")->faults, held);
	ck_assert_uint_eq(mapping("[libc mmap]")->faults, 101 - held);
	ck_assert_uint_eq(mapping("[anon]")->faults, 11);	/* and the first */
}
END_TEST

static Suite *attribution_suite(void)
{
	Suite *s = suite_create("attribution");
	TCase *tc = tcase_create("Join");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shared_pages_split_fairly);
	tcase_add_test(tc, test_block_across_records);
	tcase_add_test(tc, test_freed_heap_is_retained);
	tcase_add_test(tc, test_latest_snapshot_and_rss_peak);
	tcase_add_test(tc, test_faults_charged);
	tcase_add_test(tc, test_faults_in_blocks_added_later);
	tcase_add_test(tc, test_faults_at_the_edges_of_noted_blocks);
	tcase_add_test(tc, test_overlapping_blocks_charged_alike);
	tcase_add_test(tc, test_swapins_majors_reclaim);
	tcase_add_test(tc, test_munmap_splits_and_removes);
	tcase_add_test(tc, test_new_mapping_over_heap_gap);
	tcase_add_test(tc, test_gaps_among_many_mappings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mh_test_run_suite(attribution_suite());
}
