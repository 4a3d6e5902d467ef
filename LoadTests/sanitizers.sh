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
        # Every process (the test runner and each server it starts) writes its reports
        # to $reports.<pid>. Tests that measure memory or time skip themselves
        # (ORDERLINE_SANITIZED): a sanitizer's shadow memory and slowdown are not the server's.
        reports=/tmp/orderline-sanitize-$s-reports
        rm -rf "$reports"; mkdir -p "$reports"
        export ASAN_OPTIONS="detect_leaks=1:log_path=$reports/report" TSAN_OPTIONS="halt_on_error=0:log_path=$reports/report"
        export ORDERLINE_SANITIZED=$s
        swift test --skip-build --sanitize="$s" --scratch-path ".build-$s" >>"$log" 2>&1
        status=$?
        grep -E "Test run with|✘" "$log" | tail -5
        echo "== $s: exit $status; reports from $(ls "$reports" | wc -l) process(es) in $reports; those naming Orderline's own code:"
        for report in "$reports"/*; do
            [ -e "$report" ] || continue
            if grep -q "/Sources/Orderline\(Core\|Storage\|Protocol\|Server\)\|/Sources/orderline/" "$report"; then
                echo "-- $report"; grep -m3 -E "ERROR|WARNING|SUMMARY" "$report"
            fi
        done
    done
done
