#!/bin/sh
# SPDX-License-Identifier: MIT
# check_watch.sh - what memhook shows while the program runs: the status
# line on a terminal (and nowhere else), and `memhook run --live` (the
# growing stack on top with a growing figure, q to stop watching). Runs
# the built memhook on tests/progs/live_grow in a tmux pane (what a person
# sees: tmux capture-pane) or with stderr to a file and a pipe. Oracles:
# the program's own output and exit status in a native run, and what
# live_grow.c says it allocates.
set -u
. "$(dirname "$0")/tap.sh"

T_PROG=$T_BUILD/tests/progs/live_grow
TM="tmux -L memhook-watch-$$"

# tmux_start COMMAND: run COMMAND in a fresh 150 x 40 pane; it writes its
# exit status to ./status when it ends.
tmux_start() {
	rm -f status
	$TM kill-server 2>/dev/null
	$TM new-session -d -x 150 -y 40 "cd '$T_TMP' && $1; echo \$? > status; sleep 600"
}

# tmux_wait_for REGEX SECONDS: poll the pane until a line matches (0) or time runs out (1).
tmux_wait_for() {
	i=0
	while [ "$i" -lt "$(($2 * 10))" ]; do
		$TM capture-pane -p > pane && grep -Eq "$1" pane && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_status SECONDS: wait for ./status; 1 on time out.
wait_status() {
	i=0
	while [ ! -s status ] && [ "$i" -lt "$(($1 * 10))" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -s status ]
}

STATUS_RE='^memhook: [0-9.]+ s  [0-9.]+( [kM])? events/s  heap [^ ]+ [KMG]?i?B.*  RSS [0-9.]+ [KMG]?i?B  trace [0-9.]+ [KMG]?i?B  lost [0-9]+$'

# The program's own output and status, natively: what memhook must leave untouched.
native() {
	"$T_PROG" "$@" > native.out
	echo $? > native.status
}

progress_line_on_a_terminal() {
	native 30 100
	# The program writes to the terminal too: its lines must stay whole.
	tmux_start "'$T_MEMHOOK' run --kernel=off -o report -- '$T_PROG' 30 100"
	tmux_wait_for "$STATUS_RE" 10 || t_fail "no status line in the pane:" "$(cat pane)" || return 1
	cp pane during
	wait_status 30 || t_fail "memhook did not end" || return 1
	$TM capture-pane -p > after
	$TM kill-server
	[ "$(cat status)" = "$(cat native.status)" ] ||
		t_fail "exit status $(cat status), natively $(cat native.status)" || return 1
	! grep -E 'step .*memhook:|memhook:.*step' during ||
		t_fail "the status line and the program's output share a line:" "$(cat during)" ||
		return 1
	! grep -q 'events/s' after || t_fail "the status line was left behind:" "$(cat after)" ||
		return 1
	# Every line of the program that is still on the screen is a line it wrote.
	grep '^step' after > shown
	[ "$(wc -l < shown)" -ge 20 ] || t_fail "the program's output is not on the screen:" \
		"$(cat after)" || return 1
	tail -n "$(wc -l < shown)" native.out | diff - shown ||
		t_fail "the program's lines on the screen differ from its own output" || return 1
	tmux_start "'$T_MEMHOOK' run --kernel=off --no-progress -o report -- '$T_PROG' 20 100"
	! tmux_wait_for 'events/s' 4 || t_fail "a status line despite --no-progress:" "$(cat pane)"
	$TM kill-server
}

no_progress_line_into_files_or_pipes() {
	native 10 100
	"$T_MEMHOOK" run --kernel=off -o report -- "$T_PROG" 10 100 > out 2> err
	[ $? -eq "$(cat native.status)" ] || t_fail "exit status changed" || return 1
	diff native.out out || t_fail "the program's output changed" || return 1
	"$T_MEMHOOK" run --kernel=off -o report -- "$T_PROG" 10 100 2>&1 | cat > piped
	for f in err piped; do
		! grep -q 'events/s' "$f" || t_fail "a status line in $f:" "$(cat "$f")" || return 1
		! grep -q "$(printf '\033')" "$f" || t_fail "escape sequences in $f" || return 1
	done
}

# top_stack_bytes: the LIVE figure of the first stack row of the live view
# in ./pane, in bytes, and its stack after it ("0 -" when there is none).
top_stack_bytes() {
	awk '/^ +LIVE +GROWTH/ { getline; n = $1; u = $2
		m = u == "KiB" ? 1024 : u == "MiB" ? 1048576 : u == "GiB" ? 1073741824 : 1
		sub(/^ *[^ ]+ [^ ]+ +[^ ]+ [^ ]+ +[0-9]+ +[^ ]+ [^ ]+  /, "")
		printf "%d %s\n", n * m, $0; found = 1 }
	END { if (!found) print "0 -" }' pane
}

