// SPDX-License-Identifier: MIT
/*
 * symbolize.c - addresses to function, file and line with libdwfl: one
 * Dwfl per file (path and build-id), shared by every process that loaded
 * it wherever ASLR put it; one cache entry per distinct file offset, and
 * one per recorded (module, address).
 *
 * Must never read /proc of the traced process (it is gone, and a
 * dlclose()d library was never in its final map), and never name a
 * frame from a file whose build-id differs from the recorded one. Must
 * never open a file once per process: a trace of 60,000 processes loads
 * libc's debug information once.
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

/* One file on disk, as recorded: its path and build-id. */
struct modfile {
	char *key;			/* path, NUL, build-id bytes */
	size_t key_len;
	const char *path;		/* = key */
	uint64_t bias;			/* where its Dwfl has it: the first module's load bias */
	Dwfl *dwfl;
	Dwfl_Module *dmod;		/* NULL if the file could not be used */
	char *problem;
	UT_hash_handle hh;
};

/* A recorded module (a process's mapping of a file): which file. */
struct modsym {
	const struct mh_module *key;
	struct modfile *file;		/* NULL when out of memory */
	UT_hash_handle hh;
};

/* What an offset of a file resolves to: names and lines only, strings owned here. */
struct offsym {
	struct off_key {
		const struct modfile *file;
		uint64_t offset;	/* ip - 1 - load bias */
	} key;
	int count;
	struct mh_frame *frames;
	UT_hash_handle hh;
};

struct addr_key {
	const struct mh_module *mod;
	uint64_t ip;
};

/* The frames handed out for one recorded address; strings belong to an offsym. */
struct addrsym {
	struct addr_key key;
	int count;
	struct mh_frame *frames;
	UT_hash_handle hh;
};

struct mh_symbolizer {
	struct modfile *files;
	struct modsym *mods;
	struct offsym *offsets;
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
	struct modfile *f, *ftmp;
	struct modsym *m, *mtmp;
	struct offsym *o, *otmp;
	struct addrsym *a, *atmp;
	int i;

	if (!s)
		return;
	HASH_ITER(hh, s->addrs, a, atmp) {
		HASH_DEL(s->addrs, a);
		free(a->frames);
		free(a);
	}
	HASH_ITER(hh, s->offsets, o, otmp) {
		HASH_DEL(s->offsets, o);
		for (i = 0; i < o->count; i++) {
			free((char *)o->frames[i].function);
			free((char *)o->frames[i].file);
		}
		free(o->frames);
		free(o);
	}
	HASH_ITER(hh, s->mods, m, mtmp) {
		HASH_DEL(s->mods, m);
		free(m);
	}
	HASH_ITER(hh, s->files, f, ftmp) {
		HASH_DEL(s->files, f);
		if (f->dwfl)
			dwfl_end(f->dwfl);
		free(f->problem);
		free(f->key);
		free(f);
	}
	free(s);
}

static void set_problem(struct modfile *f, const char *what)
{
	if (asprintf(&f->problem, "%s: %s", f->path, what) < 0)
		f->problem = NULL;
}

/* Refuse a file on disk whose build-id is not the one recorded. */
static bool build_id_matches(struct modfile *f, const struct mh_module *mod)
{
	const unsigned char *bits;
	GElf_Addr vaddr;
	int len;

	if (!mod->build_id_len)
		return true;
	len = dwfl_module_build_id(f->dmod, &bits, &vaddr);
	if (len <= 0)
		return true;	/* the file has none: nothing to compare */
	if ((unsigned)len == mod->build_id_len && !memcmp(bits, mod->build_id, len))
		return true;
	set_problem(f, "build-id differs from the recorded one (file changed since recording)");
	return false;
}

/* Open the file of mod in a Dwfl of its own, at mod's load bias. */
static void file_open(struct mh_symbolizer *s, struct modfile *f, const struct mh_module *mod)
{
	f->bias = mod->load_bias;
	f->dwfl = dwfl_begin(&s->callbacks);
	if (!f->dwfl) {
		set_problem(f, dwfl_errmsg(-1));
		return;
	}
	dwfl_report_begin(f->dwfl);
	/* add_p_vaddr: base is the load bias, as dl_iterate_phdr's dlpi_addr. */
	f->dmod = dwfl_report_elf(f->dwfl, mh_module_basename(mod), mod->path, -1,
				  mod->load_bias, true);
	dwfl_report_end(f->dwfl, NULL, NULL);
	if (!f->dmod)
		set_problem(f, dwfl_errmsg(-1));
	else if (!build_id_matches(f, mod))
		f->dmod = NULL;
}

