#!/usr/bin/env bash
# Side-by-side performance of Tsumugi and quic-go (issue 8).
#
# Builds `tsumugi` (./cmd/tsumugi) and `quicgo` (./bench/quicgo, its own
# module, quic-go on both ends), then runs every workload in alternating
# rounds — ours, quic-go, ours, quic-go, ... — and prints a markdown table:
# per metric the median of ours and of quic-go, the ratio ours/quic-go, the
# target of issue 8 and PASS or FAIL.
#
# Workloads: bulk (-size BULK_SIZE), streams (defaults: 10000 × 32 B → 1 KiB,
# 100 at a time), handshakes sequential (-c 1) and 4 concurrent (-c 4),
# memory (defaults: 100 idle connections, 1000 open streams).
#
# Environment:
#   ROUNDS     rounds per workload and stack (default 5)
#   BULK_SIZE  bytes of the bulk transfer (default 1073741824, 1 GiB)
#   MODES      workloads to run, space-separated, from:
#              bulk streams handshakes-c1 handshakes-c4 memory (default: all)
#   EXTRA      extra flags for both commands, e.g. "-proc"
#   TIMEOUT    seconds one run may take (default 600)
#   RAW        file to keep the raw RESULT lines in (default: a temporary file)
#
# The table goes to stdout, progress to stderr. The exit status is 0 when
# every run printed its RESULT line, whatever the verdicts; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-5}
bulk_size=${BULK_SIZE:-1073741824}
modes=${MODES:-"bulk streams handshakes-c1 handshakes-c4 memory"}
extra=${EXTRA:-}
limit=${TIMEOUT:-600}

case "$rounds" in '' | *[!0-9]* | 0) echo "perf-compare: ROUNDS must be a positive integer" >&2; exit 2 ;; esac
case "$bulk_size" in '' | *[!0-9]*) echo "perf-compare: BULK_SIZE must be a number of bytes" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=${RAW:-$work/results.txt}
: >"$raw"

echo "== building tsumugi and quicgo" >&2
go build -o "$work/tsumugi" ./cmd/tsumugi
(cd bench/quicgo && go build -o "$work/quicgo" .)

# args prints the perf flags of a workload.
args() {
	case "$1" in
	bulk) echo "-mode bulk -size $bulk_size" ;;
	streams) echo "-mode streams" ;;
	handshakes-c1) echo "-mode handshakes -c 1" ;;
	handshakes-c4) echo "-mode handshakes -c 4" ;;
	memory) echo "-mode memory" ;;
	*) return 1 ;;
	esac
}

failed=0
# one runs one stack on one workload and appends "<workload> <stack> RESULT ..." to $raw.
one() {
	local workload=$1 stack=$2 out
	# shellcheck disable=SC2046 # the flags are meant to split
	if out=$(timeout "$limit" "$work/$stack" perf $(args "$workload") $extra 2>"$work/stderr"); then
		out=$(grep '^RESULT ' <<<"$out" || true)
	else
		out=""
	fi
	if [ -z "$out" ]; then
		local why
		why=$(grep -m 1 -iE 'perf:|flag|panic|error' "$work/stderr" || tail -n 3 "$work/stderr")
		echo "   $workload $stack: FAILED: $(tr '\n' ' ' <<<"$why")" >&2
		failed=1
		return
	fi
	echo "   $workload $stack: $out" >&2
	echo "$workload $stack $out" >>"$raw"
}

for workload in $modes; do
	if ! args "$workload" >/dev/null; then
		echo "perf-compare: unknown workload $workload (MODES takes: bulk streams handshakes-c1 handshakes-c4 memory)" >&2
		exit 2
	fi
done

for workload in $modes; do
	echo "== $workload: $(args "$workload")${extra:+ $extra}, $rounds rounds" >&2
	for ((r = 1; r <= rounds; r++)); do
		one "$workload" tsumugi
		one "$workload" quicgo
	done
done

