#!/usr/bin/env bash
# The main job: the host demo (examples/host_demo.rs) against a local MQTT
# broker. Runs tools/setup.sh first, so it works on a fresh Debian 12.
#
# Unless NIMBUS_BROKER_PORT is already set, starts mosquitto on a free
# loopback port for the demo's lifetime and passes it on as
#   NIMBUS_BROKER_HOST=127.0.0.1  NIMBUS_BROKER_PORT=<port>
# Arguments are passed to the demo. NIMBUS_DEMO_TIMEOUT (seconds) bounds
# the demo when set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin" # mosquitto

bash tools/setup.sh

if [[ ! -f examples/host_demo.rs ]]; then
    echo "demo: the host demo is not built yet (examples/host_demo.rs does not exist)" >&2
    exit 1
fi

if [[ -z "${NIMBUS_BROKER_PORT:-}" ]]; then
    dir=build/demo
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    cat >"$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $PWD/$dir/mosquitto.log
CONF
    mosquitto -c "$dir/mosquitto.conf" &
    broker=$!
    trap 'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$broker" 2>/dev/null || { echo "demo: mosquitto failed to start (see $dir/mosquitto.log)" >&2; exit 1; }
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "demo: mosquitto is not listening on 127.0.0.1:$port" >&2; exit 1; }
    echo "demo: local broker mosquitto on 127.0.0.1:$port"
    export NIMBUS_BROKER_HOST=127.0.0.1 NIMBUS_BROKER_PORT=$port
fi

demo=(cargo run --release --example host_demo -- "$@")
if [[ -n "${NIMBUS_DEMO_TIMEOUT:-}" ]]; then
    demo=(timeout "$NIMBUS_DEMO_TIMEOUT" "${demo[@]}")
fi
"${demo[@]}"
