#!/usr/bin/env bash
# How long other clients wait behind one heavy client (issue #10): a server holding
# ORDERS orders and RESERVATIONS held carts; one client pipelines heavy reads
# (HEAVY: 100 ORDER.LIST by customer, 10 DIGEST, 20 ORDER.LIST limit=1000), reads the
# replies, and does it again, all the time; meanwhile another client sends PINGs one at
# a time for SECONDS_PROBED (20) seconds. Prints the PINGs' latency percentiles, how
# long they spent in waits over 10 ms, the heavy client's rounds, and the server's
# resident memory before and after.
#
#   LoadTests/bench-fairness.sh                    # this build
#   OTHER_BIN=/path/to/orderline LoadTests/bench-fairness.sh   # and another, side by side
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude fairness orderline
orders=${ORDERS:-20000}
reservations=${RESERVATIONS:-500000}
# What the heavy client pipelines: 100 ORDER.LIST customer=, 10 DIGEST, 20 ORDER.LIST limit=1000.
heavy=${HEAVY:-customer,digest,list}

run() {  # $1: label, $2: binary
    bin=$(dirname "$2")
    start_orderline 7400 --snapshot-every 0
    { echo "NODE.ADD WH kind=warehouse lat=40.7 lon=-74.0"
      echo "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5"
      for sku in A B C HOT; do echo "SKU.ADD $sku price=100 weight=100"; echo "STOCK.SET WH $sku 1000000000"; done
    } | redis-cli -p 7400 >/dev/null
    python3 - 7400 "$orders" <<'PY'
import socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
client = socket.create_connection(("127.0.0.1", port))
for start in range(0, count, 1000):
    batch = range(start, min(count, start + 1000))
    client.sendall(b"".join(b"ORDER.CREATE O-%d channel=web customer=C-%d lines=A:1,B:2,C:1 ship=40.7,-74.0\r\n" % (i, i % 100) for i in batch))
    received = b""
    while received.count(b"\r\n") < 2 * len(batch): received += client.recv(1 << 20)
PY
    redis-benchmark -p 7400 -c 20 -P 16 -n "$reservations" -q RESERVE HOT 1 ttl=86400 >/dev/null 2>&1
    local held before
    held=$(redis-cli -p 7400 INFO orders | tr -d '\r' | grep '^orders:' | cut -d: -f2)
    before=$(ps -o rss= -p "$pid")
    # The heavy client: its mix pipelined again and again, each round's replies read
    # as fast as it can (so back-pressure never holds it), until stopped.
    python3 - 7400 "$heavy" <<'PY' &
import redis, signal, sys
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), protocol=2, socket_timeout=600)
rounds = 0
def report(*_):
    print(f"  the heavy client meanwhile: {rounds} rounds of its mix done")
    sys.exit(0)
signal.signal(signal.SIGTERM, report)
mix = {"customer": [("ORDER.LIST", "customer=C-42")] * 100, "digest": [("DIGEST",)] * 10, "list": [("ORDER.LIST", "limit=1000")] * 20}
requests = sum((mix[name] for name in sys.argv[2].split(",")), [])
while True:
    pipe = r.pipeline(transaction=False)
    for request in requests: pipe.execute_command(*request)
    pipe.execute()
    rounds += 1
PY
    local heavy_pid=$!
    sleep 1
    # Meanwhile one client, one PING at a time, for SECONDS seconds.
    python3 - 7400 "${SECONDS_PROBED:-20}" <<'PY'
import socket, sys, time
probe = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
latencies = []
end = time.perf_counter() + float(sys.argv[2])
while time.perf_counter() < end:
    started = time.perf_counter()
    probe.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"): reply += probe.recv(64)
    latencies.append(time.perf_counter() - started)
waited = sum(latency for latency in latencies if latency > 0.01)
latencies.sort()
def at(q): return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"  PING behind the heavy client ({len(latencies)} in {sys.argv[2]} s): p50 {at(0.5):.2f} ms, p99 {at(0.99):.2f}, "
      f"p99.9 {at(0.999):.2f}, max {latencies[-1] * 1000:.0f} ms; {sum(l > 0.01 for l in latencies)} over 10 ms, "
      f"waiting {waited:.1f} s of the {sys.argv[2]} in them")
PY
    kill "$heavy_pid" 2>/dev/null || true
    wait "$heavy_pid" 2>/dev/null || true
    echo "  orders: $held; resident before the heavy client: $((before / 1024)) MiB, after: $(( $(ps -o rss= -p "$pid") / 1024 )) MiB"
    stop
}

echo "this build ($bin/orderline), $orders order requests, $reservations carts:"
run this "$bin/orderline"
if [ -n "${OTHER_BIN:-}" ]; then
    echo "other build ($OTHER_BIN):"
    run other "$OTHER_BIN"
fi