quicgo_version=$(cd bench/quicgo && go list -m -f '{{.Version}}' github.com/quic-go/quic-go)

# The table. Each row: workload, key, label, direction (ge: more is
# better, le: less is better, "": no target), target.
awk -v rounds="$rounds" -v bulk="$bulk_size" -v extra="$extra" -v qv="$quicgo_version" -v modes="$modes" '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n == 0) return "none"
	if (n % 2) return a[(n + 1) / 2] + 0
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function num(v,    x) {
	if (v == "none") return "n/a"
	x = v < 0 ? -v : v
	if (x >= 1000 || v == int(v)) return sprintf("%.0f", v)
	if (x >= 1) return sprintf("%.2f", v)
	return sprintf("%.3g", v)
}
function row(w, key, label, dir, target,    o, q, ratio, verdict, tgt) {
	if (!(w in wanted)) return
	o = median(vals[w, "tsumugi", key])
	q = median(vals[w, "quicgo", key])
	ratio = "n/a"
	verdict = ""
	if (o != "none" && q != "none" && q > 0 && o >= 0) ratio = o / q
	tgt = "—"
	if (dir == "ge") tgt = "≥ " target "×"
	if (dir == "le") tgt = "≤ " target "×"
	if (dir != "") {
		if (ratio == "n/a") verdict = "FAIL"
		else if (dir == "ge") verdict = ratio >= target ? "PASS" : "FAIL"
		else verdict = ratio <= target ? "PASS" : "FAIL"
	}
	printf "| %s | %s | %s | %s | %s | %s |\n", label, num(o), num(q), ratio == "n/a" ? "n/a" : sprintf("%.2f", ratio), tgt, verdict
}
{
	w = $1; stack = $2
	for (i = 5; i <= NF; i++) {
		eq = index($i, "=")
		if (eq == 0) continue
		k = substr($i, 1, eq - 1); v = substr($i, eq + 1)
		if (v == "NaN") continue
		vals[w, stack, k] = vals[w, stack, k] " " v
	}
}
END {
	n = split(modes, m, " ")
	for (i = 1; i <= n; i++) wanted[m[i]] = 1
	printf "Medians of %d alternating rounds (ours, quic-go %s, ours, ...)%s%s.\n\n", rounds, qv, ("bulk" in wanted) ? sprintf("; bulk %d bytes", bulk) : "", extra == "" ? "" : "; flags " extra
	print "| metric | ours | quic-go | ours/quic-go | target | verdict |"
	print "| --- | ---: | ---: | ---: | --- | --- |"
	row("bulk", "gbps", "bulk goodput (Gbit/s)", "ge", 1.5)
	row("bulk", "cpu_s_per_GB", "bulk CPU (s per GB, both ends)", "le", 0.67)
	row("streams", "streams_per_s", "streams per second", "ge", 1.5)
	row("streams", "cpu_us_per_stream", "streams CPU (µs per stream)", "", "")
	row("handshakes-c1", "hs_per_s", "handshakes per second, sequential", "ge", 1.1)
	row("handshakes-c1", "cpu_us_per_hs", "handshake CPU (µs), sequential", "", "")
	row("handshakes-c1", "p50_us", "handshake p50 (µs), sequential", "", "")
	row("handshakes-c1", "p99_us", "handshake p99 (µs), sequential", "", "")
	row("handshakes-c4", "hs_per_s", "handshakes per second, 4 concurrent", "ge", 1.1)
	row("handshakes-c4", "cpu_us_per_hs", "handshake CPU (µs), 4 concurrent", "", "")
	row("memory", "conn_heap_B", "heap per idle connection (B, per side)", "le", 0.5)
	row("memory", "stream_heap_B", "heap per open stream (B, per side)", "le", 0.6)
}' "$raw"

if [ -n "${RAW:-}" ]; then
	echo "perf-compare: raw RESULT lines in $raw" >&2
fi
exit "$failed"
