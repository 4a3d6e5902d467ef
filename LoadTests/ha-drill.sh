#!/usr/bin/env bash
# The HA drill: etcd, HAProxy, three Orderline servers (--standby --keep-wal
# --sync-replicas 1) each with its failover agent, all on 127.0.0.1. Reservations go
# through HAProxy (`orderline-load failover`) while, ROUNDS times (default 3), the
# primary of the moment is killed with -9; it is started again (as a standby: its agent
# points it at the new primary). Afterwards every acknowledged reservation must be on
# the surviving primary, the three servers must reach the same digest, and the script
# prints each failover's unavailability window (from the last acknowledged write before
# the kill to the first after it, through HAProxy).
#
#   LoadTests/ha-drill.sh              # release build, 3 rounds
#   BUILD=debug ROUNDS=1 LoadTests/ha-drill.sh   # what the test suite runs
#   KEEP_LOGS=/tmp/drill-logs LoadTests/ha-drill.sh  # keeps the agents', servers' and etcd's logs
#
# Needs etcd, etcdctl and haproxy (Debian: etcd-server etcd-client haproxy; installed by
# `scripts/setup.sh --ha` when run as root). Every process is stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
build=${BUILD:-release}
base=${BASE_PORT:-7420}   # HAProxy on base, servers on base+1..3, etcd on base+10, base+11
scripts/setup.sh --ha >/dev/null
if [ "$build" = release ]; then
    swift build -c release --product orderline >/dev/null && swift build -c release --product orderline-load >/dev/null
