#!/usr/bin/env bash
# An example consumer of Orderline's change feed (EVENTS.READ), in bash and redis-cli:
# it appends every event (one JSON line each) to a file and takes its cursor from the
# file's last line, so that a crash of the consumer or a restart of the server never
# loses or repeats an event. docs/RECOVERY.md describes the feed.
#
#   LoadTests/feed-consumer.sh --port 7379 --out events.jsonl [--types order_placed,order_cancelled] [--auth <token>] [--once]
#
# With --types the cursor also moves past events of other types (the feed's next
# cursor), kept in <out>.cursor; --once stops when it has caught up.
set -euo pipefail
port=7379 out="" types="" token="" once=0
while [ $# -gt 0 ]; do
    case $1 in
        --port) port=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --types) types=$2; shift 2 ;;
        --auth) token=$2; shift 2 ;;
        --once) once=1; shift ;;
        *) echo "feed-consumer: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] || { echo "usage: feed-consumer.sh --out <file> [--port <port>] [--types <t>,…] [--auth <token>] [--once]" >&2; exit 2; }
cli=(redis-cli -p "$port" --no-auth-warning)
[ -n "$token" ] && cli+=(--user default --pass "$token")
touch "$out"
# Where to go on from: the stored cursor, or the LSN of the last event written.
cursor() {
    local from_file=0 stored=0
    [ -s "$out" ] && from_file=$(tail -n 1 "$out" | sed -n 's/^{"lsn":\([0-9]*\),.*/\1/p')
    [ -s "$out.cursor" ] && stored=$(cat "$out.cursor")
    echo $(( ${from_file:-0} > ${stored:-0} ? ${from_file:-0} : ${stored:-0} ))
}
while true; do
    from=$(cursor)
    request=(EVENTS.READ FROM "$from" COUNT 1000 BLOCK 1000)
    [ -n "$types" ] && request+=(TYPES "$types")
    reply=$("${cli[@]}" "${request[@]}") || { sleep 1; continue; }   # the server restarts: ask again
    case $reply in
        NOTFOUND*|ERR*|INVALID*|NOPERM*|NOAUTH*|WRONGPASS*) echo "feed-consumer: $reply" >&2; exit 1 ;;
    esac
    next=$(head -n 1 <<<"$reply")
    events=$(tail -n +2 <<<"$reply")
    [ -n "$events" ] && printf '%s\n' "$events" >>"$out"
    echo "$next" >"$out.cursor.tmp" && mv "$out.cursor.tmp" "$out.cursor"
    if [ "$once" = 1 ] && [ -z "$events" ]; then break; fi
done
