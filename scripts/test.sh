#!/usr/bin/env bash
# The project's test command (README.md): unit tests and integration tests
# under the race detector, one iteration of every benchmark, the tests of
# the quic-go twin of tsumugi perf, then a short run of every fuzz target.
# FUZZTIME sets how long each fuzz target runs (default 3s).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt, go vet"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "not gofmt-ed (run gofmt -w):" $unformatted >&2
	exit 1
fi
go vet ./...

echo "== unit tests (race)"
go test -race -count=1 ./...

if [ -f integration_test/go.mod ]; then
	echo "== integration tests (race)"
	(cd integration_test && go vet ./... && go test -race -count=1 -timeout 20m ./...)
fi

echo "== benchmarks, one iteration each (they must run; their timings are not checked)"
go test -run='^$' -bench=. -benchtime=1x ./...
if [ -f bench/quicgo/go.mod ]; then
	echo "== the quic-go twin of tsumugi perf"
	(cd bench/quicgo && go test -count=1 ./...)
fi

echo "== fuzz smoke"
fuzztime=${FUZZTIME:-3s}
fuzzlog=$(mktemp)
trap 'rm -f "$fuzzlog"' EXIT
# Every func FuzzXxx in a _test.go file, run alone for $fuzztime, without
# minimizing: the fuzzer minimizes every new interesting input too, for up
# to a minute, and a run that ends meanwhile fails with "fuzzing process
# hung or terminated unexpectedly while minimizing" (golang/go#52569; seen
# here with FuzzConnDatagrams, whose executions take about a millisecond).
# A failing input is then written as found.
grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
	dir=$(dirname "$f")
	case "$dir" in ./integration_test*) continue ;; esac
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed 's/^func //'); do
		echo "-- $dir $name"
		if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -fuzzminimizetime=0 "$dir" >"$fuzzlog" 2>&1; then
			cat "$fuzzlog"
			exit 1
		fi
	done
done
echo "== all tests passed"
