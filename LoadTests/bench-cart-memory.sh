#!/usr/bin/env bash
# Memory per held cart: CARTS network reservations (redis-benchmark RESERVE over 1,000
# SKUs, 50 connections, pipeline 16; the default 15-minute TTL keeps them all held),
# then a SNAPSHOT, then the server's resident memory less what it held before, divided
# by the carts held. ARGS go to the server (e.g. ARGS="--snapshot-every 0"); with OTHER_BIN set,
# the other build runs the same after this one. Servers listen on 127.0.0.1 only and
# are stopped by pid.
#
#   LoadTests/bench-cart-memory.sh
#   CARTS=5000000 OTHER_BIN=/path/to/other/orderline LoadTests/bench-cart-memory.sh
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude cart-memory orderline
carts=${CARTS:-1000000}
read -r -a args <<< "${ARGS:-}"
this_bin=$bin

resident_kib() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# `run <label> <orderline executable>`
run() {
    bin=$(dirname "$2")
    start_orderline 7400 "${args[@]}"
    seed_for_redis_benchmark orderline 7400
    local before after held
    before=$(resident_kib)
    redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n "$carts" -q "${benchmark_command[@]}" >/dev/null 2>&1
    # Measured once a snapshot of them all is written (SNAPSHOT waits for any running
    # one too), so no snapshot's transient memory is caught half-way.
    redis-cli -p 7400 SNAPSHOT >/dev/null
    after=$(resident_kib)
    held=$(redis-cli -p 7400 INFO reservations | tr -d '\r' | sed -n 's/^reservations_kept://p')
    echo "[$1] carts held: $held; resident $((before / 1024)) MiB -> $((after / 1024)) MiB; $(( (after - before) * 1024 / held )) bytes per held cart"
    stop
    bin=$this_bin
}

run this "$this_bin/orderline"
if [ -n "${OTHER_BIN:-}" ]; then run other "$OTHER_BIN"; fi