live_view_shows_the_growing_stack() {
	native 40 100
	tmux_start "'$T_MEMHOOK' run --kernel=off --live -o report -- '$T_PROG' 40 100 > out"
	tmux_wait_for '^ +[0-9.]+ [KMG]?i?B .*  grow_one_stack < main' 15 ||
		t_fail "grow_one_stack is not at the top of the live view:" "$(cat pane)" || return 1
	first=$(top_stack_bytes)
	sleep 1.5
	$TM capture-pane -p > pane
	second=$(top_stack_bytes)
	case $second in
	*" grow_one_stack < main"*) ;;
	*) t_fail "grow_one_stack left the top of the live view:" "$(cat pane)" || return 1 ;;
	esac
	[ "${second%% *}" -gt "${first%% *}" ] ||
		t_fail "its live bytes did not grow: ${first%% *} then ${second%% *}" || return 1
	wait_status 30 || t_fail "memhook did not end" || return 1
	$TM capture-pane -p > after
	$TM kill-server
	! grep -q 'STACK (innermost' after || t_fail "the live view stayed on screen:" "$(cat after)" ||
		return 1
	[ "$(cat status)" = "$(cat native.status)" ] ||
		t_fail "exit status $(cat status), natively $(cat native.status)" || return 1
	diff native.out out || t_fail "the program's output changed" || return 1
	grep -q '#0  grow_one_stack ' report || t_fail "the final report does not name grow_one_stack"
}

live_view_q_stops_watching() {
	native 40 100
	tmux_start "'$T_MEMHOOK' run --kernel=off --live -o report -- '$T_PROG' 40 100 > out"
	tmux_wait_for 'STACK \(innermost' 15 || t_fail "no live view:" "$(cat pane)" || return 1
	$TM send-keys q
	i=0
	while $TM capture-pane -p | grep -q 'STACK (innermost' && [ "$i" -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ ! -s status ] || t_fail "the program had ended before q was read" || return 1
	! $TM capture-pane -p | grep -q 'STACK (innermost' || t_fail "q did not close the view" ||
		return 1
	wait_status 30 || t_fail "memhook did not end" || return 1
	$TM kill-server
	[ "$(cat status)" = "$(cat native.status)" ] ||
		t_fail "exit status $(cat status), natively $(cat native.status)" || return 1
	diff native.out out || t_fail "the program's output changed"
}

if ! command -v tmux >/dev/null; then
	for t in progress_line_on_a_terminal live_view_shows_the_growing_stack live_view_q_stops_watching; do
		t_skip "$t" "tmux is not installed (scripts/install-deps.sh)"
	done
else
	t_run progress_line_on_a_terminal progress_line_on_a_terminal
	t_run live_view_shows_the_growing_stack live_view_shows_the_growing_stack
	t_run live_view_q_stops_watching live_view_q_stops_watching
fi
t_run no_progress_line_into_files_or_pipes no_progress_line_into_files_or_pipes
$TM kill-server 2>/dev/null
t_done
