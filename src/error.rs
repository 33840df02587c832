//! The one error type of the core.
//!
//! Every layer returns [`Error`](crate::error::Error); the C API maps each variant to the same
//! number (negated) in `nimbus_err_t`, so the codes below are stable: add new
//! variants at the end of their layer's range, never renumber.

use core::fmt;

/// Result of every fallible core operation.
pub type Result<T> = core::result::Result<T, Error>;

/// The error table, written once: each variant with its stable code and
/// its description. It makes the enum, [`Error::ALL`] and the strings of
/// [`Error::as_str`] (with a NUL for C); the C enum `nimbus_err_t` in
/// `ffi::error` must match it, which its tests check for every code.
macro_rules! errors {
    ($($(#[$meta:meta])* $name:ident = $code:literal => $text:literal,)*) => {
        /// What went wrong. Codes are grouped by layer: 1–19 arguments and buffers,
        /// 20–39 transport and connection, 40–59 MQTT protocol, 60–79 cloud dialects,
        /// 80–99 shadow/twin and JSON, 100–119 requests, the device model and its
        /// provisioning record.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u16)]
        #[non_exhaustive]
        pub enum Error {
            $($(#[$meta])* $name = $code,)*
        }

        impl Error {
            /// Every error, in code order.
            pub const ALL: [Error; [$($code),*].len()] = [$(Error::$name),*];

            /// The description with a trailing NUL, so that C can have it too.
            const fn with_nul(self) -> &'static str {
                match self {
                    $(Error::$name => concat!($text, "\0"),)*
                }
            }
        }
    };
}

errors! {
    // --- arguments and buffers (1–19) ---
    /// A required pointer or argument was missing (NULL from C).
    NullArgument = 1 => "required argument is NULL",
    /// An argument is outside its documented range or malformed.
    InvalidArgument = 2 => "invalid argument",
    /// A caller-provided output buffer is too small for the result.
    BufferTooSmall = 3 => "output buffer too small",
    /// A string is not valid UTF-8, or not NUL-terminated within its bound.
    InvalidString = 4 => "string is not valid UTF-8 or not terminated",
    /// A fixed-capacity table (in-flight messages, handlers, pending
    /// requests, ...) is full; retry after the pending work completes.
    Busy = 5 => "table full, retry later",
    /// The call is not allowed in the client's current state.
    InvalidState = 6 => "call not allowed in this state",
    /// The caller-provided storage is too small or misaligned.
    StorageTooSmall = 7 => "client storage too small or misaligned",
    /// A topic is longer than the documented bound.
    TopicTooLong = 8 => "topic too long",
    /// A payload is larger than the buffer or the cloud's limit.
    PayloadTooLarge = 9 => "payload too large",

    // --- transport and connection (20–39) ---
    /// The transport reported an unrecoverable error.
    TransportFailed = 20 => "transport failed",
    /// The peer closed the connection.
    ConnectionClosed = 21 => "connection closed by peer",
    /// No CONNACK arrived within the configured time.
    ConnackTimeout = 22 => "no CONNACK in time",
    /// No PINGRESP arrived within the configured time: the link is dead.
    PingTimeout = 23 => "no PINGRESP in time",
    /// Not connected: the operation needs a live session.
    NotConnected = 24 => "not connected",
    /// CONNACK 1: the broker refused the protocol version.
    RefusedProtocolVersion = 25 => "connection refused: protocol version",
    /// CONNACK 2: the broker refused the client identifier.
    RefusedIdentifier = 26 => "connection refused: client identifier",
    /// CONNACK 3: the server is unavailable.
    RefusedServerUnavailable = 27 => "connection refused: server unavailable",
    /// CONNACK 4: bad user name or password.
    RefusedBadCredentials = 28 => "connection refused: bad user name or password",
    /// CONNACK 5: not authorised.
    RefusedNotAuthorized = 29 => "connection refused: not authorised",
    /// CONNACK with a return code above 5.
    RefusedUnknown = 30 => "connection refused: unknown return code",
    /// TLS handshake or certificate verification failed (reported by ports).
    TlsFailed = 31 => "TLS handshake or verification failed",
    /// Connections keep ending soon after their CONNACK (reported by
    /// `on_error` after 3 in a row): another client connected with the same
    /// client id, the cloud's policy denies a publish or subscribe, or a
    /// topic the cloud refuses.
    UnstableConnection = 32 => "connections keep ending right after CONNACK",

    // --- MQTT protocol (40–59) ---
    /// A packet from the network is malformed (bad fixed header, flags,
    /// lengths or fields).
    MalformedPacket = 40 => "malformed MQTT packet",
    /// A packet's remaining length does not fit the receive buffer.
    PacketTooLarge = 41 => "MQTT packet larger than the receive buffer",
    /// A packet type that a client must never receive.
    UnexpectedPacket = 42 => "unexpected MQTT packet type",
    /// An acknowledgement for a packet id that is not in flight.
    UnknownPacketId = 43 => "acknowledgement for an unknown packet id",
    /// QoS 2 was asked for; neither cloud supports it.
    QosNotSupported = 44 => "QoS 2 is not supported",
    /// The broker refused a subscription (SUBACK 0x80).
    SubscribeRefused = 45 => "subscription refused by the broker",
    /// A topic name or filter is not valid MQTT (empty, wildcard in a
    /// topic name, misplaced wildcard, NUL).
    InvalidTopic = 46 => "invalid MQTT topic",

    // --- cloud dialects (60–79) ---
    /// A topic is not part of the generic scheme.
    NotGenericTopic = 60 => "not a generic Nimbus topic",
    /// A topic belongs to another device or thing.
    OtherDevice = 61 => "topic belongs to another device",
    /// The cloud would reject this topic or publish (Azure allow-list, AWS
    /// slash count, reserved prefix).
    TopicNotAllowed = 62 => "topic not allowed by the cloud",
    /// A device id, thing name, shadow name or module id breaks the cloud's rules.
    InvalidName = 63 => "invalid device, thing, module or shadow name",
    /// A property bag or percent-encoding is malformed.
    InvalidEncoding = 64 => "malformed property bag or percent-encoding",
    /// The per-connection publish rate limit was reached.
    RateLimited = 65 => "publish rate limit reached",
    /// The credentials (SAS key, token) are invalid or expired.
    InvalidCredentials = 66 => "invalid or expired credentials",

    // --- shadow/twin and JSON (80–99) ---
    /// JSON is malformed or truncated.
    InvalidJson = 80 => "invalid JSON",
    /// JSON nests deeper than the cloud allows.
    JsonTooDeep = 81 => "JSON nested too deeply",
    /// A shadow/twin document or patch exceeds the cloud's size limit.
    DocumentTooLarge = 82 => "document too large",
    /// A property name breaks the cloud's rules.
    InvalidPropertyName = 83 => "invalid property name",
    /// The cloud rejected the request (the status is reported alongside).
    Rejected = 84 => "rejected by the cloud",
    /// No answer arrived within the configured time.
    Timeout = 85 => "no answer in time",
    /// JSON is well-formed but a value has the wrong type or range (a
    /// version that is not an integer, a patch that is not an object, a
    /// missing required member).
    UnexpectedJson = 86 => "unexpected JSON type, range or shape",

    // --- requests and the device model (100–119) ---
    /// No handler or sensor is registered for this path or id.
    NotFound = 100 => "not found",
    /// The request handle is unknown, expired, or already answered.
    UnknownRequest = 101 => "unknown, expired or answered request",
    /// A sensor read callback failed.
    SensorFailed = 102 => "sensor read failed",
    /// A provisioning record is truncated or corrupt: too short, not
    /// well-formed CBOR, or its CRC-32 does not match.
    CorruptRecord = 103 => "provisioning record truncated or corrupt",
    /// A provisioning record's CRC matches but its content breaks the
    /// format: not a map, an unknown, duplicate, missing or mistyped
    /// field, an unsupported version, port 0, a field the cloud does not take.
    InvalidRecord = 104 => "provisioning record has a missing, unknown or invalid field",
}

impl Error {
    /// The stable numeric code of this error (the C API returns its negation).
    pub const fn code(self) -> u16 {
        self as u16
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
