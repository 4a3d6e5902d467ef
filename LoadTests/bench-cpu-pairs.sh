#!/usr/bin/env bash
# Two builds side by side: the server's CPU time per request (all threads, from /proc)
# and requests/s under redis-benchmark RESERVE over 1,000 SKUs (50 connections,
# pipeline DEPTH, REQUESTS requests), a fresh server per run, the builds alternating
# (ABBA...) for ROUNDS rounds. Prints each pair and the median ratio this ÷ other:
# the machine's swings hit both builds of a pair alike. ARGS are passed to both
# servers (e.g. ARGS="--shards 4"). Servers listen on 127.0.0.1 only, stopped by pid.
#
#   OTHER_BIN=/path/to/other/orderline LoadTests/bench-cpu-pairs.sh
set -euo pipefail
: "${OTHER_BIN:?set OTHER_BIN to the orderline executable of the other build}"
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude cpu-pairs orderline
rounds=${ROUNDS:-8}
depth=${DEPTH:-16}
requests=${REQUESTS:-300000}
this_bin=$bin
read -r -a args <<< "${ARGS:-}"

# `run <orderline executable>`: prints "requests/s cpu_us_per_request".
run() {
    bin=$(dirname "$1")
    start_orderline 7400 "${args[@]}"
    seed_for_redis_benchmark orderline 7400
    local before after rate
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    rate=$(redis_benchmark_line 7400 "$depth" "$requests" | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    stop
    bin=$this_bin
    awk -v r="$rate" -v a="$after" -v b="$before" -v n="$requests" 'BEGIN { printf "%.0f %.2f\n", r, (a - b) * 10000 / n }'
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        this=$(run "$this_bin/orderline"); other=$(run "$OTHER_BIN")
    else
        other=$(run "$OTHER_BIN"); this=$(run "$this_bin/orderline")
    fi
    echo "round $round P$depth: this ${this% *}/s ${this#* }µs/req   other ${other% *}/s ${other#* }µs/req"
    echo "$this $other" >> "$results"
done
awk "$awk_median"'
    { n++; cpu[n] = $2 / $4; rate[n] = $1 / $3 }
    END { printf "median of %d pairs, this / other: CPU per request %.3fx, requests/s %.3fx\n", n, median(cpu, n), median(rate, n) }
' "$results"
