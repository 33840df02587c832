//! Entry points that pull parts of the core's API into a firmware image.
//!
//! `tools/size-report.sh` links this static library into a minimal C
//! program and measures what it adds. Convention: every probe is
//! `#[no_mangle] pub extern "C" fn nimbus_probe_<what>(input: u32) -> u32`;
//! the script finds the probes a build exports (`nm`) and generates the C
//! calls, feeding each an input the compiler cannot see, so nothing is
//! constant-folded away. Measuring another part of the API is one more
//! function here.
//!
//! Probes are grouped by layer behind this crate's features, so that the
//! report can show what each layer adds: the error strings always;
//! `mqtt` ([`mqtt`]), `cloud` ([`cloud`]), `twin` ([`twin`]), `device`
//! ([`device`]); `rustcrypto` signs Azure SAS tokens with the core's
//! RustCrypto HMAC instead of the port's. The probes reach the port only
//! through C function pointers ([`port`]), as firmware does.
//!
//! [`sizes`] exports one symbol per client state type, as large as the
//! type on this target, for the report's RAM figures.
//!
//! The glue in this crate (the variant table below, the stand-in port
//! functions, the probes' own buffers on the stack) is counted in the
//! figures too; it is small next to the core.
#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "cloud")]
pub mod cloud;
#[cfg(feature = "device")]
pub mod device;
#[cfg(feature = "mqtt")]
pub mod mqtt;
pub mod port;
pub mod sizes;
#[cfg(feature = "twin")]
pub mod twin;

use nimbus::Error;

/// Every variant, as `nimbus_strerror` will need: `as_str` keeps all its arms.
const ERRORS: [Error; 45] = [
    Error::NullArgument,
    Error::InvalidArgument,
    Error::BufferTooSmall,
    Error::InvalidString,
    Error::Busy,
    Error::InvalidState,
    Error::StorageTooSmall,
    Error::TopicTooLong,
    Error::PayloadTooLarge,
    Error::TransportFailed,
    Error::ConnectionClosed,
    Error::ConnackTimeout,
    Error::PingTimeout,
    Error::NotConnected,
    Error::RefusedProtocolVersion,
    Error::RefusedIdentifier,
    Error::RefusedServerUnavailable,
    Error::RefusedBadCredentials,
    Error::RefusedNotAuthorized,
    Error::RefusedUnknown,
    Error::TlsFailed,
    Error::MalformedPacket,
    Error::PacketTooLarge,
    Error::UnexpectedPacket,
    Error::UnknownPacketId,
    Error::QosNotSupported,
    Error::SubscribeRefused,
    Error::InvalidTopic,
    Error::NotGenericTopic,
    Error::OtherDevice,
    Error::TopicNotAllowed,
    Error::InvalidName,
    Error::InvalidEncoding,
    Error::RateLimited,
    Error::InvalidCredentials,
    Error::InvalidJson,
    Error::JsonTooDeep,
    Error::DocumentTooLarge,
    Error::InvalidPropertyName,
    Error::Rejected,
    Error::Timeout,
    Error::UnexpectedJson,
    Error::NotFound,
    Error::UnknownRequest,
    Error::SensorFailed,
];

fn error_at(index: u32) -> Option<Error> {
    ERRORS.get(usize::try_from(index).ok()?).copied()
}

/// Address of the description of the `index`-th error (0 if none), as a C
/// `nimbus_strerror` hands it out: this keeps every string in the image.
#[no_mangle]
pub extern "C" fn nimbus_probe_error_str(index: u32) -> u32 {
    error_at(index).map_or(0, |e| e.as_str().as_ptr() as usize as u32)
}

/// Stable code of the `index`-th error in the core's order (0 if none).
#[no_mangle]
pub extern "C" fn nimbus_probe_error_code(index: u32) -> u32 {
    error_at(index).map_or(0, |e| u32::from(e.code()))
}
