#!/usr/bin/env bash
# run.sh - builds and runs the POSIX port's tests against a local mosquitto.
#
# 1. builds tests/posix with -fsanitize=address,undefined,
# 2. generates a throwaway PKI with tools/certs.sh into a temp dir,
# 3. starts /usr/sbin/mosquitto on free ports: TLS with client
#    certificates on 127.0.0.1 and on ::1, plain TCP on 127.0.0.1,
# 4. runs the cmocka tests, then stops mosquitto and removes the temp dir.
#
# Extra make variables pass through, e.g. to test another mbedTLS:
#   tests/posix/run.sh MBEDTLS_CFLAGS="-isystem /x/include" MBEDTLS_LIBS=/x/lib.a
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-posix-test.XXXXXX")
MOSQ_PID=

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
    if [ -n "$MOSQ_PID" ] && kill -0 "$MOSQ_PID" 2>/dev/null; then
        kill "$MOSQ_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do # bounded: 5 s
            kill -0 "$MOSQ_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$MOSQ_PID" 2>/dev/null || true
    fi
    if [ -n "${NIMBUS_TEST_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build (ASan + UBSan)"
make -s -C "$HERE" BUILD="$WORK/build" "$@"

echo "== test PKI"
"$ROOT/tools/certs.sh" "$WORK/certs"
CERTS="$WORK/certs"

# True if something accepts TCP on host $1 port $2.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# A port that nothing listens on, on 127.0.0.1 and ::1 (mosquitto
# reports a clash at start-up, and we retry with new ports).
free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! port_open 127.0.0.1 "$p" && ! port_open ::1 "$p"; then
            echo "$p"
            return 0
        fi
    done
    echo "run.sh: no free port found" >&2
    return 1
}

# Writes the broker config for the chosen ports.
write_config() {
    local tls
    tls="allow_anonymous false
cafile $CERTS/ca.crt
certfile $CERTS/server.crt
keyfile $CERTS/server.key
require_certificate true
use_identity_as_username true"
    cat >"$WORK/mosquitto.conf" <<EOF
per_listener_settings true
persistence false
user $(id -un)
log_dest file $WORK/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information

listener $TLS_PORT 127.0.0.1
$tls

listener $TLS6_PORT ::1
$tls

listener $PLAIN_PORT 127.0.0.1
allow_anonymous true
EOF
}

echo "== mosquitto"
started=false
for attempt in 1 2 3; do
    TLS_PORT=$(free_port)
    TLS6_PORT=$(free_port)
    PLAIN_PORT=$(free_port)
    write_config
    "$MOSQUITTO" -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.out" 2>&1 &
    MOSQ_PID=$!
    for _ in $(seq 1 100); do # bounded: 10 s
        if ! kill -0 "$MOSQ_PID" 2>/dev/null; then
            break # exited, e.g. a port was taken meanwhile
        fi
        if port_open 127.0.0.1 "$TLS_PORT" && port_open ::1 "$TLS6_PORT" &&
            port_open 127.0.0.1 "$PLAIN_PORT"; then
            started=true
            break
        fi
        sleep 0.1
    done
    $started && break
    echo "mosquitto did not start (attempt $attempt):" >&2
    cat "$WORK/mosquitto.out" "$WORK/mosquitto.log" >&2 2>/dev/null || true
    kill "$MOSQ_PID" 2>/dev/null || true
    wait "$MOSQ_PID" 2>/dev/null || true
    MOSQ_PID=
done
$started || { echo "run.sh: cannot start mosquitto" >&2; exit 1; }
echo "mosquitto pid $MOSQ_PID: TLS 127.0.0.1:$TLS_PORT, TLS [::1]:$TLS6_PORT, plain 127.0.0.1:$PLAIN_PORT"

echo "== tests"
rc=0
NIMBUS_TEST_CERTS="$CERTS" NIMBUS_TEST_TLS_PORT="$TLS_PORT" \
    NIMBUS_TEST_TLS6_PORT="$TLS6_PORT" NIMBUS_TEST_PLAIN_PORT="$PLAIN_PORT" \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$WORK/build/test_transport" || rc=$?

if [ "$rc" -ne 0 ]; then
    echo "== mosquitto log (tests failed, rc=$rc)"
    cat "$WORK/mosquitto.log" 2>/dev/null || true
fi
exit "$rc"
