#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the server on the demo data in Data/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product orderline
exec .build/release/orderline serve --data "${ORDERLINE_DATA:-./orderline-data}" --seed Data/seed "$@"
