#!/usr/bin/env bash
# What a replica costs its primary, measured side by side: ROUNDS rounds (default 3),
# each running every workload against a fresh primary alone, followed by an
# asynchronous replica, and with that replica synchronous (--sync-replicas 1), all
# --fsync always on this machine, in an order that rotates each round. Workloads:
#   - redis-benchmark RESERVE over 1,000 SKUs, 50 connections, pipeline 16 and 1;
#   - orderline-load orders: 3-line ORDER.CREATE, 50 connections, pipeline 16.
# Reports requests/s, the primary's CPU per request (all its threads, from /proc) and,
# with a replica, how long after the load ended the replica had every event; then
# medians per workload and mode, and the median per-round ratio to "alone". On a machine with cores to spare set PRIMARY_CPUS,
# REPLICA_CPUS and CLIENT_CPUS (taskset lists). Servers listen on 127.0.0.1 only and
# are stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude replica orderline orderline-load
rounds=${ROUNDS:-3}
requests=${REQUESTS:-300000}
orders=${ORDERS:-30000}
primary_pin=(); replica_pin=(); client_pin=()
[ -n "${PRIMARY_CPUS:-}" ] && primary_pin=(taskset -c "$PRIMARY_CPUS")
[ -n "${REPLICA_CPUS:-}" ] && replica_pin=(taskset -c "$REPLICA_CPUS")
[ -n "${CLIENT_CPUS:-}" ] && client_pin=(taskset -c "$CLIENT_CPUS")
replica_pid=""
trap 'stop_replica; stop; rm -rf "$work"' EXIT

stop_replica() { if [ -n "$replica_pid" ]; then kill "$replica_pid" 2>/dev/null; wait "$replica_pid" 2>/dev/null || true; replica_pid=""; fi; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
role_lsn() { redis-cli -p "$1" ROLE | sed -n "$2p"; }
now_ms() { date +%s%3N; }

# `measure <mode> <workload>`: prints "rate cpu_us_per_request catch_up_ms".
measure() {
    local mode=$1 workload=$2 before after rate count catch_up=0 sync=()
    [ "$mode" = sync ] && sync=(--sync-replicas 1)
    rm -rf "$work/primary" "$work/replica" "$work/ready" "$work/replica-ready"
    "${primary_pin[@]}" "$bin/orderline" serve --data "$work/primary" --port 7400 "${sync[@]}" > "$work/ready" 2>"$work/primary.log" &
    pid=$!
    until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.1; done
    if [ "$mode" != alone ]; then
        "${replica_pin[@]}" "$bin/orderline" serve --data "$work/replica" --port 7402 --replica-of 127.0.0.1:7400 \
            > "$work/replica-ready" 2>"$work/replica.log" &
        replica_pid=$!
        until [ "$(redis-cli -p 7402 INFO replication 2>/dev/null | tr -d '\r' | grep master_link_status)" = "master_link_status:up" ]; do sleep 0.1; done
    fi
    seed_for_redis_benchmark orderline 7400
    case $workload in
        reserve-p16|reserve-p1)
            count=$requests
            before=$(ticks)
            rate=$("${client_pin[@]}" redis-benchmark -p 7400 -c 50 -P "${workload#reserve-p}" -r 1000 -n "$count" -q "${benchmark_command[@]}" 2>/dev/null \
                | tr '\r' '\n' | grep "requests per second" | tail -1 | sed 's/.*: \([0-9.]*\) requests per second.*/\1/') ;;
        orders)
            count=$orders
            before=$(ticks)
            rate=$("${client_pin[@]}" "$bin/orderline-load" orders --port 7400 -c 50 -P 16 --orders "$count" \
                | grep "orders create" | sed 's/.* = \([0-9.]*\) ops\/s.*/\1/') ;;
    esac
    after=$(ticks)
    if [ "$mode" != alone ]; then
        local target start
        target=$(role_lsn 7400 2); start=$(now_ms)
        until [ "$(role_lsn 7402 5)" -ge "$target" ]; do sleep 0.005; done
        catch_up=$(($(now_ms) - start))
        [ "$(redis-cli -p 7400 DIGEST)" = "$(redis-cli -p 7402 DIGEST)" ] || { echo "digests differ after $workload" >&2; exit 1; }
        stop_replica
    fi
    stop
    awk -v r="$rate" -v a="$after" -v b="$before" -v n="$count" -v c="$catch_up" 'BEGIN { printf "%.0f %.2f %d\n", r, (a - b) * 10000 / n, c }'
}

results="$work/results"
modes=(alone replica sync)
for round in $(seq 1 "$rounds"); do
    for workload in reserve-p16 reserve-p1 orders; do
        line="round $round $workload:"
        for i in 0 1 2; do
            mode=${modes[$(((i + round) % 3))]}
            read -r rate cpu catch_up <<< "$(measure "$mode" "$workload")"
            echo "$round $workload $mode $rate $cpu $catch_up" >> "$results"
            line+="  $mode ${rate}/s ${cpu}µs/req"
            [ "$mode" != alone ] && line+=" (replica caught up ${catch_up} ms after)"
        done
        echo "$line"
    done
done

awk "$awk_median"'
    { key = $2 " " $3; runs[key]++; rate[key, runs[key]] = $4; cpu[key, runs[key]] = $5; lag[key, runs[key]] = $6; seen[$2] = 1
      rounds_rate[$2, $3, $1] = $4; if ($1 > rounds) rounds = $1 }
    END {
        split("alone replica sync", modes, " ")
        for (w in seen) {
            line = sprintf("%-12s", w)
            for (m = 1; m <= 3; m++) {
                key = w " " modes[m]
                for (i = 1; i <= runs[key]; i++) { r[i] = rate[key, i]; c[i] = cpu[key, i]; l[i] = lag[key, i] }
                n = 0
                for (i = 1; i <= rounds; i++) if ((w, modes[m], i) in rounds_rate) ratios[++n] = rounds_rate[w, modes[m], i] / rounds_rate[w, "alone", i]
                line = line sprintf(" | %s %8.0f/s %6.2f µs/req", modes[m], median(r, runs[key]), median(c, runs[key]))
                if (m > 1) line = line sprintf(" (%.2fx, caught up %d ms after)", median(ratios, n), median(l, runs[key]))
            }
            print line
        }
    }' "$results" | sort
