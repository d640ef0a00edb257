# SPDX-License-Identifier: MIT
# tap.sh - what the shell test scripts (tests/check_*.sh) share: the lines
# tests/run.sh counts, the build and source folders, a scratch folder.
# Sourced, never run. Test code only: it may print anything but must
# never hang (every command that waits has a time limit).

# The runner sets MEMHOOK_BUILD_DIR (absolute); run by hand, build/ is used.
T_SRC=$(cd "$(dirname "$0")/.." && pwd)
T_BUILD=${MEMHOOK_BUILD_DIR:-$T_SRC/build}
T_MEMHOOK=$T_BUILD/memhook
t_failed=0

# A scratch folder outside the source and build trees, removed at exit.
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/memhook-test.XXXXXX") || exit 1
trap 'rm -rf "$T_TMP"' EXIT

# t_run NAME FUNCTION: run one test case in a subshell; "ok - NAME" if it
# returns 0, else "not ok - NAME" and what it printed.
t_run() {
	if out=$(cd "$T_TMP" && "$2" 2>&1); then
		printf 'ok - %s\n' "$1"
	else
		printf 'not ok - %s\n' "$1"
		printf '%s\n' "$out" | sed 's/^/# /'
		t_failed=1
	fi
}

# t_skip NAME REASON: the runner counts the case as skipped, never passed.
t_skip() {
	printf 'SKIP %s: %s\nok - %s # skip\n' "$1" "$2" "$1"
}

# t_fail MESSAGE...: say why a case fails, and fail it (use: t_fail ... || return 1).
t_fail() {
	printf '%s\n' "$*"
	return 1
}

# t_done: the script's exit status.
t_done() {
	exit "$t_failed"
}
