//! `nimbus_err_t`: the core's errors as C sees them (negated codes).

use crate::Error;

/// The result of every function: `NIMBUS_OK` (0) or a negative error.
/// `nimbus_strerror` gives a short English description of each.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_err_t {
    /// Success.
    NIMBUS_OK = 0,
    /// A required pointer or argument was missing (NULL from C).
    NIMBUS_ERR_NULL_ARGUMENT = -1,
    /// An argument is outside its documented range or malformed.
    NIMBUS_ERR_INVALID_ARGUMENT = -2,
    /// A caller-provided output buffer is too small for the result.
    NIMBUS_ERR_BUFFER_TOO_SMALL = -3,
    /// A string is not valid UTF-8, or not NUL-terminated within its bound.
    NIMBUS_ERR_INVALID_STRING = -4,
    /// A fixed-capacity table (in-flight messages, handlers, pending
    /// requests, ...) is full; retry after the pending work completes.
    NIMBUS_ERR_BUSY = -5,
    /// The call is not allowed in the client's current state.
    NIMBUS_ERR_INVALID_STATE = -6,
    /// The caller-provided storage is too small or misaligned.
    NIMBUS_ERR_STORAGE_TOO_SMALL = -7,
    /// A topic is longer than the documented bound.
    NIMBUS_ERR_TOPIC_TOO_LONG = -8,
    /// A payload is larger than the buffer or the cloud's limit.
    NIMBUS_ERR_PAYLOAD_TOO_LARGE = -9,
    /// The transport reported an unrecoverable error.
    NIMBUS_ERR_TRANSPORT_FAILED = -20,
    /// The peer closed the connection.
    NIMBUS_ERR_CONNECTION_CLOSED = -21,
    /// No CONNACK arrived within the configured time.
    NIMBUS_ERR_CONNACK_TIMEOUT = -22,
    /// No PINGRESP arrived within the configured time: the link is dead.
    NIMBUS_ERR_PING_TIMEOUT = -23,
    /// Not connected: the operation needs a live session.
    NIMBUS_ERR_NOT_CONNECTED = -24,
    /// CONNACK 1: the broker refused the protocol version.
    NIMBUS_ERR_REFUSED_PROTOCOL_VERSION = -25,
    /// CONNACK 2: the broker refused the client identifier.
    NIMBUS_ERR_REFUSED_IDENTIFIER = -26,
    /// CONNACK 3: the server is unavailable.
    NIMBUS_ERR_REFUSED_SERVER_UNAVAILABLE = -27,
    /// CONNACK 4: bad user name or password.
    NIMBUS_ERR_REFUSED_BAD_CREDENTIALS = -28,
    /// CONNACK 5: not authorised.
    NIMBUS_ERR_REFUSED_NOT_AUTHORIZED = -29,
    /// CONNACK with a return code above 5.
    NIMBUS_ERR_REFUSED_UNKNOWN = -30,
    /// TLS handshake or certificate verification failed (reported by ports).
    NIMBUS_ERR_TLS_FAILED = -31,
    /// Connections keep ending soon after their CONNACK (reported by
    /// `on_error` after 3 in a row): another client connected with the same
    /// client id, the cloud's policy denies a publish or subscribe, or a
    /// topic the cloud refuses.
    NIMBUS_ERR_UNSTABLE_CONNECTION = -32,
    /// A packet from the network is malformed (bad fixed header, flags,
    /// lengths or fields).
    NIMBUS_ERR_MALFORMED_PACKET = -40,
    /// A packet's remaining length does not fit the receive buffer.
    NIMBUS_ERR_PACKET_TOO_LARGE = -41,
    /// A packet type that a client must never receive.
    NIMBUS_ERR_UNEXPECTED_PACKET = -42,
    /// An acknowledgement for a packet id that is not in flight.
    NIMBUS_ERR_UNKNOWN_PACKET_ID = -43,
    /// QoS 2 was asked for; neither cloud supports it.
    NIMBUS_ERR_QOS_NOT_SUPPORTED = -44,
    /// The broker refused a subscription (SUBACK 0x80).
    NIMBUS_ERR_SUBSCRIBE_REFUSED = -45,
    /// A topic name or filter is not valid MQTT (empty, wildcard in a
    /// topic name, misplaced wildcard, NUL).
    NIMBUS_ERR_INVALID_TOPIC = -46,
    /// A topic is not part of the generic scheme.
    NIMBUS_ERR_NOT_GENERIC_TOPIC = -60,
    /// A topic belongs to another device or thing.
    NIMBUS_ERR_OTHER_DEVICE = -61,
    /// The cloud would reject this topic or publish (Azure allow-list, AWS
    /// slash count, reserved prefix).
    NIMBUS_ERR_TOPIC_NOT_ALLOWED = -62,
    /// A device id, thing name, shadow name or module id breaks the cloud's rules.
    NIMBUS_ERR_INVALID_NAME = -63,
    /// A property bag or percent-encoding is malformed.
    NIMBUS_ERR_INVALID_ENCODING = -64,
    /// The per-connection publish rate limit was reached.
    NIMBUS_ERR_RATE_LIMITED = -65,
    /// The credentials (SAS key, token) are invalid or expired.
    NIMBUS_ERR_INVALID_CREDENTIALS = -66,
    /// JSON is malformed or truncated.
    NIMBUS_ERR_INVALID_JSON = -80,
    /// JSON nests deeper than the cloud allows.
    NIMBUS_ERR_JSON_TOO_DEEP = -81,
    /// A shadow/twin document or patch exceeds the cloud's size limit.
    NIMBUS_ERR_DOCUMENT_TOO_LARGE = -82,
    /// A property name breaks the cloud's rules.
    NIMBUS_ERR_INVALID_PROPERTY_NAME = -83,
    /// The cloud rejected the request (the status is reported alongside).
    NIMBUS_ERR_REJECTED = -84,
    /// No answer arrived within the configured time.
    NIMBUS_ERR_TIMEOUT = -85,
    /// JSON is well-formed but a value has the wrong type or range (a
    /// version that is not an integer, a patch that is not an object, a
    /// missing required member).
    NIMBUS_ERR_UNEXPECTED_JSON = -86,
    /// No handler or sensor is registered for this path or id.
    NIMBUS_ERR_NOT_FOUND = -100,
    /// The request handle is unknown, expired, or already answered.
    NIMBUS_ERR_UNKNOWN_REQUEST = -101,
    /// A sensor read callback failed.
    NIMBUS_ERR_SENSOR_FAILED = -102,
    /// A provisioning record is truncated or corrupt: too short, not
    /// well-formed CBOR, or its CRC-32 does not match.
    NIMBUS_ERR_CORRUPT_RECORD = -103,
    /// A provisioning record's CRC matches but its content breaks the
    /// format: not a map, an unknown, duplicate, missing or mistyped
    /// field, an unsupported version, port 0, a field the cloud does not take.
    NIMBUS_ERR_INVALID_RECORD = -104,
}

