#!/bin/sh
# bench/threads.sh [N [RUNS]]: thread creation cost per thread, natively
# and under ptrace-run with --cpu-hz=0 and with the default sampler.
# bench/threads.c starts N threads (default 8000), 8 at a time, each
# allocating one block; it measures wall and CPU time (user + system, all
# threads) around that loop only, so launcher start-up and the report are
# not counted. Prints the median of RUNS runs (default 5) of each, and the
# ratio to native. Not a test: no figure fails anything (bench/README.md).
set -eu
cd "$(dirname "$0")/.."
N=${1:-8000}
RUNS=${2:-5}
mkdir -p build/bench
cc -O2 -g -pthread -o build/bench/threads bench/threads.c
[ -x build/ptrace-run ] || { echo "bench/threads.sh: build/ptrace-run missing (make all)" >&2; exit 2; }

# median of the figures on stdin
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

measure() { # name, then the command; prints "name wall cpu"
	name=$1
	shift
	: >build/bench/threads.wall
	: >build/bench/threads.cpu
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		out=$("$@" 2>&1 >/dev/null) || { echo "$name: run failed: $out" >&2; exit 1; }
		line=$(echo "$out" | grep '^wall_us_per_thread') || { echo "$name: no figures: $out" >&2; exit 1; }
		echo "$line" | awk '{print $2}' >>build/bench/threads.wall
		echo "$line" | awk '{print $4}' >>build/bench/threads.cpu
		i=$((i + 1))
	done
	echo "$name $(median <build/bench/threads.wall) $(median <build/bench/threads.cpu)"
}

{
	measure native build/bench/threads "$N"
	measure cpu-hz=0 build/ptrace-run -q --no-profile --cpu-hz=0 -- build/bench/threads "$N"
	measure default build/ptrace-run -q --no-profile -- build/bench/threads "$N"
} | awk -v n="$N" -v runs="$RUNS" '
	BEGIN { printf "thread creation, %d threads, median of %d runs (us per thread)\n", n, runs
	        printf "%-10s %10s %8s %10s %8s\n", "", "wall", "x", "cpu", "x" }
	NR == 1 { w0 = $2; c0 = $3 }
	{ printf "%-10s %10.1f %8.2f %10.1f %8.2f\n", $1, $2, $2 / w0, $3, $3 / c0 }'
