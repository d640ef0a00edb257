#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run.sh - memhook against native runs and against heaptrack.
#
# Usage: bench/run.sh [BUILD_DIR]        (make bench runs it with $(O))
#
# Part 1, one table: each workload (alloc_bench 1 and 2 threads with stacks
# 3-30 and sizes rounded to 64, python3, sqlite3, gcc's cc1 -O2 and
# `git log -p` on generated inputs) runs natively, under `memhook record`
# and under `heaptrack` (address space capped, BENCH_HT_VMEM_KB),
# alternating, BENCH_REPS times; the table gives median wall times as
# ratios to native, trace bytes per allocation event (alloc + free calls,
# counted by memhook's report) for memhook's trace and heaptrack's .zst,
# and the events/s of `memhook report` and `heaptrack_print` on them.
# Part 2, report throughput: one trace of >= 20M events (alloc_bench, two
# threads), then
# `memhook report` and `heaptrack_print` on the two tools' traces of that
# workload, timed with /usr/bin/time -v (wall time, events/s, peak RSS).
#
# Part 3, leak check speed: one `sh -c 'a; b; ...'` running test programs
# (tests/progs/check_clean, leak_* scenarios, examples, alloc_bench) natively,
# under `memhook check` (default and --kernel=off) and under
# `valgrind --leak-check=full --trace-children=yes`, BENCH_CHECK_REPS times;
# median wall times and the ratios memhook/memcheck (target <= 0.10) and
# memhook/native (target <= 2). Then the fixed costs, BENCH_FIXED_REPS
# alternating runs, medians: the ms `memhook check` adds per process (a
# shell running /bin/true 50 times against one running it never, each
# natively and under check; target <= 10) and the wall and CPU ms
# `memhook record --kernel=on` adds to --kernel=off on /bin/true (target
# <= 100; skipped when the kernel stream cannot start).
# Part 4, the kernel stream on a fault-heavy workload: bench/kernel_faults.sh.
# Part 5, merger throughput on both streams: fault_alloc (faults inside heap
# blocks plus small allocations) recorded with --kernel=on, then
# `memhook report` timed: events/s (alloc + kernel records) and peak RSS.
# Skipped with a message when the kernel stream cannot start.
# Part 6, where the preload's time goes: memhook's in-process nanoseconds
# per malloc+free pair split by step (stack capture, timestamps, interning,
# buffer write; indented rows are alternatives, not summed), each timed
# alone by bench/progs/hotpath_steps at stack depths 3, 15 and 30 in
# frames with and without frame pointers (thread CPU, medians of 7
# batches); then the whole pair, malloc(64)+free in a
# loop, natively and under `memhook record --kernel=off`, alternating
# BENCH_STEP_REPS times, medians, and the difference: the in-process cost,
# whose part not in the steps is the hooks' own (guard, errno, dispatch),
# ring waits and the cache misses the steps cause. Last, the same
# difference for alloc_bench (1 and 2 threads, program CPU from
# /usr/bin/time; with 2 threads every stamp is fenced).
#
# Knobs (environment): BENCH_REPS (3), BENCH_OPS (alloc_bench ops per
# thread, 3000000), BENCH_REPORT_OPS (10000000 over two threads: 20M events),
# BENCH_REPORT_DEPTH (alloc_bench stack depth for part 2, 25),
# BENCH_CHECK_REPS (3), BENCH_FIXED_REPS (21), BENCH_FAULT_MB and BENCH_FAULT_REPS (part 4; 4096
# and 3 here), BENCH_MERGE_MB (part 5, MiB touched, 20480: >= 5M kernel
# records), BENCH_STEP_REPS (part 6, 5), BENCH_STEP_PAIRS (part 6, pairs per
# depth and kind, 1000000). BENCH_PARTS selects parts (default "1 2 3 4 5 6").
# Traces go to a temporary directory under /tmp, deleted at the end.
# Takes about 8 minutes on 2 cores (part 6: about 1).
set -u

