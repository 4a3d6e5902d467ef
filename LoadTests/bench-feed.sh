#!/usr/bin/env bash
# The change feed (EVENTS.READ), measured:
#   1. throughput: one consumer (redis-cli, then `orderline-load feed`; COUNT 10000)
#      reads a log of EVENTS events (default 2,000,000, written by `orderline-walbench
#      append`) from LSN 0 until it has caught up: events/s, the server's CPU per
#      event, and the latency of each read;
#   2. its cost to flash-sale intake: ROUNDS rounds (default 3) of redis-benchmark
#      RESERVE (1,000 SKUs, 50 connections, pipeline 16) against a fresh server, alone
#      and with a consumer following every event (BLOCK reads), in an order that
#      rotates each round; requests/s and the median per-round ratio.
#   3. restore time: `orderline restore --until` at 90 % of that log.
# Servers listen on 127.0.0.1 only and are stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude feed orderline orderline-load orderline-walbench
rounds=${ROUNDS:-3}
events=${EVENTS:-2000000}
requests=${REQUESTS:-300000}

echo "== throughput: one consumer from LSN 0 of a $events-event log"
"$bin/orderline-walbench" append --dir "$work/log" --writers 64 --events "$events" --fsync never >/dev/null
"$bin/orderline" serve --data "$work/log" --port 7400 > "$work/ready" 2>"$work/orderline.log" &
pid=$!
until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.1; done
# redis-cli as the consumer (orderline-load's RESP client is slower than the server
# here); the server's CPU per event from /proc.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
cursor=0; count=0; before=$(ticks); started=$(date +%s%N)
while true; do
    redis-cli -p 7400 EVENTS.READ FROM "$cursor" COUNT 10000 > "$work/batch"
    read_events=$(($(wc -l < "$work/batch") - 1))
    count=$((count + read_events)); cursor=$(head -n 1 "$work/batch")
    [ "$read_events" -lt 10000 ] && break
done
elapsed_ns=$(($(date +%s%N) - started)); after=$(ticks)
awk -v n="$count" -v ns="$elapsed_ns" -v t="$((after - before))" 'BEGIN {
    printf "feed (redis-cli, COUNT 10000): %d events in %.2f s: %.0f events/s; server CPU %.2f µs per event\n", n, ns / 1e9, n / (ns / 1e9), t * 10000 / n }'
"$bin/orderline-load" feed --port 7400 --from 0 --count 10000 | sed 's/^/orderline-load /'
stop

echo "== restore at 90 % of the log"
until_lsn=$((events * 9 / 10))
/usr/bin/time -f "restore: %e s, peak %M KB" "$bin/orderline" restore "$work/log" --to "$work/restored" --until "$until_lsn" 2>&1 | grep -v "serve it with"

echo "== cost to RESERVE at P16 of a consumer following every event"
run() {  # $1: alone|feed; prints requests/s
    local consumer=""
    start_orderline 7400
    seed_for_redis_benchmark orderline 7400
    if [ "$1" = feed ]; then
        "$bin/orderline-load" feed --port 7400 --from 0 --follow 3600 > "$work/consumer.out" 2>&1 &
        consumer=$!
    fi
    redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n "$requests" -q "${benchmark_command[@]}" 2>/dev/null \
        | tr '\r' '\n' | grep "requests per second" | tail -1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/'
    if [ -n "$consumer" ]; then kill "$consumer" 2>/dev/null; wait "$consumer" 2>/dev/null || true; fi
    stop
}
results="$work/results"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then order=(alone feed); else order=(feed alone); fi
    line="round $round:"
    for mode in "${order[@]}"; do
        rate=$(run "$mode")
        echo "$round $mode $rate" >> "$results"
        line+="  $mode ${rate}/s"
    done
    echo "$line"
done
awk "$awk_median"'
    { rate[$1, $2] = $3; rounds[$1] = 1 }
    END {
        for (round in rounds) { n++; ratio[n] = rate[round, "feed"] / rate[round, "alone"] }
        printf "median ratio with a following consumer / alone: %.2fx over %d rounds\n", median(ratio, n), n
    }' "$results"
