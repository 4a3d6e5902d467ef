#!/usr/bin/env bash
# The failover agent: runs beside each Orderline server of a replicated group and lets
# etcd decide which one is the primary. No consensus of its own: the leader is whoever
# holds etcd's lock (`etcdctl lock`, a lease that lapses TTL seconds after its holder
# is gone), and every agent points its server at the leader etcd names.
#
#   scripts/failover-agent.sh --server <host:port> --members <host:port>,... \
#       [--etcd <host:port>] [--name orderline] [--ttl 2] [--token-file <file>]
#
# Start each server with --standby (read-only, following nobody) and --keep-wal, then
# its agent. The agent
#   - reads the key /<name>/leader every 200 ms and sends its server REPLICAOF <leader>
#     whenever the server does not follow the server it names (an old primary that
#     comes back follows the new one, or is refused if its log forked: terms);
#   - queues for the lock while its server answers (and has not been refused as
#     diverged: such a server waits for the operator's REPLICAOF <leader> RESYNC); once it holds it, it first catches
#     its server up from the furthest member (so no acknowledged write is left behind
#     on another replica), then sends REPLICAOF NO ONE (a new term), publishes itself
#     as the leader, and holds the lock while its server answers PING. When the server
#     stops answering, it lets go, and the next agent in the queue takes over.
# HAProxy (a TCP check that expects role:master) sends clients to whichever server is
# primary: docs/REPLICATION.md, Automatic failover.
set -uo pipefail

server="" members="" endpoint=127.0.0.1:2379 name=orderline ttl=2 token_file="" mode=agent
if [ "${1:-}" = lead ]; then mode=lead; shift; fi
while [ $# -gt 0 ]; do
    case $1 in
        --server) server=$2; shift 2 ;;
        --members) members=$2; shift 2 ;;
        --etcd) endpoint=$2; shift 2 ;;
        --name) name=$2; shift 2 ;;
        --ttl) ttl=$2; shift 2 ;;
        --token-file) token_file=$2; shift 2 ;;
        *) echo "failover-agent: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$server" ] && [ -n "$members" ] || { echo "usage: failover-agent.sh --server <host:port> --members <host:port>,... [--etcd <host:port>]" >&2; exit 2; }
command -v etcdctl >/dev/null && command -v redis-cli >/dev/null || { echo "failover-agent: needs etcdctl and redis-cli" >&2; exit 2; }
arguments=(--server "$server" --members "$members" --etcd "$endpoint" --name "$name" --ttl "$ttl")
[ -n "$token_file" ] && arguments+=(--token-file "$token_file")
export ETCDCTL_API=3
etcd=(etcdctl --endpoints="$endpoint" --dial-timeout=1s --command-timeout=2s)
leader_key="/$name/leader"
# Present while this agent takes or holds the lead: its follower loop then keeps still.
leading="${TMPDIR:-/tmp}/orderline-agent-${server//[:.]/-}.leading"

log() { echo "$(date +%H:%M:%S.%3N) failover-agent $server: $*" >&2; }

# `cli <host:port> <command...>`: one command, answered within 2 s.
cli() {
    local target=$1; shift
    local auth=()
    [ -n "$token_file" ] && auth=(--pass "$(cat "$token_file")" --no-auth-warning)
    timeout 2 redis-cli -h "${target%:*}" -p "${target##*:}" "${auth[@]}" "$@" 2>/dev/null
}

alive() { [ "$(cli "$1" PING)" = PONG ]; }

# Whether a server was refused by its primary because its log forked (terms): it must
# be re-synced, and neither leads nor serves as the source to catch up from.
diverged() { cli "$1" INFO replication | grep -q "master_link_down_reason:.*diverged"; }

# A server's LSN from ROLE (2nd line on a primary, 5th on a replica); -1 if it does not answer.
lsn() {
    local role
    role=$(cli "$1" ROLE) || { echo -1; return; }
    case $(echo "$role" | head -1) in
        master) echo "$role" | sed -n 2p ;;
        slave) echo "$role" | sed -n 5p ;;
        *) echo -1 ;;
    esac
}

# Runs while this agent holds the lock: catch up, promote, publish, hold. It always
# exits 0: etcdctl then unlocks at once (on a failure it would exit without unlocking,
# and the next leader would wait for the lease to lapse).
lead() {
    touch "$leading"
    trap 'rm -f "$leading"' EXIT
    alive "$server" || { log "my server does not answer; not taking the lead"; exit 0; }
    local best=$server best_lsn member member_lsn deadline
    best_lsn=$(lsn "$server")
    for member in ${members//,/ }; do
        [ "$member" = "$server" ] && continue
        diverged "$member" && continue
        member_lsn=$(lsn "$member")
        if [ "$member_lsn" -gt "$best_lsn" ]; then best=$member; best_lsn=$member_lsn; fi
    done
    if [ "$best" != "$server" ]; then
        log "catching up from $best (LSN $best_lsn) before taking the lead"
        cli "$server" REPLICAOF "${best%:*}" "${best##*:}" >/dev/null
        deadline=$((SECONDS + 10))
        until [ "$(lsn "$server")" -ge "$best_lsn" ]; do
            [ $SECONDS -lt $deadline ] || { log "cannot catch up from $best; letting the lead go"; exit 0; }
            sleep 0.05
        done
    fi
    [ "$(cli "$server" REPLICAOF NO ONE)" = OK ] || { log "REPLICAOF NO ONE failed; letting the lead go"; exit 0; }
    "${etcd[@]}" put "$leader_key" "$server" >/dev/null || { log "cannot publish the lead in etcd"; exit 0; }
    log "leading at LSN $(lsn "$server")"
    while alive "$server"; do sleep 0.2; done
    log "my server stopped answering; letting the lead go"
    exit 0
}

# Every 200 ms: unless this agent is taking or holding the lead, the server must follow
# the leader etcd names (a primary that is not that leader steps down: fencing).
follow_leader() {
    local leader role
    while true; do
        sleep 0.2
        [ -e "$leading" ] && continue
        leader=$("${etcd[@]}" get --print-value-only "$leader_key" 2>/dev/null) || continue
        [ -z "$leader" ] || [ "$leader" = "$server" ] && continue
        role=$(cli "$server" ROLE) || continue
        [ "$(echo "$role" | sed -n 1p)" = slave ] && [ "$(echo "$role" | sed -n 2,3p | paste -sd:)" = "$leader" ] && continue
        log "following $leader"
        cli "$server" REPLICAOF "${leader%:*}" "${leader##*:}" >/dev/null
    done
}

if [ "$mode" = lead ]; then lead; fi

# The agent leads a process group of its own (its follower loop, etcdctl, the lead it
# runs), so that stopping it stops them all: none is left holding the lock.
if [ "$(ps -o pgid= $$ | tr -d ' ')" != "$$" ]; then exec setsid "$0" "${arguments[@]}"; fi
# (etcdctl waiting for the lock ignores TERM: what is still there after a moment is killed)
trap 'trap - TERM INT EXIT; kill -TERM 0 2>/dev/null; sleep 0.3; kill -KILL 0 2>/dev/null' TERM INT EXIT
follow_leader &
log "started: members $members, etcd $endpoint, lock /$name/lock (ttl ${ttl}s)"
while true; do
    until alive "$server" && ! diverged "$server"; do sleep 0.2; done
    # In the background, so that a TERM is handled at once, not after etcdctl returns.
    "${etcd[@]}" lock --ttl="$ttl" "/$name/lock" -- "$0" lead "${arguments[@]}" &
    wait $! || true
    sleep 0.5
done