O=${1:-build}
REPS=${BENCH_REPS:-3}
OPS=${BENCH_OPS:-3000000}
REPORT_OPS=${BENCH_REPORT_OPS:-10000000}
REPORT_DEPTH=${BENCH_REPORT_DEPTH:-25}
CHECK_REPS=${BENCH_CHECK_REPS:-3}
FIXED_REPS=${BENCH_FIXED_REPS:-21}
MERGE_MB=${BENCH_MERGE_MB:-20480}
STEP_REPS=${BENCH_STEP_REPS:-5}
STEP_PAIRS=${BENCH_STEP_PAIRS:-1000000}
PARTS=" ${BENCH_PARTS:-1 2 3 4 5 6} "
MEMHOOK=$O/memhook
AB=$O/bench/progs/alloc_bench
FA=$O/bench/progs/fault_alloc
HS=$O/bench/progs/hotpath_steps

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$MEMHOOK" ] || die "$MEMHOOK is not built (make O=$O)"
[ -x "$AB" ] || die "$AB is not built (make O=$O bench)"
have_heaptrack=1
command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null || have_heaptrack=0
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=
# Every Python object allocation goes through malloc (pymalloc would serve
# most from its own arenas); set for the whole run, as `env` in front of
# the command would make env, not python, the recorded root process.
export PYTHONMALLOC=malloc

work=$(mktemp -d /tmp/memhook-bench.XXXXXX) || die "cannot create a temp dir"
trap 'rm -rf "$work"' EXIT

PY_WORK='
import json
for r in range(10):
    rows = [{"id": i, "name": "n%d" % i, "tags": [str(i % 7), str(i % 11)]} for i in range(20000)]
    rows.sort(key=lambda x: (x["tags"][1], -x["id"]))
    rows = json.loads(json.dumps(rows))
print(len(rows))
'
SQL_WORK='
create table t(a integer primary key, b text, c real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 600000)
insert into t select x, hex(randomblob(16)), x * 0.5 from c;
create index tb on t(b);
select count(*), sum(c) from t where b > "8";
select b, count(*) from t group by substr(b, 1, 2) order by 2 desc limit 3;
'

# Workloads: name, then the command. The allocation benchmark rounds sizes
# to 64 bytes: heaptrack 1.4's interpreter aborts (std::bad_alloc) on some
# size and depth mixes otherwise.
workloads=(alloc_1t alloc_2t)
cmd_alloc_1t=("$AB" 1 "$OPS" 30 64)
cmd_alloc_2t=("$AB" 2 "$OPS" 30 64)
if [ -n "$PY" ]; then
	workloads+=(python3)
	cmd_python3=("$PY" -c "$PY_WORK")
fi
if command -v sqlite3 >/dev/null; then
	workloads+=(sqlite3)
	cmd_sqlite3=(sqlite3 :memory: "$SQL_WORK")
fi
CC1=$(gcc -print-prog-name=cc1 2>/dev/null)
if [ -x "$CC1" ]; then
	# A generated translation unit: many small functions, loops to optimise.
	awk 'BEGIN { for (i = 0; i < 1500; i++) {
		printf "struct s%d { int a[%d]; double d; };\n", i, i % 13 + 1
		printf "double f%d(struct s%d *p, int n) { double t = 0;", i, i
		printf " for (int k = 0; k < n; k++) t += p->a[k %% %d] * p->d + k;", i % 13 + 1
		printf " return t > %d ? t / 3 : t * 2; }\n", i }
		print "int main(void) { return 0; }" }' >"$work/gen.c"
	workloads+=(cc1)
	cmd_cc1=("$CC1" -quiet -O2 "$work/gen.c" -o "$work/gen.s")
fi
if command -v git >/dev/null; then
	# A generated history: 300 commits over 20 files.
	(cd "$work" && git init -q repo && cd repo && git config user.email b@x &&
		git config user.name bench && for ((c = 0; c < 300; c++)); do
			for ((f = 0; f < 20; f += 3)); do
				seq "$c" $((c + f * 7 + 40)) >"f$(((c + f) % 20)).txt"
			done
			git add -A && git commit -q -m "c$c"
		done) >/dev/null 2>&1
	workloads+=(git)
	cmd_git=(git -C "$work/repo" --no-pager log -p)
