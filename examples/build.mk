# examples/build.mk - small programs with known behaviour, used by the
# README, the integration tests and the benchmarks.
#
# examples/<name>.c  -> $(O)/examples/<name>   (C, -g -O0, frame pointers)
# examples/<name>.cc -> $(O)/examples/<name>   (C++)
# Programs that need other flags get their own rule below the generic ones.

EXAMPLE_C_SRCS := $(wildcard examples/*.c)
EXAMPLE_CXX_SRCS := $(wildcard examples/*.cc)
EXAMPLES := $(EXAMPLE_C_SRCS:examples/%.c=$(O)/examples/%) \
	$(EXAMPLE_CXX_SRCS:examples/%.cc=$(O)/examples/%)
EXAMPLE_CFLAGS := -g -O0 -fno-omit-frame-pointer -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
EXAMPLE_LIBS := -pthread -ldl
ALL_TARGETS += $(EXAMPLES)

$(O)/examples/%: examples/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)

$(O)/examples/%: examples/%.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(EXAMPLE_CFLAGS) -o $@ $< $(EXAMPLE_LIBS)
