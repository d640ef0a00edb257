# common/build.mk - small helpers every stage of the tool shares: the
# clock, /proc/PID/maps, exit codes, assertions.

$(eval $(call folder_library,COMMON,common))