fi

# heaptrack's address space, KiB: an interpreter that runs away fails fast.
HT_VMEM_KB=${BENCH_HT_VMEM_KB:-8388608}

# Run a command (stdout/stderr to files): sets $secs (wall time) and $rc.
timed() {
	local start=$EPOCHREALTIME end
	"$@" >"$work/out" 2>"$work/err"
	rc=$?
	end=$EPOCHREALTIME
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# alloc + free calls in a memhook trace, from its JSON report.
trace_events() {
	"$MEMHOOK" report --format json "$1" 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
print(s["alloc_calls"] + s["free_calls"])' 2>/dev/null || echo 0
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "nan") printf "%.2fx", a / b; else printf "-" }'; }
per_event() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a > 0) printf "%.2f", a / b; else printf "-" }'; }

# /usr/bin/time -v of a command: sets $rc, then "<wall s> <max RSS kB>"
# go to $work/time.sum.
time_v() {
	/usr/bin/time -v -o "$work/time" "$@" >/dev/null 2>"$work/err"
	rc=$?
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + t[i] }
		/Maximum resident set size/ { rss = $2 }
		END { printf "%.2f %d\n", s, rss }' "$work/time" >"$work/time.sum"
}

# Report throughput of a trace: sets $eps (events/s) from wall time.
report_eps() {
	local events=$1
	shift
	timed "$@"
	eps=$(awk -v e="$events" -v s="$secs" -v rc="$rc" 'BEGIN {
		if (rc == 0 && s > 0 && e > 0) printf "%.1fM", e / s / 1e6; else printf "-" }')
}

# Part 1: one table: each workload natively, under memhook record and under
# heaptrack, alternating; ratios of medians to native; trace bytes per
# alloc+free event; report (memhook report, heaptrack_print) events/s on
# the last traces.
part1() {
	echo
	echo "== recording (median wall time, ratio to native; trace bytes per alloc+free event; report events/s)"
	printf '%-9s %9s %9s %9s %9s %9s %10s %10s %10s\n' workload native_s memhook heaptrack \
		mh_B/ev ht_B/ev mh_rep/s ht_prt/s events
	for w in "${workloads[@]}"; do
		declare -n cmd="cmd_$w"
		nat=() mh=() ht=()
		mh_fail= ht_fail=
		for ((r = 0; r < REPS; r++)); do
			timed "${cmd[@]}"
			nat+=("$secs")
			rm -f "$work/t.mht"
			timed "$MEMHOOK" record -q -o "$work/t.mht" -- "${cmd[@]}"
			mh+=("$secs")
			[ "$rc" -eq 0 ] || mh_fail="memhook exited $rc: $(tail -1 "$work/err")"
			if [ "$have_heaptrack" = 1 ]; then
				rm -f "$work"/ht.*
				timed bash -c 'ulimit -v "$0" && exec heaptrack -o "$@"' "$HT_VMEM_KB" \
					"$work/ht" "${cmd[@]}"
				ht+=("$secs")
				grep -q 'terminate called\|bad_alloc' "$work/out" "$work/err" &&
					ht_fail="heaptrack aborted (std::bad_alloc in its interpreter)"
			fi
		done
		events=$(trace_events "$work/t.mht")
		mh_bytes=$(stat -c %s "$work/t.mht" 2>/dev/null || echo 0)
		ht_bytes=$(stat -c %s "$work"/ht.zst 2>/dev/null || echo 0)
		report_eps "$events" "$MEMHOOK" report --format text "$work/t.mht"
		mh_eps=$eps ht_eps=-
		if [ "$have_heaptrack" = 1 ] && [ -z "$ht_fail" ] && [ -s "$work/ht.zst" ]; then
			report_eps "$events" heaptrack_print -f "$work/ht.zst"
			ht_eps=$eps
		fi
		n=$(median "${nat[@]}")
		mh_r=$(ratio "$(median "${mh[@]}")" "$n")
		ht_r=-
		[ "$have_heaptrack" = 1 ] && ht_r=$(ratio "$(median "${ht[@]}")" "$n")
		[ -n "$ht_fail" ] && ht_r="fail" ht_bytes=0
		[ -n "$mh_fail" ] && mh_r="fail"
		printf '%-9s %9s %9s %9s %9s %9s %10s %10s %10s\n' "$w" "$n" "$mh_r" "$ht_r" \
			"$(per_event "$mh_bytes" "$events")" "$(per_event "$ht_bytes" "$events")" \
			"$mh_eps" "$ht_eps" "$events"
		[ -n "$mh_fail" ] && echo "   $w: $mh_fail"
		[ -n "$ht_fail" ] && echo "   $w: $ht_fail"
		unset -n cmd
	done
	echo "   targets: alloc <= 2.0x; python3 <= 2.0x, sqlite3 <= 1.5x, cc1 and git <= 1.3x;" \
		"<= 1.0 B/event on real programs; below heaptrack everywhere"
}

