#!/bin/sh
# check_layers.sh - the layer checker (scripts/check-layers.sh) passes on
# the tree and fails, naming the file, on each kind of wrong include added
# to a copy of it. Prints TAP lines for tests/run.sh.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
checker="$root/scripts/check-layers.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - layers: $2"
	else
		echo "not ok $n - layers: $2"
		failed=1
	fi
}

out=$("$checker" "$root" 2>&1)
result $? "the tree follows docs/DESIGN.md${out:+ ($out)}"

# copy_tree: a fresh copy of the folders the checker reads.
copy_tree() {
	rm -rf "$tmp/tree" && mkdir -p "$tmp/tree" &&
	(cd "$root" && tar cf - docs include common preload trace kernel merger recorder cli) |
		(cd "$tmp/tree" && tar xf -)
}

# expect_refused FILE LINE WHAT: add LINE to FILE in a copy; the checker must
# exit 1 and name FILE.
expect_refused() {
	copy_tree || { result 1 "copy the tree"; return; }
	printf '%s\n' "$2" >> "$tmp/tree/$1"
	out=$("$checker" "$tmp/tree" 2>&1)
	status=$?
	case "$status:$out" in
	1:*"$1:"*) result 0 "$3 is refused" ;;
	*) result 1 "$3 is refused (exit $status: $out)" ;;
	esac
}

expect_refused merger/replay/replay.c '#include "recorder/session.h"' "merger including recorder/"
expect_refused preload/core.c '#include "merger/replay/blocks.h"' "preload including merger/"
expect_refused trace/reader.c '#include "kernel/collector.h"' "trace including kernel/"
expect_refused recorder/drain.c '#include "merger/report/report.h"' "recorder including merger/report/"
expect_refused cli/main.c '#include "preload/core.h"' "cli including preload/"
expect_refused merger/report/text.c '#include "report.h"' "an include not spelled from the root"
exit $failed
