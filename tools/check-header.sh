#!/usr/bin/env bash
# Fails when include/nimbus.h differs from what cbindgen generates from
# src/ffi now: the committed header is the C API's source of truth for
# users, so it must never drift. `--update` rewrites it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
cbindgen --quiet --config cbindgen.toml --crate nimbus --output "$fresh"
if [ "${1:-}" = "--update" ]; then
    cp "$fresh" include/nimbus.h
    echo "include/nimbus.h updated"
elif ! diff -u include/nimbus.h "$fresh"; then
    echo "include/nimbus.h is out of date: run tools/check-header.sh --update and commit it" >&2
    exit 1
fi
