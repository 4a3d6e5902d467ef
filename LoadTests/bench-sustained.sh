#!/usr/bin/env bash
# Sustained flash-sale intake: one server (--fsync always, default snapshots every 1 M
# events) takes STEPS × STEP reservations from redis-benchmark (RESERVE over 1,000
# SKUs, 50 connections, pipeline 16), every cart still held at the end. Prints each
# step's requests/s and p99 with the carts held by then and resident memory, then the
# last step's rate as a share of the first's. The server listens on 127.0.0.1 only and
# is stopped by pid.
#
#   LoadTests/bench-sustained.sh                    # 10 steps of 500,000
#   STEPS=20 STEP=250000 ARGS="--snapshot-every 0" LoadTests/bench-sustained.sh
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude sustained orderline
steps=${STEPS:-10}
step=${STEP:-500000}
read -r -a args <<< "${ARGS:-}"

start_orderline 7400 "${args[@]}"
seed_for_redis_benchmark orderline 7400
first=""
for index in $(seq 1 "$steps"); do
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    line=$(redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n "$step" --csv "${benchmark_command[@]}" 2>/dev/null | tail -1 | tr -d '"')
    rate=$(echo "$line" | cut -d, -f2)
    p99=$(echo "$line" | cut -d, -f7)
    resident=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    echo "step $index: $((index * step)) carts held, ${rate} requests/s, p99 ${p99} ms, resident ${resident} MiB"
    [ -z "$first" ] && first=$rate
    last=$rate
done
awk -v first="$first" -v last="$last" 'BEGIN { printf "last step / first step: %.2f\n", last / first }'
