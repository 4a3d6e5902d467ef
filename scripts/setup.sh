#!/usr/bin/env bash
# Installs what a fresh Debian machine with only the Swift toolchain lacks.
# Idempotent: it installs only what is missing, and needs root only then.
# With --ha also etcd and HAProxy, which the failover test and LoadTests/ha-drill.sh run;
# with --test-tools those, promtool (Debian prometheus), which the metrics test runs,
# and headless Chromium with a font, which the operations page's test runs:
# what scripts/test.sh needs.
set -euo pipefail

missing=()
if [ "${1:-}" = --test-tools ]; then
    command -v promtool >/dev/null || missing+=(prometheus)
    command -v chromium >/dev/null || missing+=(chromium)
    [ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)
fi
if [ "${1:-}" = --ha ] || [ "${1:-}" = --test-tools ]; then
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v etcdctl >/dev/null || missing+=(etcd-client)
    command -v haproxy >/dev/null || missing+=(haproxy)
fi
[ -e /usr/include/zstd.h ] || missing+=(libzstd-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v fio >/dev/null || missing+=(fio)

if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: run as root, or install these Debian packages: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# redis-py, an outside client library the end-to-end tests drive the server with.
if ! python3 -c "import redis" 2>/dev/null; then
    echo "setup: installing redis-py" >&2
    python3 -m pip install -q --disable-pip-version-check redis >/dev/null 2>&1 \
        || python3 -m pip install -q --break-system-packages redis >/dev/null
fi
