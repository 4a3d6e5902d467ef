#!/usr/bin/env bash
# Orders against Redis, measured so that the shared machine's swings do not decide
# it: ROUNDS rounds (default 3), each running, with the same load generator and 50
# connections at pipeline 16, durable ORDER.CREATE on a fresh Orderline (--fsync
# always; 3 lines on 3 SKUs, routed over 3 warehouses, payment authorised), then the
# whole lifecycle of every order (pick, pack, ship, deliver), and single-SKU
# reservations on a fresh Redis 7 + Lua (appendfsync always), back to back, in an
# order that alternates each round. Prints each round's rates and ratios and their
# medians (goals: orders ≥ 0.5× Redis's reservations, lifecycle steps ≥ 1×), then the
# pure core's cost per command (no network, no disk) to show where an order's CPU
# time goes. REPLY=id or status places the orders with ORDER.CREATE reply= (no
# lifecycle then: it needs the full reply). Writes an HTML report with the rounds'
# bars (.build/bench-reports/). Servers listen on 127.0.0.1 only and are stopped by pid. Needs root the first time (installs redis-server).
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude orders orderline orderline-load orderline-walbench
need_redis_server
rounds=${ROUNDS:-3}
orders=${ORDERS:-60000}
reply=${REPLY:-full}
lifecycle=--lifecycle
[ "$reply" = full ] || lifecycle=""
results="$work/results"

run_orderline() {  # prints "<orders/s> <lifecycle ops/s or 0>"
    start_orderline 7400 --fsync always
    local output
    output=$("$bin/orderline-load" orders --port 7400 -c 50 -P 16 --orders "$orders" --reply "$reply" $lifecycle)
    stop
    echo "$output" | grep -q "invariants hold" || { echo "$output" >&2; return 1; }
    local created steps
    created=$(echo "$output" | sed -n 's/^orders create.* = \([0-9]*\) ops\/s.*/\1/p')
    steps=$(echo "$output" | sed -n 's/^orders lifecycle.* = \([0-9]*\) ops\/s.*/\1/p')
    echo "$created ${steps:-0}"
}

run_redis() {  # prints reservations/s
    start_target redis-always
    "$bin/orderline-load" flash-sale --port "$port" --target redis -c 50 -P 16 --skus 5 --stock 100000000 \
        --attempts "$orders" | sed -n 's/^flash-sale.* = \([0-9]*\) ops\/s.*/\1/p'
    stop
}

for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        read -r created steps <<< "$(run_orderline)"
        redis=$(run_redis)
    else
        redis=$(run_redis)
        read -r created steps <<< "$(run_orderline)"
    fi
    echo "$round $created $steps $redis" >> "$results"
    { printf 'P16, 50 connections\t%s\tOrderline ORDER.CREATE\t%s\n' "$round" "$created"
      [ -z "$lifecycle" ] || printf 'P16, 50 connections\t%s\tOrderline lifecycle steps\t%s\n' "$round" "$steps"
      printf 'P16, 50 connections\t%s\tRedis + Lua RESERVE\t%s\n' "$round" "$redis"; } >> "$work/report.tsv"
    echo "round $round: Orderline ORDER.CREATE reply=$reply ${created}/s, lifecycle steps ${steps}/s; Redis + Lua reservations ${redis}/s"
done

awk -v lifecycle="$lifecycle" "$awk_median"'
    { n++; orders[n] = $2 / $4; steps[n] = $3 / $4; text1 = text1 sprintf(" %.2f", orders[n]); text2 = text2 sprintf(" %.2f", steps[n]) }
    END {
        printf "P16 orders / Redis reservations: median %.2fx (goal 0.5x); rounds:%s\n", median(orders, n), text1
        if (lifecycle != "") printf "P16 lifecycle steps / Redis reservations: median %.2fx (goal 1x); rounds:%s\n", median(steps, n), text2
    }' "$results"
write_report orders "ORDER.CREATE (reply=$reply) beside Redis 7 + Lua reservations, $rounds rounds" "per second" "$work/report.tsv" \
    --ratio "Orderline ORDER.CREATE/Redis + Lua RESERVE" --ratio "Orderline lifecycle steps/Redis + Lua RESERVE"
"$bin/orderline-walbench" core --orders "$orders" --reply "$reply"
