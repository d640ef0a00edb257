# cli/build.mk - the memhook command: main, options, one cmd_*.c per
# subcommand, linked against the libraries of the other folders.

$(eval $(call folder_library,CLI,cli,cli/main.c))
DEPS += $(O)/cli/main.d

# The tool's libraries in link order: each may use only those after it
# (docs/DESIGN.md, "Layers"; `make layers` checks the includes).
TOOL_LIBS_A = $(CLI_LIB) $(RECORDER_LIB) $(MERGER_LIB) $(KERNEL_LIB) $(TRACE_LIB) \
	$(COMMON_LIB) $(RING_OBJ)

ifneq ($(wildcard cli/main.c),)
ALL_TARGETS += $(O)/memhook
endif

$(CLI_OBJS) $(O)/cli/main.o: | $(BPF_SKELS)

# The git revision `memhook --version` names (scripts/revision.sh), generated
# as $(O)/cli/revision.h: looked up at every build, rewritten only when it
# changed, so only main.o rebuilds.
$(O)/cli/revision.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/revision.sh . > $@.tmp && { cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@; }
$(O)/cli/main.o: $(O)/cli/revision.h

$(O)/memhook: $(O)/cli/main.o $(TOOL_LIBS_A)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $^ $(TOOL_LIBS)
