#!/usr/bin/env bash
# Flash sale, one run, same machine, same client: Orderline (--fsync always) against
# Redis 7 + a Lua reservation script with appendfsync always, everysec, and no
# persistence. Both the load generator (50 connections, pipeline 1 and 16) and
# redis-benchmark (RESERVE vs EVALSHA) are used. Servers listen on 127.0.0.1 only and
# are stopped by pid. Needs root the first time (installs redis-server).
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude flash orderline orderline-load
if ! command -v redis-server >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
attempts=${ATTEMPTS:-200000}

start_redis() {  # $1: label, then redis-server options
    local label=$1; shift
    mkdir -p "$work/$label"
    redis-server --port 7401 --bind 127.0.0.1 --dir "$work/$label" --save "" "$@" >"$work/$label.log" 2>&1 &
    pid=$!
    until [ "$(redis-cli -p 7401 PING 2>/dev/null)" = PONG ]; do sleep 0.1; done
}
lua='local s = tonumber(redis.call("GET", KEYS[1]) or "0") local q = tonumber(ARGV[1]) if s >= q then redis.call("DECRBY", KEYS[1], q) return "R" .. redis.call("INCR", "reservation:id") end return redis.error_reply("SOLDOUT " .. KEYS[1] .. " available=" .. s)'

run_case() {  # $1 target label
    for depth in 1 16; do
        case $1 in
            orderline) start_orderline 7400; port=7400; target=orderline ;;
            redis-always) start_redis redis-always --appendonly yes --appendfsync always; port=7401; target=redis ;;
            redis-everysec) start_redis redis-everysec --appendonly yes --appendfsync everysec; port=7401; target=redis ;;
            redis-none) start_redis redis-none --appendonly no; port=7401; target=redis ;;
        esac
        "$bin/orderline-load" flash-sale --port $port --target $target -c 50 -P $depth --skus 5 \
            --stock 1000000 --attempts "$attempts" | sed "s/^/[$1] /" | grep -E "ops/s|invariants"
        # redis-benchmark on the same server: 1,000 SKUs chosen at random per request.
        if [ "$target" = orderline ]; then
            { echo "NODE.ADD RB-WH kind=warehouse lat=1 lon=2"
              for i in $(seq 0 999); do printf 'SKU.ADD SKU-%012d price=1\nSTOCK.SET RB-WH SKU-%012d 1000000000\n' $i $i; done
            } | redis-cli -p $port >/dev/null
            cmd=(RESERVE SKU-__rand_int__ 1)
        else
            for i in $(seq 0 999); do printf 'SET stock:%012d 1000000000\n' $i; done | redis-cli -p $port >/dev/null
            sha=$(redis-cli -p $port SCRIPT LOAD "$lua")
            cmd=(EVALSHA "$sha" 1 stock:__rand_int__ 1)
        fi
        redis-benchmark -p $port -c 50 -P $depth -r 1000 -n "$attempts" -q "${cmd[@]}" 2>/dev/null \
            | tr '\r' '\n' | grep -E "requests per second" | tail -1 | sed "s/^/[$1] redis-benchmark P=$depth: /"
        stop
    done
}

for target in ${TARGETS:-orderline redis-always redis-everysec redis-none}; do run_case $target; done
