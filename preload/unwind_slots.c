// SPDX-License-Identifier: MIT
/*
 * unwind_slots.c - auto mode's return-address-slot cache: stacks libunwind
 * found beyond a call site, each with the exact stack words its return
 * addresses were read from, served again without libunwind while the
 * site's frame is at the same place and every one of those words still
 * holds its return address. Why that answer is libunwind's, and where it
 * is not sure, is argued atop unwind.c; this file keeps the entries and
 * proves the slots.
 *
 * Never allocates (one table mmap'd at setup), never prints, never writes
 * anything but its table, and reads only the calling thread's stack
 * between the site's slot and the top of that stack, and the first bytes
 * of code at return addresses libunwind reported inside libc's code.
 *
 * One table serves every thread. An entry is keyed by the stack address of
 * the site's slot, and a thread's stack is its own, so a thread only ever
 * matches entries made on its stack (by itself, or by a thread that had the
 * same stack before it: the proof below does not care who made it). Each
 * entry has a sequence number, odd while a thread rewrites it; a reader
 * that sees it change throws away what it read, and every stack word it
 * reads is bounded by its own stack's top first, so a torn entry costs a
 * miss, never a read outside the reader's stack.
 */
#include "preload/unwind_slots.h"

#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "preload/objects.h"
#include "preload/ownmaps.h"
#include "preload/sys.h"
#include "common/compiler.h"

/* Entries a site frame may be in: as many stacks above one site frame (at most 64). */
#define WAYS 64

/* Largest gap between two frames' slots an entry holds, in stack words. */
#define GAP_MAX UINT16_MAX

/*
 * An entry: its first cache line holds what every look at it needs, the
 * memo included; then where each frame's return address sits, as 16-bit
 * gaps (one line for 32 frames); then the frames, compared with the stack
 * words at those places and returned as they are read.
 */
struct slot_entry {
	__u64 seq;		/* odd while being rewritten */
	uintptr_t slot;		/* the site's slot; 0 for an empty entry */
	__u64 ip0;		/* the site */
	__u64 rbp;		/* the site frame's RBP, compared when rbp_keyed */
	__u64 epoch;		/* the cache's epoch when made */
	struct mh_stack_memo memo;
	unsigned int n;		/* frames, the site's being the first */
	bool cut;		/* libunwind had frames left beyond the last one */
	bool rbp_keyed;		/* the site's function may keep its CFA in RBP */
	__u16 gap[MH_SLOTS_FRAMES];	/* frame j's slot is gap[j] words above frame j - 1's */
	__u64 ips[MH_SLOTS_FRAMES] __attribute__((aligned(64)));
} __attribute__((aligned(64)));

/*
 * Per entry, what tells most entries of a site frame apart without reading
 * the entry: where its second frame's return address sits (0: no second
 * frame) and that address's low half.
 */
struct entry_pre {
	__u32 off1;
	__u32 ip1;
};

static struct slot_entry *table;
/* One tag per entry, a group's in one cache line: which entries to look at. */
static __u32 *tags;
/* One prefilter per entry, a group's in two cache lines. */
static struct entry_pre *pres;
static __u64 table_mask;
/* Bumped to void every entry at once (mh_slots_flush). */
static __u64 epoch;
/* Where this thread's next entry goes in its group. */
static __thread unsigned int next_way __attribute__((tls_model("initial-exec")));
/* libc's executable segment, where its signal return trampoline is. */
static uintptr_t libc_text_lo, libc_text_hi;

/* Where libc's code is, from the object holding one of its functions. */
static void find_libc_text(void)
{
	struct mh_object o;
	int i;

	if (!mh_object_at((uintptr_t)&getpid, &o))
		return;
	for (i = 0; i < o.info.dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &o.info.dlpi_phdr[i];
		uintptr_t lo = o.info.dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && ph->p_flags & PF_X && ph->p_flags & PF_R &&
		    lo <= (uintptr_t)&getpid && (uintptr_t)&getpid - lo < ph->p_memsz) {
			libc_text_lo = lo;
			libc_text_hi = lo + ph->p_filesz;
		}
	}
}

int mh_slots_setup(unsigned int log2)
{
	size_t tag_bytes = sizeof(*tags) << log2;
	size_t bytes = ((sizeof(struct slot_entry) + sizeof(*pres)) << log2) + tag_bytes;

	if (table)
		return 0;
	/* MAP_NORESERVE: pages are touched only as entries land in them. */
	table = mh_sys_mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (table == MAP_FAILED) {
		table = NULL;
		return -ENOMEM;
	}
	mh_ownmaps_note(table, bytes);
	pres = (struct entry_pre *)(table + ((size_t)1 << log2));
	tags = (__u32 *)(pres + ((size_t)1 << log2));
	table_mask = ((__u64)1 << log2) - 1;
	find_libc_text();
	return 0;
}

