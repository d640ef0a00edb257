# tests/verdicts.mk - the leak-verdict scenarios of tests/check_verdicts.c
# that the generic tests/progs rule does not build: the C++ ones
# (tests/progs/leak_*.cc) and the library leak_dlclose dlopen()s, built
# next to it. The C scenarios (tests/progs/leak_*.c) use the generic rule.

LEAK_CXX_SRCS := $(wildcard tests/progs/leak_*.cc)
LEAK_EXTRA_PROGS := $(LEAK_CXX_SRCS:tests/progs/%.cc=$(O)/tests/progs/%) \
	$(O)/tests/progs/libleak_dlclose.so

$(O)/tests/progs/%: tests/progs/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

$(O)/tests/progs/libleak_dlclose.so: tests/progs/lib/leak_dlclose_lib.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -fPIC -shared -o $@ $<

$(O)/tests/check_verdicts: | $(LEAK_EXTRA_PROGS) $(filter $(O)/tests/progs/leak_%,$(TEST_PROGS))
