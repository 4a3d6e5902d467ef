#!/usr/bin/env bash
# libFuzzer on what reads untrusted bytes (issue #11): the RESP and inline decoder
# (FuzzRESP), the command table's argument parsing and decide (FuzzCommands), and the
# event, snapshot, canonical-record, segment/frame and checkpoint decoders (FuzzStorage).
# Builds Fuzz/ with -sanitize=fuzzer,address (linked with lld: gold crashes on it), then
# runs each target SECONDS seconds (default 60) from its committed seed corpus
# (Fuzz/Corpus/<target>); new inputs go to a scratch corpus, findings to
# Fuzz/findings/. Prints executions, coverage and findings per target.
#
#   LoadTests/fuzz.sh [seconds] [target…]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
seconds=${1:-60}
shift || true
targets=("${@:-FuzzRESP FuzzCommands FuzzStorage}")
read -r -a targets <<< "${targets[*]}"
(cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address --toolset lld-toolset.json >/dev/null)
mkdir -p Fuzz/findings
work=$(mktemp -d /tmp/orderline-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    log="$work/$target.log"
    Fuzz/.build/release/"$target" "$work/$target" "Fuzz/Corpus/$target" -max_total_time="$seconds" -print_final_stats=1 \
        -artifact_prefix="Fuzz/findings/$target-" -rss_limit_mb=4096 >"$log" 2>&1 || true
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    coverage=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1 | grep -o 'cov: [0-9]*' || echo "cov: ?")
    features=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1 | grep -o 'ft: [0-9]*' || echo "ft: ?")
    findings=$(ls Fuzz/findings | grep -c "^$target-" || true)
    echo "$target: $runs executions in ${seconds} s, $coverage, $features, corpus $(ls "$work/$target" | wc -l) new inputs, findings: $findings"
    if grep -q "ERROR: \|==ERROR\|Fatal error\|deadly signal" "$log"; then
        grep -m3 -E "ERROR|Fatal error|deadly signal" "$log" | sed 's/^/    /'
    fi
done
