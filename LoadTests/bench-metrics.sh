#!/usr/bin/env bash
# What serving metrics costs the flash sale: ROUNDS rounds (default 4) of
# redis-benchmark RESERVE (1,000 SKUs, 50 connections, pipeline 16, REQUESTS
# requests) against a fresh server, with `--http` on (every reply counted and timed),
# `GET /metrics` scraped every second and the operations page's `GET /api/overview`
# read every two, and without, alternating (ABBA); requests/s, the server's CPU per request,
# and the median ratio. Servers listen on 127.0.0.1 only and are stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude metrics orderline
rounds=${ROUNDS:-4}
requests=${REQUESTS:-300000}
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

run() {  # $1: plain|scraped; prints "requests/s cpu_us_per_request"
    local scraper="" before after rate
    if [ "$1" = scraped ]; then start_orderline 7400 --http 127.0.0.1:7480; else start_orderline 7400; fi
    seed_for_redis_benchmark orderline 7400
    if [ "$1" = scraped ]; then
        (while true; do
            curl -s -o /dev/null http://127.0.0.1:7480/metrics || true; sleep 1
            curl -s -o /dev/null -o /dev/null http://127.0.0.1:7480/metrics http://127.0.0.1:7480/api/overview || true; sleep 1
        done) &
        scraper=$!
    fi
    before=$(ticks)
    rate=$(redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n "$requests" -q "${benchmark_command[@]}" 2>/dev/null \
        | tr '\r' '\n' | grep "requests per second" | tail -1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
    after=$(ticks)
    if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null; wait "$scraper" 2>/dev/null || true; fi
    stop
    awk -v r="$rate" -v a="$after" -v b="$before" -v n="$requests" 'BEGIN { printf "%.0f %.2f\n", r, (a - b) * 10000 / n }'
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order=(plain scraped); else order=(scraped plain); fi
    line="round $round:"
    for mode in "${order[@]}"; do
        read -r rate cpu <<< "$(run "$mode")"
        echo "$round $mode $rate $cpu" >> "$results"
        line+="  $mode ${rate}/s ${cpu}µs/req"
    done
    echo "$line"
done
awk "$awk_median"'
    { rate[$1, $2] = $3; cpu[$1, $2] = $4; rounds[$1] = 1 }
    END {
        for (round in rounds) { n++; r[n] = rate[round, "scraped"] / rate[round, "plain"]; c[n] = cpu[round, "scraped"] / cpu[round, "plain"] }
        printf "median of %d rounds, scraped / plain: requests/s %.3fx, CPU per request %.3fx\n", n, median(r, n), median(c, n)
    }' "$results"
