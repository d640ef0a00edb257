# recorder/build.mk - the recording session: launch, drain, exit scans,
# sampler, supervision of the traced processes.

RECORDER_OBJS := $(patsubst %.c,$(O)/%.o,$(call folder_srcs,recorder))
RECORDER_LIB := $(O)/librecorder.a
DEPS += $(RECORDER_OBJS:.o=.d)

$(RECORDER_OBJS): | $(BPF_SKELS)

$(RECORDER_LIB): $(RECORDER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
