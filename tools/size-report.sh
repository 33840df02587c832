#!/usr/bin/env bash
# Flash and RAM the Nimbus core adds to a Cortex-M4F firmware image.
#
# For each feature set below, builds tools/size/probe (a static library of
# C entry points over the core's API, release profile; its features pick
# the layers, see probe/src/lib.rs) for thumbv7em-none-eabihf, links it
# into the minimal C program in tools/size/ with arm-none-eabi-gcc (-Os,
# --gc-sections), calling every probe the build exports, links the same
# program without it as the baseline, and reports the difference per
# section:
#   text    code                       (flash)
#   rodata  constants, tables, strings (flash)
#   data    initialised statics        (flash and RAM)
#   bss     zeroed statics             (RAM)
# The figures include the probe glue (stand-in port functions, the
# probes' calls; a few hundred bytes) and the C call sites. The probes
# keep their buffers on the stack, so bss stays 0: the client state's RAM
# is the size of its types, printed after the table (from the
# NIMBUS_SIZEOF_* symbols of the probe, see probe/src/sizes.rs), plus the
# buffers the firmware gives the session. Stack use is reported by the
# QEMU run (tests/qemu), not here.
#
# Usage: tools/size-report.sh [--verbose] [--readme]
#   --verbose  the largest symbols of each set too
#   --readme   also writes the table into README.md, between the
#              "size-report" markers (the README's figures come from here)
# Output: an aligned table, then one machine-readable line per feature set:
#   SIZE features=<name> text=<B> rodata=<B> data=<B> bss=<B> flash=<B> ram=<B>
# then the state sizes, one line per type:
#   SIZEOF type=<name> bytes=<B>
set -euo pipefail
cd "$(dirname "$0")/.."

# name=cargo features of the probe: its probe groups, each set adding a
# layer (the error strings are always in). "rustcrypto" signs Azure SAS
# tokens with the core's RustCrypto HMAC instead of the port's (mbedTLS).
FEATURE_SETS=(
    "errors="
    "mqtt=mqtt"
    "mqtt+cloud=mqtt,cloud"
    "everything=mqtt,cloud,twin,device"
    "everything+rustcrypto=mqtt,cloud,twin,device,rustcrypto"
)

TARGET=thumbv7em-none-eabihf
CFLAGS=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os
        -std=c11 -Wall -Werror -ffreestanding -ffunction-sections -fdata-sections)
# shellcheck disable=SC2054 # the commas belong to -Wl options
LDFLAGS=(-nostartfiles -nodefaultlibs -Wl,--gc-sections -Wl,--no-warn-execstack -T tools/size/link.ld)
OUT=build/size
PROBE_DIR=tools/size/probe
VERBOSE=0
README=0
for arg in "$@"; do
    case $arg in
    --verbose) VERBOSE=1 ;;
    --readme) README=1 ;;
    *) echo "usage: tools/size-report.sh [--verbose] [--readme]" >&2; exit 2 ;;
    esac
done

for tool in arm-none-eabi-gcc arm-none-eabi-size arm-none-eabi-nm cargo; do
    command -v "$tool" >/dev/null || { echo "size-report: $tool not found (run tools/setup.sh)" >&2; exit 1; }
done
mkdir -p "$OUT"

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
    arm-none-eabi-gcc "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$elf" \
        tools/size/startup.c tools/size/main.c "$@"
}

# Every probe a probe library exports, as PROBE(name) lines for main.c.
probes_of() { # lib.a out.inc
    arm-none-eabi-nm -g --defined-only "$1" 2>/dev/null \
        | awk '$2 == "T" && $3 ~ /^nimbus_probe_[a-z0-9_]+$/ { print "PROBE(" $3 ")" }' | sort >"$2"
    if [[ ! -s "$2" ]]; then
        echo "size-report: $1 exports no nimbus_probe_* function" >&2
        exit 1
    fi
}