# Part 2: report throughput on an allocation trace.
part2() {
	echo
	echo "== report throughput (alloc_bench 2 threads, $REPORT_OPS ops, depth up to $REPORT_DEPTH)"
	rm -f "$work/t.mht" "$work"/ht.*
	"$MEMHOOK" record -o "$work/t.mht" -- "$AB" 2 $((REPORT_OPS / 2)) "$REPORT_DEPTH" >/dev/null 2>&1 ||
		echo "   memhook record exited $?"
	events=$(trace_events "$work/t.mht")
	printf '%-16s %12s %10s %14s %12s %12s\n' tool trace_MB wall_s events/s peak_RSS_MB events
	time_v "$MEMHOOK" report --format text "$work/t.mht"
	read -r s rss <"$work/time.sum"
	[ "$rc" -eq 0 ] || echo "   memhook report exited $rc: $(tail -1 "$work/err")"
	printf '%-16s %12s %10s %14s %12s %12s\n' "memhook report" \
		"$(awk -v b="$(stat -c %s "$work/t.mht" 2>/dev/null || echo 0)" 'BEGIN { printf "%.1f", b / 1048576 }')" \
		"$s" "$(awk -v e="$events" -v s="$s" 'BEGIN { if (s > 0) printf "%.0f", e / s; else print "-" }')" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$events"
	rm -f "$work/t.mht"
	if [ "$have_heaptrack" = 1 ]; then
		heaptrack -o "$work/ht" "$AB" 2 $((REPORT_OPS / 2)) "$REPORT_DEPTH" >"$work/out" 2>&1
		if grep -q 'bad_alloc' "$work/out"; then
			echo "   heaptrack aborted while recording (std::bad_alloc in its interpreter);" \
				"try another BENCH_REPORT_DEPTH"
		fi
		time_v heaptrack_print -f "$work/ht.zst"
		read -r s rss <"$work/time.sum"
		[ "$rc" -eq 0 ] || echo "   heaptrack_print exited $rc"
		printf '%-16s %12s %10s %14s %12s %12s\n' "heaptrack_print" \
			"$(awk -v b="$(stat -c %s "$work/ht.zst" 2>/dev/null || echo 0)" 'BEGIN { printf "%.1f", b / 1048576 }')" \
			"$s" "$(awk -v e="$events" -v s="$s" 'BEGIN { if (s > 0) printf "%.0f", e / s; else print "-" }')" \
			"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$events"
	fi
}

# Run commands (separated by a lone ";;") alternating, REPS rounds; print
# one line per command: median wall ms and median CPU ms (user + system of
# the command and its reaped children, from wait4).
alternate_ms() {
	python3 - "$@" <<'PY'
import os, statistics, sys, time
reps, cmds = int(sys.argv[1]), [[]]
for a in sys.argv[2:]:
    if a == ";;":
        cmds.append([])
    else:
        cmds[-1].append(a)
null = os.open(os.devnull, os.O_RDWR)
wall, cpu = [[] for _ in cmds], [[] for _ in cmds]
for _ in range(reps):
    for i, c in enumerate(cmds):
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execvp(c[0], c)
        _, _, ru = os.wait4(pid, 0)
        wall[i].append((time.perf_counter() - t0) * 1e3)
        cpu[i].append((ru.ru_utime + ru.ru_stime) * 1e3)
for i in range(len(cmds)):
    print("%.1f %.1f" % (statistics.median(wall[i]), statistics.median(cpu[i])))
PY
}

