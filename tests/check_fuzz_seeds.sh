#!/bin/sh
# SPDX-License-Identifier: MIT
# check_fuzz_seeds.sh - the fuzz targets of tests/fuzz.mk still build, with
# clang, AddressSanitizer and UBSan, and every seed of their corpora runs
# through them cleanly (libFuzzer -runs=0: the seeds once, no mutation).
# `make fuzz` itself is too slow for `make check`; this keeps its targets
# from rotting between runs (a reader source that gained a dependency the
# fuzz build does not link, a seed that no longer decodes).
set -u
. "$(dirname "$0")/tap.sh"

# Run make on the source tree, not as a sub-make of `make check`.
t_make() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$T_SRC" O="$T_BUILD" "$@"
}

# seeds_run TARGET SEED_FOLDER: build TARGET, run it over the folder's seeds.
seeds_run() {
	t_make "$T_BUILD/fuzz/$1" || t_fail "make $T_BUILD/fuzz/$1 failed" || return 1
	n=$(ls "$T_SRC/tests/fuzz/$2" | wc -l)
	[ "$n" -gt 0 ] || t_fail "no seeds in tests/fuzz/$2" || return 1
	timeout 300 "$T_BUILD/fuzz/$1" -runs=0 -max_len=70000 "$T_SRC/tests/fuzz/$2" ||
		t_fail "$1 failed on a seed of tests/fuzz/$2" || return 1
}

trace_reader_seeds() { seeds_run fuzz_trace_reader seeds; }
compact_decode_seeds() { seeds_run fuzz_compact_decode compact_seeds; }
columns_decode_seeds() { seeds_run fuzz_columns_decode columns_seeds; }
ring_reader_seeds() { seeds_run fuzz_ring_reader ring_seeds; }

t_run trace_reader_seeds trace_reader_seeds
t_run compact_decode_seeds compact_decode_seeds
t_run columns_decode_seeds columns_decode_seeds
t_run ring_reader_seeds ring_reader_seeds
t_done
