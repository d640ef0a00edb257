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

# Builds that need more than the generic rules: a shared library and its
# user, a dlopen() plugin, -O2 with inlining, a stripped binary.
EXAMPLE_LIB_CFLAGS := -std=gnu11 $(EXAMPLE_CFLAGS) -fPIC -shared
EXAMPLE_SPECIAL := $(O)/examples/lib/libexample.so $(O)/examples/plugin.so \
	$(O)/examples/leaky-stripped
ALL_TARGETS += $(EXAMPLE_SPECIAL)

$(O)/examples/lib/libexample.so: examples/lib/example.c examples/lib/example.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(EXAMPLE_LIB_CFLAGS) -Wl,-soname,libexample.so -o $@ $<

$(O)/examples/plugin.so: examples/lib/plugin.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(EXAMPLE_LIB_CFLAGS) -o $@ $<

# uses_lib finds libexample.so through its RUNPATH, wherever $(O) is.
$(O)/examples/uses_lib: examples/uses_lib.c $(O)/examples/lib/libexample.so
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS) -Iexamples -o $@ $< \
		-L$(O)/examples/lib -lexample -Wl,-rpath,'$$ORIGIN/lib' $(EXAMPLE_LIBS)

$(O)/examples/plugin_host: $(O)/examples/plugin.so

$(O)/examples/inlined: examples/inlined.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 $(EXAMPLE_CFLAGS:-O0=-O2) -o $@ $< $(EXAMPLE_LIBS)

$(O)/examples/leaky-stripped: $(O)/examples/leaky
	$(call msg,STRIP,$@)
	$(Q)strip -o $@ $<
