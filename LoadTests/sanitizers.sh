#!/usr/bin/env bash
# The whole test suite built and run under a sanitizer (issue #11): address (ASan, with
# leak detection) and thread (TSan), each in its own build folder (.build-address,
# .build-thread). The end-to-end tests start the server built there, so it runs
# sanitized too. Prints each suite's result and the sanitizer reports found.
#
#   LoadTests/sanitizers.sh [address] [thread]
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
for sanitizer in "${@:-address thread}"; do
    for s in $sanitizer; do
        log=/tmp/orderline-sanitize-$s.log
        echo "== $s: building (.build-$s)"
        if ! swift build --build-tests --sanitize="$s" --scratch-path ".build-$s" >"$log" 2>&1; then
            tail -20 "$log"; continue
        fi
        echo "== $s: testing"
        # Servers started by the tests write their own reports next to their data.
        export ASAN_OPTIONS=detect_leaks=1 TSAN_OPTIONS=halt_on_error=0
        swift test --skip-build --sanitize="$s" --scratch-path ".build-$s" >>"$log" 2>&1
        status=$?
        grep -E "Test run with|✘" "$log" | tail -5
        reports=$(grep -c -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ERROR: LeakSanitizer" "$log" || true)
        echo "== $s: exit $status, $reports sanitizer report(s) in the test process (log: $log)"
        grep -m5 -A8 -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ERROR: LeakSanitizer" "$log" | head -60
    done
done
