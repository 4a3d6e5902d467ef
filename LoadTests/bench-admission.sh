#!/usr/bin/env bash
# Admission control under overload: the server's closed-loop capacity for 3-line
# orders (50 connections, pipeline 4), then an open-loop flood at OVERLOAD times that
# rate for SECONDS_OFFERED seconds (latency counted from when each order was due), once with
# no bound and once with each ADMISSION setting. Prints orders/s, the admitted
# orders' latency percentiles and how many were refused `LIMIT busy`. Servers listen
# on 127.0.0.1 only and are stopped by pid.
#
#   LoadTests/bench-admission.sh
#   OVERLOAD=5 SECONDS_OFFERED=3 ADMISSION="--max-waiting=200|--max-queue-ms=2" LoadTests/bench-admission.sh
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude admission orderline orderline-load
overload=${OVERLOAD:-5}
seconds=${SECONDS_OFFERED:-3}
IFS='|' read -r -a settings <<< "${ADMISSION:---max-waiting=200|--max-queue-ms=2}"

start_orderline 7400
capacity=$("$bin/orderline-load" orders --port 7400 -c 50 -P 4 --orders 40000 | tee /dev/stderr \
    | sed -n 's/.* = \([0-9]*\) ops\/s.*/\1/p' | head -1)
stop
rate=$((capacity * overload))
echo "capacity ${capacity} orders/s; offering ${rate}/s (${overload}x) open loop for ${seconds} s"
for setting in "" "${settings[@]}"; do
    read -r -a args <<< "${setting//=/ }"
    start_orderline 7400 "${args[@]}"
    "$bin/orderline-load" orders --port 7400 -c 50 -P 1 --orders $((rate * seconds)) --rate "$rate" \
        | head -2 | sed "s/^/[${setting:-no bound}] /"
    stop
done
