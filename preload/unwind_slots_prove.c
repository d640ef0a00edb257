// SPDX-License-Identifier: MIT
/*
 * unwind_slots_prove.c - the slot cache's proof (unwind_slots.c, "Proving
 * the slots"): where in the stack libunwind may have read each return
 * address of a stack it gave, and the frames a stack must not be cached
 * with (a signal frame).
 *
 * Never allocates, never prints, never writes but what it is given and
 * its table of stacks not proved lately (a hint: never a reason to cache
 * a stack, only to put off trying), and reads only the calling thread's
 * stack between the site's slot and the top of that stack, and the first
 * bytes of code at return addresses inside libc's code.
 */
#include "preload/unwind_slots_prove.h"

#include <link.h>
#include <unistd.h>

#include "preload/objects.h"

/*
 * Stacks not proved lately, by a key of their site frame and frames (the
 * caller's hash), the key's low bits the calls still to give up at once:
 * a proof scans the stack from the site to its top twice, and a stack
 * holding more copies of its return addresses than an entry checks fails
 * the same way capture after capture (python3, before a cut stack's
 * slots were bounded by its frames beyond the cut: 20k of its 32.5k
 * libunwind unwinds, each proof some 10^4 words). Shared and racy: a
 * lost or torn word costs a proof, or puts off the stack's entry by at
 * most MH_SLOTS_UNPROVED_SKIP captures of it (libunwind answers them).
 */
#define UNPROVED 256
static __u64 unproved[UNPROVED];

/* libc's executable segment, where its signal return trampoline is. */
static uintptr_t libc_text_lo, libc_text_hi;

void mh_slots_find_libc_text(void)
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

/*
 * x86-64 Linux's signal return trampoline (glibc's __restore_rt):
 * mov $15, %rax; syscall. libunwind reports a signal frame by its address.
 * Code is read only inside libc's executable segment: a frame libunwind
 * guessed may hold any address. A trampoline elsewhere (a runtime's own)
 * is not recognised; the proof and the rechecks are then what is left.
 */
bool mh_slots_sigreturn_at(__u64 ip)
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

/* Where a stack's key (its low bits cleared) is kept in unproved[]. */
static __u64 *unproved_at(const struct mh_site_frame *s, __u64 hash, unsigned int n, __u64 *key)
{
	__u64 k = ((s->slot ^ s->ip * 0x9e3779b97f4a7c15ULL ^ hash) + n) * 0xc2b2ae3d27d4eb4fULL;

	*key = k & ~(__u64)MH_SLOTS_UNPROVED_SKIP;
	return &unproved[k >> 56 & (UNPROVED - 1)];
}

/*
 * The scans: a proof reads the stack from the site to its top twice
 * (python3 py3.py: 12.8k proofs, 126M instructions, nearly all in these
 * loops, a word each a compare, a branch, a step and a test of the
 * bound), four words a step, each step one test of the bound. They read
 * only the words the one-word loops read.
 */

/* The first word in [p, hi) equal to v; hi (or p, if p >= hi) if none. */
static inline const __u64 *word_up(const __u64 *p, const __u64 *hi, __u64 v)
{
	const __u64 *end = p < hi ? p + ((size_t)(hi - p) & ~(size_t)3) : p;

	for (; p < end; p += 4)
		if (p[0] == v || p[1] == v || p[2] == v || p[3] == v)
			break;
	for (; p < hi && *p != v; p++)
		;
	return p;
}

/* The last word in (lo, q) equal to v; lo (or q - 1, if q - 1 <= lo) if none. */
static inline const __u64 *word_down(const __u64 *q, const __u64 *lo, __u64 v)
{
	const __u64 *end = q - 1 > lo ? q - ((size_t)(q - 1 - lo) & ~(size_t)3) : q;

	for (; q > end; q -= 4)
		if (q[-1] == v || q[-2] == v || q[-3] == v || q[-4] == v)
			break;
	for (q--; q > lo && *q != v; q--)
		;
	return q;
}

/*
 * Above the slot of a cut stack's last frame, whose lowest place is lo:
 * the bound below which it lies, from the frames libunwind found beyond
 * it (beyond[0..nb), outward), up to the first signal frame. From hi (the
 * stack's top) down, the last word equal to each, outermost first, each
 * above lo: the true slot of each is at or below its word. hi if one is
 * not there (a frame whose slot is not in this stack: the bound is the
 * stack's top, as without them).
 */
static const __u64 *cut_bound(const __u64 *lo, const __u64 *hi, const __u64 *beyond,
			      unsigned int nb)
{
	const __u64 *u = hi, *q;
	unsigned int k;

	for (k = 0; k < nb && !mh_slots_sigreturn_at(beyond[k]); k++)
		;
	while (k--) {
		q = word_down(u, lo, beyond[k]);
		if (q <= lo)
			return hi;
		u = q;
	}
	return u;
}

/* mh_slots_prove's scans. */
static bool slots_find(const struct mh_site_frame *s, const __u64 *frames, unsigned int n,
		       const __u64 *beyond, unsigned int nb, __u16 *gap,
		       struct mh_slots_copies *c)
{
	const __u64 *base = (const __u64 *)s->slot;
	const __u64 *hi = (const __u64 *)(s->stack_hi & ~(uintptr_t)(sizeof(__u64) - 1));
	const __u64 *at[MH_SLOTS_FRAMES], *p = base + 1, *u, *q;
	unsigned int j;

	at[0] = base;
	for (j = 1; j < n; j++) {
		p = word_up(p, hi, frames[j]);
		if (p >= hi || p - at[j - 1] > MH_SLOTS_GAP_MAX)
			return false;
		gap[j] = (__u16)(p - at[j - 1]);
		at[j] = p++;
	}
	c->n = 0;
	u = cut_bound(at[n - 1], hi, beyond, nb);
	for (j = n - 1; j > 0; j--) {
		const __u64 *top = at[j];

		for (q = word_down(u, at[j], frames[j]); q > at[j];
		     q = word_down(q, at[j], frames[j])) {
			if (top == at[j])
				top = q;
			if (c->n == MH_SLOTS_COPIES_MAX || q - base > UINT16_MAX)
				return false;
			c->at[c->n] = (__u16)(q - base);
			c->of[c->n++] = (__u8)j;
		}
		u = top;
	}
	return true;
}

bool mh_slots_prove(const struct mh_site_frame *s, const __u64 *frames, unsigned int n,
		    const __u64 *beyond, unsigned int nb, __u64 hash, __u16 *gap,
		    struct mh_slots_copies *c)
{
	__u64 key, *u = unproved_at(s, hash, n, &key);
	__u64 v = __atomic_load_n(u, __ATOMIC_RELAXED);

	if ((v & ~(__u64)MH_SLOTS_UNPROVED_SKIP) == key && v & MH_SLOTS_UNPROVED_SKIP) {
		__atomic_store_n(u, v - 1, __ATOMIC_RELAXED);
		return false;
	}
	if (slots_find(s, frames, n, beyond, nb, gap, c))
		return true;
	__atomic_store_n(u, key | MH_SLOTS_UNPROVED_SKIP, __ATOMIC_RELAXED);
	return false;
}
