#!/usr/bin/env bash
# The client fits NIMBUS_CLIENT_SIZE whatever the build-time bounds: the
# core is checked (cargo check evaluates src/ffi/storage.rs's assertion
# that the client state fits the formula of ffi::types::client_size) for
# a 32-bit MCU and the 64-bit host, with every bound at its smallest, at
# its largest, and mixed. tests/client_size.rs checks that nimbus.h's
# formula is the same. Its own target directory: the bounds rebuild the
# core, and the other steps keep their build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=build/bounds-check
NAMES=(MAX_INFLIGHT MAX_SUBSCRIPTIONS MAX_HANDLERS MAX_SENSORS MAX_PENDING_REQUESTS MAX_TWIN_REQUESTS)
SETS=("1 1 1 1 1 1" "255 255 255 255 255 255" "1 255 1 255 1 255" "255 1 255 1 255 1")
for target in thumbv7em-none-eabihf x86_64-unknown-linux-gnu; do
    for set in "${SETS[@]}"; do
        read -r -a values <<<"$set"
        env=()
        for i in "${!NAMES[@]}"; do
            env+=("NIMBUS_CFG_${NAMES[$i]}=${values[$i]}")
        done
        echo "check-bounds: $target, bounds $set"
        env "${env[@]}" cargo check --quiet -p nimbus --lib --target "$target"
    done
done
echo "check-bounds: the client fits NIMBUS_CLIENT_SIZE for every set"
