# bench/build.mk - benchmarks: memhook against native runs and against
# heaptrack, in one run. Never part of `make check`.
#
# hotpath_steps links the preload's own objects (and the ring's consumer
# half, to create a ring of its own) to time each step of the hot path.

BENCH_PROG_SRCS := $(wildcard bench/progs/*.c)
BENCH_PROGS := $(BENCH_PROG_SRCS:bench/progs/%.c=$(O)/bench/progs/%)
BENCH_PLAIN_PROGS := $(filter-out $(O)/bench/progs/hotpath_steps,$(BENCH_PROGS))

$(BENCH_PLAIN_PROGS): $(O)/bench/progs/%: bench/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g $(EXAMPLE_CFLAGS:-O0=) -o $@ $< $(EXAMPLE_LIBS)

$(O)/bench/progs/hotpath_steps: bench/progs/hotpath_steps.c $(PRELOAD_ARCHIVE) $(TOOL_LIBS_A)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g $(EXAMPLE_CFLAGS:-O0=) -I. -Iinclude -o $@ $< \
		$(filter %.a,$(TOOL_LIBS_A)) $(PRELOAD_ARCHIVE) $(TOOL_LIBS) \
		$(call pc_libs,libunwind) $(EXAMPLE_LIBS)

bench: all $(BENCH_PROGS) $(TEST_PROGS) $(LEAK_EXTRA_PROGS)
	$(Q)bench/run.sh $(O)
