# bench/build.mk - benchmarks: memhook against native runs and against
# heaptrack, in one run. Never part of `make check`.

BENCH_PROG_SRCS := $(wildcard bench/progs/*.c)
BENCH_PROGS := $(BENCH_PROG_SRCS:bench/progs/%.c=$(O)/bench/progs/%)

$(O)/bench/progs/%: bench/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g $(EXAMPLE_CFLAGS:-O0=) -o $@ $< $(EXAMPLE_LIBS)

bench: all $(BENCH_PROGS) $(TEST_PROGS) $(LEAK_EXTRA_PROGS)
	$(Q)bench/run.sh $(O)
