// SPDX-License-Identifier: MIT
/*
 * check_symbolize.c - symbolization (merger/symbols/symbolize.c) of real stacks
 * against `addr2line -f -i -C -e MODULE ADDR` run live as the oracle:
 * a PIE executable and a dlopen()ed, then dlclose()d, shared library, at
 * -O0 and at -O2 with inlined frames; and a stripped library, whose
 * frames must carry .dynsym names (checked against `nm -D -S`) or
 * module+offset.
 *
 * The stacks come from tests/progs/sym_inline, which captures its own
 * stack and module map and prints them; the test turns them into MODULE,
 * STACK and MODULE_UNLOAD records as the recorder would.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/testutil.h"
#include "merger/symbols/demangle.h"
#include "merger/replay/modmap.h"
#include "merger/replay/replay.h"
#include "merger/symbols/symbolize.h"

#define PID 77
#define MAX_MODULES 32
#define MAX_IPS 64
#define MAX_SEGS 8

struct captured {
	unsigned nmods;
	struct {
		char path[4096];
		uint64_t bias;
		unsigned nsegs;
		struct mh_module_segment segs[MAX_SEGS];
	} mods[MAX_MODULES];
	unsigned nips;
	uint64_t ips[MAX_IPS];
};

static char *tmpdir;

static void setup(void)
{
	tmpdir = mh_test_tmpdir();
}

static void teardown(void)
{
	mh_test_rmdir(tmpdir);
	free(tmpdir);
}

/* Run a command, return its stdout (malloc'd). */
static char *run_capture(const char *const *argv)
{
	char *out_path = mh_test_join(tmpdir, "cmd.out");
	struct mh_test_cmd cmd = { .argv = argv, .stdout_path = out_path };
	int status = mh_test_run(&cmd);
	char *text;

	ck_assert_msg(status == 0, "%s failed with status %d", argv[0], status);
	text = mh_test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(text);
	free(out_path);
	return text;
}

static void capture(const char *prog, const char *lib, struct captured *c)
{
	char *exe = mh_test_path(prog), *so = mh_test_path(lib);
	const char *argv[] = { exe, so, NULL };
	char *text, *line, *save, *tok, *tsave;
	unsigned long long a, b, o;

	ck_assert_msg(mh_test_executable(exe), "%s not built", exe);
	text = run_capture(argv);
	memset(c, 0, sizeof(*c));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "MODULE ", 7)) {
			ck_assert_uint_lt(c->nmods, MAX_MODULES);
			ck_assert_int_eq(sscanf(line, "MODULE %llx %4095s", &a,
						c->mods[c->nmods].path), 2);
			c->mods[c->nmods++].bias = a;
		} else if (!strncmp(line, "SEG ", 4)) {
			ck_assert_int_eq(sscanf(line, "SEG %llx %llx %llx", &a, &b, &o), 3);
			ck_assert_uint_lt(c->mods[c->nmods - 1].nsegs, MAX_SEGS);
			c->mods[c->nmods - 1].segs[c->mods[c->nmods - 1].nsegs++] =
				(struct mh_module_segment){ .start = a, .size = b, .file_offset = o };
		} else if (!strncmp(line, "STACK", 5)) {
			for (tok = strtok_r(line + 5, " ", &tsave); tok && c->nips < MAX_IPS;
			     tok = strtok_r(NULL, " ", &tsave))
				c->ips[c->nips++] = strtoull(tok, NULL, 16);
		}
	}
	ck_assert_uint_gt(c->nips, 3);
	free(text);
	free(exe);
	free(so);
}

/*
 * Replay what the recorder would have written; the library unloads last.
 * lib_build_id (may be NULL) is recorded as the library's build-id.
 */
