//! The core's tests that run on the target. Each is one `fn() -> bool`
//! registered in [`TESTS`]; a new test is one line there.

use core::fmt::Write;
use core::hint::black_box;
use nimbus::Error;

/// A named test: `true` when it passes.
pub type Test = (&'static str, fn() -> bool);

/// Every test the harness runs, in order (one line each).
#[rustfmt::skip]
pub const TESTS: &[Test] = &[
    ("error::codes_are_stable", error_codes_are_stable),
    ("error::codes_are_in_their_layer", error_codes_are_in_their_layer),
    ("error::codes_are_distinct", error_codes_are_distinct),
    ("error::strings_are_distinct_ascii", error_strings_are_distinct_ascii),
    ("error::display_is_as_str", error_display_is_as_str),
];

/// Every variant of `nimbus::Error` that exists today, with its code.
const ERRORS: &[(Error, u16)] = &[
    (Error::NullArgument, 1),
    (Error::InvalidArgument, 2),
    (Error::BufferTooSmall, 3),
    (Error::InvalidString, 4),
    (Error::Busy, 5),
    (Error::InvalidState, 6),
    (Error::StorageTooSmall, 7),
    (Error::TopicTooLong, 8),
    (Error::PayloadTooLarge, 9),
    (Error::TransportFailed, 20),
    (Error::ConnectionClosed, 21),
    (Error::ConnackTimeout, 22),
    (Error::PingTimeout, 23),
    (Error::NotConnected, 24),
    (Error::RefusedProtocolVersion, 25),
    (Error::RefusedIdentifier, 26),
    (Error::RefusedServerUnavailable, 27),
    (Error::RefusedBadCredentials, 28),
    (Error::RefusedNotAuthorized, 29),
    (Error::RefusedUnknown, 30),
    (Error::TlsFailed, 31),
    (Error::MalformedPacket, 40),
    (Error::PacketTooLarge, 41),
    (Error::UnexpectedPacket, 42),
    (Error::UnknownPacketId, 43),
    (Error::QosNotSupported, 44),
    (Error::SubscribeRefused, 45),
    (Error::InvalidTopic, 46),
    (Error::NotGenericTopic, 60),
    (Error::OtherDevice, 61),
    (Error::TopicNotAllowed, 62),
    (Error::InvalidName, 63),
    (Error::InvalidEncoding, 64),
    (Error::RateLimited, 65),
    (Error::InvalidCredentials, 66),
    (Error::InvalidJson, 80),
    (Error::JsonTooDeep, 81),
    (Error::DocumentTooLarge, 82),
    (Error::InvalidPropertyName, 83),
    (Error::Rejected, 84),
    (Error::Timeout, 85),
    (Error::NotFound, 100),
    (Error::UnknownRequest, 101),
    (Error::SensorFailed, 102),
];

fn error_codes_are_stable() -> bool {
    ERRORS
        .iter()
        .all(|&(error, code)| black_box(error).code() == code)
}

fn error_codes_are_in_their_layer() -> bool {
    // Each layer owns 20 codes; codes are packed from the start of their
    // layer's range (arguments start at 1) with no gaps, in table order.
    let mut previous: Option<u16> = None;
    ERRORS.iter().all(|&(error, _)| {
        let code = black_box(error).code();
        let layer_start = code - code % 20;
        let packed = match previous {
            Some(p) if p / 20 == code / 20 => code == p + 1,
            _ => code == layer_start.max(1),
        };
        previous = Some(code);
        code < 120 && packed
    })
}

fn error_codes_are_distinct() -> bool {
    ERRORS.iter().enumerate().all(|(i, &(a, _))| {
        ERRORS
            .iter()
            .skip(i + 1)
            .all(|&(b, _)| black_box(a).code() != black_box(b).code() && a != b)
    })
}

fn error_strings_are_distinct_ascii() -> bool {
    ERRORS.iter().enumerate().all(|(i, &(a, _))| {
        let text = black_box(a).as_str();
        !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
            && ERRORS
                .iter()
                .skip(i + 1)
                .all(|&(b, _)| black_box(b).as_str() != text)
    })
}

fn error_display_is_as_str() -> bool {
    ERRORS.iter().all(|&(error, _)| {
        let mut out = FixedText::new();
        write!(out, "{}", black_box(error)).is_ok() && out.as_bytes() == error.as_str().as_bytes()
    })
}

/// A `fmt::Write` sink into a fixed buffer; refuses text that does not fit.
struct FixedText {
    bytes: [u8; 96],
    len: usize,
}

impl FixedText {
    fn new() -> Self {
        FixedText {
            bytes: [0; 96],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

impl Write for FixedText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let slot = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
