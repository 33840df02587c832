#!/usr/bin/env bash
# The main job, start to end, on a fresh Debian 12 machine:
#
#   1. tools/setup.sh installs whatever is missing (apt, rustup, build/venv);
#   2. builds the core (cargo) and the host demo (samples/host, C + mbedTLS);
#   3. generates a throwaway CA, server and device certificates (openssl,
#      tools/certs.sh) into build/demo/certs;
#   4. starts the local cloud (tools/cloud/local.py) on free 127.0.0.1
#      ports: mosquitto with both clouds' rules enforced in its plugin, TLS
#      with client certificates for the devices, the two devices in its
#      registry, the shadow/twin services and the HTTPS service APIs;
#   5. runs nimbus-demo as an AWS thing, then as an Azure device, each while
#      tools/cloud/drive.py plays a cloud application through those APIs
#      (requests / direct methods, a C2D message, a desired
#      telemetry_period_ms) and prints what the device answered;
#   6. stops everything it started (also on Ctrl-C or a failure).
#
#   NIMBUS_DEMO_RUN_S   seconds each device runs (default 15)
#
# Exit status 0 when both devices answered everything as expected and
# neither broke a rule of its cloud.
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
        echo "demo: stopped the local cloud (pid $broker)"
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

step "cloud: the local cloud on 127.0.0.1 (mosquitto with both clouds' rules, tools/cloud/local.py)"
rm -rf "$WORK/cloud"
"$PYTHON" tools/cloud/local.py --dir "$WORK/cloud" --pki "$CERTS" --hub "$AZURE_HUB" \
    --device "aws:$AWS_DEVICE" --device "azure:$AZURE_DEVICE" >"$WORK/cloud.json" 2>"$WORK/cloud.err" &
broker=$!
for _ in $(seq 600); do # bounded: 60 s (the first run builds the broker plugin)
    [[ -s "$WORK/cloud.json" ]] && break
    kill -0 "$broker" 2>/dev/null || break
    sleep 0.1
done
if [[ ! -s "$WORK/cloud.json" ]]; then
    echo "demo: the local cloud did not start:" >&2
    cat "$WORK/cloud.err" >&2 || true
    exit 1
fi
port_of() { "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["ports"][sys.argv[2]])' "$WORK/cloud.json" "$1"; }
aws_port=$(port_of aws)
azure_port=$(port_of azure)
api_port=$(port_of api)
echo "demo: local cloud pid $broker: AWS devices on 127.0.0.1:$aws_port, Azure devices on 127.0.0.1:$azure_port" \
    "(TLS, client certificates), service APIs on https://localhost:$api_port; rules broken: $WORK/cloud/violations.jsonl"

# run_device CLOUD DEVICE [DEMO ARGS...]: one device with the cloud played
# next to it. The broker's name in its certificate is localhost.
run_device() {
    local cloud=$1 device=$2 port
    shift 2
    port=$([[ $cloud == aws ]] && echo "$aws_port" || echo "$azure_port")
    "$PYTHON" tools/cloud/drive.py --cloud "$cloud" --local-cloud "$WORK/cloud.json" \
        --device "$device" --sensors 2 --period-ms 2000 --run-for-limit $((RUN_S + 20)) -- \
        "$DEMO" --cloud "$cloud" --host localhost --connect-address 127.0.0.1 --port "$port" \
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
if [[ -s "$WORK/cloud/violations.jsonl" ]]; then
    echo "demo: a device broke the clouds' rules (the real cloud would have dropped it):" >&2
    cat "$WORK/cloud/violations.jsonl" >&2
    rc=1
fi
if ((rc == 0)); then
    echo "demo: both devices answered everything as expected"
else
    echo "demo: some answers were not as expected (see FAIL above); broker log: $WORK/cloud/mosquitto.log" >&2
fi
exit "$rc"
