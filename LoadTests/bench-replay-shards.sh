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
# stops if not). Medians over the rounds and the ratio to one shard. With one shard
# recovery applies events one at a time; with more, each run of 8,192 events is
# routed in LSN order and each shard's share applied on its own thread.
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
"$bin/orderline-load" orders --port 7402 -c 50 -P 16 --orders "$orders" --lifecycle | grep -E "orders create|lifecycle" || true
stop
mv "$work/orderline" "$work/orders"

# `measure <log> <shards>`: prints "events_per_s wall_s cpu_s digest".
measure() {
    local out
    out=$( { /usr/bin/time -f "time %e %U %S" "${pin[@]}" "$bin/orderline" replay "$work/$1" --digest --shards "$2"; } 2>&1 )
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
            read -r rate wall cpu digest <<< "$(measure "$log" "$shards")"
            printf 'round %d %-6s shards %-2d %9d events/s  wall %5.2f s  cpu %5.2f s  %s\n' "$round" "$log" "$shards" "$rate" "$wall" "$cpu" "$digest"
            echo "$log $shards $rate $wall $cpu $digest $round" >> "$results"
        done
    done
done

echo "== medians over $rounds rounds (ratio: the median of each round's events/s against one shard's)"
for log in flash orders; do
    if [ "$(awk -v l="$log" '$1 == l { print $6 }' "$results" | sort -u | wc -l)" -ne 1 ]; then
        echo "$log: the digests differ between shard counts:"; awk -v l="$log" '$1 == l' "$results"; exit 1
    fi
    for shards in "${counts[@]}"; do
        awk -v l="$log" -v n="$shards" "$awk_median"'
            $1 == l && $2 == 1 { one[$7] = $3 }
            $1 == l && $2 == n { rate[++k] = $3; cpu[k] = $5; round[k] = $7 }
            END {
                for (i = 1; i <= k; i++) ratio[i] = one[round[i]] > 0 ? rate[i] / one[round[i]] : 0
                printf "%-6s shards %-2d %9.0f events/s  %.2fx  cpu %.2f s\n", l, n, median(rate, k), median(ratio, k), median(cpu, k)
            }' "$results"
    done
done
