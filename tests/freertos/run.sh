#!/usr/bin/env bash
# run.sh - builds and runs the FreeRTOS port's unit tests on the stand-in
# kernel (ASan + UBSan), with a throwaway PKI from tools/certs.sh for the
# TLS set-up test. No broker needed: the tests make their own loopback
# listeners. Extra arguments go to make (e.g. NIMBUS_INCLUDE=...).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-freertos-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== build (stand-in kernel, ASan + UBSan; both socket wait modes)"
make -s -C "$HERE" BUILD="$WORK/build" "$@"
make -s -C "$HERE" BUILD="$WORK/build-blocking" EXTRA_DEFS=-DNIMBUS_FREERTOS_BLOCKING_SELECT=1 "$@"

echo "== test PKI"
"$ROOT/tools/certs.sh" "$WORK/certs"

export NIMBUS_TEST_CERTS="$WORK/certs"
# use_sigaltstack=0: vTaskDelete of another task is a pthread_cancel,
# whose forced unwind leaves that thread's frames poisoned; ASan's own
# sigaltstack teardown at the thread's exit then reports a stack overflow
# in its interceptor now and then (a false positive of ASan with
# cancellation, seen under load).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:use_sigaltstack=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== tests: non-blocking socket checks + notification sleeps (default)"
"$WORK/build/test_port"
echo "== tests: blocking select() slices (lwIP / ESP-IDF)"
"$WORK/build-blocking/test_port"
echo "== tests: the ESP-IDF NVS store"
"$WORK/build/test_esp_store"
