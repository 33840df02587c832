//! The core's tests that run on the target. Each is one `fn() -> bool`
//! registered in [`TESTS`]; a new test is one line there. The tests of
//! each layer live in a submodule; the `Error` tests are here.

mod client;
mod cloud;
mod codec;
mod device;
mod fake;
mod session;
mod twin;

use core::fmt::Write;
use core::hint::black_box;
use core::sync::atomic::Ordering;
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
    ("harness::stack_measure_sees_a_1_kib_frame", stack_measure_sees_a_1_kib_frame),
    ("mqtt::codec::publish_qos0_round_trip", codec::publish_qos0_round_trip),
    ("mqtt::codec::publish_qos1_round_trip", codec::publish_qos1_round_trip),
    ("mqtt::codec::publish_two_byte_length_round_trip", codec::publish_two_byte_length_round_trip),
    ("mqtt::codec::connect_encodes_every_field", codec::connect_encodes_every_field),
    ("mqtt::codec::connect_refuses_what_mqtt_cannot_express", codec::connect_refuses_what_mqtt_cannot_express),
    ("mqtt::codec::subscribe_and_suback_round_trip", codec::subscribe_and_suback_round_trip),
    ("mqtt::codec::puback_and_connack_round_trip", codec::puback_and_connack_round_trip),
    ("mqtt::codec::malformed_packets_are_refused", codec::malformed_packets_are_refused),
    ("mqtt::codec::truncated_packets_wait_for_more", codec::truncated_packets_wait_for_more),
    ("mqtt::codec::short_buffers_are_refused", codec::short_buffers_are_refused),
    ("mqtt::session::connect_then_connack", session::connect_then_connack),
    ("mqtt::session::refused_connack_is_an_error", session::refused_connack_is_an_error),
    ("mqtt::session::subscribe_then_suback", session::subscribe_then_suback),
    ("mqtt::session::publish_qos1_until_puback", session::publish_qos1_until_puback),
    ("mqtt::session::qos0_both_ways_without_acks", session::qos0_both_ways_without_acks),
    ("mqtt::session::receive_publish_sends_puback", session::receive_publish_sends_puback),
    ("mqtt::session::keepalive_pingreq_and_ping_timeout", session::keepalive_pingreq_and_ping_timeout),
    ("mqtt::session::malformed_packet_ends_connection", session::malformed_packet_ends_connection),
    ("cloud::azure_telemetry_topic", cloud::azure_telemetry_topic),
    ("cloud::azure_method_is_a_request", cloud::azure_method_is_a_request),
    ("cloud::azure_twin_answer_and_refusals", cloud::azure_twin_answer_and_refusals),
    ("cloud::aws_shadow_delta", cloud::aws_shadow_delta),
    ("twin::json_validation", twin::json_validation),
    ("twin::json_lookup", twin::json_lookup),
    ("twin::azure_report_res_204_round_trip", twin::azure_report_res_204_round_trip),
    ("twin::report_timeout_and_refusals", twin::report_timeout_and_refusals),
    ("twin::aws_delta_is_desired_once", twin::aws_delta_is_desired_once),
    ("device::route_matching", device::route_matching),
    ("device::reading_json", device::reading_json),
    ("device::reading_cbor", device::reading_cbor),
    ("device::json_writer_escapes", device::json_writer_escapes),
    ("device::sensor_list_and_pending_requests", device::sensor_list_and_pending_requests),
    ("device::client::azure_method_answered_by_the_device_model", client::azure_method_answered_by_the_device_model),
    ("device::client::trace_lines_reach_defmt", client::trace_lines_reach_defmt),
];

/// Stack figures that tests measure around a single call (with
/// `stack::measure`), printed after the run: a label and the bytes below
/// the caller's frame (0 if the test did not get that far).
pub fn figures() -> [(&'static str, usize); 2] {
    [
        (
            "Session::poll receiving a QoS 1 PUBLISH and writing its PUBACK",
            session::POLL_STACK.load(Ordering::Relaxed),
        ),
        (
            "Client::poll (nimbus_poll) answering an Azure direct method",
            client::POLL_STACK.load(Ordering::Relaxed),
        ),
    ]
}

/// The instrument itself: a call that writes a 1 KiB local array must
/// measure at least 1 KiB, and not much more (its frame and the call).
fn stack_measure_sees_a_1_kib_frame() -> bool {
    let (_, used) = crate::stack::measure(|| {
        let frame = [0u8; 1024];
        black_box(&frame);
    });
    (1024..1024 + 64).contains(&used)
}

/// Concatenates `parts` (expected packets, written piecewise); empty if
/// they do not fit, which no comparison in the tests expects.
fn bytes(parts: &[&[u8]]) -> heapless::Vec<u8, 256> {
    let mut out = heapless::Vec::new();
    for part in parts {
        if out.extend_from_slice(part).is_err() {
            return heapless::Vec::new();
        }
    }
    out
}

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
    (Error::UnstableConnection, 32),
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
    (Error::UnexpectedJson, 86),
    (Error::NotFound, 100),
    (Error::UnknownRequest, 101),
    (Error::SensorFailed, 102),
    (Error::CorruptRecord, 103),
    (Error::InvalidRecord, 104),
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
