# cli/build.mk - the memhook command: launcher, recorder, subcommands.

# recorder/: the new home of the recording side (docs/DESIGN.md), built with it.
CLI_SRCS := $(filter-out cli/main.c,$(wildcard cli/*.c)) $(wildcard recorder/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/%.o)
DEPS += $(CLI_OBJS:.o=.d) $(O)/cli/main.d

# Every module the memhook command (and the tests) link.
TOOL_OBJS = $(CLI_OBJS) $(MERGER_OBJS) $(KERNEL_OBJS) $(RING_OBJ)

ifneq ($(wildcard cli/main.c),)
ALL_TARGETS += $(O)/memhook
endif

$(CLI_OBJS) $(O)/cli/main.o: | $(BPF_SKELS)

# The git revision `memhook --version` names (scripts/revision.sh). Looked
# up at every build, rewritten only when it changed: only main.o rebuilds.
$(O)/gen/revision.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/revision.sh . > $@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@; }
$(O)/cli/main.o: $(O)/gen/revision.h

$(O)/memhook: $(O)/cli/main.o $(TOOL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $^ $(TOOL_LIBS)
