#!/usr/bin/env bash
# Flash sale, one run, same machine, same client: Orderline (--fsync always) against
# Redis 7 + a Lua reservation script with appendfsync always, everysec, and no
# persistence. Both the load generator (50 connections, pipeline 1 and 16) and
# redis-benchmark (RESERVE vs EVALSHA) are used. Servers listen on 127.0.0.1 only and
# are stopped by pid. Needs root the first time (installs redis-server).
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude flash orderline orderline-load
need_redis_server
attempts=${ATTEMPTS:-200000}

run_case() {  # $1 target label
    for depth in 1 16; do
        start_target "$1"
        "$bin/orderline-load" flash-sale --port $port --target $target -c 50 -P $depth --skus 5 \
            --stock 1000000 --attempts "$attempts" | sed "s/^/[$1] /" | grep -E "ops/s|invariants"
        # redis-benchmark on the same server: 1,000 SKUs chosen at random per request.
        seed_for_redis_benchmark "$target" $port
        redis_benchmark_line $port $depth "$attempts" | sed "s/^/[$1] redis-benchmark P=$depth: /"
        stop
    done
}

for target in ${TARGETS:-orderline redis-always redis-everysec redis-none}; do run_case $target; done
