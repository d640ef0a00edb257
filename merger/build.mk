# merger/build.mk - the merger: merge/ (one causal order), replay/ (heap,
# mappings, modules, stacks), attribution/ (kernel events and residency to
# blocks), leaks/ (verdicts, suppressions), symbols/, report/ (writers).

MERGER_OBJS := $(patsubst %.c,$(O)/%.o,$(call folder_srcs,merger))
MERGER_LIB := $(O)/libmerger.a
DEPS += $(MERGER_OBJS:.o=.d)

$(MERGER_LIB): $(MERGER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