/* The first of the WAYS entries a site frame may be in, and its tag (never 0). */
static inline __u64 group_of(const struct mh_site_frame *s, __u32 *tag)
{
	__u64 k = (s->slot >> 3) ^ s->ip;

	k ^= k >> 29;
	k *= 0x9e3779b97f4a7c15ULL;
	*tag = (__u32)k | 1;
	return (k >> 32) & table_mask & ~(__u64)(WAYS - 1);
}

/*
 * Read the n words the entry's frames sat in, in this thread's stack only
 * (a torn entry's gaps may point anywhere): false if one lies beyond room.
 */
static inline bool slots_read(const struct slot_entry *e, unsigned int n, uintptr_t slot,
			      uintptr_t room, __u64 *words)
{
	uintptr_t off = 0;
	unsigned int j;

	for (j = 1; j < n; j++) {
		off += (uintptr_t)e->gap[j] * sizeof(__u64);
		if (off > room)
			return false;
		words[j] = *(const volatile __u64 *)(slot + off);
		if (words[j] != e->ips[j])
			return false;
	}
	return true;
}

static bool serve_from(struct slot_entry *e, const struct mh_site_frame *s, __u64 *frames,
		       unsigned int room, unsigned int *n, bool *truncated, struct mh_memo_ref *memo,
		       enum mh_slots_miss *why)
{
	__u64 words[MH_SLOTS_FRAMES], *out;
	unsigned int take, en;
	bool cut, trunc;
	__u64 seq;

	seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
	if (seq & 1 || e->slot != s->slot || e->ip0 != s->ip ||
	    (e->rbp_keyed && e->rbp != s->rbp) ||
	    e->epoch != __atomic_load_n(&epoch, __ATOMIC_ACQUIRE))
		return false;
	en = e->n;
	cut = e->cut;
	if (!en || en > MH_SLOTS_FRAMES)
		return false;
	if (en > room || (cut && en == room)) {
		take = room;
		trunc = true;
	} else if (cut) {
		/* Frames beyond the cached ones would fit: they are not known. */
		return false;
	} else {
		take = en;
		trunc = false;
	}
	/* Straight into the answer when every frame fits. */
	out = en <= room ? frames : words;
	out[0] = s->ip;
	if (!slots_read(e, en, s->slot, s->stack_hi - s->slot - sizeof(__u64), out)) {
		*why = MH_SLOTS_CHANGED;
		return false;
	}
	if (out != frames)
		memcpy(frames, words, take * sizeof(*frames));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != seq)
		return false;
	*n = take;
	*truncated = trunc;
	*memo = (struct mh_memo_ref){ .at = &e->memo, .key = seq };
	return true;
}

/*
 * Could entry i hold this site frame's stack? Its prefilter against the
 * stack word where its second frame sat: a site function called from
 * other callers at the same depth fills a group with entries that differ
 * there, and this rules them out without reading them. Only a hint (read
 * without the entry's sequence): serve_from decides.
 */
static inline bool pre_match(__u64 i, uintptr_t slot, uintptr_t room, enum mh_slots_miss *why)
{
	struct entry_pre p;

	__atomic_load(&pres[i], &p, __ATOMIC_RELAXED);
	if (!p.off1 || (p.off1 <= room && (__u32)*(const volatile __u64 *)(slot + p.off1) == p.ip1))
		return true;
	*why = MH_SLOTS_CHANGED;
	return false;
}

/*
 * Bit w set for each of a group's ways whose tag is tag, four ways at a
 * time, up to the first four ways that are all empty: a group fills from
 * its first way (mh_slots_learn), so the rest are most likely empty too
 * (if not, their entries are missed: a miss costs time, never a frame).
 */
static inline __u64 ways_tagged(const __u32 *group, __u32 tag)
{
	__u64 match = 0;
	unsigned int w;

#ifdef __SSE2__
	__m128i want = _mm_set1_epi32((int)tag), none = _mm_setzero_si128();

	for (w = 0; w < WAYS; w += 4) {
		__m128i t = _mm_load_si128((const __m128i *)(group + w));

		match |= (__u64)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(t, want))) << w;
		if (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(t, none))) == 0xf)
			break;
	}
#else
	for (w = 0; w < WAYS; w++)
		match |= (__u64)(__atomic_load_n(&group[w], __ATOMIC_RELAXED) == tag) << w;
#endif
	return match;
}

bool mh_slots_serve(const struct mh_site_frame *s, __u64 *frames, unsigned int room,
		    unsigned int *n, bool *truncated, struct mh_memo_ref *memo,
		    enum mh_slots_miss *why)
{
	uintptr_t stack_room = s->stack_hi - s->slot - sizeof(__u64);
	unsigned int w;
	__u64 match;
	__u64 g;
	__u32 tag;

