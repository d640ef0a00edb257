// SPDX-License-Identifier: MIT
/*
 * check_attribution.c - the join of the two streams (merger/attribution/attribute.c,
 * merger/attribution/residency.c, merger/attribution/rss_timeline.c): synthetic traces whose
 * answers are worked out by hand in each test's comment: blocks sharing
 * pages of a residency snapshot each get their own bytes, the retained
 * free heap, faults charged to the block, to the allocation in progress
 * or to the mapping by name, swap-ins, reclaim stalls, the RSS peak, and
 * the JSON fields that carry all of it (leak kinds included).
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

/* ---- the JSON report from a trace file ---- */

/*
 * Process 9: stack 0x51 allocates [0x10000, +4096) (definitely lost) and
 * stack 0x52 [0x11000, +2048) (still reachable); a snapshot with both
 * pages present: 4096 and 2048 resident, retained 2048; RSS samples peak
 * at 5 MiB anon + 1 MiB file; one fault in 0x51's block. The program
 * mmaps 1 MiB at 0x900000 from stack 0x77 (one frame, 0xabc) and faults
 * there once.
 */
static char *write_trace(void)
{
	struct mh_trace_header hdr = mh_fx_header(9, PAGE);
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 20, 0x10000, 4096,
				  0x51, 9, 9 };
	struct mh_rec_rss_sample s = { { MH_REC_RSS_SAMPLE, 0, sizeof(s) }, 25, 5 << 20, 1 << 20,
				       0, 0, 9, 0 };
	struct mh_rec_kfault f = { .hdr = { MH_REC_KFAULT, 0, sizeof(f) }, .ts_ns = 26,
				   .addr = 0x10008, .ip = 0x4242, .tid = 9, .pid = 9,
				   .vma_class = MH_VMA_ANON };
	struct {
		struct mh_rec_pagemap r;
		uint64_t bits[1];
	} pm = { { { MH_REC_PAGEMAP, 0, sizeof(pm) }, 40, 0x10000, 2, 9, PAGE }, { 0x5 } };
	struct mh_rec_leak l = { { MH_REC_LEAK, 0, sizeof(l) }, 0x10000, 9, MH_LEAK_DEFINITE };
	struct mh_rec_exit ex = { { MH_REC_EXIT, 0, sizeof(ex) }, 50, 9, MH_EXIT_NORMAL, 0, 0 };
	struct {
		struct mh_rec_stack s;
		uint64_t ips[1];
	} st = { { { MH_REC_STACK, 0, sizeof(st) }, 0x77, 9, 1, 0 }, { 0xabc } };
	struct mh_rec_alloc mm = { { MH_REC_ALLOC, MH_KIND_MMAP, sizeof(mm) }, 22, 0x900000,
				   1 << 20, 0x77, 9, 9 };
	char *path = mh_test_join(mh_fx_tmpdir, "a.mht");
	struct mh_trace_writer *w = mh_trace_writer_open(path, &hdr);

	ck_assert_ptr_nonnull(w);
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	a.ts_ns = 21;
	a.addr = 0x11000;
	a.size = 2048;
	a.stack_id = 0x52;
	mh_fx_append(w, MH_STREAM_ALLOC, &a);
	mh_fx_append(w, MH_STREAM_ALLOC, &st);
	mh_fx_append(w, MH_STREAM_ALLOC, &mm);
	mh_fx_append(w, MH_STREAM_SAMPLE, &s);
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	f.ts_ns = 27;
	f.addr = 0x900100;
	mh_fx_append(w, MH_STREAM_KERNEL, &f);
	mh_fx_append(w, MH_STREAM_SAMPLE, &pm);
	mh_fx_append(w, MH_STREAM_META, &l);
	l.addr = 0x11000;
	l.kind = MH_LEAK_REACHABLE;
	mh_fx_append(w, MH_STREAM_META, &l);
	mh_fx_append(w, MH_STREAM_META, &ex);
	ck_assert_int_eq(mh_trace_writer_close(w), 0);
	return path;
}

