# tests/build.mk - Check suites and the programs the integration tests run.
#
# tests/check_<module>.c -> $(O)/tests/check_<module>, linked against the
# archives of memhook's modules so each suite pulls in only what it uses.
# tests/progs/<name>.c   -> $(O)/tests/progs/<name>: programs of known
# behaviour that only the tests need.
# `make check` builds everything and runs tests/run.sh, which runs every
# suite and prints one "N passed, N failed, N skipped" line.

CHECK_SRCS := $(wildcard tests/check_*.c)
CHECK_PROGRAMS := $(CHECK_SRCS:tests/%.c=$(O)/tests/%)
TEST_PROG_SRCS := $(wildcard tests/progs/*.c)
TEST_PROGS := $(TEST_PROG_SRCS:tests/progs/%.c=$(O)/tests/progs/%)
DEPS += $(CHECK_SRCS:tests/%.c=$(O)/tests/%.d) $(O)/tests/testutil.d

TOOL_ARCHIVE := $(O)/libmhtool.a
PRELOAD_ARCHIVE := $(O)/libmhpreload.a

$(TOOL_ARCHIVE): $(CLI_OBJS) $(MERGER_OBJS) $(KERNEL_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(PRELOAD_ARCHIVE): $(PRELOAD_CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/tests/check_%: $(O)/tests/check_%.o $(O)/tests/testutil.o $(TOOL_ARCHIVE) $(PRELOAD_ARCHIVE)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $< $(O)/tests/testutil.o $(TOOL_ARCHIVE) $(PRELOAD_ARCHIVE) $(TOOL_LIBS) \
		$(call pc_libs,check libunwind) -ldl

$(O)/tests/check_%.o: | $(BPF_SKELS)

$(O)/tests/progs/%: tests/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

check: all $(CHECK_PROGRAMS) $(TEST_PROGS)
	$(Q)tests/run.sh $(O) $(CHECK_PROGRAMS)

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
	$(O)/tests/progs/unwind_cxx

$(O)/tests/progs/unwind_paths_O2: tests/progs/unwind_paths.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(filter-out -O0 -fno-omit-frame-pointer,$(EXAMPLE_CFLAGS)) \
		-O2 -fomit-frame-pointer -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/unwind_cxx: tests/progs/unwind_cxx.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

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
