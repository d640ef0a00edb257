# recorder/build.mk - the recording session: launch, drain, exit scans,
# sampler, supervision of the traced processes.

$(eval $(call folder_library,RECORDER,recorder))

$(RECORDER_OBJS): | $(BPF_SKELS)
