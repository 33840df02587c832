#!/usr/bin/env bash
# The main job, start to end, on a fresh Debian 12 machine:
#
#   1. tools/setup.sh installs whatever is missing (apt, rustup, build/venv);
#   2. builds the core (cargo) and the host demo (samples/host, C + mbedTLS);
#   3. generates a throwaway CA, server and device certificates (openssl,
#      tools/certs.sh) into build/demo/certs;
#   4. starts mosquitto on free 127.0.0.1 ports: TLS for the devices with
#      require_certificate true and use_identity_as_username true, and a
#      plain listener for the cloud side;
#   5. runs nimbus-demo as an AWS thing, then as an Azure device, each while
#      tools/cloud/drive.py plays the cloud (requests / direct methods, a
#      desired telemetry_period_ms, shadow/twin answers) and prints what the
#      device answered;
#   6. stops everything it started (also on Ctrl-C or a failure).
#
#   NIMBUS_DEMO_RUN_S   seconds each device runs (default 15)
#
# Exit status 0 when both devices answered everything as expected.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin" # mosquitto

RUN_S=${NIMBUS_DEMO_RUN_S:-15}
WORK=build/demo
CERTS=$WORK/certs
PYTHON=build/venv/bin/python
DEMO=target/host-demo/nimbus-demo
AWS_DEVICE=nimbus-aws-demo
AZURE_DEVICE=nimbus-azure-demo
AZURE_HUB=nimbus-demo-hub.azure-devices.net
broker=

stop_broker() {
    if [[ -n $broker ]] && kill -0 "$broker" 2>/dev/null; then
        kill "$broker" 2>/dev/null || true
        for _ in $(seq 50); do # bounded: 5 s
            kill -0 "$broker" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$broker" 2>/dev/null || true
        wait "$broker" 2>/dev/null || true
        echo "demo: stopped mosquitto (pid $broker)"
    fi
    broker=
}
trap stop_broker EXIT
trap 'exit 130' INT TERM

step() { printf '\n==> %s\n' "$*"; }

step "setup"
bash tools/setup.sh

step "build: the core (cargo) and nimbus-demo (samples/host)"
make -s -C samples/host
echo "demo: $DEMO"

step "certificates: a throwaway CA, the broker (localhost) and two devices"
mkdir -p "$WORK"
tools/certs.sh "$CERTS" "$AWS_DEVICE" "$AZURE_DEVICE"

step "broker: mosquitto on 127.0.0.1 (TLS with client certificates for devices)"
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=false
for attempt in 1 2 3; do
    tls_port=$(free_port)
    cloud_port=$(free_port)
    cat >"$WORK/mosquitto.conf" <<CONF
# The devices' endpoint: TLS, a client certificate required, its CN is the
# MQTT user name. The cloud side's endpoint: plain TCP on loopback.
per_listener_settings true
persistence false
user $(id -un)
log_dest file $PWD/$WORK/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information

listener $tls_port 127.0.0.1
allow_anonymous false
cafile $PWD/$CERTS/ca.crt
certfile $PWD/$CERTS/server.crt
keyfile $PWD/$CERTS/server.key
require_certificate true
use_identity_as_username true

listener $cloud_port 127.0.0.1
allow_anonymous true
CONF
    : >"$WORK/mosquitto.log"
    mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.out" 2>&1 &
    broker=$!
    for _ in $(seq 100); do # bounded: 10 s
        kill -0 "$broker" 2>/dev/null || break
        if listening "$tls_port" && listening "$cloud_port"; then
            started=true
            break
        fi
        sleep 0.1
    done
    $started && break
    echo "demo: mosquitto did not start (attempt $attempt):" >&2
    cat "$WORK/mosquitto.out" "$WORK/mosquitto.log" >&2 || true
    stop_broker
done
$started || { echo "demo: cannot start mosquitto" >&2; exit 1; }
echo "demo: mosquitto pid $broker: devices on 127.0.0.1:$tls_port (TLS, client certificates), cloud side on 127.0.0.1:$cloud_port"

# run_device CLOUD DEVICE [DEMO ARGS...]: one device with the cloud played
# next to it. The broker's name in its certificate is localhost.
run_device() {
    local cloud=$1 device=$2
    shift 2
    "$PYTHON" tools/cloud/drive.py --cloud "$cloud" --broker "127.0.0.1:$cloud_port" \
        --device "$device" --sensors 2 --period-ms 2000 --run-for-limit $((RUN_S + 20)) -- \
        "$DEMO" --cloud "$cloud" --host localhost --connect-address 127.0.0.1 --port "$tls_port" \
        --device "$device" --ca "$CERTS/ca.crt" --cert "$CERTS/$device.crt" --key "$CERTS/$device.key" \
        --sensors 2 --telemetry-period-ms 1000 --qos 1 --run-for-s "$RUN_S" "$@"
}

rc=0
step "AWS IoT Core: thing $AWS_DEVICE (${RUN_S} s)"
run_device aws "$AWS_DEVICE" || rc=1

step "Azure IoT Hub: device $AZURE_DEVICE on hub $AZURE_HUB (${RUN_S} s)"
run_device azure "$AZURE_DEVICE" --hub "$AZURE_HUB" || rc=1

step "done"
stop_broker
if ((rc == 0)); then
    echo "demo: both devices answered everything as expected"
else
    echo "demo: some answers were not as expected (see FAIL above); broker log: $WORK/mosquitto.log" >&2
fi
exit "$rc"
