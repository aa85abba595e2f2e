#!/bin/sh
# bench/debuginfo.sh [RUNS]: what looking for names costs `ptrace-run
# report` (issue 12, docs/debuginfo.md). Two profiles recorded without any
# debug source: Debian's python3 on bench/workloads/py_objects.py (its
# frames in python3 and the libraries without a line), and
# tests/progs/debuginfo stripped (no name at all). Each is rendered
# (text, median of RUNS, default 5) four ways:
#   replay      no debug source: the recorded names, no file opened
#   debug-dir   --debug-dir=an empty directory: the files reopened and
#               searched, nothing found
#   difd-cold   DEBUGINFOD_URLS=a local debuginfod serving the unstripped
#               test program, an empty client cache every time (python3:
#               a 404 per module; the stripped program: a download)
#   difd-warm   the same with the cache of an earlier render (the misses
#               and the download remembered)
# with the ratio to replay measured in the same run, and whether
# burn_and_leak was named. The server listens on a free port of this
# machine (debuginfod 0.188 binds every address) and is stopped on exit.
# Not a test: no figure fails anything (bench/README.md).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
PY=/usr/bin/python3
for f in build/ptrace-run build/progs/debuginfo; do
	[ -x "$f" ] || { echo "bench/debuginfo.sh: $f missing (make all progs)" >&2; exit 2; }
done
for c in debuginfod strip "$PY"; do
	command -v "$c" >/dev/null || { echo "bench/debuginfo.sh: $c missing (scripts/install-deps.sh --bench)" >&2; exit 2; }
done
tmp=$(mktemp -d)
server=
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
root=$(pwd)
unset DEBUGINFOD_URLS DEBUGINFOD_CACHE_PATH DEBUGINFOD_TIMEOUT DEBUGINFOD_PROGRESS DEBUGINFOD_VERBOSE

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }

# The two profiles, recorded with no debug source.
mkdir -p "$tmp/bin" "$tmp/srv" "$tmp/empty"
strip --strip-all -o "$tmp/bin/stripped" build/progs/debuginfo
cp build/progs/debuginfo "$tmp/srv/"
build/ptrace-run -q -p "$tmp/python3.ptrace" -- "$PY" bench/workloads/py_objects.py >/dev/null
build/ptrace-run -q -p "$tmp/stripped.ptrace" -- "$tmp/bin/stripped" >/dev/null

# The server, once it serves the test program's debug file (at most 10 s).
id=$(LC_ALL=C readelf -n build/progs/debuginfo | sed -n 's/^ *Build ID: *//p')
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
debuginfod -F -p "$port" -d "$tmp/db.sqlite" -t 0 "$tmp/srv" >"$tmp/server.log" 2>&1 &
server=$!
"$PY" - "$port" "$id" <<'EOF' || { cat "$tmp/server.log" >&2; echo "bench/debuginfo.sh: debuginfod did not start" >&2; exit 1; }
import sys, time, urllib.request
url = "http://127.0.0.1:%s/buildid/%s/debuginfo" % (sys.argv[1], sys.argv[2])
end = time.time() + 10
while time.time() < end:
    try:
        if urllib.request.urlopen(url, timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
url="http://127.0.0.1:$port"

# render NAME CONFIG: one report, its seconds on stdout; names in $tmp/out.
render() {
	case $2 in
	replay) set -- env build/ptrace-run report "$tmp/$1.ptrace" ;;
	debug-dir) set -- env build/ptrace-run report --debug-dir="$tmp/empty" "$tmp/$1.ptrace" ;;
	difd-cold)
		rm -rf "$tmp/cache"
		set -- env DEBUGINFOD_URLS="$url" DEBUGINFOD_CACHE_PATH="$tmp/cache" build/ptrace-run report "$tmp/$1.ptrace"
		;;
	difd-warm) set -- env DEBUGINFOD_URLS="$url" DEBUGINFOD_CACHE_PATH="$tmp/cache" build/ptrace-run report "$tmp/$1.ptrace" ;;
	esac
	a=$(now)
	"$@" >"$tmp/out"
	b=$(now)
	awk -v a="$a" -v b="$b" 'BEGIN { print b - a }'
}

printf "%-9s %-10s %9s %7s %s\n" profile render "median s" ratio "burn_and_leak named"
for name in python3 stripped; do
	base=
	for config in replay debug-dir difd-cold difd-warm; do
		: >"$tmp/t"
		# The warm cache is the one an earlier render filled.
		[ "$config" = difd-warm ] && render "$name" difd-cold >/dev/null
		i=0
		while [ "$i" -lt "$RUNS" ]; do
			render "$name" "$config" >>"$tmp/t"
			i=$((i + 1))
		done
		m=$(median <"$tmp/t")
		[ -z "$base" ] && base=$m
		named=no
		grep -q 'burn_and_leak' "$tmp/out" && named=yes
		[ "$name" = python3 ] && named=-
		printf "%-9s %-10s %9.3f %6.2fx %s\n" "$name" "$config" "$m" \
			"$(awk -v m="$m" -v b="$base" 'BEGIN { print (b > 0) ? m / b : 0 }')" "$named"
	done
done
