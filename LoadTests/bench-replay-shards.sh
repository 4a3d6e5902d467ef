#!/usr/bin/env bash
# Replay with shards applied on several threads: `orderline replay --digest --shards N`
# of the same logs for each N in SHARDS (default "1 2 4 8"), in an order that rotates
# each round (ROUNDS, default 3). Two logs:
#   - flash sale: EVENTS events (default 4,000,000) written by orderline-walbench
#     append (256 writers, reservations over 1,000 SKUs, ended by release, commit and
#     expiry);
#   - orders: ORDERS 3-line orders (default 20,000) taken through their lifecycle by
#     orderline-load against a server, so that order events (applied at home, in
#     order) and their stock effects on several shards are in the log.
# Per run: events/s as replay prints it, wall and CPU seconds (user + system) of the
# whole process, and the digest, which must be the same at every N (the script
# stops at the first that differs). Medians over the rounds and of each round's
# ratio to one shard (SHARDS must include 1 for the ratios). With one shard recovery
# applies events one at a time; with more, each run of 8,192 events is routed in LSN
# order and the shards' shares applied on Dispatch's threads (at most one thread per
# core, each shard's share by one of them).
# REPLAY_CPUS (a taskset list, e.g. 0-7) pins replay to those cores. Servers listen on
# 127.0.0.1 only and are stopped by pid.
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude replay-shards orderline orderline-walbench orderline-load
rounds=${ROUNDS:-3}
read -r -a counts <<< "${SHARDS:-1 2 4 8}"
events=${EVENTS:-4000000}
orders=${ORDERS:-20000}
pin=()
[ -n "${REPLAY_CPUS:-}" ] && pin=(taskset -c "$REPLAY_CPUS")

echo "== writing the logs"
"$bin/orderline-walbench" append --dir "$work/flash" --writers 256 --events "$events" --fsync never | head -1
start_orderline 7402 --fsync never
"$bin/orderline-load" orders --port 7402 -c 50 -P 16 --orders "$orders" --lifecycle > "$work/load.out"
grep -E "orders create|lifecycle" "$work/load.out"
stop
mv "$work/orderline" "$work/orders"

# `measure <log> <shards>`: prints "events_per_s wall_s cpu_s digest"; exits if replay fails.
measure() {
    local out
    if ! out=$( { /usr/bin/time -f "time %e %U %S" "${pin[@]}" "$bin/orderline" replay "$work/$1" --digest --shards "$2"; } 2>&1 ); then
        echo "replay of $1 with $2 shards failed:" >&2; echo "$out" >&2; exit 1
    fi
    local rate digest times
    rate=$(echo "$out" | grep -o '([0-9]* events/s)' | tr -dc '0-9')
    digest=$(echo "$out" | grep -E '^[0-9]+ [0-9a-f]{16}$' | tail -1 | tr ' ' ':')
    times=$(echo "$out" | grep '^time ' | awk '{ printf "%s %.2f", $2, $3 + $4 }')
    echo "$rate $times $digest"
}

results="$work/results"
for round in $(seq 1 "$rounds"); do
    for log in flash orders; do
        for i in $(seq 0 $((${#counts[@]} - 1))); do
            shards=${counts[$(((i + round) % ${#counts[@]}))]}
            measured=$(measure "$log" "$shards")
            read -r rate wall cpu digest <<< "$measured"
            first=$(awk -v l="$log" '$1 == l { print $6; exit }' "$results" 2>/dev/null || true)
            if [ -n "$first" ] && [ "$first" != "$digest" ]; then
                echo "$log: the digest with $shards shards ($digest) differs from an earlier run's ($first)"; exit 1
            fi
            printf 'round %d %-6s shards %-2d %9d events/s  wall %5.2f s  cpu %5.2f s  %s\n' "$round" "$log" "$shards" "$rate" "$wall" "$cpu" "$digest"
            echo "$log $shards $rate $wall $cpu $digest $round" >> "$results"
        done
    done
done

echo "== medians over $rounds rounds (ratio: the median of each round's events/s against one shard's)"
for log in flash orders; do
    for shards in "${counts[@]}"; do
        awk -v l="$log" -v n="$shards" "$awk_median"'
            $1 == l && $2 == 1 { one[$7] = $3; ones++ }
            $1 == l && $2 == n { rate[++k] = $3; cpu[k] = $5; round[k] = $7 }
            END {
                for (i = 1; i <= k; i++) ratio[i] = one[round[i]] > 0 ? rate[i] / one[round[i]] : 0
                shown = ones ? sprintf("%.2fx", median(ratio, k)) : "(no N = 1 run)"
                printf "%-6s shards %-2d %9.0f events/s  %s  cpu %.2f s\n", l, n, median(rate, k), shown, median(cpu, k)
            }' "$results"
    done
done
