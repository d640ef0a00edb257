# common/build.mk - small helpers every stage of the tool shares: the
# clock, /proc/PID/maps, exit codes.

COMMON_OBJS := $(patsubst %.c,$(O)/%.o,$(call folder_srcs,common))
COMMON_LIB := $(O)/libcommon.a
DEPS += $(COMMON_OBJS:.o=.d)

$(COMMON_LIB): $(COMMON_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
