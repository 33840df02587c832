//! `NIMBUS_CLIENT_SIZE` is one formula written twice: in nimbus.h, over the
//! C compiler's `NIMBUS_CFG_*` and `sizeof(void *)`, and in
//! `nimbus::ffi::client_size`, which the library's build checks against
//! its real client (a build whose client outgrows it does not compile).
//! Here both C compilers of the project evaluate the header's formula, for
//! a 64-bit host and a 32-bit MCU, and it must equal the Rust one for
//! every set of bounds; with no `-D` at all, the header's defaults must be
//! the core's.

use nimbus::bounds;
use nimbus::ffi::client_size;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const NAMES: [&str; 6] = [
    "MAX_INFLIGHT",
    "MAX_SUBSCRIPTIONS",
    "MAX_HANDLERS",
    "MAX_SENSORS",
    "MAX_PENDING_REQUESTS",
    "MAX_TWIN_REQUESTS",
];

/// Whether `compiler` accepts nimbus.h with `defines` and the assertion
/// that `sizeof(nimbus_client_t)` is `expected` (it evaluates the formula).
fn header_gives(compiler: &str, defines: &[String], expected: usize) -> bool {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("nimbus-client-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // One file per check: the tests run in parallel.
    let source = dir.join(format!("size{}.c", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(
        &source,
        format!(
            "#include \"nimbus.h\"\n\
             _Static_assert(sizeof(nimbus_client_t) == {expected}u, \"size\");\n\
             _Static_assert(NIMBUS_CLIENT_SIZE == {expected}u, \"size\");\n"
        ),
    )
    .unwrap();
    let status = Command::new(compiler)
        .args(["-std=c11", "-fsyntax-only", "-Werror"])
        .arg(format!("-I{ROOT}/include"))
        .args(defines)
        .arg(&source)
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{compiler}: {e} (tools/setup.sh installs it)"));
    std::fs::remove_file(&source).unwrap();
    status.success()
}

fn defines(bounds: [usize; 6]) -> Vec<String> {
    NAMES
        .iter()
        .zip(bounds)
        .map(|(name, value)| format!("-DNIMBUS_CFG_{name}={value}"))
        .collect()
}

const COMPILERS: [(&str, usize); 2] = [("cc", 8), ("arm-none-eabi-gcc", 4)];

#[test]
fn the_headers_formula_is_the_cores_for_every_bound() {
    let sets = [
        [1, 1, 1, 1, 1, 1],
        [255, 255, 255, 255, 255, 255],
        [1, 255, 1, 255, 1, 255],
        [255, 1, 255, 1, 255, 1],
        [3, 5, 7, 9, 11, 13],
        [4, 4, 4, 4, 4, 4],
    ];
    for (compiler, pointer) in COMPILERS {
        for set in sets {
            let expected = client_size(set, pointer);
            assert!(
                header_gives(compiler, &defines(set), expected),
                "{compiler}: nimbus.h's NIMBUS_CLIENT_SIZE for {set:?} is not {expected}"
            );
            // The check can fail: one byte off is refused.
            assert!(!header_gives(compiler, &defines(set), expected + 8));
        }
    }
}

#[test]
fn the_headers_default_bounds_are_the_cores() {
    let core = [
        bounds::MAX_INFLIGHT,
        bounds::MAX_SUBSCRIPTIONS,
        bounds::MAX_HANDLERS,
        bounds::MAX_SENSORS,
        bounds::MAX_PENDING_REQUESTS,
        bounds::MAX_TWIN_REQUESTS,
    ];
    for (compiler, pointer) in COMPILERS {
        let expected = client_size(core, pointer);
        assert!(
            header_gives(compiler, &[], expected),
            "{compiler}: nimbus.h without NIMBUS_CFG_* is not the core's {expected} B"
        );
    }
    // On this host, the Rust type is the same size.
    assert_eq!(
        core::mem::size_of::<nimbus::ffi::nimbus_client_t>(),
        client_size(core, core::mem::size_of::<usize>())
    );
}
