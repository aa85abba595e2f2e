#!/bin/sh
# bench/time.sh [RUNS]: what the figures over time, the timeline and the
# <ptrace-run.h> API cost (docs/time.md, docs/api.md). Not a test: no
# figure fails anything (bench/README.md).
#
#  1. The reader: a real program (python3, ~1 s of allocation-heavy
#     work) under ptrace-run with --interval=10ms against --interval=0,
#     runs alternated, medians of RUNS (default 7): the wall ratio is
#     the reader's cost (goal: under 1%).
#  2. The rings: bench/ring.c calls a tiny instrumented function on two
#     threads for 0.4 s with --timeline-min=0 (every call an event), at
#     rising rates: events kept and dropped at each; the highest rate
#     with none dropped is what the launcher drains.
#  3. The API: one region (begin + end) and one with metadata, in ns,
#     without ptrace-run and under it (bench/api.c, -O2).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-7}
B=build/bench
mkdir -p $B
[ -x build/ptrace-run ] || { echo "bench/time.sh: build/ptrace-run missing (make all)" >&2; exit 2; }
cc -O2 -g -Iinclude -o $B/api bench/api.c
cc -O2 -g -pthread -finstrument-functions -o $B/ring bench/ring.c
# The interpreter itself, not a wrapper script (pyenv's shims fork ~80
# shells first).
PYBIN=$(python3 -c 'import sys; print(sys.executable)')
PY='import random
d = {}
for i in range(400000):
    d[i % 5000] = [random.random() for _ in range(8)]
    s = str(d[i % 5000])'

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wall() { # command: prints its wall time in s
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "bench/time.sh: failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

: >$B/t_off
: >$B/t_on
: >$B/t_native
i=0
while [ "$i" -lt "$RUNS" ]; do
	wall "$PYBIN" -c "$PY" >>$B/t_native
	wall build/ptrace-run -q --no-profile --interval=0 -- "$PYBIN" -c "$PY" >>$B/t_off
	wall build/ptrace-run -q --no-profile --interval=10ms -- "$PYBIN" -c "$PY" >>$B/t_on
	i=$((i + 1))
done
n=$(median <$B/t_native)
off=$(median <$B/t_off)
on=$(median <$B/t_on)
echo "1. the reader: python3, median of $RUNS alternated runs"
printf '   %-28s %8.3f s\n' "native" "$n"
printf '   %-28s %8.3f s  %.2fx native\n' "ptrace-run --interval=0" "$off" "$(echo "$off / $n" | bc -l)"
printf '   %-28s %8.3f s  %.2fx native, %+.2f%% against --interval=0\n' "ptrace-run --interval=10ms" "$on" \
	"$(echo "$on / $n" | bc -l)" "$(echo "($on / $off - 1) * 100" | bc -l)"
build/ptrace-run -q --no-profile --json=$B/py.json --interval=10ms -- "$PYBIN" -c "$PY"
python3 -c "
import json; j = json.load(open('$B/py.json')); t = j['processes'][0]['time']
print('   reads kept: %d, interval %.1f ms' % (len(t['points']), t['interval_ns'] / 1e6))"

echo "2. the timeline rings: bench/ring.c, 2 threads, 0.4 s each, --timeline-min=0"
for gap in 20000 5000 2000 1000 500 0; do
	build/ptrace-run -q --no-profile --json=$B/ring.json --timeline-min=0 -- $B/ring 2 0.4 $gap 2>$B/ring.err
	python3 -c "
import json; j = json.load(open('$B/ring.json')); p = j['processes'][0]; t = p['function_timing']
kept, dropped = t['timeline_calls'], t['timeline_dropped']
calls = sum(f['calls'] for f in p['functions'] if f['name'] == 'tick')
print('   a call every %5s ns per thread: %9d calls, kept %8d, dropped %8d (%.1f%%): %.2f M events/s kept' % (
    '$gap' if '$gap' != '0' else 'min', calls, kept, dropped, 100.0 * dropped / max(1, kept + dropped),
    kept / 1e6 / 0.4))"
done

echo "3. the API, per region, median of $RUNS runs"
: >$B/a_nat
: >$B/a_prof
: >$B/m_nat
: >$B/m_prof
i=0
while [ "$i" -lt "$RUNS" ]; do
	$B/api 2>&1 >/dev/null | awk '{print $2 >> "'$B/a_nat'"; print $4 >> "'$B/m_nat'"}'
	build/ptrace-run -q --no-profile --timeline=0 -- $B/api 2>&1 >/dev/null | grep '^region_ns' |
		awk '{print $2 >> "'$B/a_prof'"; print $4 >> "'$B/m_prof'"}'
	i=$((i + 1))
done
printf '   %-28s %8.2f ns  (with metadata %.2f ns)\n' "without ptrace-run" "$(median <$B/a_nat)" "$(median <$B/m_nat)"
printf '   %-28s %8.2f ns  (with metadata %.2f ns)\n' "under ptrace-run" "$(median <$B/a_prof)" "$(median <$B/m_prof)"
