#!/usr/bin/env bash
# Installs what a fresh Debian machine with only the Swift toolchain lacks.
# Idempotent: it installs only what is missing, and needs root only then.
set -euo pipefail

missing=()
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
