# trace/build.mk - the trace format: record sizes, chunk encoding, the
# reader, the writer and the one-line description of every record. The
# recorder, the merger and the fuzzer all use this one library.

$(eval $(call folder_library,TRACE,trace))
