#!/usr/bin/env bash
# The power-cut tests as a soak (issue #11): each moment of each seeded workload is cut
# CUTS ways (default 40; the suite uses 4) and recovered; prints how many cuts ran.
#
#   LoadTests/power-cuts.sh [cuts per moment]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests >/dev/null
ORDERLINE_POWER_CUTS=${1:-40} swift test --skip-build \
    --filter "everyAcknowledgedLSNSurvivesAnyPowerCut|everyMomentOfALogAndASnapshotRecovers|aCutBetween|aHalfWritten|aSegmentCreated" 2>&1 \
    | grep -E "power cuts:|✘|Test run"