/* The integer of the first "key": after text (stacks are array elements). */
static long long int_after(const char *text, const char *key)
{
	char quoted[64];
	const char *at;

	snprintf(quoted, sizeof(quoted), "\"%s\": ", key);
	at = strstr(text, quoted);
	ck_assert_msg(at != NULL, "no %s", key);
	return strtoll(at + strlen(quoted), NULL, 10);
}

START_TEST(test_json_fields)
{
	char *trace = write_trace();
	char *json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_JSON, MH_KEY_RSS);
	char *first = strstr(json, "\"stacks\"");
	const char *at;

	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.definite.bytes"), 4096);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.definite.blocks"), 1);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.reachable.bytes"), 2048);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.leaks.indirect.blocks"), 0);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.rss_peak_bytes"), 6 << 20);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.retained_free_heap_bytes"), 2048);
	ck_assert_int_eq(mh_fx_json_int(json, "summary.faults"), 2);
	/* The mmap's fault is its mapping's, which names the mmap's stack. */
	at = strstr(json, "\"name\": \"mmap 0x77\"");
	ck_assert_ptr_nonnull(at);
	ck_assert_int_eq(int_after(at, "faults"), 1);
	ck_assert_ptr_nonnull(strstr(at, "\"address\": \"0xabc\""));
	ck_assert_ptr_nonnull(first);
	/* Sorted by rss: 0x51 (4096 resident) first, with its figures. */
	ck_assert_ptr_nonnull(strstr(first, "\"id\": \"0x51\""));
	ck_assert_int_lt(strstr(first, "0x51") - first, strstr(first, "0x52") - first);
	ck_assert_ptr_nonnull(strstr(first, "\"leak_kind\": \"definite\""));
	ck_assert_int_eq(int_after(first, "resident_bytes"), 4096);
	ck_assert_int_eq(int_after(first, "faults"), 1);
	ck_assert_int_eq(int_after(strstr(first, "\"definite\""), "bytes"), 4096);
	ck_assert_ptr_nonnull(strstr(first, "\"leak_kind\": \"reachable\""));
	ck_assert_ptr_nonnull(strstr(json, "\"timeline\""));
	ck_assert_ptr_nonnull(strstr(json, "\"mappings\""));
	free(json);
	json = mh_fx_report(mh_fx_tmpdir, trace, MH_REPORT_TEXT, MH_KEY_RSS);
	ck_assert_ptr_nonnull(strstr(json, "retained free heap: 2.0 KiB"));
	ck_assert_ptr_nonnull(strstr(json, "malloc_trim"));
	free(json);
	free(trace);
}
END_TEST

/* ---- end to end: examples/four_sites measures its own residency ---- */

/* True if transparent huge pages are on for every mapping (one fault maps 512 pages). */
static bool thp_always(void)
{
	char *text = mh_test_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	bool always = text && strstr(text, "[always]");

	free(text);
	return always;
}

/* resident_pages the program printed for site, -1 if absent. */
static long long site_pages(const char *out, const char *site)
{
	char key[64];
	const char *at;

	snprintf(key, sizeof(key), "site=%s ", site);
	at = strstr(out, key);
	at = at ? strstr(at, "resident_pages=") : NULL;
	return at ? strtoll(at + strlen("resident_pages="), NULL, 10) : -1;
}

/* Sum of the integer fields of the stack whose frames name site; -1 if no such stack. */
static long long site_sum(const char *json, const char *site, const char *const *fields)
{
	const char *stacks = mh_test_json_value(json, "stacks"), *el, *next;
	char want[64];
	size_t i, k;

	snprintf(want, sizeof(want), "\"function\": \"%s\"", site);
	for (i = 0; stacks && (el = mh_test_json_element(stacks, i)); i++) {
		const char *hit = strstr(el, want);
		long long sum = 0, v;

		next = mh_test_json_element(stacks, i + 1);
		if (!hit || (next && hit > next))
			continue;
		for (k = 0; fields[k]; k++) {
			ck_assert_msg(mh_test_json_int(el, fields[k], &v) == 0, "no %s", fields[k]);
			sum += v;
		}
		return sum;
	}
	return -1;
}

