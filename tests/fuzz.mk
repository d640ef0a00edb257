# tests/fuzz.mk - libFuzzer targets for the trace reader, for the compact
# chunk decoder and the column layout decoder on their own (below zstd and
# the CRC) and for the
# recorder's reader of the event ring (a program's hostile input), built with clang,
# AddressSanitizer and UBSan into $(O)/fuzz/, never part of `make check`.
# The fuzzing build skips the chunk CRC check (FUZZING_BUILD_MODE_UNSAFE_FOR_
# PRODUCTION), so mutated inputs reach the chunk and record checks.
#
#   make fuzz [FUZZ_SECONDS=600]   build and run; crashes land in $(O)/fuzz/
#   (`make check` builds them and runs their seeds once: tests/check_fuzz_seeds.sh)

FUZZ_SECONDS ?= 600
FUZZ_DIR := $(O)/fuzz
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	-Iinclude -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(call pc_cflags,libzstd zlib)

FUZZ_SRCS := tests/fuzz/fuzz_trace_reader.c $(call folder_srcs,trace) common/bigmem.c

$(FUZZ_DIR)/fuzz_trace_reader: $(FUZZ_SRCS) $(wildcard trace/*.h) $(wildcard include/memhook/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(call pc_libs,libzstd zlib)

# The compact decoder alone: seeds are decompressed payloads of compact
# chunks, after their promised bytes and record count.
FUZZ_COMPACT_SRCS := tests/fuzz/fuzz_compact_decode.c trace/compact.c trace/compact_decode.c \
	trace/records.c common/bigmem.c

$(FUZZ_DIR)/fuzz_compact_decode: $(FUZZ_COMPACT_SRCS) $(wildcard trace/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_COMPACT_SRCS)

# The column layout decoder alone: seeds are a version byte, a unit byte,
# a record count and a chunk's laid-out records.
FUZZ_COLUMNS_SRCS := tests/fuzz/fuzz_columns_decode.c trace/columns.c trace/records.c

$(FUZZ_DIR)/fuzz_columns_decode: $(FUZZ_COLUMNS_SRCS) $(wildcard trace/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_COLUMNS_SRCS)

# The recorder's side of the event ring: header and data area from the input.
FUZZ_RING_SRCS := tests/fuzz/fuzz_ring_reader.c recorder/ring_consumer.c recorder/ring_records.c \
	recorder/liveset.c common/bigmem.c common/blocks.c common/image.c common/tsc.c \
	trace/records.c

$(FUZZ_DIR)/fuzz_ring_reader: $(FUZZ_RING_SRCS) $(wildcard recorder/*.h) $(wildcard include/memhook/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_RING_SRCS)

# Seeds: small real traces (every record type, an unclosed file) in tests/fuzz/seeds.
fuzz: $(FUZZ_DIR)/fuzz_trace_reader $(FUZZ_DIR)/fuzz_compact_decode $(FUZZ_DIR)/fuzz_columns_decode \
	$(FUZZ_DIR)/fuzz_ring_reader
	$(Q)mkdir -p $(FUZZ_DIR)/corpus
	$(Q)cd $(FUZZ_DIR) && ./fuzz_trace_reader -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -artifact_prefix=$(abspath $(FUZZ_DIR))/ corpus $(abspath tests/fuzz/seeds)
	$(Q)mkdir -p $(FUZZ_DIR)/compact_corpus
	$(Q)cd $(FUZZ_DIR) && ./fuzz_compact_decode -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -artifact_prefix=$(abspath $(FUZZ_DIR))/compact- compact_corpus \
		$(abspath tests/fuzz/compact_seeds)
	$(Q)mkdir -p $(FUZZ_DIR)/columns_corpus
	$(Q)cd $(FUZZ_DIR) && ./fuzz_columns_decode -max_total_time=$(FUZZ_SECONDS) \
		-max_len=65536 -artifact_prefix=$(abspath $(FUZZ_DIR))/columns- columns_corpus \
		$(abspath tests/fuzz/columns_seeds)
	$(Q)mkdir -p $(FUZZ_DIR)/ring_corpus
	$(Q)cd $(FUZZ_DIR) && ./fuzz_ring_reader -max_total_time=$(FUZZ_SECONDS) \
		-max_len=70000 -artifact_prefix=$(abspath $(FUZZ_DIR))/ring- ring_corpus \
		$(abspath tests/fuzz/ring_seeds)
