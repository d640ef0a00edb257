#!/bin/sh
# SPDX-License-Identifier: MIT
# check_install.sh - memhook as installed: --version names the git
# revision it was built from (the oracle: git itself).
set -u
. "$(dirname "$0")/tap.sh"

version_names_git_revision() {
	v=$("$T_MEMHOOK" --version) || t_fail "memhook --version failed" || return 1
	head=$(git -C "$T_SRC" rev-parse HEAD 2>/dev/null) || head=
	if [ -z "$head" ]; then
		[ "$v" = "${v%(unknown revision)}(unknown revision)" ] ||
			t_fail "not a git tree, yet: $v" || return 1
		return 0
	fi
	rev=$(printf '%s\n' "$v" | sed -n 's/^memhook [0-9][0-9.]* (git \([0-9a-f]\{7,\}\)\(-dirty\)\{0,1\})$/\1/p')
	[ -n "$rev" ] || t_fail "unexpected --version: '$v'" || return 1
	case $head in
	"$rev"*) return 0 ;;
	*) t_fail "--version names $rev, HEAD is $head" ;;
	esac
}

# The script the build runs, on a tree of its own: a git repository, a
# folder inside it (a tarball unpacked there), a folder outside any.
revision_unknown_without_git() {
	gen=$T_SRC/scripts/revision.sh
	mkdir -p repo/unpacked plain || return 1
	git -C repo init -q && git -C repo -c user.name=t -c user.email=t@example.org \
		commit -q --allow-empty -m t || t_fail "cannot make a git repository" || return 1
	head=$(git -C repo rev-parse HEAD)
	out=$("$gen" repo)
	case $out in
	*"\"git ${head%"${head#????????????}"}\""*) ;;
	*) t_fail "in a repository at $head: $out" || return 1 ;;
	esac
	out=$("$gen" repo/unpacked)
	[ "$out" = '#define MH_REVISION "unknown revision"' ] ||
		t_fail "inside another repository: $out" || return 1
	out=$("$gen" plain)
	[ "$out" = '#define MH_REVISION "unknown revision"' ] || t_fail "without git: $out"
}

t_run version_names_git_revision version_names_git_revision
t_run revision_unknown_without_git revision_unknown_without_git
t_done

