#!/usr/bin/env bash
# Instruction counts of the core's operations, measured with callgrind.
#
# Builds every benchmark target (`cargo bench --no-run`, profile `bench`:
# the firmware's release settings with symbols) and asks each benchmark
# executable for its operations. The convention every bench in benches/
# follows (harness = false; see benches/selftest_ops.rs for the smallest
# example):
#
#   EXE --list      prints one line per operation:
#                     <selector> <function> [<reference count> <reference name...>]
#                   e.g. "publish_serialize bench_publish_serialize 194 coreMQTT"
#   EXE <selector>  runs that operation exactly once, inside an
#                   #[inline(never)] function whose symbol contains <function>
#   EXE [--bench]   runs every operation once (what `cargo bench` does)
#
# For each operation this runs
#   valgrind --tool=callgrind --toggle-collect='*<function>*' EXE <selector>
# and reports the instructions executed inside that function, callees
# included, next to the reference when there is one. A row with 0
# instructions means the symbol was not found (inlined or renamed): that
# fails the run, as does a bench that exits nonzero.
#
# Usage: tools/bench.sh [FILTER]   (only rows whose "bench/selector" contains FILTER)
# Output: an aligned table, then one machine-readable line per row:
#   BENCH bench=<name> op=<selector> instructions=<n> [reference=<n>]
set -euo pipefail
cd "$(dirname "$0")/.."

FILTER=${1:-}
OUT=build/bench
mkdir -p "$OUT"
for tool in cargo valgrind python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool not found (run tools/setup.sh)" >&2; exit 1; }
done

# "name executable" per benchmark target.
mapfile -t benches < <(
    cargo bench --workspace --no-run --quiet --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if (msg.get("reason") == "compiler-artifact" and msg.get("executable")
            and "bench" in msg["target"]["kind"]):
        print(msg["target"]["name"], msg["executable"])
'
)
if ((${#benches[@]} == 0)); then
    echo "bench: no benchmark executables were built" >&2
    exit 1
fi

rows=()
failed=0
for entry in "${benches[@]}"; do
    read -r bench exe <<<"$entry"
    if ! list=$(timeout 60 "$exe" --list); then
        echo "bench: $bench --list failed" >&2
        exit 1
    fi
    while read -r selector function reference source; do
        [[ -z "$selector" ]] && continue
        [[ -n "$FILTER" && "$bench/$selector" != *"$FILTER"* ]] && continue
        out="$OUT/$bench.$selector.callgrind"
        if ! timeout 300 valgrind --quiet --tool=callgrind --toggle-collect="*${function}*" \
            --callgrind-out-file="$out" "$exe" "$selector" >/dev/null; then
            echo "bench: $bench $selector exited nonzero under callgrind" >&2
            exit 1
        fi
        count=$(awk '$1 == "summary:" { print $2; found = 1 } END { if (!found) print 0 }' "$out")
        if [[ "$count" == 0 ]]; then
            echo "bench: $bench $selector: 0 instructions in *${function}* (symbol not found: inlined or renamed?)" >&2
            failed=1
        fi
        rows+=("$bench $selector $count ${reference:--} ${source:-}")
    done <<<"$list"
done
if ((${#rows[@]} == 0)); then
    echo "bench: no operation matches '${FILTER}'" >&2
    exit 1
fi

echo "Instructions per call (callgrind, inclusive; profile bench, $(uname -m) host):"
printf '%-16s %-28s %12s %12s %8s  %s\n' bench operation instructions reference ratio "reference from"
for row in "${rows[@]}"; do
    read -r bench selector count reference source <<<"$row"
    ratio=-
    if [[ "$reference" != - && "$reference" != 0 ]]; then
        ratio=$(awk -v a="$count" -v b="$reference" 'BEGIN { printf "%.2f", a / b }')
    fi
    printf '%-16s %-28s %12s %12s %8s  %s\n' "$bench" "$selector" "$count" "$reference" "$ratio" "$source"
done
for row in "${rows[@]}"; do
    read -r bench selector count reference _ <<<"$row"
    line="BENCH bench=$bench op=$selector instructions=$count"
    [[ "$reference" != - ]] && line+=" reference=$reference"
    echo "$line"
done
exit "$failed"
