#!/usr/bin/env bash
# Builds the core as a static library (host, no_std) and runs the C API
# tests against it with AddressSanitizer and UBSan; also checks that the
# README's examples (examples/minimal.c, examples/provisioned.c) still
# compile, as C23, where NIMBUS_NODISCARD makes an unchecked nimbus_err_t
# an error: the examples check every result.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/target/c-tests}
mkdir -p "$BUILD"
cargo rustc --quiet --release -p nimbus --lib --crate-type staticlib \
    --manifest-path "$ROOT/Cargo.toml"
cc -std=c2x -Wall -Wextra -Werror -I"$ROOT/include" -c "$ROOT/examples/minimal.c" -o "$BUILD/minimal.o"
cc -std=c2x -Wall -Wextra -Werror -I"$ROOT/include" -I"$ROOT/ports/common" \
   -c "$ROOT/examples/provisioned.c" -o "$BUILD/provisioned.o"
# The same header still compiles as C11, where the attribute is empty.
cc -std=c11 -Wall -Wextra -Werror -I"$ROOT/include" -c "$ROOT/examples/minimal.c" -o "$BUILD/minimal-c11.o"
cc -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -O1 -g \
   -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
   -I"$ROOT/include" "$ROOT/tests/c/test_api.c" \
   "$ROOT/target/release/libnimbus.a" -lcmocka -o "$BUILD/test_api"
"$BUILD/test_api"
