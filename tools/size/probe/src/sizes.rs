//! The RAM of the client state on this target.
//!
//! Each `NIMBUS_SIZEOF_<TYPE>` is storage for one value of that type, as a
//! firmware would reserve it; `arm-none-eabi-nm -S` on the static library
//! prints its size, which is `size_of` the type. Nothing references these
//! symbols, so `--gc-sections` keeps them out of the measured image.

/// `Session` over the port's transport, `INFLIGHT` = `SUBS` = 8 (the
/// caller's four buffers come on top).
#[cfg(feature = "mqtt")]
#[no_mangle]
pub static NIMBUS_SIZEOF_SESSION: core::mem::MaybeUninit<crate::mqtt::PortSession<'static>> =
    core::mem::MaybeUninit::uninit();

/// One cloud identity (`Dialect`).
#[cfg(feature = "cloud")]
#[no_mangle]
pub static NIMBUS_SIZEOF_DIALECT: core::mem::MaybeUninit<nimbus::cloud::Dialect<'static>> =
    core::mem::MaybeUninit::uninit();

/// `Twin` with `MAX_PENDING` (10) requests.
#[cfg(feature = "twin")]
#[no_mangle]
pub static NIMBUS_SIZEOF_TWIN: core::mem::MaybeUninit<crate::twin::DeviceTwin> =
    core::mem::MaybeUninit::uninit();

/// `PendingTable` of 8 unanswered requests.
#[cfg(feature = "device")]
#[no_mangle]
pub static NIMBUS_SIZEOF_PENDING_TABLE: core::mem::MaybeUninit<crate::device::DevicePending> =
    core::mem::MaybeUninit::uninit();

/// `Router` of 8 routes to C handlers.
#[cfg(feature = "device")]
#[no_mangle]
pub static NIMBUS_SIZEOF_ROUTER: core::mem::MaybeUninit<crate::device::DeviceRouter> =
    core::mem::MaybeUninit::uninit();

/// `Sensors` table of 8 sensors.
#[cfg(feature = "device")]
#[no_mangle]
pub static NIMBUS_SIZEOF_SENSORS: core::mem::MaybeUninit<crate::device::DeviceSensors> =
    core::mem::MaybeUninit::uninit();

/// The persisted queue's RAM part (the window's readings; the queue itself
/// is in the store).
#[cfg(feature = "device")]
#[no_mangle]
pub static NIMBUS_SIZEOF_QUEUE: core::mem::MaybeUninit<nimbus::device::queue::Queue> =
    core::mem::MaybeUninit::uninit();
