#!/usr/bin/env bash
# How long other clients wait behind one heavy client (issue #10): a server holding
# ORDERS orders and RESERVATIONS held carts; one client pipelines heavy reads
# (ORDER.LIST by customer, DIGEST, ORDER.LIST limit=1000) and reads its replies slowly;
# meanwhile another client sends PINGs one at a time. Prints the PINGs' latency
# percentiles, and the server's resident memory before and after.
#
#   LoadTests/bench-fairness.sh                    # this build
#   OTHER_BIN=/path/to/orderline LoadTests/bench-fairness.sh   # and another, side by side
set -euo pipefail
source "$(dirname "$0")/bench-prelude.sh"
bench_prelude fairness orderline
orders=${ORDERS:-20000}
reservations=${RESERVATIONS:-500000}

run() {  # $1: label, $2: binary
    bin=$(dirname "$2")
    start_orderline 7400 --snapshot-every 0
    { echo "NODE.ADD WH kind=warehouse lat=40.7 lon=-74.0"
      echo "CARRIER.SET GROUND standard base=500 per_km=100 per_kg=50 bands=500:2,1500:3,5000:5"
      for sku in A B C HOT; do echo "SKU.ADD $sku price=100 weight=100"; echo "STOCK.SET WH $sku 1000000000"; done
    } | redis-cli -p 7400 >/dev/null
    redis-benchmark -p 7400 -c 20 -P 16 -r 100 -n "$orders" -q \
        ORDER.CREATE O-__rand_int__-__rand_int__ channel=web customer=C-__rand_int__ lines=A:1,B:2,C:1 ship=40.7,-74.0 >/dev/null 2>&1
    redis-benchmark -p 7400 -c 20 -P 16 -n "$reservations" -q RESERVE HOT 1 ttl=86400 >/dev/null 2>&1
    local held before
    held=$(redis-cli -p 7400 INFO orders | tr -d '\r' | grep '^orders:' | cut -d: -f2)
    before=$(ps -o rss= -p "$pid")
    python3 - 7400 <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
heavy = socket.create_connection(("127.0.0.1", port))
requests = [b"ORDER.LIST customer=C-000000000042\r\n"] * 100 + [b"DIGEST\r\n"] * 10 + [b"ORDER.LIST limit=1000\r\n"] * 20
done = threading.Event()
def slow_reader():
    heavy.sendall(b"".join(requests))
    received = 0
    while not done.is_set():
        chunk = heavy.recv(65536)
        if not chunk: break
        received += len(chunk)
        time.sleep(0.01)  # a slow reader: 6.5 MB/s at most
    heavy.close()
threading.Thread(target=slow_reader, daemon=True).start()
probe = socket.create_connection(("127.0.0.1", port))
probe.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
latencies = []
deadline = time.time() + 10
while time.time() < deadline:
    started = time.perf_counter()
    probe.sendall(b"PING\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"): reply += probe.recv(64)
    latencies.append(time.perf_counter() - started)
done.set()
latencies.sort()
def at(q): return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"  PINGs: {len(latencies)} in 10 s; p50 {at(0.5):.2f} ms, p99 {at(0.99):.2f} ms, max {latencies[-1]*1000:.1f} ms")
PY
    echo "  orders: $held; resident before the heavy client: $((before / 1024)) MiB, after: $(( $(ps -o rss= -p "$pid") / 1024 )) MiB"
    stop
}

echo "this build ($bin/orderline), $orders order requests, $reservations carts:"
run this "$bin/orderline"
if [ -n "${OTHER_BIN:-}" ]; then
    echo "other build ($OTHER_BIN):"
    run other "$OTHER_BIN"
fi