	*why = MH_SLOTS_COLD;
	if (!table)
		return false;
	g = group_of(s, &tag);
	for (match = ways_tagged(&tags[g], tag); match; match &= match - 1) {
		w = (unsigned int)__builtin_ctzll(match);
		/* Its first line is needed if the prefilter passes: load both at once. */
		__builtin_prefetch(&table[g + w]);
		if (pre_match(g + w, s->slot, stack_room, why) &&
		    serve_from(&table[g + w], s, frames, room, n, truncated, memo, why))
			return true;
	}
	return false;
}

/*
 * x86-64 Linux's signal return trampoline (glibc's __restore_rt):
 * mov $15, %rax; syscall. libunwind reports a signal frame by its address.
 * Code is read only inside libc's executable segment: a frame libunwind
 * guessed may hold any address. A trampoline elsewhere (a runtime's own)
 * is not recognised; the proof and the rechecks are then what is left.
 */
static bool sigreturn_at(__u64 ip)
{
	static const unsigned char code[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	const volatile unsigned char *p = (const volatile unsigned char *)(uintptr_t)ip;
	unsigned int i;

	if (ip < libc_text_lo || ip + sizeof(code) > libc_text_hi)
		return false;
	for (i = 0; i < sizeof(code); i++)
		if (p[i] != code[i])
			return false;
	return true;
}

/*
 * Find the slot of each of frames[1..n) above the site's, proving it
 * (unwind.c, "Proving the slots"): the first word equal to frames[j]
 * above the slot of frames[j - 1], with no word equal to frames[j - 1]
 * in between (for j > 1), and no word equal to frames[n - 1] above its
 * slot up to the top of the stack. False if a proof fails.
 */
static bool prove(struct slot_entry *e, const struct mh_site_frame *s, const __u64 *frames,
		  unsigned int n)
{
	const __u64 *p = (const __u64 *)(s->slot + sizeof(__u64));
	const __u64 *hi = (const __u64 *)(s->stack_hi & ~(uintptr_t)(sizeof(__u64) - 1));
	const __u64 *prev = (const __u64 *)s->slot;
	unsigned int j;

	for (j = 1; j < n; j++) {
		for (; p < hi && *p != frames[j]; p++)
			if (j > 1 && *p == frames[j - 1])
				return false;
		if (p >= hi || p - prev > GAP_MAX)
			return false;
		e->gap[j] = (__u16)(p - prev);
		prev = p++;
	}
	for (; p < hi; p++)
		if (*p == frames[n - 1])
			return false;
	return true;
}

struct mh_stack_memo *mh_slots_learn(const struct mh_site_frame *s, const __u64 *frames,
				     unsigned int n, bool cut, __u64 *key)
{
	struct entry_pre pre;
	struct slot_entry *e;
	unsigned int j, w;
	__u64 empty;
	size_t off1;
	__u64 seq, g;
	__u32 tag;
	bool ok;

	if (!table || !n || n > MH_SLOTS_FRAMES || frames[0] != s->ip || s->slot >= s->stack_hi)
		return NULL;
	for (j = 0; j < n; j++)
		if (sigreturn_at(frames[j]))
			return NULL;
	/*
	 * The group's first empty way, else (the same site frame with other
	 * frames above it) the entries in turn.
	 */
	g = group_of(s, &tag);
	empty = ways_tagged(&tags[g], 0);
	w = empty ? (unsigned int)__builtin_ctzll(empty) : next_way++ % WAYS;
	e = &table[g + w];
	seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
	/* Another thread is rewriting it: leave it to that one. */
	if (seq & 1 || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, false,
						    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	__atomic_store_n(&tags[g + w], 0, __ATOMIC_RELAXED);
	e->slot = 0;
	e->memo = (struct mh_stack_memo){ 0 };
	e->epoch = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
	ok = prove(e, s, frames, n);
	if (ok) {
		off1 = n > 1 ? e->gap[1] * sizeof(__u64) : 0;
		e->ip0 = s->ip;
		memcpy(e->ips, frames, n * sizeof(*frames));
		e->n = n;
		e->cut = cut;
		e->rbp = s->rbp;
		/* A frame-pointer function: its CFA is RBP + 16, so RBP must match too. */
		e->rbp_keyed = n < 2 || s->rbp + 2 * sizeof(__u64) == s->slot + off1 + sizeof(__u64);
		e->slot = s->slot;
		pre = (struct entry_pre){ .off1 = (__u32)off1, .ip1 = n > 1 ? (__u32)frames[1] : 0 };
		__atomic_store(&pres[g + w], &pre, __ATOMIC_RELAXED);
		__atomic_store_n(&tags[g + w], tag, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
	*key = seq + 2;
	return ok ? &e->memo : NULL;
}

void mh_slots_flush(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_ACQ_REL);
}
