#!/usr/bin/env bash
# The flash-sale ratios of issue #3, measured so that the shared machine's swings do
# not decide them: ROUNDS rounds (default 5), each running redis-benchmark
# (50 connections, 1,000 SKUs at random, pipeline 16 and 1) against a fresh Orderline
# (--fsync always) and fresh Redis 7 + Lua (appendfsync always, and no persistence),
# back to back, in an order that rotates each round. Each round gives its own ratios;
# the script prints them all and their median, and writes an HTML report with the
# rounds' bars (.build/bench-reports/). Servers listen on 127.0.0.1 only and are
# stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude ratios orderline orderline-load
need_redis_server
rounds=${ROUNDS:-5}
attempts=${ATTEMPTS:-300000}
targets=(orderline redis-always redis-none)

measure() {  # $1 target, $2 depth: prints requests per second
    start_target "$1"
    seed_for_redis_benchmark "$target" "$port"
    redis_benchmark_line "$port" "$2" "$attempts" | sed 's/.*: \([0-9.]*\) requests per second.*/\1/'
    stop
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
    for depth in 16 1; do
        line="round $round P$depth:"
        for i in 0 1 2; do
            label=${targets[$(((i + round) % 3))]}
            rate=$(measure "$label" "$depth")
            echo "$round $depth $label $rate" >> "$results"
            printf 'pipeline %s\t%s\t%s\t%s\n' "$depth" "$round" "$label" "$rate" >> "$work/report.tsv"
            line+=" $label $(printf '%.0f' "$rate")/s"
        done
        echo "$line"
    done
done

# Per round: Orderline ÷ each Redis; then the median over the rounds.
awk "$awk_median"'
    { rate[$1, $2, $3] = $4; if ($1 > rounds) rounds = $1 }
    END {
        split("16 redis-always 2.0|16 redis-none 1.2|1 redis-always 1.2", cases, "|")
        for (c = 1; c in cases; c++) {
            split(cases[c], f, " ")
            n = 0; text = ""
            for (r = 1; r <= rounds; r++) { n++; ratio[n] = rate[r, f[1], "orderline"] / rate[r, f[1], f[2]]; text = text sprintf(" %.2f", ratio[n]) }
            printf "P%s Orderline / %s: median %.2fx (goal %sx); rounds:%s\n", f[1], f[2], median(ratio, n), f[3], text
        }
    }' "$results"
write_report ratios "RESERVE: Orderline beside Redis 7 + Lua, $rounds rounds" "requests/s" "$work/report.tsv" \
    --ratio orderline/redis-always --ratio orderline/redis-none
