# tests/build.mk - Check suites and the programs the integration tests run.
#
# tests/check_<module>.c -> $(O)/tests/check_<module>, linked against the
# archives of memhook's modules so each suite pulls in only what it uses.
# tests/progs/<name>.c   -> $(O)/tests/progs/<name>: programs of known
# behaviour that only the tests need.
# tests/check_<name>.sh -> run from the source tree (tests/tap.sh).
# `make check` builds everything and runs tests/run.sh, which runs every
# suite and prints one "N passed, N failed, N skipped" line.

CHECK_SRCS := $(wildcard tests/check_*.c)
CHECK_PROGRAMS := $(CHECK_SRCS:tests/%.c=$(O)/tests/%)
# Shell test scripts (tests/check_*.sh, helpers in tests/tap.sh) run as they
# are, with the e2e suites; check_layers.sh runs first, on its own.
CHECK_SCRIPTS := $(filter-out tests/check_layers.sh,$(wildcard tests/check_*.sh))
CHECK_PROGRAMS += $(CHECK_SCRIPTS)
TEST_PROG_SRCS := $(wildcard tests/progs/*.c)
TEST_PROGS := $(TEST_PROG_SRCS:tests/progs/%.c=$(O)/tests/progs/%)
# The suites' shared helpers (testutil.c, record_cmd.c, ...): one archive,
# so a suite links only the helpers it calls.
TEST_HELPER_SRCS := $(filter-out $(CHECK_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(O)/%.o)
TEST_HELPERS_LIB := $(O)/tests/libtesthelpers.a
DEPS += $(CHECK_SRCS:tests/%.c=$(O)/tests/%.d) $(TEST_HELPER_OBJS:.o=.d)

$(TEST_HELPERS_LIB): $(TEST_HELPER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(TEST_HELPER_OBJS): | $(BPF_SKELS)

PRELOAD_ARCHIVE := $(O)/libmhpreload.a

$(PRELOAD_ARCHIVE): $(PRELOAD_CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/tests/check_%: $(O)/tests/check_%.o $(TEST_HELPERS_LIB) $(TOOL_LIBS_A) $(PRELOAD_ARCHIVE)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $< $(TEST_HELPERS_LIB) $(filter %.a,$(TOOL_LIBS_A)) $(PRELOAD_ARCHIVE) \
		$(TOOL_LIBS) \
		$(call pc_libs,check libunwind) -ldl

# BPF objects only the tests load: tests/bpf/<name>.bpf.c -> $(O)/tests/bpf/<name>.skel.h
TEST_BPF_SRCS := $(wildcard tests/bpf/*.bpf.c)
TEST_BPF_SKELS := $(TEST_BPF_SRCS:tests/bpf/%.bpf.c=$(O)/tests/bpf/%.skel.h)
DEPS += $(TEST_BPF_SRCS:tests/bpf/%.c=$(O)/tests/bpf/%.d)

# Explicit targets: a pattern rule without a recipe would add no prerequisite.
$(CHECK_SRCS:tests/%.c=$(O)/tests/%.o): | $(BPF_SKELS) $(TEST_BPF_SKELS)

$(O)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(O)/kernel/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(O)/tests/bpf/%.skel.h: $(O)/tests/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(O)/tests/progs/%: tests/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -Iinclude -o $@ $< $(EXAMPLE_LIBS)

# fid_status reads the preload's registry of its own memory (memhook/own.h).
$(O)/tests/progs/fid_status: EXAMPLE_CFLAGS += -Iinclude

# Suites by kind: unit (one module, no process launched), oracle (against
# memcheck, addr2line or the program's own pagemap), kernel (the BPF stream;
# skipped without privileges), e2e (everything else: the memhook command
# end to end). `make check` runs them all, layers first.
CHECK_UNIT := addrindex blocks clock compact_decode image mark modmap ring ring_layout ring_merge \
	ring_prefault series slots_prove stackids suppress trace report unwind options timeunit \
	procmaps
CHECK_ORACLE := oracle verdicts attribution attribution_reports symbolize shells lossy fidelity
CHECK_KERNEL := kernel kernel_cli kernel_files kernel_probes correlate
CHECK_E2E := $(filter-out $(CHECK_UNIT) $(CHECK_ORACLE) $(CHECK_KERNEL),\
	$(CHECK_SRCS:tests/check_%.c=%))
check_kind = $(filter $(patsubst %,$(O)/tests/check_%,$(CHECK_$(1))),$(CHECK_PROGRAMS)) \
	$(if $(filter E2E,$(1)),$(CHECK_SCRIPTS))

.PHONY: layers check-unit check-e2e check-oracle check-kernel

# Includes that cross the layers of docs/DESIGN.md fail the build's check.
layers:
	$(call msg,LAYERS,docs/DESIGN.md)
	$(Q)scripts/check-layers.sh

check: layers all $(CHECK_PROGRAMS) $(TEST_PROGS)
	$(Q)tests/run.sh $(O) tests/check_layers.sh $(CHECK_PROGRAMS)

check-unit check-e2e check-oracle check-kernel: check-%: all $(CHECK_PROGRAMS) $(TEST_PROGS)
	$(Q)tests/run.sh $(O) $(call check_kind,$(shell echo $* | tr a-z A-Z))

include tests/fuzz.mk
include tests/verdicts.mk

# ---- symbolization test programs (tests/check_symbolize.c) ----
# sym_inline is built -O0 by the generic rule above; these add an -O2
# build (inlining), the dlopen()ed library at -O0 and -O2, and a stripped
# copy of the -O2 library (only .dynsym left).
SYM_PROGS := $(O)/tests/progs/sym_inline_O2 $(O)/tests/progs/libsym_O0.so \
	$(O)/tests/progs/libsym_O2.so $(O)/tests/progs/libsym_stripped.so

$(O)/tests/progs/sym_inline_O2: tests/progs/sym_inline.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS:-O0=) -O2 -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/libsym_%.so: tests/progs/sym/sym_lib.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS:-O0=) -$* -fPIC -shared -o $@ $<

$(O)/tests/progs/libsym_stripped.so: $(O)/tests/progs/libsym_O2.so
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all -o $@ $<

$(O)/tests/check_symbolize: | $(SYM_PROGS) $(O)/tests/progs/sym_inline

# ---- unwinding test programs (tests/check_unwind.c) ----
# unwind_paths is built -O0 with frame pointers by the generic rule; these
# add an -O2 -fomit-frame-pointer build of it and the C++ program.
UNWIND_PROGS := $(O)/tests/progs/unwind_paths $(O)/tests/progs/unwind_paths_O2 \
	$(O)/tests/progs/unwind_cxx $(O)/tests/progs/unwind_nofp $(O)/tests/progs/unwind_nofp_cxx
NOFP_CFLAGS = $(filter-out -O0 -fno-omit-frame-pointer,$(EXAMPLE_CFLAGS)) -O2 -fomit-frame-pointer

$(O)/tests/progs/unwind_paths_O2: tests/progs/unwind_paths.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(filter-out -O0 -fno-omit-frame-pointer,$(EXAMPLE_CFLAGS)) \
		-O2 -fomit-frame-pointer -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/unwind_cxx: tests/progs/unwind_cxx.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

# Built without frame pointers: every site needs libunwind (its slot cache).
$(O)/tests/progs/unwind_nofp: tests/progs/unwind_nofp.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(NOFP_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/unwind_nofp_cxx: tests/progs/unwind_nofp_cxx.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(NOFP_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/check_unwind: | $(UNWIND_PROGS) $(O)/libmemhook.so

# ---- guest test programs (tests/check_guest.c) ----
# guest_daemon is built without unwind tables, so a DWARF unwinder finds
# none for its code and takes its address-validating path.
GUEST_PROGS := $(patsubst tests/progs/%.c,$(O)/tests/progs/%,$(wildcard tests/progs/guest_*.c))

$(O)/tests/progs/guest_daemon: tests/progs/guest_daemon.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -fno-asynchronous-unwind-tables -fno-unwind-tables \
		-o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/check_guest: | $(GUEST_PROGS) $(O)/libmemhook.so $(O)/memhook
