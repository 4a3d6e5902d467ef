#!/usr/bin/env bash
# The storage benchmarks of docs/BENCHMARKS.md in one run: this disk's fdatasync
# ceiling (fio) beside durable WAL appends with 1, 8, 64 and 256 writers, compression
# on a flash-sale stream, and replay/recovery of a large log with and without a snapshot.
# Usage: LoadTests/bench-wal.sh [events for the replay log, default 10000000]
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude bench orderline orderline-walbench
bench=$bin/orderline-walbench

echo "== fdatasync ceiling: fio --rw=write --bs=4k --fdatasync=1"
fio --name=ceiling --directory="$work" --rw=write --bs=4k --size=32m --fdatasync=1 \
    | grep -E "IOPS=|^ +\| +99.00th" | head -3

for writers in 1 8 64 256; do
    events=$(( writers == 1 ? 20000 : 300000 ))
    echo "== durable appends, $writers writers"
    "$bench" append --dir "$work/w$writers" --writers "$writers" --events "$events"
done

echo "== compression of a flash-sale stream, per-frame zstd vs one stream per segment"
"$bench" compression --events 200000

log_events=${1:-10000000}
echo "== replay: $log_events events written by 256 writers"
"$bench" append --dir "$work/replay" --writers 256 --events "$log_events" | head -2
"$bench" replay --dir "$work/replay"
"$bench" replay --dir "$work/replay" --snapshot-first
