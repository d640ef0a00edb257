# merger/build.mk - trace reader, replay, attribution, symbolization, reports.
#
# The pprof writer's protobuf-c code is generated from
# merger/report/profile.proto into $(O)/merger/report/ (never committed).

PROTOC_C ?= protoc-c
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(if $(shell command -v $(PROTOC_C)),,$(error missing $(PROTOC_C): install the Debian package protobuf-c-compiler (scripts/install-deps.sh)))
endif

MERGER_SRCS := $(sort $(wildcard merger/*.c merger/*/*.c))
MERGER_PROTO_OBJ := $(O)/merger/report/profile.pb-c.o
MERGER_OBJS := $(MERGER_SRCS:%.c=$(O)/%.o) $(MERGER_PROTO_OBJ)
DEPS += $(MERGER_OBJS:.o=.d)

$(O)/%.pb-c.c $(O)/%.pb-c.h: %.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(PROTOC_C) --proto_path=$(<D) --c_out=$(@D) $<

# Generated code: our warnings are not its author's.
$(MERGER_PROTO_OBJ): $(O)/merger/report/profile.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Wno-unused-parameter -c $< -o $@

$(O)/merger/report/pprof.o: | $(O)/merger/report/profile.pb-c.h
