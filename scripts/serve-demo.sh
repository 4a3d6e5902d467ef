#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the server on the demo data in Data/,
# with its HTTP side listener (the operations page GET /, GET /metrics, GET /healthz) on
# 127.0.0.1:7380.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product orderline
echo "serve-demo: RESP on 127.0.0.1:7379; the operations page on http://127.0.0.1:7380/ (metrics: /metrics, health: /healthz)" >&2
exec .build/release/orderline serve --data "${ORDERLINE_DATA:-./orderline-data}" --seed Data/seed --http 127.0.0.1:7380 "$@"
