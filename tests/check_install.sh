#!/bin/sh
# SPDX-License-Identifier: MIT
# check_install.sh - memhook as installed: --version names the git
# revision it was built from (the oracle: git itself), and `make install
# DESTDIR=... PREFIX=...` gives a memhook that records and reports with
# the source and build trees out of sight (hidden under an empty tmpfs in
# a private mount namespace); `make uninstall` removes every file again.
set -u
. "$(dirname "$0")/tap.sh"

# Run make on the source tree, not as a sub-make of `make check`.
t_make() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$T_SRC" O="$T_BUILD" "$@"
}

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

installed_layout() {
	cat <<-LIST
	bin/memhook
	lib/memhook/libmemhook.so
	share/doc/memhook/README.md
	share/man/man1/memhook.1
	share/bash-completion/completions/memhook
	share/zsh/site-functions/_memhook
	LIST
	for f in "$T_SRC"/docs/*.md; do
		printf 'share/doc/memhook/%s\n' "${f##*/}"
	done
}

install_works_without_build_tree() {
	dest=$T_TMP/stage
	prefix=/opt/memhook-test
	root=$dest$prefix
	t_make install DESTDIR="$dest" PREFIX="$prefix" || t_fail "make install failed" || return 1
	installed_layout | sort > want
	(cd "$root" && find . -type f | sed 's|^\./||' | sort) > got
	diff want got || t_fail "installed files differ from the layout (- wanted, + got)" ||
		return 1
	cp "$T_BUILD/examples/leaky" . || return 1
	run="MEMHOOK_PRELOAD= '$root/bin/memhook' run --kernel=off -- '$T_TMP/leaky' 2>report >/dev/null"
	if unshare -m true 2>/dev/null; then
		# An empty tmpfs over both trees, seen by this command only.
		unshare -m sh -c "mount -t tmpfs none '$T_SRC' && mount -t tmpfs none '$T_BUILD' 2>/dev/null;
			[ ! -e '$T_BUILD/libmemhook.so' ] && $run" ||
			t_fail "installed memhook failed with the build tree hidden:" "$(cat report)" ||
			return 1
	else
		echo "build tree not hidden: unshare -m is not permitted here"
		sh -c "$run" || t_fail "installed memhook failed:" "$(cat report)" || return 1
	fi
	# examples/leaky.c: leaf_alloc() loses one block of 1024 bytes.
	grep -q 'definitely lost 1.0 KiB in 1 blocks' report && grep -q '#0  leaf_alloc ' report ||
		t_fail "the report does not name leaf_alloc's lost block:" "$(cat report)" || return 1
	t_make uninstall DESTDIR="$dest" PREFIX="$prefix" || t_fail "make uninstall failed" || return 1
	left=$(find "$dest" -type f)
	[ -z "$left" ] || t_fail "left after uninstall: $left"
}

t_run version_names_git_revision version_names_git_revision
t_run revision_unknown_without_git revision_unknown_without_git
t_run install_works_without_build_tree install_works_without_build_tree
t_done
