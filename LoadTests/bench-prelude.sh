# Sourced by the bench scripts: `bench_prelude <name> <product>...` sets up the
# machine, builds the products in release, makes "$work" (removed on exit) and sets
# "$bin"; `start_orderline <port> [serve options]` and `start_redis <label> [redis
# options]` (port 7401) start a fresh server on 127.0.0.1 and wait until it is ready;
# `stop` stops the server started last, by pid. `seed_for_redis_benchmark` loads the
# 1,000 SKUs both servers' redis-benchmark commands draw from.
# The median of list[1..count] (sorted in place), for the scripts' awk summaries:
# `awk "$awk_median"'<program>'`.
awk_median='
    function median(list, count,   i, j, t) {
        for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (list[j] < list[i]) { t = list[i]; list[i] = list[j]; list[j] = t }
        return count % 2 ? list[(count + 1) / 2] : (list[count / 2] + list[count / 2 + 1]) / 2
    }'

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

need_redis_server() {
    if ! command -v redis-server >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    fi
}

start_redis() {  # $1: label, then redis-server options
    local label=$1; shift
    mkdir -p "$work/$label"
    redis-server --port 7401 --bind 127.0.0.1 --dir "$work/$label" --save "" "$@" >"$work/$label.log" 2>&1 &
    pid=$!
    until [ "$(redis-cli -p 7401 PING 2>/dev/null)" = PONG ]; do sleep 0.1; done
}

# `start_target orderline|redis-always|redis-everysec|redis-none`: a fresh server of
# that kind; sets "$port" and "$target" (orderline or redis, for orderline-load).
start_target() {
    case $1 in
        orderline) start_orderline 7400; port=7400; target=orderline ;;
        redis-always) start_redis redis-always --appendonly yes --appendfsync always; port=7401; target=redis ;;
        redis-everysec) start_redis redis-everysec --appendonly yes --appendfsync everysec; port=7401; target=redis ;;
        redis-none) start_redis redis-none --appendonly no; port=7401; target=redis ;;
        *) echo "unknown target $1" >&2; return 1 ;;
    esac
}

# A Redis reservation as a Lua script: decrement only if the stock covers the quantity.
reservation_lua='local s = tonumber(redis.call("GET", KEYS[1]) or "0") local q = tonumber(ARGV[1]) if s >= q then redis.call("DECRBY", KEYS[1], q) return "R" .. redis.call("INCR", "reservation:id") end return redis.error_reply("SOLDOUT " .. KEYS[1] .. " available=" .. s)'

# `seed_for_redis_benchmark orderline|redis <port>`: 1,000 SKUs with ample stock, and
# in "${benchmark_command[@]}" the reservation for redis-benchmark (`__rand_int__`
# picks the SKU).
seed_for_redis_benchmark() {
    local target=$1 port=$2 i
    if [ "$target" = orderline ]; then
        { echo "NODE.ADD RB-WH kind=warehouse lat=1 lon=2"
          for i in $(seq 0 999); do printf 'SKU.ADD SKU-%012d price=1\nSTOCK.SET RB-WH SKU-%012d 1000000000\n' $i $i; done
        } | redis-cli -p "$port" >/dev/null
        benchmark_command=(RESERVE SKU-__rand_int__ 1)
    else
        for i in $(seq 0 999); do printf 'SET stock:%012d 1000000000\n' $i; done | redis-cli -p "$port" >/dev/null
        benchmark_command=(EVALSHA "$(redis-cli -p "$port" SCRIPT LOAD "$reservation_lua")" 1 stock:__rand_int__ 1)
    fi
}

# `redis_benchmark_line <port> <depth> <requests>`: redis-benchmark's summary line for
# "${benchmark_command[@]}" (50 connections, 1,000 SKUs at random).
redis_benchmark_line() {
    redis-benchmark -p "$1" -c 50 -P "$2" -r 1000 -n "$3" -q "${benchmark_command[@]}" 2>/dev/null \
        | tr '\r' '\n' | grep "requests per second" | tail -1
}

# `write_report <name> <title> <unit> <rounds.tsv> [--ratio A/B ...]`: the HTML page
# of the rounds (tab-separated group, round, target, value: `orderline-load report`)
# with those ratios, kept in ${REPORT_DIR:-.build/bench-reports} (the work directory
# is removed on exit).
write_report() {
    local dir=${REPORT_DIR:-.build/bench-reports} name=$1 title=$2 unit=$3 rounds=$4
    shift 4
    mkdir -p "$dir"
    "$bin/orderline-load" report "$rounds" --title "$title" --unit "$unit" "$@" --html "$dir/$name-$(date -u +%Y%m%dT%H%M%SZ).html"
}
