#!/bin/sh
# Run every Criterion test binary given; print one summary line; fail when
# any test failed or when no test ran.
set -u
total=0; failed=0; bins=0; badbins=""
for t in "$@"; do
	[ -x "$t" ] || { echo "run-tests: missing test binary $t" >&2; failed=$((failed + 1)); continue; }
	bins=$((bins + 1))
	out=$("$t" --jobs 2 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E 'Synthesis: Tested: [0-9]+' | tail -n 1)
	case "$line" in
	*"Failing: 0 | Crashing: 0"*) printf '%s\n' "$out" | grep -v '^\[----\]' | tail -n 40 ;;
	# A failure: the assertions' own lines too, to say what failed.
	*) printf '%s\n' "$out" | grep -v '^\[----\] *$' | grep -B1 -A12 'Assertion Failed\|FAIL\|CRASH\|Synthesis' | tail -n 120 ;;
	esac
	n=$(printf '%s' "$line" | sed -n 's/.*Tested: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	total=$((total + ${n:-0}))
	failed=$((failed + ${f:-0} + ${c:-0}))
	if [ $rc -ne 0 ] && [ "${f:-0}" = 0 ] && [ "${c:-0}" = 0 ]; then
		failed=$((failed + 1)); badbins="$badbins $t"
	fi
done
passed=$((total - failed))
[ $passed -lt 0 ] && passed=0
echo "$passed passed, $failed failed"
if [ "$total" -eq 0 ]; then
	echo "run-tests: no test ran" >&2
	exit 1
fi
[ "$failed" -eq 0 ] || { echo "run-tests: failures${badbins:+ (binary exit:$badbins)}" >&2; exit 1; }
exit 0
