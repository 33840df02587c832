#!/usr/bin/env bash
# e2e.sh - end-to-end test of the FreeRTOS port on the stand-in kernel:
# builds the sample's host build with CMake through ports/freertos (the
# core for the host), makes a throwaway PKI, and runs e2e.py (mosquitto
# with TLS client certificates, the local cloud, both clouds, a broker
# restart). Extra arguments go to e2e.py (e.g. --cloud aws).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-freertos-e2e.XXXXXX")
BUILD=${NIMBUS_E2E_BUILD:-$ROOT/build/freertos-e2e}
trap 'if [ -n "${NIMBUS_TEST_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi' EXIT

echo "== build (CMake: stand-in kernel + ports/freertos + the core for the host)"
cmake -S "$HERE/e2e" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DNIMBUS_CARGO_DIR="$ROOT/target" >/dev/null
cmake --build "$BUILD"

echo "== test PKI"
"$ROOT/tools/certs.sh" "$WORK/certs"

echo "== end to end"
# The repository's venv (tools/setup.sh) has paho-mqtt for the local cloud.
PYTHON=python3
[ -x "$ROOT/build/venv/bin/python" ] && PYTHON="$ROOT/build/venv/bin/python"
"$PYTHON" "$HERE/e2e.py" --sample "$BUILD/nimbus_sample_host" --certs "$WORK/certs" \
    --work "$WORK" "$@"
