#!/bin/sh
# check-layers.sh - fail when a source file includes a folder its own folder
# may not use. The rules are the "Layers" table of docs/DESIGN.md, read from
# there so the document and the check cannot drift: each row is
#   | `folder/` | may use: `a/`, `b/x.h`, ... |
# and an include "P" (spelled from the repository root, or "memhook/..." for
# include/memhook/) is allowed when P lies in the file's own top-level
# folder or starts with one of the row's entries.
#
# Usage: scripts/check-layers.sh [ROOT]   (default: the repository root)
# Prints one line per violation, "file:line: includes P, which FOLDER/ may
# not use", and exits 1 if there was any.
set -eu

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
design="$root/docs/DESIGN.md"
[ -r "$design" ] || { echo "check-layers: cannot read $design" >&2; exit 2; }

rules=$(sed -n '/^## Layers/,/^## /p' "$design" | grep -E '^\| `[a-z]+/` \| may use:')
[ -n "$rules" ] || { echo "check-layers: no Layers table in $design" >&2; exit 2; }

cd "$root"
status=0
for folder in $(printf '%s\n' "$rules" | sed -E 's/^\| `([a-z]+)\/`.*/\1/'); do
	allowed=$(printf '%s\n' "$rules" | grep -E "^\| \`$folder/\`" |
		sed -E 's/^[^|]*\|[^|]*may use:([^|]*)\|.*/\1/' | tr -d '`,' )
	[ -d "$folder" ] || continue
	# grep -n over the folder's C sources: file:line:#include "path"
	out=$(find "$folder" -name '*.[ch]' -exec grep -Hn '^#[[:space:]]*include[[:space:]]*"' {} + |
		awk -v self="$folder" -v allowed="$allowed" '
		{
			split($0, q, "\"")
			path = q[2]
			if (path == "vmlinux.h" || path ~ /\.skel\.h$/)
				next	# generated in the build directory
			split($0, loc, ":")
			if (path !~ /\// || path ~ /^\.\.?\//) {
				printf "%s:%s: includes \"%s\": spell it from the repository root\n",
					loc[1], loc[2], path
				next
			}
			if (index(path, self "/") == 1)
				next
			n = split(allowed, a, " ")
			ok = 0
			for (i = 1; i <= n; i++) {
				p = a[i]
				if (p == "include/")
					p = "memhook/"
				if (p != "" && index(path, p) == 1)
					ok = 1
			}
			if (!ok)
				printf "%s:%s: includes \"%s\", which %s/ may not use\n",
					loc[1], loc[2], path, self
		}') || true
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		status=1
	fi
done
exit $status
