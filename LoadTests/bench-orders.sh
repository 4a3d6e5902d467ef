#!/usr/bin/env bash
# Orders, one run, same machine: durable ORDER.CREATE (3 lines on 3 SKUs, routed over
# 3 warehouses, payment authorised) from 50 connections at pipeline 16 and 1, then the
# whole lifecycle (pick, pack, ship, deliver) of every order; and the pure core's cost
# per command (no network, no disk) to show where an order's CPU time goes. The server
# listens on 127.0.0.1 only and is stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for product in orderline orderline-load orderline-walbench; do swift build -c release --product "$product" >/dev/null; done
bin=.build/release
orders=${ORDERS:-100000}
work=$(mktemp -d /tmp/orderline-orders.XXXXXX)
pid=""
stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap 'stop; rm -rf "$work"' EXIT

for depth in 16 1; do
    rm -rf "$work/data"
    "$bin/orderline" serve --data "$work/data" --port 7420 --fsync always > "$work/ready" 2>"$work/orderline.log" &
    pid=$!
    until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.1; done
    count=$orders
    [ "$depth" = 1 ] && count=$((orders / 4))
    "$bin/orderline-load" orders --port 7420 -c 50 -P "$depth" --orders "$count" --lifecycle | grep -E "ops/s|invariants|per order"
    stop
done
"$bin/orderline-walbench" core --orders "$orders"