fi
bin=.build/$build
work=$(mktemp -d /tmp/orderline-ha.XXXXXX)
pids=()
agent_pids=()
declare -A server_pid
cleanup() {
    # Each agent leads a process group of its own (etcdctl, its loops): stopped whole.
    for pid in "${agent_pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}" "${server_pid[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${agent_pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
    for pid in "${server_pid[@]}" "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$work"/*.out "$KEEP_LOGS"/ 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'log "failed at line $LINENO"' ERR
log() { echo "ha-drill: $*"; }

etcd_endpoint=127.0.0.1:$((base + 10))
etcd --name drill --data-dir "$work/etcd" --listen-client-urls "http://$etcd_endpoint" --advertise-client-urls "http://$etcd_endpoint" \
    --listen-peer-urls "http://127.0.0.1:$((base + 11))" --initial-advertise-peer-urls "http://127.0.0.1:$((base + 11))" \
    --initial-cluster "drill=http://127.0.0.1:$((base + 11))" >"$work/etcd.log" 2>&1 &
pids+=($!)
until ETCDCTL_API=3 etcdctl --endpoints="$etcd_endpoint" endpoint health >/dev/null 2>&1; do sleep 0.1; done

ports=($((base + 1)) $((base + 2)) $((base + 3)))
members=$(printf '127.0.0.1:%s,' "${ports[@]}"); members=${members%,}
start_server() {
    local port=$1
    "$bin/orderline" serve --data "$work/data-$port" --port "$port" --standby --keep-wal --sync-replicas 1 \
        >>"$work/server-$port.out" 2>>"$work/server-$port.log" &
    server_pid[$port]=$!
    until [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; do sleep 0.05; done
}
for port in "${ports[@]}"; do start_server "$port"; done
for port in "${ports[@]}"; do
    scripts/failover-agent.sh --server "127.0.0.1:$port" --members "$members" --etcd "$etcd_endpoint" --name "drill" \
        >"$work/agent-$port.log" 2>&1 &
    agent_pids+=($!)
    disown $!  # no job notices when it is stopped
done

cat >"$work/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s
frontend orderline
    bind 127.0.0.1:$base
    default_backend primary
backend primary
    option tcp-check
    tcp-check connect
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    tcp-check send INFO\\ replication\\r\\n
    tcp-check expect rstring role:master
    tcp-check send QUIT\\r\\n
    tcp-check expect string +OK
    default-server inter 200ms fall 1 rise 1 on-marked-down shutdown-sessions
$(for port in "${ports[@]}"; do echo "    server s$port 127.0.0.1:$port check"; done)
EOF
haproxy -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)

role_lsn() {  # a server's LSN: ROLE's 2nd line on a primary, 5th on a replica
    local role
    role=$(redis-cli -p "$1" ROLE 2>/dev/null) || { echo -1; return; }
    case $(echo "$role" | head -1) in master) echo "$role" | sed -n 2p ;; slave) echo "$role" | sed -n 5p ;; *) echo -1 ;; esac
}
primary() {
    local port
    for port in "${ports[@]}"; do
        [ "$(redis-cli -p "$port" ROLE 2>/dev/null | head -1)" = master ] && { echo "$port"; return; }
    done
}
# `until_reply <prefix> <command...>`: sends the command through HAProxy until its reply
# starts with <prefix> (a failover, or NOREPLICAS while the replicas connect), 30 s at most.
until_reply() {
    local prefix=$1 reply deadline=$((SECONDS + 30)); shift
    until reply=$(redis-cli -p "$base" "$@" 2>&1) && [[ "$reply" == "$prefix"* ]]; do
        [ $SECONDS -lt $deadline ] || { log "$* through HAProxy: '$reply' after 30 s"; tail -n 5 "$work"/agent-*.log >&2; exit 1; }
        sleep 0.1
    done
}
# A restarted primary whose log went past where the new primary's term began (writes it
# took and never acknowledged) is refused as diverged. The operator's re-sync, done here:
# `REPLICAOF <its primary> RESYNC` replaces its log by the primary's snapshot and log
# (its own is set aside in replaced/). Waits up to 10 s for the server to follow or be
# refused; true if it was re-synced.
resync_if_diverged() {
    local port=$1 info deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        info=$(redis-cli -p "$port" INFO replication | tr -d '\r')
        grep -q "master_link_status:up" <<<"$info" && return 1
        if grep -q "diverged" <<<"$info"; then
            log "127.0.0.1:$port diverged ($(grep -o 'its LSN.*history [^)]*)' <<<"$info")): REPLICAOF … RESYNC"
            redis-cli -p "$port" REPLICAOF "$(sed -n 's/^master_host://p' <<<"$info")" "$(sed -n 's/^master_port://p' <<<"$info")" RESYNC >/dev/null
            return 0
        fi
        sleep 0.1
    done
    return 1
}
until [ -n "$(primary)" ]; do sleep 0.1; done
until_reply OK NODE.ADD WH kind=warehouse lat=1 lon=2
until_reply OK SKU.ADD HOT price=1
until_reply 1000000000 STOCK.SET WH HOT 1000000000
until_reply R RESERVE HOT 1
log "primary on $(primary); $rounds rounds of kill -9 under load"

seconds=$((rounds * 6 + 4))
"$bin/orderline-load" failover --port "$base" --seconds "$seconds" -c 4 --ids-out "$work/acknowledged" >"$work/load.out" &
load=$!
for round in $(seq 1 "$rounds"); do
    sleep 4
    victim=$(primary)
    until [ -n "$victim" ]; do sleep 0.1; victim=$(primary); done  # a failover still under way
    log "round $round: kill -9 the primary on $victim at $(date +%H:%M:%S.%3N)"
    kill -9 "${server_pid[$victim]}"
    wait "${server_pid[$victim]}" 2>/dev/null || true
    sleep 1
    start_server "$victim"   # a standby: its agent points it at the new primary
    resync_if_diverged "$victim" || true
done
wait "$load"
cat "$work/load.out"

survivor=$(primary)
count=$(wc -l <"$work/acknowledged")
missing=$(sed 's/^/RESERVATION.GET /' "$work/acknowledged" | redis-cli -p "$survivor" | grep -c "^NOTFOUND" || true)
log "survivor $survivor: $count acknowledged reservations, $missing missing"
# Every server follows the survivor and reaches its digest. A killed primary whose log
# went on past where the new primary's term began (writes that were never
# acknowledged) is refused as diverged, and re-synced as above.
target=$(role_lsn "$survivor")
for port in "${ports[@]}"; do
    deadline=$((SECONDS + 30))
    until [ "$(role_lsn "$port")" -ge "$target" ]; do
        resync_if_diverged "$port" && deadline=$((SECONDS + 30))
        [ $SECONDS -lt $deadline ] || { log "127.0.0.1:$port did not catch up: $(redis-cli -p "$port" INFO replication | tr -d '\r' | grep -E 'link|reason')"; exit 1; }
        sleep 0.1
    done
done
digests=$(for port in "${ports[@]}"; do redis-cli -p "$port" DIGEST; done | sort -u | wc -l)
log "digests of the three servers: $([ "$digests" = 1 ] && echo "equal" || echo "DIFFERENT")"
[ "$missing" = 0 ] && [ "$digests" = 1 ] && [ "$count" -gt 0 ] || { log "FAILED"; exit 1; }
log "passed"
