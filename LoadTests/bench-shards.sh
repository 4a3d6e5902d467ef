#!/usr/bin/env bash
# Shards: what N shards cost and give, measured side by side. ROUNDS rounds (default
# 3); each runs a fresh server per shard count in SHARDS (default "1 2 4 8"), in an
# order that rotates each round, with
#   - redis-benchmark RESERVE over 1,000 SKUs (50 connections, pipeline 16), and
#   - orderline-load orders: 3-line ORDER.CREATE whose lines mostly sit on several
#     shards (50 connections, pipeline 16, ORDERS orders),
# and reports for each: requests/s, the server's CPU per request (all threads, from
# /proc) and the busiest thread's CPU per request (its ceiling if every thread had a
# core: 1e6 / that many requests/s, a projection). Medians over the rounds, relative
# to one shard. Set SERVER_CPUS and CLIENT_CPUS (taskset lists, e.g. 0-7 and 8-15) on
# a machine with cores to spare, so that the load generators do not share the
# server's cores. Servers listen on 127.0.0.1 only and are stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude shards orderline orderline-load
rounds=${ROUNDS:-3}
read -r -a counts <<< "${SHARDS:-1 2 4 8}"
orders=${ORDERS:-40000}
requests=${REQUESTS:-300000}
server_pin=(); client_pin=()
[ -n "${SERVER_CPUS:-}" ] && server_pin=(taskset -c "$SERVER_CPUS")
[ -n "${CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$CLIENT_CPUS")

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
thread_ticks() { for task in /proc/"$pid"/task/*; do awk '{print FILENAME, $14 + $15}' "$task/stat"; done 2>/dev/null; }

# `measure <shards> <workload>`: prints "rate cpu_us_per_request busiest_us_per_request".
measure() {
    local shards=$1 workload=$2 before after threads_before rate count
    rm -rf "$work/orderline" "$work/ready"
    "${server_pin[@]}" "$bin/orderline" serve --data "$work/orderline" --port 7400 --shards "$shards" > "$work/ready" 2>"$work/orderline.log" &
    pid=$!
    until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.1; done
    if [ "$workload" = reserve ]; then
        seed_for_redis_benchmark orderline 7400
        count=$requests
        before=$(ticks); threads_before=$(thread_ticks)
        rate=$("${client_pin[@]}" redis-benchmark -p 7400 -c 50 -P 16 -r 1000 -n "$count" -q "${benchmark_command[@]}" 2>/dev/null \
            | tr '\r' '\n' | grep "requests per second" | tail -1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/')
    else
        count=$orders
        before=$(ticks); threads_before=$(thread_ticks)
        rate=$("${client_pin[@]}" "$bin/orderline-load" orders --port 7400 -c 50 -P 16 --orders "$count" \
            | grep "orders create" | sed 's/.* = \([0-9.]*\) ops\/s.*/\1/')
    fi
    after=$(ticks)
    local busiest
    busiest=$(join <(echo "$threads_before" | sort) <(thread_ticks | sort) | awk '{ d = $3 - $2; if (d > m) m = d } END { print m + 0 }')
    stop
    awk -v r="$rate" -v a="$after" -v b="$before" -v t="$busiest" -v n="$count" \
        'BEGIN { printf "%.0f %.2f %.2f\n", r, (a - b) * 10000 / n, t * 10000 / n }'
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
    for workload in reserve orders; do
        line="round $round $workload:"
        for i in $(seq 0 $((${#counts[@]} - 1))); do
            shards=${counts[$(((i + round) % ${#counts[@]}))]}
            read -r rate cpu busiest <<< "$(measure "$shards" "$workload")"
            echo "$round $workload $shards $rate $cpu $busiest" >> "$results"
            line+="  N=$shards ${rate}/s ${cpu}µs/req (busiest thread ${busiest}µs)"
        done
        echo "$line"
    done
done

awk "$awk_median"'
    { key = $2 " " $3; runs[key]++; rate[key, runs[key]] = $4; cpu[key, runs[key]] = $5; busy[key, runs[key]] = $6; seen[$2] = 1; counts[$3] = 1 }
    END {
        for (w in seen) for (s in counts) {
            key = w " " s
            for (i = 1; i <= runs[key]; i++) { r[i] = rate[key, i]; c[i] = cpu[key, i]; b[i] = busy[key, i] }
            mr[key] = median(r, runs[key]); mc[key] = median(c, runs[key]); mb[key] = median(b, runs[key])
        }
        for (w in seen) for (s in counts) {
            key = w " " s; base = w " 1"
            ratio = (base in mc) ? mc[key] / mc[base] : 0
            ceiling = (mb[key] > 0) ? 1e6 / mb[key] : 0
            printf "%-8s N=%-3s median %8.0f/s  %6.2f µs/req (%.2fx of N=1)  busiest thread %6.2f µs/req, projected ceiling %.0f/s\n",
                w, s, mr[key], mc[key], ratio, mb[key], ceiling
        }
    }' "$results" | sort
