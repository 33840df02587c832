//! Entry points that pull parts of the core's API into a firmware image.
//!
//! `tools/size-report.sh` links this static library into a minimal C
//! program and measures what it adds. Convention: every probe is
//! `#[no_mangle] pub extern "C" fn nimbus_probe_<what>(input: u32) -> u32`
//! on one line; the script finds them by that pattern and generates the C
//! calls, feeding each an input the compiler cannot see, so nothing is
//! constant-folded away. Measuring another part of the API is one more
//! function here.
//!
//! The glue in this file (the variant table below) is counted in the
//! figures too; it is a few dozen bytes.
#![no_std]
#![deny(missing_docs)]

use nimbus::Error;

/// Every variant, as `nimbus_strerror` will need: `as_str` keeps all its arms.
const ERRORS: [Error; 44] = [
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
