#!/usr/bin/env bash
# Sets up what is missing, builds everything (the end-to-end tests run the built
# executables as real processes), and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test-tools
swift build --build-tests
swift test --skip-build "$@"
