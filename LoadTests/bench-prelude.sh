# Sourced by the bench scripts: `bench_prelude <name> <product>...` sets up the
# machine, builds the products in release, makes "$work" (removed on exit) and sets
# "$bin"; `start_orderline <port> [serve options]` starts a fresh server on
# 127.0.0.1 and waits until it is ready; `stop` stops the server started last, by pid.
bench_prelude() {
    local name=$1; shift
    cd "$(dirname "${BASH_SOURCE[0]}")/.."
    scripts/setup.sh
    for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
    bin=.build/release
    work=$(mktemp -d "/tmp/orderline-$name.XXXXXX")
    pid=""
    trap 'stop; rm -rf "$work"' EXIT
}

start_orderline() {
    local port=$1; shift
    rm -rf "$work/orderline" "$work/ready"
    "$bin/orderline" serve --data "$work/orderline" --port "$port" "$@" > "$work/ready" 2>"$work/orderline.log" &
    pid=$!
    until grep -q ready "$work/ready" 2>/dev/null; do sleep 0.1; done
}

stop() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""; fi; }