static struct mh_replay *replay_with_id(const struct captured *c, const char *unload_suffix,
					const uint8_t *lib_build_id, unsigned id_len)
{
	struct mh_replay *rp = mh_replay_new();
	uint64_t buf[1024];
	struct mh_rec_module *m = (void *)buf;
	struct mh_rec_stack *s = (void *)buf;
	struct mh_rec_alloc a = { { MH_REC_ALLOC, MH_KIND_MALLOC, sizeof(a) }, 100, 0x10, 8, 0x5157,
				  PID, PID };
	struct mh_rec_module_unload u = { { MH_REC_MODULE_UNLOAD, 0, sizeof(u) }, 200, 0, PID, 0 };
	unsigned i;
	size_t len;

	ck_assert_ptr_nonnull(rp);
	for (i = 0; i < c->nmods; i++) {
		memset(buf, 0, sizeof(buf));
		len = strlen(c->mods[i].path);
		m->hdr.type = MH_REC_MODULE;
		m->ts_ns = 10;
		m->load_bias = c->mods[i].bias;
		m->pid = PID;
		m->segment_count = c->mods[i].nsegs;
		m->path_len = len;
		if (lib_build_id && strstr(c->mods[i].path, unload_suffix)) {
			memcpy(m->build_id, lib_build_id, id_len);
			m->build_id_len = id_len;
		}
		memcpy(m + 1, c->mods[i].segs, c->mods[i].nsegs * sizeof(c->mods[i].segs[0]));
		memcpy((char *)(m + 1) + c->mods[i].nsegs * sizeof(c->mods[i].segs[0]),
		       c->mods[i].path, len);
		m->hdr.size = MH_REC_PAD(sizeof(*m) + m->segment_count *
					 sizeof(struct mh_module_segment) + len + 1);
		ck_assert_int_eq(mh_replay_record(rp, &m->hdr), 0);
		if (strstr(c->mods[i].path, unload_suffix))
			u.load_bias = c->mods[i].bias;
	}
	memset(buf, 0, sizeof(buf));
	s->hdr.type = MH_REC_STACK;
	s->hdr.size = sizeof(*s) + c->nips * sizeof(uint64_t);
	s->stack_id = 0x5157;
	s->pid = PID;
	s->depth = c->nips;
	memcpy(s + 1, c->ips, c->nips * sizeof(uint64_t));
	ck_assert_int_eq(mh_replay_record(rp, &s->hdr), 0);
	ck_assert_int_eq(mh_replay_record(rp, &a.hdr), 0);
	ck_assert_int_eq(mh_replay_record(rp, &u.hdr), 0);
	mh_replay_finish(rp);
	return rp;
}

static struct mh_replay *replay(const struct captured *c, const char *unload_suffix)
{
	return replay_with_id(c, unload_suffix, NULL, 0);
}

static const char *base(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

/* Compare our frames for one address with addr2line's "function\nfile:line" pairs. */
static unsigned compare_with_addr2line(const struct mh_frame *f, int n)
{
	char addr[32], *out, *line, *save, *colon, *func;
	const char *argv[] = { "addr2line", "-f", "-i", "-C", "-e", f->module->path, addr, NULL };
	int i = 0;

	snprintf(addr, sizeof(addr), "0x%" PRIx64, f->offset);
	out = run_capture(argv);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		func = line;
		line = strtok_r(NULL, "\n", &save);
		ck_assert_ptr_nonnull(line);
		ck_assert_msg(i < n, "addr2line has more frames than %d at %s in %s", n, addr,
			      f->module->path);
		colon = strrchr(line, ':');
		ck_assert_ptr_nonnull(colon);
		*colon = '\0';
		ck_assert_str_eq(f[i].function ? f[i].function : "??", func);
		ck_assert_str_eq(f[i].file ? base(f[i].file) : "??", base(line));
		ck_assert_uint_eq(f[i].line, strtoul(colon + 1, NULL, 10));
	}
	ck_assert_int_eq(i, n);
	free(out);
	return i;
}

