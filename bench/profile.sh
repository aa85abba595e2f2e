#!/bin/sh
# bench/profile.sh [RUNS]: the profile file (issue 9) on real workloads:
# its size next to the JSON report's and heaptrack's compressed file for
# the same run, and how long `ptrace-run report` takes to render it as
# text and as HTML (median of RUNS renders, default 3). Workloads: Debian's
# python3 on bench/workloads/py_objects.py, sqlite3 on
# bench/workloads/sqlite_orders.sql, and 400 short processes
# (bash -c 'for i in $(seq 200); do ls; done'). Not a test: no figure
# fails anything (bench/README.md).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-3}
[ -x build/ptrace-run ] || { echo "bench/profile.sh: build/ptrace-run missing (make all)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$(pwd)
PY=/usr/bin/python3

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
now() { date +%s.%N; }
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# name, then the command (run in $tmp/work with stdin from $IN)
bench() {
	name=$1
	shift
	rm -rf "$tmp/work" && mkdir -p "$tmp/work"
	(cd "$tmp/work" && "$root/build/ptrace-run" -q --json="$tmp/$name.json" -p "$tmp/$name.ptrace" -- "$@" \
		<"$IN" >/dev/null 2>&1) || { echo "$name: the profiled run failed" >&2; return 1; }
	hsize=n/a
	if command -v heaptrack >/dev/null; then
		(cd "$tmp/work" && heaptrack -o "$tmp/$name.heaptrack" "$@" <"$IN" >/dev/null 2>&1) || true
		f=$(ls "$tmp/$name".heaptrack* 2>/dev/null | head -n 1)
		[ -n "$f" ] && hsize=$(size "$f")
	fi
	: >"$tmp/t.text"
	: >"$tmp/t.html"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		a=$(now)
		build/ptrace-run report --all "$tmp/$name.ptrace" >/dev/null
		b=$(now)
		build/ptrace-run report --format=html -o "$tmp/$name.html" "$tmp/$name.ptrace"
		c=$(now)
		awk -v a="$a" -v b="$b" 'BEGIN { print b - a }' >>"$tmp/t.text"
		awk -v a="$b" -v b="$c" 'BEGIN { print b - a }' >>"$tmp/t.html"
		i=$((i + 1))
	done
	printf "%-12s %12s %12s %12s %12s %9.3f %9.3f\n" "$name" "$(size "$tmp/$name.ptrace")" "$(size "$tmp/$name.json")" \
		"$hsize" "$(size "$tmp/$name.html")" "$(median <"$tmp/t.text")" "$(median <"$tmp/t.html")"
}

printf "%-12s %12s %12s %12s %12s %9s %9s\n" workload "profile B" "JSON B" "heaptrack B" "HTML B" "text s" "html s"
IN=/dev/null bench python3 "$PY" "$root/bench/workloads/py_objects.py"
IN="$root/bench/workloads/sqlite_orders.sql" bench sqlite3 sqlite3 :memory:
IN=/dev/null bench procs-400 bash -c 'for i in $(seq 200); do ls; done'
