#!/bin/sh
# bench/leakcheck.sh [RUNS]: what the leak check at exit costs
# (docs/leaks.md). Not a test: no figure fails anything (bench/README.md).
#
# Real programs, each run unprofiled, under ptrace-run --leak-check=off
# and under ptrace-run --leak-check=full (the default), alternated,
# medians of RUNS (default 5) of the wall time; then the check's own time
# (leak_check.scan_ns of the JSON), the memory it read and what it found:
#   sqlite3   bench/workloads/sqlite_orders.sql on an in-memory database
#   python3   bench/workloads/py_objects.py
#   lua       bench/workloads/lua_mix.lua, when bench/lua has built the
#             interpreter (build/bench/lua/lua-O2)
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
B=build/bench/leakcheck
mkdir -p $B
[ -x build/ptrace-run ] || { echo "bench/leakcheck.sh: build/ptrace-run missing (make all)" >&2; exit 2; }
PYBIN=$(python3 -c 'import sys; print(sys.executable)')
LUA=build/bench/lua/lua-O2

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
wall() { # stdin-file command...: prints its wall time in s
	in=$1
	shift
	s=$(date +%s.%N)
	"$@" <"$in" >/dev/null 2>&1 || { echo "bench/leakcheck.sh: failed: $*" >&2; exit 1; }
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}

one() { # name stdin-file command...
	name=$1
	in=$2
	shift 2
	: >$B/$name.native
	: >$B/$name.off
	: >$B/$name.full
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		wall "$in" "$@" >>$B/$name.native
		wall "$in" build/ptrace-run -q --no-profile --leak-check=off -- "$@" >>$B/$name.off
		wall "$in" build/ptrace-run -q --no-profile --leak-check=full -- "$@" >>$B/$name.full
		i=$((i + 1))
	done
	n=$(median <$B/$name.native)
	off=$(median <$B/$name.off)
	full=$(median <$B/$name.full)
	build/ptrace-run -q --no-profile --json=$B/$name.json -- "$@" <"$in" >/dev/null 2>&1
	printf '%-8s native %7.3f s | off %7.3f s %5.2fx | full %7.3f s %5.2fx (%+.1f%% against off)\n' "$name" "$n" \
		"$off" "$(echo "$off / $n" | bc -l)" "$full" "$(echo "$full / $n" | bc -l)" \
		"$(echo "($full / $off - 1) * 100" | bc -l)"
	python3 - "$B/$name.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    lc = p.get("memory", {}).get("leak_check", {})
    if not lc.get("made"):
        continue
    mib = 1 << 20
    print("         check %.1f ms: read %.1f MiB of roots and %.1f MiB of blocks; %d blocks: "
          "definitely lost %d B, indirectly %d B, possibly %d B, still reachable %d B"
          % (lc["scan_ns"] / 1e6, lc["root_bytes"] / mib, lc["block_bytes"] / mib, lc["blocks_found"],
             lc["definitely_lost"]["bytes"], lc["indirectly_lost"]["bytes"], lc["possibly_lost"]["bytes"],
             lc["still_reachable"]["bytes"]))
PY
}

echo "the leak check at exit: medians of $RUNS alternated runs (wall time)"
one sqlite3 bench/workloads/sqlite_orders.sql sqlite3 :memory:
one python3 /dev/null "$PYBIN" bench/workloads/py_objects.py
if [ -x "$LUA" ]; then
	one lua /dev/null "$LUA" bench/workloads/lua_mix.lua
else
	echo "lua      not built: run bench/lua once (it builds $LUA)"
fi
