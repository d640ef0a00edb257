/* SPDX-License-Identifier: MIT */
/*
 * symbolize.h - name stack addresses: function, source file and line,
 * inlined frames included, like `addr2line -f -i -C -e MODULE ADDR`.
 *
 * Each module is opened with elfutils libdwfl from its recorded path at
 * its recorded load bias (never from /proc, so dlclose()d libraries are
 * still named); debug information is found by build-id or debuglink by
 * dwfl's standard callbacks. Without DWARF, the ELF symbol tables
 * (.symtab, else .dynsym) name the function; without a symbol, a frame
 * is "module+0xoffset". Each address is resolved once. Never prints.
 */
#ifndef MEMHOOK_MERGER_SYMBOLS_SYMBOLIZE_H
#define MEMHOOK_MERGER_SYMBOLS_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>

struct mh_module;
struct mh_stack_info;

struct mh_frame {
	const char *function;		/* demangled name, NULL if unknown */
	const char *file;		/* source file as in the line table, NULL if unknown */
	unsigned line;			/* 0 if unknown */
	const struct mh_module *module;	/* NULL if no module covered the address */
	uint64_t ip;			/* the recorded return address */
	uint64_t offset;		/* ip - 1 - load bias: what addr2line is given */
	bool inlined;			/* inlined into the frame that follows */
};

struct mh_symbolizer;

/* NULL with errno set. */
struct mh_symbolizer *mh_symbolizer_new(void);
void mh_symbolizer_free(struct mh_symbolizer *s);

/*
 * The frames of return address ip in mod (may be NULL): the innermost
 * inlined function first, the function that contains the code last.
 * Returns the number of frames (>= 1) and points *frames at them (owned
 * by the symbolizer, valid until it is freed), or -ENOMEM.
 */
int mh_symbolize(struct mh_symbolizer *s, const struct mh_module *mod, uint64_t ip,
		 const struct mh_frame **frames);

/*
 * Call fn on every frame of a recorded stack (info may be NULL: its
 * record never came, one frame "[unknown stack]"), innermost first,
 * inlined frames expanded, the preload's own frames (libmemhook.so) left
 * out. Stops at fn's first non-zero return and returns it; -ENOMEM.
 */
int mh_symbolize_stack(struct mh_symbolizer *s, const struct mh_stack_info *info,
		       int (*fn)(const struct mh_frame *f, void *arg), void *arg);

/*
 * Why mod could not be opened or did not match its recorded build-id,
 * or NULL if it was fine (or not tried yet).
 */
const char *mh_symbolizer_module_problem(struct mh_symbolizer *s, const struct mh_module *mod);

/*
 * Call fn with the problem of every module tried so far that could not
 * be used ("PATH: reason"), in no particular order.
 */
void mh_symbolizer_foreach_problem(struct mh_symbolizer *s,
				   void (*fn)(const char *problem, void *arg), void *arg);

#endif /* MEMHOOK_MERGER_SYMBOLS_SYMBOLIZE_H */
