#!/bin/sh
# install-deps.sh - install every Debian package memhook's build, tests and
# benchmarks need. Safe to re-run: apt-get skips what is already installed.
set -eu

PACKAGES="
	build-essential pkg-config make gcc g++ clang llvm
	libbpf-dev bpftool libelf-dev libdw-dev elfutils libunwind-dev
	uthash-dev check libzstd-dev zstd zlib1g-dev
	valgrind heaptrack binutils
	python3 python3-junitparser perl git sqlite3 procps util-linux time
	libclang-rt-14-dev
"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES
