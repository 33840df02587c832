//! Nimbus: one device-to-cloud library for AWS IoT Core and Azure IoT Hub.
//!
//! The core is `no_std`, never allocates, and owns no socket, thread or
//! clock (it is *sans-I/O*): a port hands it a [`mqtt::Transport`] and the
//! current time, and `poll` does all pending work and says when it next
//! needs to run.
//!
//! Layers, bottom-up (see `ARCHITECTURE.md`):
//! - [`mqtt`]: the MQTT 3.1.1 session engine (QoS 0/1, keepalive, backoff);
//! - [`cloud`]: the AWS and Azure dialects (generic topics ↔ cloud topics);
//! - [`twin`]: the device shadow / device twin model;
//! - [`device`]: the facade the firmware uses (requests, telemetry, reported/desired);
//! - [`ffi`]: the C ABI over all of it (`include/nimbus.h`);
//! - [`record`]: the provisioning record a device reads at boot.
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![deny(missing_docs)]
#![deny(unsafe_code, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]
// A one-cloud build (`aws` or `azure` left out) compiles out the other
// cloud's match arms, which leaves parameters and helpers only that cloud
// used: they are not mistakes there. The two-cloud build, which CI lints,
// still reports them.
#![cfg_attr(not(all(feature = "aws", feature = "azure")), allow(unused, dead_code))]

// `cbindgen:ignore`: the header is the C API in `ffi` and nothing else.
// (An outer doc comment makes rustdoc resolve the links of a module's own
// docs from the crate root, so those links are written as `crate::` paths.)
/// cbindgen:ignore
pub mod bounds;
mod bytes;
/// cbindgen:ignore
pub mod cloud;
/// cbindgen:ignore
pub mod device;
/// cbindgen:ignore
mod error;
pub mod ffi;
/// cbindgen:ignore
pub mod mqtt;
/// cbindgen:ignore
#[cfg(feature = "record")]
pub mod record;
/// cbindgen:ignore
pub mod seal;
/// cbindgen:ignore
pub mod twin;
/// cbindgen:ignore
pub mod writer;

pub use error::{Error, Result};

/// The static library's panic handler. The core is written never to panic
/// on input from the network or the C caller; if a bug panics anyway, the
/// device halts here rather than run on in an unknown state.
#[cfg(all(feature = "panic-handler", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
