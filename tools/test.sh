#!/usr/bin/env bash
# The whole test suite: what CI runs (.ci/run) and what to run before a
# merge. Stops at the first failing step and names it; every step is
# bounded by `timeout`. Prints the time of each step at the end.
#
#   setup        tools/setup.sh (installs whatever is missing)
#   fmt          rustfmt check of the workspace and the standalone crates
#   clippy       -D warnings: workspace (default and all features), then the
#                QEMU harness and the size probe on their firmware targets
#   test         host tests (cargo-nextest when installed) and doc tests
#   left out     clippy and the core's tests with every optional feature
#                off (record, builtin, sas, cbor, rate-limit, trace), and
#                the core's own tests and clippy with one cloud only
#   bounds       tools/check-bounds.sh: the client fits NIMBUS_CLIENT_SIZE
#                with the smallest, largest and mixed NIMBUS_CFG_* bounds
#   host demo    nimbus-demo (samples/host: C on the POSIX port), -Werror
#   e2e          tests/e2e (pytest): the demo (ASan + UBSan) against mosquitto
#                over TLS, the cloud played by tools/cloud; its summary line
#                is the result
#   zephyr port  the Zephyr port's C files against Zephyr stand-ins (cmocka)
#   build <T>    release build of the core for each firmware target
#   qemu         the core's tests on an emulated Cortex-M3, with peak stack
#   size         tools/size-report.sh: flash and RAM on a Cortex-M4F
#   bench        tools/bench.sh: callgrind instruction counts
#   miri         the C API's Rust-level tests (tests/c_api.rs) under Miri:
#                the unsafe boundary checked for aliasing (Stacked Borrows)
#   fuzz         tools/fuzz.sh: every fuzz target for FUZZ_SECONDS (30) each
#                under ASan + LeakSanitizer, with the liveness assertions
#   freertos *   the FreeRTOS port: unit tests on the stand-in kernel, the
#                end-to-end test (both clouds, broker restart) and the
#                ESP32-C3 (rv32imc) cross-compile check with its sizes
set -euo pipefail
cd "$(dirname "$0")/.."

FIRMWARE_TARGETS=(
    thumbv6m-none-eabi
    thumbv7em-none-eabi
    thumbv7em-none-eabihf
    thumbv8m.main-none-eabihf
    riscv32imc-unknown-none-elf
)

timings=()
run_start=$SECONDS

# step NAME SECONDS COMMAND...: runs COMMAND under `timeout`, stops the
# suite with a message naming the step when it fails or times out.
step() {
    local name=$1 limit=$2
    shift 2
    echo
    echo "==> [$name] $*"
    local start=$SECONDS rc=0
    if declare -F "$1" >/dev/null; then
        set -- bash -c '"$@"' "$1" "$@" # functions below are exported
    fi
    timeout -k 10 "$limit" "$@" || rc=$?
    if ((rc == 124 || rc == 137)); then
        echo "FAILED: step '$name' timed out after ${limit}s" >&2
        exit 1
    elif ((rc != 0)); then
        echo "FAILED: step '$name' (exit code $rc)" >&2
        exit 1
    fi
    timings+=("$(printf '%-36s %5ds' "$name" $((SECONDS - start)))")
}

# The harness reports "N passed, M failed" last; require it, so that a run
# that printed nothing (semihosting off, wrong machine) cannot pass.
qemu_run() {
    local log=build/qemu.log
    mkdir -p build
    (cd tests/qemu && cargo run --quiet --release) 2>&1 | tee "$log"
    grep -Eq '^[0-9]+ passed, 0 failed$' "$log" || {
        echo "qemu: no '<N> passed, 0 failed' line in the output" >&2
        return 1
    }
}

host_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        cargo test --workspace --doc
        cargo nextest run --workspace # its closing Summary line is the result
    else
        cargo test --workspace
    fi
}

# The end-to-end tests start and stop their own brokers and devices on
# 127.0.0.1, with the demo built with ASan + UBSan; pytest's last line
# ("N passed in Xs") is the result.
e2e_tests() {
    make -s -C samples/host asan
    NIMBUS_DEMO=$PWD/target/host-demo-asan/nimbus-demo PYTHONDONTWRITEBYTECODE=1 \
        build/venv/bin/python -m pytest -p no:cacheprovider -q tests/e2e
}

export -f qemu_run host_tests e2e_tests

step setup 1800 bash tools/setup.sh --test
step fmt 120 cargo fmt --all --check
step "fmt (standalone crates)" 120 bash -c \
    'cargo fmt --check --manifest-path tests/qemu/Cargo.toml &&
     cargo fmt --check --manifest-path tools/size/probe/Cargo.toml &&
     cargo fmt --check --manifest-path fuzz/Cargo.toml'
step clippy 1200 cargo clippy --workspace --all-targets -- -D warnings
step "clippy (all features)" 1200 cargo clippy --workspace --all-targets --all-features -- -D warnings
step "clippy (qemu harness)" 900 bash -c 'cd tests/qemu && cargo clippy --release -- -D warnings'
step "clippy (size probe)" 900 cargo clippy --release --target thumbv7em-none-eabihf \
    --manifest-path tools/size/probe/Cargo.toml -- -D warnings
step test 1200 host_tests
step "clippy (features left out)" 900 cargo clippy -p nimbus --all-targets \
    --no-default-features --features std,rustcrypto,aws,azure -- -D warnings
step "test (features left out)" 900 cargo test -p nimbus --no-default-features --features std,rustcrypto,aws,azure
for cloud in aws azure; do
    step "one cloud: $cloud (clippy, core tests)" 900 bash -c "
        cargo clippy -p nimbus --lib --no-default-features --features std,rustcrypto,record,$cloud -- -D warnings &&
        cargo test -p nimbus --lib --no-default-features --features std,rustcrypto,record,$cloud"
done
step "client size across bounds" 600 bash tools/check-bounds.sh
step "posix port" 300 bash tests/posix/run.sh
step "C header is current" 120 bash tools/check-header.sh
step "API docs (rustdoc, links checked)" 600 env RUSTDOCFLAGS="-D warnings" \
    cargo doc --no-deps -p nimbus --all-features
step "C API" 600 bash tests/c/run.sh
step "host demo" 600 make -s -C samples/host
step e2e 1800 e2e_tests
step "freertos port (stand-in kernel)" 300 bash tests/freertos/run.sh
step "freertos end to end (stand-in, TLS, both clouds)" 900 bash tests/freertos/e2e.sh
step "zephyr port (stand-ins)" 300 make -s -C tests/zephyr run BUILD="$PWD/build/zephyr-port"
for target in "${FIRMWARE_TARGETS[@]}"; do
    step "build $target" 600 cargo rustc --release -p nimbus --lib --crate-type staticlib \
        --target "$target"
done
step "freertos cross-compile (rv32imc)" 300 make -s -C tests/freertos cross \
    BUILD="$PWD/build/freertos-cross"
step "qemu build" 900 bash -c 'cd tests/qemu && cargo build --release'
step qemu 60 qemu_run
step size 900 bash tools/size-report.sh
step bench 1200 bash tools/bench.sh
step "miri (C API)" 900 env MIRIFLAGS=-Zmiri-strict-provenance \
    cargo +nightly miri test -p nimbus --test c_api
step fuzz 1200 bash tools/fuzz.sh "${FUZZ_SECONDS:-30}"

echo
echo "==> all steps passed"
printf '%s\n' "${timings[@]}"
printf '%-36s %5ds\n' total $((SECONDS - run_start))