# The state sizes of a probe library, as "name bytes" lines.
sizes_of() { # lib.a
    arm-none-eabi-nm -S -g --defined-only "$1" 2>/dev/null \
        | while read -r _ size _ sym; do
            [[ "$sym" == NIMBUS_SIZEOF_* ]] && echo "$(tr '[:upper:]' '[:lower:]' <<<"${sym#NIMBUS_SIZEOF_}") $((16#$size))"
        done
}

link "$OUT/baseline.elf"
read -r bt br bd bb < <(sections "$OUT/baseline.elf")

rows=()
for set in "${FEATURE_SETS[@]}"; do
    name=${set%%=*}
    features=${set#*=}
    cargo build --quiet --release --target "$TARGET" \
        --manifest-path "$PROBE_DIR/Cargo.toml" --no-default-features --features "$features"
    cp "$PROBE_DIR/target/$TARGET/release/libnimbus_size_probe.a" "$OUT/probe-$name.a"
    mkdir -p "$OUT/$name"
    probes_of "$OUT/probe-$name.a" "$OUT/$name/probes.inc"
    link "$OUT/nimbus-$name.elf" -DNIMBUS_PROBES -I"$OUT/$name" "$OUT/probe-$name.a" -lgcc
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
printf '%-22s %8s %8s %8s %8s %8s %8s\n' features text rodata data bss flash ram
for row in "${rows[@]}"; do
    # shellcheck disable=SC2086
    printf '%-22s %8d %8d %8d %8d %8d %8d\n' $row
done
for row in "${rows[@]}"; do
    read -r name t r d b f m <<<"$row"
    echo "SIZE features=$name text=$t rodata=$r data=$d bss=$b flash=$f ram=$m"
done

# The last set has every layer, hence every state type.
mapfile -t state < <(sizes_of "$OUT/probe-$name.a")
if ((${#state[@]} == 0)); then
    echo "size-report: no NIMBUS_SIZEOF_* symbols in $OUT/probe-$name.a" >&2
    exit 1
fi
echo
echo "Client state on $TARGET (size_of, bytes; see tools/size/probe/src/sizes.rs for the capacities):"
for line in "${state[@]}"; do
    read -r type bytes <<<"$line"
    printf '  %-16s %6d\n' "$type" "$bytes"
done
for line in "${state[@]}"; do
    read -r type bytes <<<"$line"
    echo "SIZEOF type=$type bytes=$bytes"
done

# The real library through its C API: libnimbus.a (release, every
# feature the firmware build has by default) linked into a program that
# makes every call once (tools/size/c_api.c). Its static client and
# buffer are the firmware's RAM, reported apart from the library's own.
# `cargo rustc --crate-type staticlib`: cargo drops `lto` when it builds
# the staticlib together with the rlib (see README, "Building the
# library").
cargo rustc --quiet --release -p nimbus --lib --crate-type staticlib --target "$TARGET"
cp "target/$TARGET/release/libnimbus.a" "$OUT/libnimbus.a"
cat >"$OUT/c_api.inc" <<'INC'
void nimbus_size_c_api(void);
INC
arm-none-eabi-gcc "${CFLAGS[@]}" -Iinclude -c tools/size/c_api.c -o "$OUT/c_api.o"
arm-none-eabi-gcc "${CFLAGS[@]}" -DNIMBUS_C_API -c tools/size/main.c -o "$OUT/main_c_api.o"
arm-none-eabi-gcc "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$OUT/nimbus-c-api.elf" \
    tools/size/startup.c "$OUT/main_c_api.o" "$OUT/c_api.o" "$OUT/libnimbus.a" -lgcc
read -r t r d b < <(sections "$OUT/nimbus-c-api.elf")
t=$((t - bt)) r=$((r - br)) d=$((d - bd)) b=$((b - bb))
client_and_buffer=$(arm-none-eabi-nm -S -t d "$OUT/nimbus-c-api.elf" | awk '$4 == "client" || $4 == "buffer" { s += $2 } END { print s + 0 }')
echo
echo "The C API (libnimbus.a, every call once from tools/size/c_api.c), bytes added to the baseline image:"
echo "  flash $((t + r + d)) (text $t, rodata $r, data $d); RAM: the library's own $((d + b - client_and_buffer)), the firmware's client and buffer $client_and_buffer"
echo "SIZE features=c-api text=$t rodata=$r data=$d bss=$((b - client_and_buffer)) flash=$((t + r + d)) ram=$((d + b - client_and_buffer))"


# What each feature a firmware may leave out costs: the same C API image
# with the core built without it (every other default feature kept),
# and with all of them left out. The C program leaves out the calls to
# what is not built (nimbus_record_parse).
LEAVE_OUT=(aws azure record builtin sas cbor rate-limit trace)
defaults=$(python3 - <<'PY'
import tomllib
print(" ".join(tomllib.load(open("Cargo.toml", "rb"))["features"]["default"]))
PY
)
c_api_without() { # name features... -> prints the flash of that image
    local name=$1
    shift
    local keep=() cflags=()
    for f in $defaults; do
        [[ " $* " == *" $f "* ]] || keep+=("$f")
    done
    [[ " $* " == *" record "* ]] && cflags+=(-DNIMBUS_SIZE_WITHOUT_RECORD)
    local dir="$OUT/without-$name"
    mkdir -p "$dir"
    cargo rustc --quiet --release -p nimbus --lib --crate-type staticlib --target "$TARGET" \
        --no-default-features --features "$(IFS=,; echo "${keep[*]}")" --target-dir "$OUT/target-features"
    cp "$OUT/target-features/$TARGET/release/libnimbus.a" "$dir/libnimbus.a"
    arm-none-eabi-gcc "${CFLAGS[@]}" "${cflags[@]}" -Iinclude -c tools/size/c_api.c -o "$dir/c_api.o"
    arm-none-eabi-gcc "${CFLAGS[@]}" "${LDFLAGS[@]}" -o "$dir/nimbus.elf" \
        tools/size/startup.c "$OUT/main_c_api.o" "$dir/c_api.o" "$dir/libnimbus.a" -lgcc
    local ft fr fd fb
    read -r ft fr fd fb < <(sections "$dir/nimbus.elf")
    echo $((ft + fr + fd - bt - br - bd))
}
c_api_flash=$((t + r + d))
feature_rows=()
for f in "${LEAVE_OUT[@]}"; do
    flash=$(c_api_without "$f" "$f")
    feature_rows+=("$f $flash $((c_api_flash - flash))")
done
# The smallest: AWS only, with every other optional feature left out.
flash=$(c_api_without all "${LEAVE_OUT[@]:1}")
feature_rows+=("all-but-aws $flash $((c_api_flash - flash))")
echo
echo "The C API without one feature (cargo --no-default-features, the other defaults kept), bytes:"
printf '  %-16s %8s %8s\n' without flash saves
for row in "${feature_rows[@]}"; do
    # shellcheck disable=SC2086
    printf '  %-16s %8d %8d\n' $row
done
for row in "${feature_rows[@]}"; do
    read -r f flash saved <<<"$row"
    echo "SIZE features=c-api-without-$f flash=$flash saves=$saved"
done

# The README's table, written from these figures.
if ((README)); then
    {
        echo "| set | text | rodata | flash |"
        echo "| --- | ---: | ---: | ---: |"
        for row in "${rows[@]}"; do
            read -r name rt rr _ _ rf _ <<<"$row"
            case $name in
            errors) label='errors (`nimbus_strerror` strings)' ;;
            mqtt) label='mqtt (session, codec, backoff)' ;;
            mqtt+cloud) label='mqtt + cloud (dialects, SAS with the port'"'"'s HMAC, rate limit)' ;;
            everything) label='everything (+ twin, device helpers)' ;;
            everything+rustcrypto) label='everything + rustcrypto (SAS HMAC-SHA256 in Rust)' ;;
            *) label=$name ;;
            esac
            echo "| $label | $rt | $rr | $rf |"
        done
        echo "| **the C API** (\`libnimbus.a\`, every call once; budget $(awk '$1 == "c-api" { print $2 }' tools/size/budget)) | $t | $r | $((t + r + d)) |"
        echo
        echo "| the C API without (cargo feature / Kconfig) | flash | saves |"
        echo "| --- | ---: | ---: |"
        for row in "${feature_rows[@]}"; do
            read -r f flash saved <<<"$row"
            case $f in
            aws) label='`aws` / `NIMBUS_AWS`: AWS IoT Core (Azure only)' ;;
            azure) label='`azure` / `NIMBUS_AZURE`: Azure IoT Hub (AWS only)' ;;
            record) label='`record` / `NIMBUS_RECORD`: the provisioning record (`nimbus_record_parse`)' ;;
            builtin) label='`builtin` / `NIMBUS_BUILTIN_REQUESTS`: the device model'"'"'s built-in requests' ;;
            sas) label='`sas` / `NIMBUS_SAS`: Azure SAS tokens (X.509 stays)' ;;
            cbor) label='`cbor` / `NIMBUS_CBOR`: readings in CBOR' ;;
            rate-limit) label='`rate-limit` / `NIMBUS_RATE_LIMIT`: the publish rate limiter' ;;
            trace) label='`trace` / `NIMBUS_TRACE`: the trace lines' ;;
            all-but-aws) label='all of the above but `aws` (AWS only, nothing optional)' ;;
            *) label=$f ;;
            esac
            echo "| $label | $flash | $saved |"
        done
    } >"$OUT/readme-table.md"
    python3 - "$OUT/readme-table.md" <<'PY'
import re, sys
table = open(sys.argv[1]).read()
text = open("README.md").read()
begin, end = "<!-- size-report:begin -->\n", "<!-- size-report:end -->"
if begin not in text or end not in text:
    sys.exit("size-report: README.md has no size-report markers")
head, rest = text.split(begin, 1)
open("README.md", "w").write(head + begin + table + rest[rest.index(end):])
PY
    echo "  README.md: table written"
fi

# The budget: the report fails when the C API image outgrows it.
budget=$(awk '$1 == "c-api" { print $2 }' tools/size/budget)
if ((t + r + d > budget)); then
    echo "size-report: the C API image is $((t + r + d)) B, over its budget of $budget B (tools/size/budget)" >&2
    exit 1
fi
echo "  within its budget: $((t + r + d)) of $budget B (tools/size/budget)"