# The fixed costs: ms per process added by `memhook check`, ms per run by --kernel=on.
fixed_costs() {
	local loop='for i in $(seq 50); do /bin/true; done' t="$work/fixed.mht"
	local -a r
	echo "== fixed costs, median of $FIXED_REPS alternating runs"
	mapfile -t r < <(alternate_ms "$FIXED_REPS" sh -c "$loop" ";;" \
		"$MEMHOOK" check -- sh -c "$loop" ";;" sh -c true ";;" \
		"$MEMHOOK" check -- sh -c true)
	# 52 processes (sh, seq, 50 x true) against 1: the difference is 51.
	awk -v a="${r[0]% *}" -v b="${r[1]% *}" -v c="${r[2]% *}" -v d="${r[3]% *}" 'BEGIN {
		printf "   memhook check: %.2f ms added per process (%.1f ms added to sh -c true;", \
			((b - a) - (d - c)) / 51, d - c
		printf " %.2f ms per process with it, 52 processes)\n", (b - a) / 52
		print "   target: <= 10 ms per process" }'
	if ! "$MEMHOOK" record -q --kernel=on -o "$t" -- /bin/true 2>"$work/err"; then
		echo "   --kernel=on: skipped (the kernel stream cannot start: $(tail -1 "$work/err"))"
		return
	fi
	mapfile -t r < <(alternate_ms "$FIXED_REPS" "$MEMHOOK" record -q --kernel=off -o "$t" -- \
		/bin/true ";;" "$MEMHOOK" record -q --kernel=on -o "$t" -- /bin/true)
	awk -v off="${r[0]}" -v on="${r[1]}" 'BEGIN { split(off, a, " "); split(on, b, " ")
		printf "   --kernel=on on /bin/true: %.1f ms wall, %.1f ms CPU added to --kernel=off", \
			b[1] - a[1], b[2] - a[2]
		printf " (%.1f / %.1f ms against %.1f / %.1f)\n", b[1], b[2], a[1], a[2]
		print "   target: <= 100 ms per run" }'
	rm -f "$t"
}

# Part 3: `memhook check` against memcheck and native on one shell running
# several test programs.
part3() {
	local P=$O/tests/progs E=$O/examples prog progs=() script= m
	local -A t
	for prog in "$P/check_clean" "$P/leak_list" "$P/leak_tree" "$P/leak_cxx_containers" \
		"$P/leak_libc" "$P/leak_fork" "$P/leak_thread_exited" "$E/leaky" "$E/alloc_mix" \
		"$E/cxx_lost" "$E/threads 4 100000" "$AB 1 1000000"; do
		[ -x "${prog%% *}" ] && progs+=("${prog#"$O"/}")
	done
	echo
	fixed_costs
	if ! command -v valgrind >/dev/null; then
		echo "== leak check speed: skipped (valgrind is not installed)"
		return
	fi
	for prog in "${progs[@]}"; do
		script+="$O/$prog; "
	done
	echo "== leak check speed: sh -c running ${#progs[@]} programs, median of $CHECK_REPS"
	printf '   %s\n' "${progs[@]}"
	local -a modes=(native memcheck check check_koff)
	local -a cmd_native=(sh -c "$script")
	local -a cmd_memcheck=(valgrind --leak-check=full --trace-children=yes sh -c "$script")
	local -a cmd_check=("$MEMHOOK" check -- sh -c "$script")
	local -a cmd_check_koff=("$MEMHOOK" check --kernel=off -- sh -c "$script")
	for m in "${modes[@]}"; do
		t[$m]=
	done
	for ((r = 0; r < CHECK_REPS; r++)); do
		for m in "${modes[@]}"; do
			declare -n c="cmd_$m"
			timed "${c[@]}"
			unset -n c
			t[$m]+="$secs "
			# Leaks are expected here (memhook check exits 23, the others as
			# the last program); 64 and up is a tool's own error or a signal.
			[ "$rc" -lt 64 ] || echo "   $m exited $rc: $(tail -1 "$work/err")"
		done
	done
	local native memcheck
	native=$(median ${t[native]})
	memcheck=$(median ${t[memcheck]})
	printf '%-36s %9s %14s %12s\n' run wall_s "/memcheck" "/native"
	printf '%-36s %9s %14s %12s\n' native "$native" "$(ratio "$native" "$memcheck")" 1.00x
	printf '%-36s %9s %14s %12s\n' "valgrind --leak-check=full" "$memcheck" 1.00x \
		"$(ratio "$memcheck" "$native")"
	for m in check check_koff; do
		local v label="memhook check"
		v=$(median ${t[$m]})
		[ "$m" = check_koff ] && label="memhook check --kernel=off"
		printf '%-36s %9s %14s %12s\n' "$label" "$v" "$(ratio "$v" "$memcheck")" \
			"$(ratio "$v" "$native")"
	done
	echo "   targets: memhook check <= 0.10x memcheck, <= 2.00x native"
}

