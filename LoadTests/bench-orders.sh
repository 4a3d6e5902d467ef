#!/usr/bin/env bash
# Orders, one run, same machine: durable ORDER.CREATE (3 lines on 3 SKUs, routed over
# 3 warehouses, payment authorised) from 50 connections at pipeline 16 and 1, then the
# whole lifecycle (pick, pack, ship, deliver) of every order; and the pure core's cost
# per command (no network, no disk) to show where an order's CPU time goes. The server
# listens on 127.0.0.1 only and is stopped by pid. REPLY=id or status places the same
# orders with ORDER.CREATE reply= (no lifecycle then: it needs the full reply).
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude orders orderline orderline-load orderline-walbench
orders=${ORDERS:-100000}
reply=${REPLY:-full}
lifecycle=--lifecycle
[ "$reply" = full ] || lifecycle=""

for depth in 16 1; do
    start_orderline 7420 --fsync always
    count=$orders
    [ "$depth" = 1 ] && count=$((orders / 4))
    "$bin/orderline-load" orders --port 7420 -c 50 -P "$depth" --orders "$count" --reply "$reply" $lifecycle | grep -E "ops/s|invariants|per order"
    stop
done
"$bin/orderline-walbench" core --orders "$orders" --reply "$reply"
