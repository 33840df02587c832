//! The one error type of the core.
//!
//! Every layer returns [`Error`](crate::error::Error); the C API maps each variant to the same
//! number (negated) in `nimbus_err_t`, so the codes below are stable: add new
//! variants at the end of their layer's range, never renumber.

use core::fmt;

/// Result of every fallible core operation.
pub type Result<T> = core::result::Result<T, Error>;

/// What went wrong. Codes are grouped by layer: 1–19 arguments and buffers,
/// 20–39 transport and connection, 40–59 MQTT protocol, 60–79 cloud dialects,
/// 80–99 shadow/twin and JSON, 100–119 requests, the device model and its
/// provisioning record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
#[non_exhaustive]
pub enum Error {
    // --- arguments and buffers (1–19) ---
    /// A required pointer or argument was missing (NULL from C).
    NullArgument = 1,
    /// An argument is outside its documented range or malformed.
    InvalidArgument = 2,
    /// A caller-provided output buffer is too small for the result.
    BufferTooSmall = 3,
    /// A string is not valid UTF-8, or not NUL-terminated within its bound.
    InvalidString = 4,
    /// A fixed-capacity table (in-flight messages, handlers, pending
    /// requests, ...) is full; retry after the pending work completes.
    Busy = 5,
    /// The call is not allowed in the client's current state.
    InvalidState = 6,
    /// The caller-provided storage is too small or misaligned.
    StorageTooSmall = 7,
    /// A topic is longer than the documented bound.
    TopicTooLong = 8,
    /// A payload is larger than the buffer or the cloud's limit.
    PayloadTooLarge = 9,

    // --- transport and connection (20–39) ---
    /// The transport reported an unrecoverable error.
    TransportFailed = 20,
    /// The peer closed the connection.
    ConnectionClosed = 21,
    /// No CONNACK arrived within the configured time.
    ConnackTimeout = 22,
    /// No PINGRESP arrived within the configured time: the link is dead.
    PingTimeout = 23,
    /// Not connected: the operation needs a live session.
    NotConnected = 24,
    /// CONNACK 1: the broker refused the protocol version.
    RefusedProtocolVersion = 25,
    /// CONNACK 2: the broker refused the client identifier.
    RefusedIdentifier = 26,
    /// CONNACK 3: the server is unavailable.
    RefusedServerUnavailable = 27,
    /// CONNACK 4: bad user name or password.
    RefusedBadCredentials = 28,
    /// CONNACK 5: not authorised.
    RefusedNotAuthorized = 29,
    /// CONNACK with a return code above 5.
    RefusedUnknown = 30,
    /// TLS handshake or certificate verification failed (reported by ports).
    TlsFailed = 31,
    /// Connections keep ending soon after their CONNACK (reported by
    /// `on_error` after 3 in a row): another client connected with the same
    /// client id, the cloud's policy denies a publish or subscribe, or a
    /// topic the cloud refuses.
    UnstableConnection = 32,

    // --- MQTT protocol (40–59) ---
    /// A packet from the network is malformed (bad fixed header, flags,
    /// lengths or fields).
    MalformedPacket = 40,
    /// A packet's remaining length does not fit the receive buffer.
    PacketTooLarge = 41,
    /// A packet type that a client must never receive.
    UnexpectedPacket = 42,
    /// An acknowledgement for a packet id that is not in flight.
    UnknownPacketId = 43,
    /// QoS 2 was asked for; neither cloud supports it.
    QosNotSupported = 44,
    /// The broker refused a subscription (SUBACK 0x80).
    SubscribeRefused = 45,
    /// A topic name or filter is not valid MQTT (empty, wildcard in a
    /// topic name, misplaced wildcard, NUL).
    InvalidTopic = 46,

    // --- cloud dialects (60–79) ---
    /// A topic is not part of the generic scheme.
    NotGenericTopic = 60,
    /// A topic belongs to another device or thing.
    OtherDevice = 61,
    /// The cloud would reject this topic or publish (Azure allow-list, AWS
    /// slash count, reserved prefix).
    TopicNotAllowed = 62,
    /// A device id, thing name, shadow name or module id breaks the cloud's rules.
    InvalidName = 63,
    /// A property bag or percent-encoding is malformed.
    InvalidEncoding = 64,
    /// The per-connection publish rate limit was reached.
    RateLimited = 65,
    /// The credentials (SAS key, token) are invalid or expired.
    InvalidCredentials = 66,

    // --- shadow/twin and JSON (80–99) ---
    /// JSON is malformed or truncated.
    InvalidJson = 80,
    /// JSON nests deeper than the cloud allows.
    JsonTooDeep = 81,
    /// A shadow/twin document or patch exceeds the cloud's size limit.
    DocumentTooLarge = 82,
    /// A property name breaks the cloud's rules.
    InvalidPropertyName = 83,
    /// The cloud rejected the request (the status is reported alongside).
    Rejected = 84,
    /// No answer arrived within the configured time.
    Timeout = 85,
    /// JSON is well-formed but a value has the wrong type or range (a
    /// version that is not an integer, a patch that is not an object, a
    /// missing required member).
    UnexpectedJson = 86,