/* The file of mod, opened on first use; NULL when out of memory. */
static struct modfile *file_get(struct mh_symbolizer *s, const struct mh_module *mod)
{
	size_t path_len = strlen(mod->path), len = path_len + 1 + mod->build_id_len;
	struct modfile *f;
	char *key = malloc(len);

	if (!key)
		return NULL;
	memcpy(key, mod->path, path_len + 1);
	memcpy(key + path_len + 1, mod->build_id, mod->build_id_len);
	HASH_FIND(hh, s->files, key, len, f);
	if (f) {
		free(key);
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(key);
		return NULL;
	}
	f->key = key;
	f->key_len = len;
	f->path = key;
	HASH_ADD_KEYPTR(hh, s->files, f->key, f->key_len, f);
	file_open(s, f, mod);
	return f;
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
	ms->file = file_get(s, mod);
	HASH_ADD(hh, s->mods, key, sizeof(ms->key), ms);
	return ms;
}

const char *mh_symbolizer_module_problem(struct mh_symbolizer *s, const struct mh_module *mod)
{
	struct modsym *ms;

	HASH_FIND(hh, s->mods, &mod, sizeof(mod), ms);
	return ms && ms->file ? ms->file->problem : NULL;
}

void mh_symbolizer_foreach_problem(struct mh_symbolizer *s,
				   void (*fn)(const char *problem, void *arg), void *arg)
{
	struct modfile *f;

	for (f = s->files; f; f = f->hh.next) {
		if (f->problem)
			fn(f->problem, arg);
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

/* Resolve addr (where f's Dwfl has it) into frames; returns how many (>= 1). */
static int resolve(const struct modfile *f, Dwarf_Addr addr, struct mh_frame *frames)
{
	const char *sym;
	GElf_Off off;
	GElf_Sym esym;
	int n = 0;

	if (f && f->dmod) {
		n = resolve_dwarf(f->dmod, addr, frames);
		if (!n || !frames[0].function) {
			sym = dwfl_module_addrinfo(f->dmod, addr, &off, &esym, NULL, NULL, NULL);
			if (!n)
				n = 1;
			if (sym)
				frames[0].function = mh_demangle(sym);
		}
		resolve_line(f->dmod, addr, &frames[0]);
	}
	return n ? n : 1;
}

/* The names of an offset of a file, resolved once. NULL when out of memory. */
static struct offsym *offset_get(struct mh_symbolizer *s, const struct modfile *f,
				 uint64_t offset)
{
	struct mh_frame tmp[MAX_INLINE_FRAMES];
	struct off_key key;
	struct offsym *o;

	memset(&key, 0, sizeof(key));
	key.file = f;
	key.offset = offset;
	HASH_FIND(hh, s->offsets, &key, sizeof(key), o);
	if (o)
		return o;
	memset(tmp, 0, sizeof(tmp));
	/* Inside the call instruction, not after it: ip - 1, where f's Dwfl has the file. */
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->count = resolve(f, f ? offset + f->bias : offset, tmp);
	o->frames = malloc(o->count * sizeof(*o->frames));
	if (!o->frames) {
		free(o);
		return NULL;
	}
	memcpy(o->frames, tmp, o->count * sizeof(*tmp));
	o->key = key;
	HASH_ADD(hh, s->offsets, key, sizeof(o->key), o);
	return o;
}

int mh_symbolize(struct mh_symbolizer *s, const struct mh_module *mod, uint64_t ip,
		 const struct mh_frame **frames)
{
	struct modsym *ms = NULL;
	struct addr_key key;
	struct addrsym *a;
	struct offsym *o;
	uint64_t offset = mod ? ip - 1 - mod->load_bias : ip - 1;
	int i;

	memset(&key, 0, sizeof(key));
	key.mod = mod;
	key.ip = ip;
	HASH_FIND(hh, s->addrs, &key, sizeof(key), a);
	if (a) {
		*frames = a->frames;
		return a->count;
	}
	if (mod) {
		ms = modsym_get(s, mod);
		if (!ms)
			return -ENOMEM;
	}
	o = offset_get(s, ms ? ms->file : NULL, offset);
	a = o ? calloc(1, sizeof(*a)) : NULL;
	if (a)
		a->frames = malloc(o->count * sizeof(*a->frames));
	if (!a || !a->frames) {
		free(a);
		return -ENOMEM;
	}
	for (i = 0; i < o->count; i++) {
		a->frames[i] = o->frames[i];
		a->frames[i].module = mod;
		a->frames[i].ip = ip;
		a->frames[i].offset = mod ? offset : ip;
	}
	a->key = key;
	a->count = o->count;
	HASH_ADD(hh, s->addrs, key, sizeof(a->key), a);
	*frames = a->frames;
	return a->count;
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
