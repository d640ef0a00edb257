#!/bin/sh
# install-deps.sh - install every Debian package memhook's build, tests and
# benchmarks need, and the npm packages the HTML report is built with
# (pinned, into vendor/node_modules: not committed; VENDOR_DIR=dir to put
# them elsewhere, then build with make VENDOR=dir/node_modules). Safe to
# re-run: apt-get and npm skip what is already installed.
set -eu

# The HTML report's charting and flame-graph libraries (merger/build.mk).
NPM_PACKAGES="d3@7.9.2 d3-flame-graph@5.0.0 uplot@1.6.32"
# Test-only: a DevTools Protocol client to read the page's console in Chromium.
NPM_TEST_PACKAGES="ws@8.18.3"
VENDOR_DIR=${VENDOR_DIR:-$(dirname "$0")/../vendor}

PACKAGES="
	build-essential pkg-config make gcc g++ clang llvm
	libbpf-dev bpftool libelf-dev libdw-dev elfutils libunwind-dev
	uthash-dev check libzstd-dev zstd zlib1g-dev libncurses-dev
	libprotobuf-c-dev protobuf-c-compiler golang-go chromium
	valgrind heaptrack binutils
	python3 python3-junitparser perl git sqlite3 procps util-linux time
	scdoc man-db zsh tmux
	libclang-rt-14-dev
"

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES

# npm: Debian's, unless a Node.js with npm is already installed.
if ! command -v npm >/dev/null 2>&1; then
	$SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
mkdir -p "$VENDOR_DIR"
# shellcheck disable=SC2086 # word splitting of the package list is wanted
npm install --prefix "$VENDOR_DIR" --no-audit --no-fund --save-exact $NPM_PACKAGES $NPM_TEST_PACKAGES
