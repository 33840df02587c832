#!/usr/bin/env bash
# Flash and RAM the Nimbus core adds to a Cortex-M4F firmware image.
#
# For each feature set below, builds tools/size/probe (a static library of
# C entry points over the core's API, release profile) for
# thumbv7em-none-eabihf, links it into the minimal C program in tools/size/
# with arm-none-eabi-gcc (-Os, --gc-sections), links the same program
# without it as the baseline, and reports the difference per section:
#   text    code                       (flash)
#   rodata  constants, tables, strings (flash)
#   data    initialised statics        (flash and RAM)
#   bss     zeroed statics             (RAM)
# The figures include the probe glue (a few dozen bytes) and the C call
# sites. Stack use is reported by the QEMU run (tests/qemu), not here.
#
# Usage: tools/size-report.sh [--verbose]   (--verbose: top symbols too)
# Output: an aligned table, then one machine-readable line per feature set:
#   SIZE features=<name> text=<B> rodata=<B> data=<B> bss=<B> flash=<B> ram=<B>
set -euo pipefail
cd "$(dirname "$0")/.."

# name=cargo features of the probe (empty: the core's default features).
# A core feature is written nimbus/<feature>, e.g. "aws=nimbus/aws".
FEATURE_SETS=(
    "default="
)

TARGET=thumbv7em-none-eabihf
CFLAGS=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os
        -std=c11 -Wall -Werror -ffreestanding -ffunction-sections -fdata-sections)
# shellcheck disable=SC2054 # the commas belong to -Wl options
LDFLAGS=(-nostartfiles -nodefaultlibs -Wl,--gc-sections -Wl,--no-warn-execstack -T tools/size/link.ld)
OUT=build/size
PROBE_DIR=tools/size/probe
VERBOSE=0
[[ "${1:-}" == "--verbose" ]] && VERBOSE=1

for tool in arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm cargo; do
    command -v "$tool" >/dev/null || { echo "size-report: $tool not found (run tools/setup.sh)" >&2; exit 1; }
done
mkdir -p "$OUT"

# Every probe function, found by its one-line signature (see probe/src/lib.rs).
grep -hoE '^pub extern "C" fn nimbus_probe_[a-z0-9_]+\(' "$PROBE_DIR"/src/*.rs \
    | sed -E 's/.* fn ([a-z0-9_]+)\(/PROBE(\1)/' >"$OUT/probes.inc"
if [[ ! -s "$OUT/probes.inc" ]]; then
    echo "size-report: no nimbus_probe_* functions in $PROBE_DIR/src" >&2
    exit 1
fi

# Section sizes of an ELF as "text rodata data bss" (text includes the
# vector table, rodata the unwind index).
sections() {
    arm-none-eabi-size -A "$1" | awk '
        $1 == ".vectors" || $1 == ".text" { t += $2 }
        $1 == ".rodata" || $1 == ".ARM.exidx" { r += $2 }
        $1 == ".data" { d += $2 }
        $1 == ".bss" { b += $2 }
        END { printf "%d %d %d %d\n", t, r, d, b }'
}

link() { # out.elf [extra args...]
    local elf=$1
    shift
    arm-none-eabi-gcc "${CFLAGS[@]}" "${LDFLAGS[@]}" -I"$OUT" -o "$elf" \
        tools/size/startup.c tools/size/main.c "$@"
}

link "$OUT/baseline.elf"
read -r bt br bd bb < <(sections "$OUT/baseline.elf")

rows=()
for set in "${FEATURE_SETS[@]}"; do
    name=${set%%=*}
    features=${set#*=}
    cargo build --quiet --release --target "$TARGET" \
        --manifest-path "$PROBE_DIR/Cargo.toml" --features "$features"
    cp "$PROBE_DIR/target/$TARGET/release/libnimbus_size_probe.a" "$OUT/probe-$name.a"
    link "$OUT/nimbus-$name.elf" -DNIMBUS_PROBES "$OUT/probe-$name.a" -lgcc
    read -r t r d b < <(sections "$OUT/nimbus-$name.elf")
    t=$((t - bt)) r=$((r - br)) d=$((d - bd)) b=$((b - bb))
    rows+=("$name $t $r $d $b $((t + r + d)) $((d + b))")
    if ((VERBOSE)); then
        echo "== $name: arm-none-eabi-size (baseline, then with the core)"
        arm-none-eabi-size "$OUT/baseline.elf" "$OUT/nimbus-$name.elf"
        echo "== $name: largest symbols added by the core"
        arm-none-eabi-nm --size-sort -S -C "$OUT/baseline.elf" | awk '{print $4}' | sort -u >"$OUT/baseline.syms"
        arm-none-eabi-nm --size-sort -S -r -C -t d "$OUT/nimbus-$name.elf" \
            | awk 'NR==FNR { base[$0] = 1; next } { sym = $4; for (i = 5; i <= NF; i++) sym = sym " " $i; if (!(sym in base) && shown++ < 20) printf "%8d %s %s\n", $2, $3, sym }' \
                "$OUT/baseline.syms" -
    fi
done

echo "Nimbus core on $TARGET (arm-none-eabi-gcc -Os, --gc-sections), bytes added to the baseline image:"
printf '%-14s %8s %8s %8s %8s %8s %8s\n' features text rodata data bss flash ram
for row in "${rows[@]}"; do
    # shellcheck disable=SC2086
    printf '%-14s %8d %8d %8d %8d %8d %8d\n' $row
done
for row in "${rows[@]}"; do
    read -r name t r d b f m <<<"$row"
    echo "SIZE features=$name text=$t rodata=$r data=$d bss=$b flash=$f ram=$m"
done
