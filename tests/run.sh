#!/bin/sh
# run.sh - run every test program, then print one summary line.
#
# Usage: tests/run.sh BUILD_DIR TEST_PROGRAM...
# Each program is a Check suite (or a script) run with MEMHOOK_BUILD_DIR set.
# A test that cannot run here prints "SKIP <name>: <reason>" and counts as
# skipped, never as passed. Exits non-zero if anything failed.
set -u

build_dir=$1
shift
# Absolute: tests record module paths and read them back from other directories.
MEMHOOK_BUILD_DIR=$(cd "$build_dir" && pwd) || exit 1
export MEMHOOK_BUILD_DIR
export CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-300}"
# A DEBUG=1 build: UBSan and ASan errors fail the test; leak reports stay
# off, since suites leave writers open and children exit mid-way on purpose.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
skipped=0
failed_names=
log_dir="$build_dir/tests/logs"
mkdir -p "$log_dir"

for prog in "$@"; do
	name=$(basename "$prog")
	log="$log_dir/$name.log"
	printf '== %s\n' "$name"
	CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent "$prog" > "$log" 2>&1
	status=$?
	grep -E '^(ok|not ok|SKIP)' "$log" | sed 's/^/   /'
	# A skipped case prints SKIP and then returns, so Check also says "ok"
	# for it: count it once, as skipped.
	s=$(grep -c '^SKIP' "$log")
	p=$(($(grep -c '^ok' "$log") - s))
	f=$(grep -c '^not ok' "$log")
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		# The program itself failed outside any test case.
		f=1
		printf '   not ok - %s exited with status %d (log: %s)\n' "$name" "$status" "$log"
	fi
	if [ "$f" -ne 0 ]; then
		failed_names="$failed_names $name"
		sed 's/^/   | /' "$log" | grep -v '^   | ok' | tail -40
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done

[ -n "$failed_names" ] && printf 'failed suites:%s\n' "$failed_names"
printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" -eq 0 ]
