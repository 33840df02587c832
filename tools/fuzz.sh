#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser and of the whole client
# (fuzz/, cargo fuzz, libFuzzer under ASan + LeakSanitizer, nightly).
#
#   bash tools/fuzz.sh [SECONDS] [TARGET...]
#
# Runs each target (all by default) for SECONDS (default 30) from the
# committed seeds (fuzz/seeds/<target>) plus what earlier runs found
# (build/fuzz/corpus/<target>, not committed). Fails on the first crash,
# leak, timeout (10 s per input) or liveness failure; the failing input is
# left in fuzz/artifacts/<target>/ for `cargo +nightly fuzz run <target>
# <file>`. A long campaign is the same command with a larger SECONDS, e.g.
# `bash tools/fuzz.sh 3600 client`.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi
(cd fuzz && cargo +nightly fuzz build --release)
summary=()
for t in "${targets[@]}"; do
    corpus=build/fuzz/corpus/$t
    mkdir -p "$corpus"
    log=build/fuzz/$t.log
    echo "==> fuzz $t (${seconds}s)"
    if ! (cd fuzz && cargo +nightly fuzz run --release "$t" "../$corpus" "seeds/$t" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1) >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "FAILED: fuzz target $t (log: $log)" >&2
        exit 1
    fi
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || echo 'cov: ?')
    summary+=("$(printf '%-12s %10s runs  %s' "$t" "$runs" "$cov")")
done
printf '%s\n' "${summary[@]}"
echo "fuzz: ${#targets[@]} passed, 0 failed"