/* Symbolize every frame in our own modules and compare; returns inlined frames seen. */
static unsigned check_variant(const char *prog, const char *lib, unsigned *compared)
{
	struct captured c;
	struct mh_replay *rp;
	struct mh_symbolizer *sym = mh_symbolizer_new();
	struct mh_stack_info *info;
	const struct mh_frame *f;
	unsigned i, inlined = 0;
	int n;

	capture(prog, lib, &c);
	rp = replay(&c, "libsym_");
	info = mh_stackdb_find(rp->stacks, 0x5157);
	ck_assert_ptr_nonnull(info);
	*compared = 0;
	for (i = 0; i < info->depth; i++) {
		const struct mh_module *mod = info->modules[i];

		if (!mod || (!strstr(mod->path, "sym_inline") && !strstr(mod->path, "libsym_")))
			continue;
		n = mh_symbolize(sym, mod, info->ips[i], &f);
		ck_assert_int_gt(n, 0);
		compare_with_addr2line(f, n);
		inlined += n - 1;
		(*compared)++;
	}
	mh_symbolizer_free(sym);
	mh_replay_free(rp);
	return inlined;
}

START_TEST(test_O0_matches_addr2line)
{
	unsigned compared;

	check_variant("tests/progs/sym_inline", "tests/progs/libsym_O0.so", &compared);
	/* sym_capture, exe_inlined, exe_outer, main + lib: entry, helper, inlined */
	ck_assert_uint_ge(compared, 6);
}
END_TEST

START_TEST(test_O2_inlined_frames_match_addr2line)
{
	unsigned compared, inlined;

	inlined = check_variant("tests/progs/sym_inline_O2", "tests/progs/libsym_O2.so", &compared);
	ck_assert_uint_ge(compared, 4);
	/* exe_inlined into exe_outer, lib_inlined into lib_helper */
	ck_assert_uint_ge(inlined, 2);
}
END_TEST

/* The .dynsym symbol of lib that contains offset, per `nm -D -S`, or NULL. */
static char *nm_dynsym_at(const char *lib, uint64_t offset)
{
	const char *argv[] = { "nm", "-D", "-S", "--defined-only", lib, NULL };
	char *out = run_capture(argv), *line, *save, name[256], type;
	unsigned long long value, size;
	char *found = NULL;

	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llx %llx %c %255s", &value, &size, &type, name) != 4)
			continue;
		if (offset >= value && offset < value + size)
			found = strdup(name);
	}
	free(out);
	return found;
}

START_TEST(test_stripped_library_uses_dynsym)
{
	struct captured c;
	struct mh_replay *rp;
	struct mh_symbolizer *sym = mh_symbolizer_new();
	struct mh_stack_info *info;
	const struct mh_frame *f;
	unsigned i, named = 0, unnamed = 0;
	char *expect;

	capture("tests/progs/sym_inline_O2", "tests/progs/libsym_stripped.so", &c);
	rp = replay(&c, "libsym_");
	info = mh_stackdb_find(rp->stacks, 0x5157);
	ck_assert_ptr_nonnull(info);
	for (i = 0; i < info->depth; i++) {
		if (!info->modules[i] || !strstr(info->modules[i]->path, "libsym_stripped"))
			continue;
		ck_assert_int_eq(mh_symbolize(sym, info->modules[i], info->ips[i], &f), 1);
		ck_assert_ptr_null(f->file);
		expect = nm_dynsym_at(info->modules[i]->path, f->offset);
		if (expect) {
			ck_assert_str_eq(f->function ? f->function : "(none)", expect);
			named++;
		} else {
			ck_assert_ptr_null(f->function);
			unnamed++;
		}
		free(expect);
	}
	ck_assert_uint_ge(named, 1);	/* sym_lib_entry */
	ck_assert_uint_ge(unnamed, 1);	/* the static helper: module+offset */
	mh_symbolizer_free(sym);
	mh_replay_free(rp);
}
END_TEST

