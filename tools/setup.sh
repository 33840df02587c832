#!/usr/bin/env bash
# Installs everything the build, the tests and the demo need on Debian 12,
# idempotently: a second run only checks, and takes about a second.
#
#   apt     only the packages not yet installed (apt-get update first);
#           as root, or through sudo when not root
#   rustup  the firmware targets and the rustfmt/clippy components
#   python  a venv in build/venv with tests/e2e/requirements.txt (the
#           end-to-end tests and the demo's cloud side)
#
#   --test  also what only the test suite needs: a nightly toolchain with
#           Miri and rust-src, cargo-fuzz, and the vendors' cloud SDKs in
#           build/sdk-venv (tools/test.sh passes it)
#
# Assumed present (a stock CI machine has them): rustup with a stable
# toolchain, cargo, git, and apt-get/dpkg-query.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin" # mosquitto lives there; not on a user's PATH

APT_PACKAGES=(
    mosquitto mosquitto-clients # the local broker of the demo and end-to-end tests
    mosquitto-dev libmosquitto-dev # the local cloud's rules: a mosquitto plugin (tools/cloud/broker)
    libssl-dev libsqlite3-dev   # the plugin's HMAC (SAS tokens), X.509 names and device registry
    gcc-arm-none-eabi           # size report: arm-none-eabi-gcc, -size, -nm
    qemu-system-arm             # the core's tests on an emulated Cortex-M3
    valgrind                    # benchmarks (callgrind)
    python3                     # benchmark runner (cargo's JSON output)
    python3-venv                # build/venv: paho-mqtt and pytest (e2e tests, demo)
    make                        # the host demo and the POSIX port's tests
    libmbedtls-dev              # TLS of the host (POSIX) port
    libcmocka-dev               # C tests of the API and of the ports
    openssl                     # test CA and device certificates
    iproute2                    # network namespaces for the vendor-SDK tests (ip netns)
    cmake ninja-build           # FreeRTOS port: the sample's CMake build (end-to-end test)
    gcc-riscv64-unknown-elf     # FreeRTOS port: cross-compile check for ESP32-C3 (rv32imc)
    picolibc-riscv64-unknown-elf # its C library headers
)
RUST_TARGETS=(
    thumbv6m-none-eabi        # Cortex-M0+
    thumbv7m-none-eabi        # Cortex-M3 (the QEMU run)
    thumbv7em-none-eabi       # Cortex-M4 without FPU
    thumbv7em-none-eabihf     # Cortex-M4F (nRF52840), the size report
    thumbv8m.main-none-eabi   # Cortex-M33 without FPU ABI (Zephyr, CONFIG_FP_SOFTABI)
    thumbv8m.main-none-eabihf # Cortex-M33 (nRF5340, nRF9160)
    riscv32imc-unknown-none-elf # ESP32-C3
)
RUST_COMPONENTS=(rustfmt clippy)

say() { echo "setup: $*"; }
die() { echo "setup: $*" >&2; exit 1; }

# --- apt ---
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
as_root=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then
    as_root=(sudo)
