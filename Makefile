# SPDX-License-Identifier: MIT
#
# memhook - top-level Makefile. Everything is built under $(O) (default
# build/), never in the source tree.
#
# Targets:
#   all (default)  libmemhook.so, the memhook command, the examples
#   check          build and run every Check suite and integration test
#   check-unit, check-e2e, check-oracle, check-kernel   one kind of suite
#   layers         check includes against docs/DESIGN.md's layer table
#   bench          run the benchmarks under bench/ (slow; not part of check)
#   fuzz           build and run the trace-reader fuzzer (FUZZ_SECONDS=600)
#   clean          remove $(O)
#   install        install under $(DESTDIR)$(PREFIX) (share/build.mk says where)
#   uninstall      remove what install put there
#
# Knobs:
#   O=dir          build directory (default build)
#   PREFIX=dir     where install puts memhook (default /usr/local)
#   DESTDIR=dir    staging root prepended to every installed path
#   V=1            print full commands
#   WERROR=0       do not turn warnings into errors (default 1)
#   DEBUG=1        check MH_ASSERT invariants and build the tool (not the
#                  preload) with AddressSanitizer and UBSan; use another O=
#   CC, CLANG, BPFTOOL, PKG_CONFIG, PROTOC_C   tools to use
#
# Each folder contributes a fragment, <folder>/build.mk, that adds its own
# objects and rules; this file holds what they share.

O ?= build
V ?= 0
WERROR ?= 1
DEBUG ?= 0
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# pkg-config module -> Debian package that provides it.
PKGS := libbpf:libbpf-dev libelf:libelf-dev libdw:libdw-dev libunwind:libunwind-dev \
	check:check libzstd:libzstd-dev zlib:zlib1g-dev libprotobuf-c:libprotobuf-c-dev \
	ncursesw:libncurses-dev
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(firstword $(subst :, ,$(p))) && echo y),,\
	$(error missing $(firstword $(subst :, ,$(p))): install the Debian package $(lastword $(subst :, ,$(p))) (scripts/install-deps.sh))))
$(if $(wildcard /usr/include/uthash.h),,$(error missing uthash.h: install the Debian package uthash-dev (scripts/install-deps.sh)))
endif

pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1))
pc_libs = $(shell $(PKG_CONFIG) --libs $(1))

WARNINGS := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

CFLAGS ?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARNINGS) -D_GNU_SOURCE -Iinclude -I. -I$(O) \
	-fno-omit-frame-pointer -MMD -MP
DEP_CFLAGS := $(call pc_cflags,libbpf libelf libdw libunwind libzstd zlib libprotobuf-c ncursesw)
ALL_CFLAGS = $(BASE_CFLAGS) $(DEP_CFLAGS) $(CFLAGS)

# DEBUG=1: sanitizers for everything but the preload (it runs inside other
# programs, which would then need the sanitizer runtime), and MH_ASSERT.
ifeq ($(DEBUG),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
BASE_CFLAGS += -DMH_DEBUG
endif
TOOL_CFLAGS = $(ALL_CFLAGS) $(SAN_FLAGS)

# Libraries of the memhook command and the tests that link its modules.
TOOL_LIBS := $(call pc_libs,libbpf libelf libdw libzstd zlib libprotobuf-c ncursesw) \
	-lpthread -lm $(SAN_FLAGS)

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Keep intermediate files (test objects, BPF objects): no rebuilds, and
# `make check` ends on the test summary, not on make's clean-up.
.SECONDARY:
.PHONY: all check bench fuzz clean layers FORCE
FORCE:

# Fragments append to these.
ALL_TARGETS :=
CHECK_PROGRAMS :=
DEPS :=

# One static library per folder of the tool, named after it: $(O)/lib<folder>.a.
# $(call folder_srcs,DIR) lists DIR's C sources, subfolders included.
folder_srcs = $(filter-out %.bpf.c,$(shell find $(1) -name '*.c' 2>/dev/null | sort))

# $(eval $(call folder_library,NAME,DIR[,EXCLUDED SOURCES])): NAME_OBJS,
# NAME_LIB ($(O)/libDIR.a) and the rule that archives them.
define folder_library
$(1)_OBJS := $$(patsubst %.c,$$(O)/%.o,$$(filter-out $(3),$$(call folder_srcs,$(2))))
$(1)_LIB := $$(O)/lib$(2).a
DEPS += $$($(1)_OBJS:.o=.d)

$$($(1)_LIB): $$($(1)_OBJS)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef

include preload/build.mk
include common/build.mk
include trace/build.mk
include kernel/build.mk
include merger/build.mk
include recorder/build.mk
include cli/build.mk
include examples/build.mk
include tests/build.mk
include bench/build.mk
include share/build.mk

all: $(ALL_TARGETS)

# Generic object rule: $(O)/<folder>/<name>.o from <folder>/<name>.c.
$(O)/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(TOOL_CFLAGS) -c $< -o $@

clean:
	$(call msg,CLEAN,$(O))
	$(Q)rm -rf $(O)

-include $(DEPS)
