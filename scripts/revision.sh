#!/bin/sh
# revision.sh - print the C header that names the git revision memhook is
# built from, for `memhook --version`.
#
# Usage: scripts/revision.sh SRCDIR
# SRCDIR must be the top of its own git work tree: a release tarball
# unpacked inside some other repository is "unknown revision", never that
# repository's commit. Never fails: without git, or without .git, the
# revision is "unknown revision".
set -u

src=$(cd "$1" && pwd -P) || exit 1
rev=
top=$(git -C "$src" rev-parse --show-toplevel 2>/dev/null) && top=$(cd "$top" && pwd -P)
if [ "${top:-}" = "$src" ]; then
	rev=$(git -C "$src" describe --always --dirty --abbrev=12 2>/dev/null) || rev=
fi
if [ -n "$rev" ]; then
	printf '#define MH_REVISION "git %s"\n' "$rev"
else
	printf '#define MH_REVISION "unknown revision"\n'
fi