# Part 4: the kernel stream's own bench, when it is there.
part4() {
	echo
	if [ ! -x bench/kernel_faults.sh ]; then
		echo "== kernel stream: skipped (bench/kernel_faults.sh is not there)"
		return
	fi
	echo "== kernel stream (bench/kernel_faults.sh)"
	BENCH_FAULT_MB=${BENCH_FAULT_MB:-4096} BENCH_FAULT_REPS=${BENCH_FAULT_REPS:-3} \
		bench/kernel_faults.sh "$O" 2>&1 || echo "   kernel_faults.sh exited $?"
}

# Part 5: merger throughput on a trace with both streams.
part5() {
	local t=$work/both.mht recs events s rss
	echo
	if [ ! -x "$FA" ]; then
		echo "== merger throughput, both streams: skipped ($FA is not built)"
		return
	fi
	if ! "$MEMHOOK" record -q --kernel=on -o "$t" -- /bin/true 2>"$work/err"; then
		echo "== merger throughput, both streams: skipped (the kernel stream cannot start:" \
			"$(tail -1 "$work/err"))"
		return
	fi
	echo "== merger throughput, both streams (fault_alloc $MERGE_MB MiB, --kernel=on)"
	"$MEMHOOK" record -q --kernel=on -o "$t" -- "$FA" "$MERGE_MB" >/dev/null 2>"$work/err" ||
		echo "   memhook record exited $?: $(tail -1 "$work/err")"
	# Records per stream, from the raw dump: "alloc ALLOC", "kernel KFAULT", ...
	read -r recs events < <("$MEMHOOK" dump "$t" | awk '
		$1 == "kernel" { k++ } $2 == "ALLOC" || $2 == "FREE" || $2 == "REALLOC" { a++ }
		END { print k + 0, a + k }')
	printf '%-16s %10s %12s %12s %10s %14s %12s\n' tool trace_MB kernel_recs events wall_s \
		events/s peak_RSS_MB
	time_v "$MEMHOOK" report --format text "$t"
	read -r s rss <"$work/time.sum"
	[ "$rc" -eq 0 ] || echo "   memhook report exited $rc: $(tail -1 "$work/err")"
	printf '%-16s %10s %12s %12s %10s %14s %12s\n' "memhook report" \
		"$(awk -v b="$(stat -c %s "$t" 2>/dev/null || echo 0)" 'BEGIN { printf "%.1f", b / 1048576 }')" \
		"$recs" "$events" "$s" \
		"$(awk -v e="$events" -v s="$s" 'BEGIN { if (s > 0) printf "%.0f", e / s; else print "-" }')" \
		"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')"
	[ "$recs" -ge 5000000 ] || echo "   fewer than 5M kernel records: raise BENCH_MERGE_MB"
	rm -f "$t"
}

# Program CPU ms (user + sys, /usr/bin/time) of a command, natively or
# under memhook record (--follow-forks: time is the recorded process).
cpu_ms() {
	local pre=()

	[ "$1" = memhook ] && pre=("$MEMHOOK" record -q --follow-forks --kernel=off -o "$work/c.mht" --)
	shift
	"${pre[@]}" /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >/dev/null 2>&1
	awk '{ printf "%d\n", ($1 + $2) * 1000 }' "$work/cpu"
	rm -f "$work/c.mht"
}

# Part 6: memhook's in-process ns per malloc+free pair, split by step.
part6() {
	local nat=() mh=() n=() m=() c r t ab_nat=() ab_mh=()

	if [ ! -x "$HS" ]; then
		echo "== in-process cost per malloc+free pair: skipped ($HS is not built)"
		return
	fi
	echo "== in-process ns per malloc+free pair, by step (hotpath_steps; fp: frame pointers)"
	printf '%-34s %8s %8s %8s %8s %8s %8s\n' step fp_d3 fp_d15 fp_d30 nofp_d3 nofp_d15 nofp_d30
	"$HS" steps >"$work/steps" 2>"$work/err" || echo "   hotpath_steps exited $?: $(tail -1 "$work/err")"
	cat "$work/steps"
	for ((r = 0; r < STEP_REPS; r++)); do
		nat+=("$("$HS" pair "$STEP_PAIRS" | awk '$1 == "pair" { $1 = ""; print }')")
		rm -f "$work/p.mht"
		mh+=("$("$MEMHOOK" record -q --kernel=off -o "$work/p.mht" -- "$HS" pair "$STEP_PAIRS" |
			awk '$1 == "pair" { $1 = ""; print }')")
	done
	rm -f "$work/p.mht"
	# Column medians of the native and memhook rows, then the rows printed.
	for c in 1 2 3 4 5 6; do
		n[c]=$(median $(printf '%s\n' "${nat[@]}" | awk -v c=$c '{ print $c }'))
		m[c]=$(median $(printf '%s\n' "${mh[@]}" | awk -v c=$c '{ print $c }'))
	done
	printf '%-34s' "sum of the steps"
	awk '/^ / { next } { for (c = 2; c <= NF; c++) if ($c ~ /^[0-9]+$/) { k = c - (NF - 6); s[k] += $c } }
		END { for (k = 1; k <= 6; k++) printf " %8d", s[k]; printf "\n" }' "$work/steps"
	printf '%-34s' "pair, native"
	for c in 1 2 3 4 5 6; do printf ' %8s' "${n[c]}"; done
	printf '\n%-34s' "pair, under memhook"
	for c in 1 2 3 4 5 6; do printf ' %8s' "${m[c]}"; done
	printf '\n%-34s' "pair in-process (memhook - native)"
	for c in 1 2 3 4 5 6; do printf ' %8s' "$(awk -v a="${m[c]}" -v b="${n[c]}" 'BEGIN { print a - b }')"; done
	printf '\n'
	for t in 1 2; do
		ab_nat=()
		ab_mh=()
		for ((r = 0; r < STEP_REPS; r++)); do
			ab_nat+=("$(cpu_ms native "$AB" $t "$OPS" 30 64)")
			ab_mh+=("$(cpu_ms memhook "$AB" $t "$OPS" 30 64)")
		done
		echo "alloc_bench $t $OPS 30 64: program CPU native $(median "${ab_nat[@]}") ms," \
			"under memhook $(median "${ab_mh[@]}") ms: $(awk -v a="$(median "${ab_mh[@]}")" \
			-v b="$(median "${ab_nat[@]}")" -v n="$((t * OPS))" \
			'BEGIN { printf "%.0f", (a - b) * 1e6 / n }')" "ns in-process per pair"
	done
}

echo "memhook bench: $(date -u '+%F %T') UTC, $(nproc) cpus, reps=$REPS, alloc_bench ops/thread=$OPS"
for part in 1 2 3 4 5 6; do
	case $PARTS in
	*" $part "*) "part$part" ;;
	esac
done