static long long site_faults(const char *json, const char *site)
{
	static const char *const fields[] = { "faults", "faults_during_alloc", NULL };

	return site_sum(json, site, fields);
}

static long long site_resident_pages(const char *json, const char *site)
{
	static const char *const fields[] = { "resident_bytes", NULL };
	long long bytes = site_sum(json, site, fields);

	return bytes < 0 ? -1 : (bytes + (long long)PAGE - 1) / (long long)PAGE;
}

/*
 * Record examples/<example> [arg] with extra record options, then report
 * in JSON; NULL (skipped) if not built. *out gets what the program printed.
 */
static char *example_run(const char *name, const char *example, const char *const *opts,
			 const char *arg, char **out)
{
	char *memhook = mh_test_path("memhook"), *prog = mh_test_join(mh_test_build_dir(), example);
	char *trace = mh_test_join(mh_fx_tmpdir, "ex.mht"), *out_path = mh_test_join(mh_fx_tmpdir, "ex.out");
	char *json_path = mh_test_join(mh_fx_tmpdir, "ex.json"), *json = NULL;
	const char *rec[16] = { memhook, "record", "-q", "-o", trace };
	const char *rep[] = { memhook, "report", "--format", "json", "-o", json_path, trace, NULL };
	struct mh_test_cmd cmd = { .argv = rec, .stdout_path = out_path };
	size_t n = 5, i;

	*out = NULL;
	if (!mh_test_executable(memhook) || !mh_test_executable(prog)) {
		mh_test_skip(name, "memhook or the example program not built");
		goto out;
	}
	for (i = 0; opts[i]; i++)
		rec[n++] = opts[i];
	rec[n++] = "--";
	rec[n++] = prog;
	rec[n++] = arg;
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	cmd = (struct mh_test_cmd){ .argv = rep };
	ck_assert_int_eq(mh_test_run(&cmd), 0);
	*out = mh_test_read_file(out_path, NULL);
	json = mh_test_read_file(json_path, NULL);
	ck_assert_ptr_nonnull(*out);
	ck_assert_ptr_nonnull(json);
out:
	free(memhook);
	free(prog);
	free(trace);
	free(out_path);
	free(json_path);
	return json;
}

/* Record four_sites with extra options, then report in JSON; NULL (skipped) if not possible. */
static char *four_sites_run(const char *name, const char *const *opts, char **out)
{
	*out = NULL;
	if (thp_always()) {
		mh_test_skip(name, "transparent huge pages are 'always': one fault maps many pages");
		return NULL;
	}
	return example_run(name, "examples/four_sites", opts, NULL, out);
}

static const char *const four_sites[] = { "site_10", "site_50", "site_100", "site_0" };

/*
 * Each site's block gets one fault per page it makes resident (no huge
 * pages): the faults charged to its stack, in the block or during its
 * malloc, equal the resident pages the program read from its own pagemap.
 */
START_TEST(test_four_sites_faults_match_own_pagemap)
{
	static const char *const opts[] = { "--kernel=auto", NULL };
	char *out, *json = four_sites_run("four_sites_faults", opts, &out);
	long long kernel = 0;
	unsigned i;

	if (!json)
		return;
	ck_assert_int_eq(mh_test_json_int(json, "kernel_records", &kernel), 0);
	if (!kernel) {
		mh_test_skip("four_sites_faults", "no kernel stream: BPF is not permitted here");
		goto out;
	}
	for (i = 0; i < sizeof(four_sites) / sizeof(four_sites[0]); i++) {
		long long want = site_pages(out, four_sites[i]);
		long long got = site_faults(json, four_sites[i]);

		ck_assert_msg(want >= 0, "four_sites printed nothing for %s: %s", four_sites[i], out);
		ck_assert_msg(got >= want - 2 && got <= want + 2,
			      "%s: %lld faults charged, %lld pages resident", four_sites[i], got, want);
	}
out:
	free(out);
	free(json);
}
END_TEST

/*
 * Without the kernel, from pagemap snapshots alone: four_sites keeps its
 * blocks until exit, so the snapshot the recorder takes at the exit scan
 * (the last one: none is taken once the scan began) gives each stack the
 * resident pages the program counted, within 2 pages.
 */
