# merger/build.mk - trace reader, replay, attribution, symbolization, reports.

MERGER_SRCS := $(wildcard merger/*.c)
MERGER_OBJS := $(MERGER_SRCS:%.c=$(O)/%.o)
DEPS += $(MERGER_OBJS:.o=.d)
