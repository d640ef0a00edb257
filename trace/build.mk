# trace/build.mk - the trace format: record sizes, chunk encoding, the
# reader, the writer and the one-line description of every record. The
# recorder, the merger and the fuzzer all use this one library.

TRACE_OBJS := $(patsubst %.c,$(O)/%.o,$(call folder_srcs,trace))
TRACE_LIB := $(O)/libtrace.a
DEPS += $(TRACE_OBJS:.o=.d)

$(TRACE_LIB): $(TRACE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