    // --- requests and the device model (100–119) ---
    /// No handler or sensor is registered for this path or id.
    NotFound = 100,
    /// The request handle is unknown, expired, or already answered.
    UnknownRequest = 101,
    /// A sensor read callback failed.
    SensorFailed = 102,
    /// A provisioning record is truncated or corrupt: too short, not
    /// well-formed CBOR, or its CRC-32 does not match.
    CorruptRecord = 103,
    /// A provisioning record's CRC matches but its content breaks the
    /// format: not a map, an unknown, duplicate, missing or mistyped
    /// field, an unsupported version, port 0, a field the cloud does not take.
    InvalidRecord = 104,
}

impl Error {
    /// The stable numeric code of this error (the C API returns its negation).
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// The description with a trailing NUL, so that C can have it too.
    const fn with_nul(self) -> &'static str {
        match self {
            Error::NullArgument => "required argument is NULL\0",
            Error::InvalidArgument => "invalid argument\0",
            Error::BufferTooSmall => "output buffer too small\0",
            Error::InvalidString => "string is not valid UTF-8 or not terminated\0",
            Error::Busy => "table full, retry later\0",
            Error::InvalidState => "call not allowed in this state\0",
            Error::StorageTooSmall => "client storage too small or misaligned\0",
            Error::TopicTooLong => "topic too long\0",
            Error::PayloadTooLarge => "payload too large\0",
            Error::TransportFailed => "transport failed\0",
            Error::ConnectionClosed => "connection closed by peer\0",
            Error::ConnackTimeout => "no CONNACK in time\0",
            Error::PingTimeout => "no PINGRESP in time\0",
            Error::NotConnected => "not connected\0",
            Error::RefusedProtocolVersion => "connection refused: protocol version\0",
            Error::RefusedIdentifier => "connection refused: client identifier\0",
            Error::RefusedServerUnavailable => "connection refused: server unavailable\0",
            Error::RefusedBadCredentials => "connection refused: bad user name or password\0",
            Error::RefusedNotAuthorized => "connection refused: not authorised\0",
            Error::RefusedUnknown => "connection refused: unknown return code\0",
            Error::TlsFailed => "TLS handshake or verification failed\0",
            Error::UnstableConnection => "connections keep ending right after CONNACK\0",
            Error::MalformedPacket => "malformed MQTT packet\0",
            Error::PacketTooLarge => "MQTT packet larger than the receive buffer\0",
            Error::UnexpectedPacket => "unexpected MQTT packet type\0",
            Error::UnknownPacketId => "acknowledgement for an unknown packet id\0",
            Error::QosNotSupported => "QoS 2 is not supported\0",
            Error::SubscribeRefused => "subscription refused by the broker\0",
            Error::InvalidTopic => "invalid MQTT topic\0",
            Error::NotGenericTopic => "not a generic Nimbus topic\0",
            Error::OtherDevice => "topic belongs to another device\0",
            Error::TopicNotAllowed => "topic not allowed by the cloud\0",
            Error::InvalidName => "invalid device, thing, module or shadow name\0",
            Error::InvalidEncoding => "malformed property bag or percent-encoding\0",
            Error::RateLimited => "publish rate limit reached\0",
            Error::InvalidCredentials => "invalid or expired credentials\0",
            Error::InvalidJson => "invalid JSON\0",
            Error::JsonTooDeep => "JSON nested too deeply\0",
            Error::DocumentTooLarge => "document too large\0",
            Error::InvalidPropertyName => "invalid property name\0",
            Error::Rejected => "rejected by the cloud\0",
            Error::Timeout => "no answer in time\0",
            Error::UnexpectedJson => "unexpected JSON type, range or shape\0",
            Error::NotFound => "not found\0",
            Error::UnknownRequest => "unknown, expired or answered request\0",
            Error::SensorFailed => "sensor read failed\0",
            Error::CorruptRecord => "provisioning record truncated or corrupt\0",
            Error::InvalidRecord => "provisioning record has a missing, unknown or invalid field\0",
        }
    }

    /// A short, static, English description.
    pub fn as_str(self) -> &'static str {
        let text = self.with_nul();
        text.get(..text.len() - 1).unwrap_or(text)
    }

    /// The description as a C string (what `nimbus_strerror` returns).
    pub fn as_cstr(self) -> &'static core::ffi::CStr {
        core::ffi::CStr::from_bytes_with_nul(self.with_nul().as_bytes()).unwrap_or(c"unknown error")
    }

    /// The error with this code, if there is one.
    pub fn from_code(code: u16) -> Option<Error> {
        Error::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// Every error, in code order.
    pub const ALL: [Error; 48] = [
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
        Error::UnstableConnection,
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
        Error::CorruptRecord,
        Error::InvalidRecord,
    ];
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_distinct() {
        let all = [
            Error::NullArgument,
            Error::BufferTooSmall,
            Error::ConnackTimeout,
            Error::MalformedPacket,
            Error::NotGenericTopic,
            Error::InvalidJson,
            Error::NotFound,
        ];
        assert_eq!(
            all.map(Error::code),
            [1, 3, 22, 40, 60, 80, 100],
            "codes are part of the C ABI"
        );
        assert_eq!(Error::QosNotSupported.to_string(), "QoS 2 is not supported");
    }

    #[test]
    fn every_error_has_a_c_string_and_comes_back_from_its_code() {
        let mut last = 0;
        for e in Error::ALL {
            assert!(e.code() > last, "ALL is in code order: {e:?}");
            last = e.code();
            assert_eq!(Error::from_code(e.code()), Some(e));
            assert_eq!(e.as_cstr().to_str().unwrap(), e.as_str());
            assert!(!e.as_str().is_empty() && !e.as_str().contains('\0'));
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(999), None);
    }
}
