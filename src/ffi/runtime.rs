//! What a hosted (Linux, macOS) no_std static library must still define.

/// Rust's precompiled `core` for hosted targets refers to the unwinding
/// personality routine even though this library aborts on panic and never
/// unwinds; C programs linking the library get this empty one. Bare-metal
/// targets build `core` without it.
/// cbindgen:ignore
#[cfg(all(not(feature = "std"), not(test), not(target_os = "none")))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