impl From<Error> for nimbus_err_t {
    fn from(e: Error) -> Self {
        match e {
            Error::NullArgument => nimbus_err_t::NIMBUS_ERR_NULL_ARGUMENT,
            Error::InvalidArgument => nimbus_err_t::NIMBUS_ERR_INVALID_ARGUMENT,
            Error::BufferTooSmall => nimbus_err_t::NIMBUS_ERR_BUFFER_TOO_SMALL,
            Error::InvalidString => nimbus_err_t::NIMBUS_ERR_INVALID_STRING,
            Error::Busy => nimbus_err_t::NIMBUS_ERR_BUSY,
            Error::InvalidState => nimbus_err_t::NIMBUS_ERR_INVALID_STATE,
            Error::StorageTooSmall => nimbus_err_t::NIMBUS_ERR_STORAGE_TOO_SMALL,
            Error::TopicTooLong => nimbus_err_t::NIMBUS_ERR_TOPIC_TOO_LONG,
            Error::PayloadTooLarge => nimbus_err_t::NIMBUS_ERR_PAYLOAD_TOO_LARGE,
            Error::TransportFailed => nimbus_err_t::NIMBUS_ERR_TRANSPORT_FAILED,
            Error::ConnectionClosed => nimbus_err_t::NIMBUS_ERR_CONNECTION_CLOSED,
            Error::ConnackTimeout => nimbus_err_t::NIMBUS_ERR_CONNACK_TIMEOUT,
            Error::PingTimeout => nimbus_err_t::NIMBUS_ERR_PING_TIMEOUT,
            Error::NotConnected => nimbus_err_t::NIMBUS_ERR_NOT_CONNECTED,
            Error::RefusedProtocolVersion => nimbus_err_t::NIMBUS_ERR_REFUSED_PROTOCOL_VERSION,
            Error::RefusedIdentifier => nimbus_err_t::NIMBUS_ERR_REFUSED_IDENTIFIER,
            Error::RefusedServerUnavailable => nimbus_err_t::NIMBUS_ERR_REFUSED_SERVER_UNAVAILABLE,
            Error::RefusedBadCredentials => nimbus_err_t::NIMBUS_ERR_REFUSED_BAD_CREDENTIALS,
            Error::RefusedNotAuthorized => nimbus_err_t::NIMBUS_ERR_REFUSED_NOT_AUTHORIZED,
            Error::RefusedUnknown => nimbus_err_t::NIMBUS_ERR_REFUSED_UNKNOWN,
            Error::TlsFailed => nimbus_err_t::NIMBUS_ERR_TLS_FAILED,
            Error::UnstableConnection => nimbus_err_t::NIMBUS_ERR_UNSTABLE_CONNECTION,
            Error::MalformedPacket => nimbus_err_t::NIMBUS_ERR_MALFORMED_PACKET,
            Error::PacketTooLarge => nimbus_err_t::NIMBUS_ERR_PACKET_TOO_LARGE,
            Error::UnexpectedPacket => nimbus_err_t::NIMBUS_ERR_UNEXPECTED_PACKET,
            Error::UnknownPacketId => nimbus_err_t::NIMBUS_ERR_UNKNOWN_PACKET_ID,
            Error::QosNotSupported => nimbus_err_t::NIMBUS_ERR_QOS_NOT_SUPPORTED,
            Error::SubscribeRefused => nimbus_err_t::NIMBUS_ERR_SUBSCRIBE_REFUSED,
            Error::InvalidTopic => nimbus_err_t::NIMBUS_ERR_INVALID_TOPIC,
            Error::NotGenericTopic => nimbus_err_t::NIMBUS_ERR_NOT_GENERIC_TOPIC,
            Error::OtherDevice => nimbus_err_t::NIMBUS_ERR_OTHER_DEVICE,
            Error::TopicNotAllowed => nimbus_err_t::NIMBUS_ERR_TOPIC_NOT_ALLOWED,
            Error::InvalidName => nimbus_err_t::NIMBUS_ERR_INVALID_NAME,
            Error::InvalidEncoding => nimbus_err_t::NIMBUS_ERR_INVALID_ENCODING,
            Error::RateLimited => nimbus_err_t::NIMBUS_ERR_RATE_LIMITED,
            Error::InvalidCredentials => nimbus_err_t::NIMBUS_ERR_INVALID_CREDENTIALS,
            Error::InvalidJson => nimbus_err_t::NIMBUS_ERR_INVALID_JSON,
            Error::JsonTooDeep => nimbus_err_t::NIMBUS_ERR_JSON_TOO_DEEP,
            Error::DocumentTooLarge => nimbus_err_t::NIMBUS_ERR_DOCUMENT_TOO_LARGE,
            Error::InvalidPropertyName => nimbus_err_t::NIMBUS_ERR_INVALID_PROPERTY_NAME,
            Error::Rejected => nimbus_err_t::NIMBUS_ERR_REJECTED,
            Error::Timeout => nimbus_err_t::NIMBUS_ERR_TIMEOUT,
            Error::UnexpectedJson => nimbus_err_t::NIMBUS_ERR_UNEXPECTED_JSON,
            Error::NotFound => nimbus_err_t::NIMBUS_ERR_NOT_FOUND,
            Error::UnknownRequest => nimbus_err_t::NIMBUS_ERR_UNKNOWN_REQUEST,
            Error::SensorFailed => nimbus_err_t::NIMBUS_ERR_SENSOR_FAILED,
            Error::CorruptRecord => nimbus_err_t::NIMBUS_ERR_CORRUPT_RECORD,
            Error::InvalidRecord => nimbus_err_t::NIMBUS_ERR_INVALID_RECORD,
        }
    }
}

impl From<crate::Result<()>> for nimbus_err_t {
    fn from(r: crate::Result<()>) -> Self {
        match r {
            Ok(()) => nimbus_err_t::NIMBUS_OK,
            Err(e) => e.into(),
        }
    }
}

/// The error a negative number from C code stands for (anything
/// unknown is a transport failure).
pub(crate) fn from_c(code: i32) -> Error {
    code.checked_neg()
        .and_then(|c| u16::try_from(c).ok())
        .and_then(Error::from_code)
        .unwrap_or(Error::TransportFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_its_negated_code() {
        for e in Error::ALL {
            assert_eq!(nimbus_err_t::from(e) as i32, -i32::from(e.code()), "{e:?}");
            assert_eq!(from_c(-i32::from(e.code())), e);
        }
        assert_eq!(from_c(-9999), Error::TransportFailed);
        assert_eq!(from_c(i32::MIN), Error::TransportFailed);
    }
}
