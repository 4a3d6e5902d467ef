#!/usr/bin/env bash
# The sold-out fast path: a hot SKU sold out while the other SKUs still sell. Two
# clients ask for the hot SKU (orderline-load flash-sale, pipeline 1) while 50
# connections reserve the other 1,000 SKUs at pipeline 16 (redis-benchmark, --fsync
# always). Prints the hot SKU's SOLDOUT answers/s and latency percentiles. With OTHER_BIN set, the
# other build runs in alternate rounds beside this one. Servers listen on 127.0.0.1
# only and are stopped by pid.
#
#   LoadTests/bench-soldout.sh
#   OTHER_BIN=/path/to/other/orderline ROUNDS=5 LoadTests/bench-soldout.sh
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude soldout orderline orderline-load
rounds=${ROUNDS:-3}
asks=${ASKS:-20000}
this_bin=$bin

# `run <label> <orderline executable>`
run() {
    bin=$(dirname "$2")
    start_orderline 7400
    seed_for_redis_benchmark orderline 7400
    redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n 100000000 -q "${benchmark_command[@]}" >/dev/null 2>&1 &
    local load=$!
    sleep 1
    "$this_bin/orderline-load" flash-sale --port 7400 -c 2 -P 1 --skus 1 --stock 0 --attempts "$asks" \
        | grep "ops/s" | sed "s/^/[$1] sold-out SKU: /"
    kill "$load" 2>/dev/null; wait "$load" 2>/dev/null || true
    local held
    held=$(redis-cli -p 7400 INFO stats | tr -d '\r' | grep soldout_replies || true)
    [ -n "$held" ] && echo "[$1] $held"
    stop
    bin=$this_bin
}

for round in $(seq 1 "$rounds"); do
    echo "round $round"
    run this "$this_bin/orderline"
    if [ -n "${OTHER_BIN:-}" ]; then run other "$OTHER_BIN"; fi
done
