// SPDX-License-Identifier: MIT
/*
 * symbolize.c - addresses to function, file and line with libdwfl, one
 * Dwfl per recorded module (at its recorded load bias), one cache entry
 * per distinct address.
 *
 * Must never read /proc of the traced process (it is gone, and a
 * dlclose()d library was never in its final map), and never name a
 * frame from a file whose build-id differs from the recorded one.
 */
#include "merger/symbols/symbolize.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "merger/symbols/demangle.h"
#include "merger/replay/modmap.h"
#include "merger/replay/stackdb.h"

/* Innermost-to-outermost frames one address can expand to. */
#define MAX_INLINE_FRAMES 32

struct modsym {
	const struct mh_module *key;
	Dwfl *dwfl;
	Dwfl_Module *dmod;		/* NULL if the module could not be used */
	char *problem;
	UT_hash_handle hh;
};

struct addr_key {
	const struct mh_module *mod;
	uint64_t ip;
};

struct addrsym {
	struct addr_key key;
	int count;
	struct mh_frame *frames;
	UT_hash_handle hh;
};

struct mh_symbolizer {
	struct modsym *mods;
	struct addrsym *addrs;
	/* libdwfl keeps a pointer to these for every Dwfl begun with them. */
	Dwfl_Callbacks callbacks;
	char *debuginfo_path;	/* NULL: libdwfl's default search path */
};

struct mh_symbolizer *mh_symbolizer_new(void)
{
	struct mh_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->callbacks = (Dwfl_Callbacks){
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = &s->debuginfo_path,
	};
	return s;
}

void mh_symbolizer_free(struct mh_symbolizer *s)
{
	struct modsym *m, *mtmp;
	struct addrsym *a, *atmp;
	int i;

	if (!s)
		return;
	HASH_ITER(hh, s->addrs, a, atmp) {
		HASH_DEL(s->addrs, a);
		for (i = 0; i < a->count; i++) {
			free((char *)a->frames[i].function);
			free((char *)a->frames[i].file);
		}
		free(a->frames);
		free(a);
	}
	HASH_ITER(hh, s->mods, m, mtmp) {
		HASH_DEL(s->mods, m);
		if (m->dwfl)
			dwfl_end(m->dwfl);
		free(m->problem);
		free(m);
	}
	free(s);
}

static void set_problem(struct modsym *ms, const char *what)
{
	if (asprintf(&ms->problem, "%s: %s", ms->key->path, what) < 0)
		ms->problem = NULL;
}

/* Refuse a file on disk whose build-id is not the one recorded. */
static bool build_id_matches(struct modsym *ms)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len;

	if (!ms->key->build_id_len)
		return true;
	len = dwfl_module_build_id(ms->dmod, &bits, &vaddr);
	if (len <= 0)
		return true;	/* the file has none: nothing to compare */
	if ((unsigned)len == ms->key->build_id_len && !memcmp(bits, ms->key->build_id, len))
		return true;
	set_problem(ms, "build-id differs from the recorded one (file changed since recording)");
	return false;
}

static struct modsym *modsym_get(struct mh_symbolizer *s, const struct mh_module *mod)
{
	struct modsym *ms;

	HASH_FIND(hh, s->mods, &mod, sizeof(mod), ms);
	if (ms)
		return ms;
	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return NULL;
	ms->key = mod;
	HASH_ADD(hh, s->mods, key, sizeof(ms->key), ms);
	ms->dwfl = dwfl_begin(&s->callbacks);
	if (!ms->dwfl) {
		set_problem(ms, dwfl_errmsg(-1));
		return ms;
	}
	dwfl_report_begin(ms->dwfl);
	/* add_p_vaddr: base is the load bias, as dl_iterate_phdr's dlpi_addr. */
	ms->dmod = dwfl_report_elf(ms->dwfl, mh_module_basename(mod), mod->path, -1,
				   mod->load_bias, true);
	dwfl_report_end(ms->dwfl, NULL, NULL);
	if (!ms->dmod)
		set_problem(ms, dwfl_errmsg(-1));
	else if (!build_id_matches(ms))
		ms->dmod = NULL;
	return ms;
}

const char *mh_symbolizer_module_problem(struct mh_symbolizer *s, const struct mh_module *mod)
{
	struct modsym *ms;

	HASH_FIND(hh, s->mods, &mod, sizeof(mod), ms);
	return ms ? ms->problem : NULL;
}

void mh_symbolizer_foreach_problem(struct mh_symbolizer *s,
				   void (*fn)(const char *problem, void *arg), void *arg)
{
	struct modsym *ms;

	for (ms = s->mods; ms; ms = ms->hh.next) {
		if (ms->problem)
			fn(ms->problem, arg);
	}
}

/* DWARF name of a function scope: demangled linkage name, else DW_AT_name. */
static char *die_function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_diename(die);
	return name ? mh_demangle(name) : NULL;
}

static bool is_function(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Where an inlined subroutine was called from: DW_AT_call_file/line. */
static void call_site(Dwarf_Die *cudie, Dwarf_Die *inl, struct mh_frame *f)
{
	Dwarf_Attribute attr;
	Dwarf_Files *files;
	Dwarf_Word val;
	const char *name;
	size_t nfiles;

	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &val) == 0)
		f->line = (unsigned)val;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &val) == 0 &&
	    dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && val < nfiles) {
		name = dwarf_filesrc(files, val, NULL, NULL);
		if (name)
			f->file = strdup(name);
	}
}

