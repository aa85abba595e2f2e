#!/bin/sh
# Install what ptrace-run needs to build, test and benchmark, from Debian's
# package registry. Idempotent: installs only what is missing.
set -eu

BUILD_PKGS="gcc g++ clang libclang-rt-14-dev make pkg-config libunwind-dev libdw-dev libelf-dev libjansson-dev libcriterion-dev libzstd-dev zlib1g-dev libncurses-dev"
# The real consumers of the report formats, opened by the tests: go tool
# pprof (golang-go), callgrind_annotate and ms_print (valgrind), the HTML
# page in headless Chromium (chromium); the live view in a tmux pane (tmux).
# Stripped programs' names (tests/test_e2e_debuginfo.c): strip, objcopy,
# nm and readelf (binutils), xz for MiniDebugInfo, a local debuginfod.
# Real programs whose stacks the walker is checked on: python3, sqlite3.
TEST_PKGS="golang-go valgrind chromium tmux binutils xz-utils debuginfod python3 sqlite3"
# dpkg-dev: dpkg-source, which bench/lua's apt-get source unpacks the Lua source with.
BENCH_PKGS="heaptrack uftrace google-perftools libgoogle-perftools-dev python3 sqlite3 xz-utils dpkg-dev"

want="$BUILD_PKGS $TEST_PKGS"
if [ "${1:-}" = "--bench" ]; then
	want="$want $BENCH_PKGS"
fi

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	exit 0
fi

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