START_TEST(test_four_sites_resident_match_own_pagemap)
{
	static const char *const opts[] = { "--kernel=off", "--pagemap-interval", "5", NULL };
	char *out, *json = four_sites_run("four_sites_resident", opts, &out);
	long long want[4], got[4];
	unsigned i;

	if (!json)
		return;
	for (i = 0; i < 4; i++) {
		want[i] = site_pages(out, four_sites[i]);
		got[i] = site_resident_pages(json, four_sites[i]);
		ck_assert_msg(want[i] >= 0, "four_sites printed nothing for %s: %s", four_sites[i], out);
	}
	for (i = 0; i < 4; i++)
		ck_assert_msg(got[i] >= want[i] - 2 && got[i] <= want[i] + 2,
			      "%s: %lld pages resident by the report, %lld by the program",
			      four_sites[i], got[i], want[i]);
	free(out);
	free(json);
}
END_TEST

/*
 * Record examples/fragmentation (with mode as its argument, or none) with
 * --kernel=off and the given pagemap interval, then report in JSON; NULL
 * (skipped) if not built. *out gets what the program printed.
 */
static char *fragmentation_run(const char *name, const char *mode, const char *interval,
			       char **out)
{
	const char *const opts[] = { "--kernel=off", "--pagemap-interval", interval, NULL };

	return example_run(name, "examples/fragmentation", opts, mode, out);
}

/*
 * The program's own figure from the line of its output that begins with
 * prefix ("live_bytes=" or "after_trim live_bytes="): the [heap] Rss in
 * bytes minus the live bytes it printed; *live gets the live bytes.
 */
static long long fragmentation_printed(const char *out, const char *prefix, long long *live)
{
	const char *at = strstr(out, prefix), *kb;

	ck_assert_msg(at != NULL, "fragmentation printed no '%s': %s", prefix, out);
	*live = strtoll(at + strlen(prefix), NULL, 10);
	kb = strstr(at, "heap_rss_kb=");
	ck_assert_msg(kb != NULL, "fragmentation printed no heap_rss_kb: %s", out);
	return strtoll(kb + strlen("heap_rss_kb="), NULL, 10) * 1024 - *live;
}

/*
 * The retained free heap of a snapshot point in timeline[] whose live heap
 * lies in [lo, hi); -1 if there is none. The last such point, or with
 * first_after_peak the first one after the point of most live heap: a
 * later one may have been read while the program moved on (a snapshot
 * takes a while on a loaded machine).
 */
static long long fragmentation_snapshot(const char *json, long long lo, long long hi,
					bool first_after_peak)
{
	const char *timeline = mh_test_json_value(json, "timeline"), *el;
	long long live, retained, peak = -1, found = -1;
	size_t i;

	ck_assert_ptr_nonnull(timeline);
	for (i = 0; (el = mh_test_json_element(timeline, i)); i++) {
		if (mh_test_json_int(el, "retained_free_heap_bytes", &retained) ||
		    mh_test_json_int(el, "live_heap_bytes", &live))
			continue;	/* not a snapshot point */
		if (live > peak) {
			peak = live;
			if (first_after_peak)
				found = -1;
		}
		if (live >= lo && live < hi && !(first_after_peak && found >= 0))
			found = retained;
	}
	return found;
}

/*
 * examples/fragmentation frees 7 of 8 small blocks and prints the Rss of
 * its [heap] while 8,000,000 bytes stay live there (plus its 8,000,000-byte
 * pointer array, an mmapped chunk). A residency snapshot taken in that
 * phase (live heap 16,000,000 bytes, within a page) must show a retained
 * free heap within 2% of the heap's Rss minus the 8,000,000 live bytes.
 */