/*
 * DWARF scopes at addr: frames[0] is the innermost function with the
 * address's own line; each inlined_subroutine adds the function that
 * contains it, at the call site. Returns the frames filled, 0 if none.
 */
static int resolve_dwarf(Dwfl_Module *dmod, Dwarf_Addr addr, struct mh_frame *frames)
{
	Dwarf_Die *cudie, *scopes = NULL, innermost;
	Dwarf_Addr bias;
	int nscopes, i, j, n = 0;

	cudie = dwfl_module_addrdie(dmod, addr, &bias);
	if (!cudie)
		return 0;
	nscopes = dwarf_getscopes(cudie, addr - bias, &scopes);
	if (nscopes <= 0) {
		free(scopes);
		return 0;
	}
	/*
	 * For inlined code, dwarf_getscopes() follows the abstract origin;
	 * the concrete nesting (inlined instance inside its caller) comes
	 * from the innermost DIE itself, as eu-addr2line -i does.
	 */
	innermost = scopes[0];
	free(scopes);
	scopes = NULL;
	nscopes = dwarf_getscopes_die(&innermost, &scopes);
	for (i = 0; i < nscopes && n < MAX_INLINE_FRAMES; i++) {
		if (!is_function(&scopes[i]))
			continue;
		if (n == 0)
			frames[n++].function = die_function_name(&scopes[i]);
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			break;
		/* The caller of this inlined code: the next enclosing function. */
		for (j = i + 1; j < nscopes && !is_function(&scopes[j]); j++)
			;
		if (j == nscopes)
			break;
		frames[n - 1].inlined = true;
		frames[n].function = die_function_name(&scopes[j]);
		call_site(cudie, &scopes[i], &frames[n]);
		n++;
	}
	free(scopes);
	return n;
}

/* The address's own source line goes on the innermost frame. */
static void resolve_line(Dwfl_Module *dmod, Dwarf_Addr addr, struct mh_frame *f)
{
	Dwfl_Line *line = dwfl_module_getsrc(dmod, addr);
	const char *file;
	int lineno = 0;

	if (!line)
		return;
	file = dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL);
	if (file)
		f->file = strdup(file);
	f->line = lineno > 0 ? (unsigned)lineno : 0;
}

static int resolve(struct mh_symbolizer *s, const struct mh_module *mod, uint64_t ip,
		   struct mh_frame *frames)
{
	struct modsym *ms = mod ? modsym_get(s, mod) : NULL;
	Dwarf_Addr addr = ip - 1;	/* inside the call instruction, not after it */
	const char *sym;
	GElf_Off off;
	GElf_Sym esym;
	int n = 0;

	if (ms && ms->dmod) {
		n = resolve_dwarf(ms->dmod, addr, frames);
		if (!n || !frames[0].function) {
			sym = dwfl_module_addrinfo(ms->dmod, addr, &off, &esym, NULL, NULL, NULL);
			if (!n)
				n = 1;
			if (sym)
				frames[0].function = mh_demangle(sym);
		}
		resolve_line(ms->dmod, addr, &frames[0]);
	}
	if (!n)
		n = 1;
	return n;
}

int mh_symbolize(struct mh_symbolizer *s, const struct mh_module *mod, uint64_t ip,
		 const struct mh_frame **frames)
{
	struct mh_frame tmp[MAX_INLINE_FRAMES];
	struct addr_key key;
	struct addrsym *a;
	int i, n;

	memset(&key, 0, sizeof(key));
	key.mod = mod;
	key.ip = ip;
	HASH_FIND(hh, s->addrs, &key, sizeof(key), a);
	if (a) {
		*frames = a->frames;
		return a->count;
	}
	memset(tmp, 0, sizeof(tmp));
	n = resolve(s, mod, ip, tmp);
	a = calloc(1, sizeof(*a));
	if (a)
		a->frames = malloc(n * sizeof(*a->frames));
	if (!a || !a->frames) {
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		tmp[i].module = mod;
		tmp[i].ip = ip;
		tmp[i].offset = mod ? ip - 1 - mod->load_bias : ip;
	}
	memcpy(a->frames, tmp, n * sizeof(*tmp));
	a->key = key;
	a->count = n;
	HASH_ADD(hh, s->addrs, key, sizeof(a->key), a);
	*frames = a->frames;
	return n;
}

/* The preload's own frames are hidden if any leak into a stack. */
#define PRELOAD_NAME "libmemhook.so"

static bool is_preload(const struct mh_module *mod)
{
	return mod && !strncmp(mh_module_basename(mod), PRELOAD_NAME, strlen(PRELOAD_NAME));
}

int mh_symbolize_stack(struct mh_symbolizer *s, const struct mh_stack_info *info,
		       int (*fn)(const struct mh_frame *f, void *arg), void *arg)
{
	static const struct mh_frame unknown = { .function = "[unknown stack]" };
	const struct mh_frame *frames;
	unsigned i;
	int n, j, err;

	if (!info)
		return fn(&unknown, arg);
	for (i = 0; i < info->depth; i++) {
		if (is_preload(info->modules[i]))
			continue;
		n = mh_symbolize(s, info->modules[i], info->ips[i], &frames);
		if (n < 0)
			return n;
		for (j = 0; j < n; j++) {
			err = fn(&frames[j], arg);
			if (err)
				return err;
		}
	}
	return 0;
}