/* The library's GNU build-id as `readelf -n` prints it. Returns its length. */
static unsigned readelf_build_id(const char *path, uint8_t *id)
{
	const char *argv[] = { "readelf", "-n", path, NULL };
	char *out = run_capture(argv), *hex = strstr(out, "Build ID: ");
	unsigned n = 0;

	ck_assert_ptr_nonnull(hex);
	for (hex += 10; n < MH_BUILD_ID_MAX && sscanf(hex, "%2hhx", &id[n]) == 1; hex += 2)
		n++;
	free(out);
	return n;
}

/* Frames of the library, named only when the file's build-id is the recorded one. */
static unsigned named_lib_frames(const struct captured *c, const uint8_t *id, unsigned len,
				 bool *problem)
{
	struct mh_replay *rp = replay_with_id(c, "libsym_", id, len);
	struct mh_symbolizer *sym = mh_symbolizer_new();
	struct mh_stack_info *info = mh_stackdb_find(rp->stacks, 0x5157);
	const struct mh_frame *f;
	unsigned i, named = 0;

	ck_assert_ptr_nonnull(info);
	*problem = false;
	for (i = 0; i < info->depth; i++) {
		if (!info->modules[i] || !strstr(info->modules[i]->path, "libsym_"))
			continue;
		ck_assert_int_gt(mh_symbolize(sym, info->modules[i], info->ips[i], &f), 0);
		named += f->function != NULL;
		*problem |= mh_symbolizer_module_problem(sym, info->modules[i]) != NULL;
	}
	mh_symbolizer_free(sym);
	mh_replay_free(rp);
	return named;
}

START_TEST(test_build_id_mismatch_is_refused)
{
	uint8_t id[MH_BUILD_ID_MAX];
	struct captured c;
	char *lib = mh_test_path("tests/progs/libsym_O2.so");
	unsigned len;
	bool problem;

	if (!mh_test_have_program("readelf")) {
		mh_test_skip("test_build_id_mismatch_is_refused", "readelf is not installed");
		free(lib);
		return;
	}
	capture("tests/progs/sym_inline_O2", "tests/progs/libsym_O2.so", &c);
	len = readelf_build_id(lib, id);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_ge(named_lib_frames(&c, id, len, &problem), 2);
	ck_assert(!problem);
	id[0] ^= 0xff;	/* the file on disk is not the one recorded */
	ck_assert_uint_eq(named_lib_frames(&c, id, len, &problem), 0);
	ck_assert(problem);
	free(lib);
}
END_TEST

/* C++ names come out as c++filt (the demangler addr2line -C uses) prints them. */
START_TEST(test_demangle_like_cxxfilt)
{
	static const char *const names[] = {
		"_ZN3foo3barEi", "_ZNSt6vectorIiSaIiEE9push_backERKi", "_Znwm", "main",
		"_Z_not_valid",
	};
	const char *argv[] = { "c++filt", NULL, NULL };
	char *want, *got;
	unsigned i;

	if (!mh_test_have_program("c++filt")) {
		mh_test_skip("test_demangle_like_cxxfilt", "c++filt is not installed");
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		argv[1] = names[i];
		want = run_capture(argv);
		want[strcspn(want, "\n")] = '\0';
		got = mh_demangle(names[i]);
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
}
END_TEST

static Suite *symbolize_suite(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("Addr2line");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_O0_matches_addr2line);
	tcase_add_test(tc, test_O2_inlined_frames_match_addr2line);
	tcase_add_test(tc, test_stripped_library_uses_dynsym);
	tcase_add_test(tc, test_build_id_mismatch_is_refused);
	tcase_add_test(tc, test_demangle_like_cxxfilt);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!mh_test_have_program("addr2line") || !mh_test_have_program("nm")) {
		mh_test_skip("check_symbolize", "binutils (addr2line, nm) is not installed");
		return EXIT_SUCCESS;
	}
	return mh_test_run_suite(symbolize_suite());
}