START_TEST(test_fragmentation_retained_matches_own_smaps)
{
	char *out, *json = fragmentation_run("fragmentation_retained", NULL, "5", &out);
	long long live, found, want;

	if (!json)
		return;
	want = fragmentation_printed(out, "live_bytes=", &live);
	found = fragmentation_snapshot(json, live + 8000000, live + 8000000 + (long long)PAGE,
				       false);
	if (found < 0) {
		mh_test_skip("fragmentation_retained", "no residency snapshot while the heap was fragmented");
		goto out;
	}
	ck_assert_msg(found >= want - want / 50 && found <= want + want / 50,
		      "retained free heap %lld bytes, the program's heap Rss minus live bytes %lld",
		      found, want);
out:
	free(out);
	free(json);
}
END_TEST

/*
 * "examples/fragmentation trimmable" keeps the first eighth of its blocks
 * and the last one, plus a 100,000-byte marker until just before it calls
 * malloc_trim(0), and prints its [heap] Rss and live bytes before and
 * after the trim. A snapshot taken before the trim (live heap: the first
 * live bytes plus stdio's buffer, within two pages) must show a retained
 * free heap within 2% of the first Rss minus live bytes; the exit snapshot
 * (summary.retained_free_heap_bytes, after the trim) within 2% or four
 * pages of the second, and less than a quarter of the first.
 */
START_TEST(test_fragmentation_trim_drops_retained)
{
	char *out, *json = fragmentation_run("fragmentation_trim", "trimmable", "20", &out);
	long long live, live_after, before, after, found, got, tol;

	if (!json)
		return;
	before = fragmentation_printed(out, "live_bytes=", &live);
	after = fragmentation_printed(out, "after_trim live_bytes=", &live_after);
	ck_assert_msg(live - live_after > 2 * (long long)PAGE,
		      "the marker does not tell the phases apart: %s", out);
	ck_assert_int_eq(mh_test_json_int(json, "summary.retained_free_heap_bytes", &got), 0);
	tol = after / 50 > 4 * (long long)PAGE ? after / 50 : 4 * (long long)PAGE;
	ck_assert_msg(got >= after - tol && got <= after + tol,
		      "after malloc_trim: retained free heap %lld bytes, heap Rss minus live bytes %lld",
		      got, after);
	ck_assert_msg(got < before / 4,
		      "after malloc_trim the retained free heap %lld bytes did not drop from %lld",
		      got, before);
	found = fragmentation_snapshot(json, live, live + 2 * (long long)PAGE, true);
	if (found < 0) {
		mh_test_skip("fragmentation_trim_before", "no residency snapshot before malloc_trim");
		goto out;
	}
	ck_assert_msg(found >= before - before / 50 && found <= before + before / 50,
		      "before malloc_trim: retained free heap %lld bytes, heap Rss minus live bytes %lld",
		      found, before);
	ck_assert_msg(got < found / 4, "retained free heap %lld bytes after malloc_trim, %lld before",
		      got, found);
out:
	free(out);
	free(json);
}
END_TEST

static Suite *attribution_suite(void)
{
	Suite *s = suite_create("attribution");
	TCase *tc = tcase_create("Join");
	TCase *tr = tcase_create("Reports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shared_pages_split_fairly);
	tcase_add_test(tc, test_block_across_records);
	tcase_add_test(tc, test_freed_heap_is_retained);
	tcase_add_test(tc, test_latest_snapshot_and_rss_peak);
	tcase_add_test(tc, test_faults_charged);
	tcase_add_test(tc, test_faults_in_blocks_added_later);
	tcase_add_test(tc, test_swapins_majors_reclaim);
	tcase_add_test(tc, test_munmap_splits_and_removes);
	tcase_add_test(tc, test_new_mapping_over_heap_gap);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tr, mh_fx_tmpdir_setup, mh_fx_tmpdir_teardown);
	tcase_add_test(tr, test_json_fields);
	tcase_add_test(tr, test_four_sites_faults_match_own_pagemap);
	tcase_add_test(tr, test_four_sites_resident_match_own_pagemap);
	tcase_add_test(tr, test_fragmentation_retained_matches_own_smaps);
	tcase_add_test(tr, test_fragmentation_trim_drops_retained);
	suite_add_tcase(s, tr);
	return s;
}

int main(void)
{
	return mh_test_run_suite(attribution_suite());
}