fi
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]] && ((${#as_root[@]} == 0)); then
        die "need root or sudo to install: ${missing[*]}"
    fi
    say "installing ${missing[*]}"
    apt_opts=(-q -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update >/dev/null \
        || die "apt-get update failed"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
        --no-install-recommends "${missing[@]}" >/dev/null \
        || die "apt-get install failed for: ${missing[*]}"
fi

# --- rust ---
command -v rustup >/dev/null || die "rustup not found: install it from https://rustup.rs first"
installed_targets=$(rustup target list --installed)
missing=()
for target in "${RUST_TARGETS[@]}"; do
    grep -qx "$target" <<<"$installed_targets" || missing+=("$target")
done
if ((${#missing[@]})); then
    say "adding rust targets ${missing[*]}"
    rustup target add "${missing[@]}" >/dev/null 2>&1 || die "rustup target add ${missing[*]} failed"
fi
installed_components=$(rustup component list --installed)
missing=()
for component in "${RUST_COMPONENTS[@]}"; do
    grep -q "^$component" <<<"$installed_components" || missing+=("$component")
done
if ((${#missing[@]})); then
    say "adding rust components ${missing[*]}"
    rustup component add "${missing[@]}" >/dev/null 2>&1 || die "rustup component add ${missing[*]} failed"
fi

# cbindgen generates include/nimbus.h; CI checks the committed one for
# drift, so the version is pinned (Debian's 0.24 cannot parse the crate).
CBINDGEN_VERSION=0.29.4
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
    say "installing cbindgen $CBINDGEN_VERSION (a few minutes, once)"
    cargo install --quiet --locked cbindgen --version "$CBINDGEN_VERSION" ||
        die "cargo install cbindgen failed"
fi

# The test suite's own tools: Miri (the C API's unsafe boundary checked for
# aliasing) and cargo-fuzz (tools/fuzz.sh) run on nightly.
if [[ ${1:-} == --test ]]; then
    if ! rustup +nightly component list --installed 2>/dev/null | grep -q '^miri'; then
        say "installing the nightly toolchain with miri and rust-src (once)"
        rustup toolchain install nightly --profile minimal --component miri,rust-src >/dev/null 2>&1 ||
            die "rustup toolchain install nightly failed"
    fi
    CARGO_FUZZ_VERSION=0.13.2
    if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        say "installing cargo-fuzz $CARGO_FUZZ_VERSION (a few minutes, once)"
        cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" ||
            die "cargo install cargo-fuzz failed"
    fi
fi

# --- python ---
# venvs of the repository's own (PEP 668: Debian's python3 is externally
# managed), each rebuilt only when its requirements change.
venv() { # venv DIR REQUIREMENTS
    local dir=$1 reqs=$2
    if [[ ! -x $dir/bin/python ]] || ! cmp -s "$reqs" "$dir/.requirements"; then
        say "python venv $dir ($(grep -v '^#' "$reqs" | xargs))"
        rm -rf "$dir"
        python3 -m venv "$dir" || die "python3 -m venv failed (is python3-venv installed?)"
        "$dir/bin/pip" install -q --disable-pip-version-check -r "$reqs" || die "pip install -r $reqs failed"
        cp "$reqs" "$dir/.requirements"
    fi
}
VENV=build/venv
venv "$VENV" tests/e2e/requirements.txt
# The vendors' SDKs for the local cloud's acceptance test (tests/sdk), in
# a venv of their own: azure-iot-device needs paho-mqtt < 2.
if [[ ${1:-} == --test ]]; then
    venv build/sdk-venv tests/sdk/requirements.txt
fi

# Azurite, Microsoft's Azure Storage emulator, for the provisioning
# service's blob-store test (from the npm registry, into build/node).
if [[ ${1:-} == --test ]]; then
    AZURITE_VERSION=3.37.0
    if ! command -v npm >/dev/null; then
        say "installing nodejs and npm (Azurite)"
        "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Use-Pty=0 update >/dev/null &&
            "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o Dpkg::Use-Pty=0 install -y \
                --no-install-recommends nodejs npm >/dev/null || die "apt-get install nodejs npm failed"
    fi
    if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" build/node/node_modules/azurite/package.json; then
        say "installing azurite $AZURITE_VERSION (npm, into build/node)"
        mkdir -p build/node
        npm install --silent --no-audit --no-fund --prefix build/node "azurite@$AZURITE_VERSION" >/dev/null ||
            die "npm install azurite failed"
    fi
fi

# Every tool the scripts call, checked once here so a gap fails early.
for tool in cargo rustc git python3 timeout mosquitto mosquitto_pub mosquitto_passwd openssl \
    make arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm qemu-system-arm valgrind cbindgen cc \
    cmake ninja riscv64-unknown-elf-gcc ip; do
    command -v "$tool" >/dev/null || die "$tool is still missing after setup"
done
say "ok (${#APT_PACKAGES[@]} apt packages, ${#RUST_TARGETS[@]} rust targets, $(rustc --version), $("$VENV/bin/python" --version))"
