# tests/verdicts.mk - the leak-verdict scenarios of tests/check_verdicts.c
# that the generic tests/progs rule does not build: the C++ ones
# (tests/progs/leak_*.cc), the library leak_dlclose dlopen()s, built next
# to it, and leak_cycle_opt, built -O2 without frame pointers. The other C
# scenarios (tests/progs/leak_*.c) use the generic rule.

LEAK_CXX_SRCS := $(wildcard tests/progs/leak_*.cc)
LEAK_EXTRA_PROGS := $(LEAK_CXX_SRCS:tests/progs/%.cc=$(O)/tests/progs/%) \
	$(O)/tests/progs/libleak_dlclose.so

$(O)/tests/progs/%: tests/progs/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

# An explicit rule: it wins over the generic -O0 one.
$(O)/tests/progs/leak_cycle_opt: tests/progs/leak_cycle_opt.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(filter-out -O0 -fno-omit-frame-pointer,$(EXAMPLE_CFLAGS)) \
		-O2 -fomit-frame-pointer -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/libleak_dlclose.so: tests/progs/lib/leak_dlclose_lib.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -fPIC -shared -o $@ $<

$(O)/tests/check_verdicts: | $(LEAK_EXTRA_PROGS) $(filter $(O)/tests/progs/leak_%,$(TEST_PROGS))
