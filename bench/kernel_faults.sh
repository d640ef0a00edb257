#!/bin/bash
# SPDX-License-Identifier: MIT
#
# kernel_faults.sh - what the kernel stream costs on a page-fault-heavy
# workload, and whether the collector keeps up with it.
#
# Usage: bench/kernel_faults.sh [BUILD_DIR]   (bench/run.sh calls it)
#
# bench/progs/touch_pages touches BENCH_FAULT_MB MiB of fresh anonymous
# memory, one minor fault per page. It runs natively, under
# `memhook record --kernel=off` and under `memhook record --kernel=on`,
# alternating, BENCH_FAULT_REPS times. Printed: median wall times, the
# ratio kernel-on / kernel-off (target <= 1.10x) and against native, the
# kernel records the collector delivered per run and per second of the
# kernel-on run, and the records the BPF ring dropped (target 0), from
# each trace's `memhook dump` (LOST stream=kernel). The fixed cost of
# starting the kernel stream (loading and attaching the BPF programs) is
# measured apart on /bin/true and is inside the kernel-on times; the
# workload's own loop time (touch_ms) and CPU time (cpu_ms), which it
# prints, are compared too: the first leaves out memhook's fixed start and
# end, the second also the time spent waiting for a CPU on a busy machine
# (the BPF programs run in the faulting thread, so their cost is in it).
#
# Knobs (environment): BENCH_FAULT_MB (8192), BENCH_FAULT_REPS (5).
# Traces go to a temporary directory under /tmp, deleted at the end.
# Needs root (or CAP_BPF and CAP_PERFMON) for the kernel-on runs.
set -u

O=${1:-build}
MB=${BENCH_FAULT_MB:-8192}
REPS=${BENCH_FAULT_REPS:-5}
MEMHOOK=$O/memhook
PROG=$O/bench/progs/touch_pages

die() { echo "kernel_faults: $*" >&2; exit 1; }

[ -x "$MEMHOOK" ] || die "$MEMHOOK is not built (make O=$O)"
[ -x "$PROG" ] || die "$PROG is not built (make O=$O $PROG)"
work=$(mktemp -d /tmp/memhook-kbench.XXXXXX) || die "cannot create a temp dir"
trap 'rm -rf "$work"' EXIT

# Wall time of a command, in ms, on stdout; the command's output goes to $work/out.
wall_ms() {
	local s e
	s=$(date +%s%N)
	"$@" >"$work/out" 2>"$work/err" || die "failed: $* ($(tail -1 "$work/err"))"
	e=$(date +%s%N)
	echo $(((e - s) / 1000000))
}

# touch_pages's own time in its loop (touch_ms=) and its CPU time (cpu_ms=), last run.
own_ms() { sed -n 's/^touch_ms=//p' "$work/out"; }
cpu_ms() { sed -n 's/^cpu_ms=//p' "$work/out"; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# "records drops" of the kernel stream of a trace.
kernel_counts() {
	"$MEMHOOK" dump "$1" | awk '
		$1 == "kernel" { n++ }
		$2 == "LOST" && $4 == "stream=kernel" { sub("count=", "", $5); lost += $5 }
		END { print n + 0, lost + 0 }'
}

"$MEMHOOK" record -q --kernel=on -o "$work/probe.mht" -- /bin/true 2>"$work/err" ||
	die "the kernel stream cannot start here: $(tail -1 "$work/err")"

: >"$work/native"; : >"$work/off"; : >"$work/on"; : >"$work/rate"; : >"$work/recs"
: >"$work/own_native"; : >"$work/own_off"; : >"$work/own_on"
: >"$work/cpu_native"; : >"$work/cpu_off"; : >"$work/cpu_on"
drops=0
for rep in $(seq "$REPS"); do
	wall_ms "$PROG" "$MB" >>"$work/native"
	own_ms >>"$work/own_native"
	cpu_ms >>"$work/cpu_native"
	wall_ms "$MEMHOOK" record -q --kernel=off -o "$work/off.mht" -- "$PROG" "$MB" >>"$work/off"
	own_ms >>"$work/own_off"
	cpu_ms >>"$work/cpu_off"
	ms=$(wall_ms "$MEMHOOK" record -q --kernel=on -o "$work/on.mht" -- "$PROG" "$MB")
	echo "$ms" >>"$work/on"
	own_ms >>"$work/own_on"
	cpu_ms >>"$work/cpu_on"
	read -r recs lost < <(kernel_counts "$work/on.mht")
	echo "$recs" >>"$work/recs"
	echo $((recs * 1000 / ms)) >>"$work/rate"
	drops=$((drops + lost))
	printf '  rep %d/%d: wall native/off/on %d/%d/%d ms; own %d/%d/%d ms; cpu %d/%d/%d ms; %d kernel records, %d dropped\n' \
		"$rep" "$REPS" "$(tail -1 "$work/native")" "$(tail -1 "$work/off")" "$ms" \
		"$(tail -1 "$work/own_native")" "$(tail -1 "$work/own_off")" \
		"$(tail -1 "$work/own_on")" "$(tail -1 "$work/cpu_native")" \
		"$(tail -1 "$work/cpu_off")" "$(tail -1 "$work/cpu_on")" "$recs" "$lost"
done

startup() {
	local mode=$1 i
	for i in 1 2 3 4 5; do
		wall_ms "$MEMHOOK" record -q --kernel="$mode" -o "$work/t.mht" -- /bin/true
	done | median
}

native=$(median <"$work/native")
off=$(median <"$work/off")
on=$(median <"$work/on")
pages=$(("$MB" * 1024 * 1024 / $(getconf PAGESIZE)))
start_on=$(startup on)
start_off=$(startup off)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3fx", a / b }'; }

printf 'kernel stream on a fault-heavy workload: touch_pages %d MiB (%d faults), %d reps, medians\n' \
	"$MB" "$pages" "$REPS"
printf '  %-34s %8d ms\n' "native" "$native" \
	"memhook record --kernel=off" "$off" "memhook record --kernel=on" "$on"
printf '  %-34s %9s  (target <= 1.10x)\n' "kernel-on / kernel-off" "$(ratio "$on" "$off")"
printf '  %-34s %9s\n' "kernel-on / native" "$(ratio "$on" "$native")" \
	"kernel-off / native" "$(ratio "$off" "$native")"
printf '  %-34s %9s  (touch_pages'"'"'s own loop time: native %d, off %d, on %d ms)\n' \
	"own time kernel-on / kernel-off" "$(ratio "$(median <"$work/own_on")" "$(median <"$work/own_off")")" \
	"$(median <"$work/own_native")" "$(median <"$work/own_off")" "$(median <"$work/own_on")"
printf '  %-34s %9s  (touch_pages'"'"'s CPU time: native %d, off %d, on %d ms)\n' \
	"cpu time kernel-on / kernel-off" "$(ratio "$(median <"$work/cpu_on")" "$(median <"$work/cpu_off")")" \
	"$(median <"$work/cpu_native")" "$(median <"$work/cpu_off")" "$(median <"$work/cpu_on")"
printf '  %-34s %9d per run, %d records/s of wall time\n' "kernel records delivered" \
	"$(median <"$work/recs")" "$(median <"$work/rate")"
printf '  %-34s %9d over %d runs  (target 0)\n' "kernel records dropped" "$drops" "$REPS"
printf '  %-34s %8d ms  (/bin/true: on %d ms, off %d ms; inside the on times)\n' \
	"kernel stream start-up" $((start_on - start_off)) "$start_on" "$start_off"
