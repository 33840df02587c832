//! The MQTT codec on the target: exact bytes of what the client sends,
//! round trips through the decoder, and refusals of malformed input.

use super::bytes;
use core::hint::black_box;
use nimbus::mqtt::codec::{
    self, decode_packet, encode_connect, encode_puback, encode_publish, encode_subscribe, Connect,
    Packet,
};
use nimbus::mqtt::{Publish, QoS, Will};
use nimbus::Error;

/// Encodes `publish`, checks the bytes against `expected` and the length
/// against `publish_len`, then decodes them back to the same message.
fn publish_round_trip(publish: Publish<'_>, expected: &[u8]) -> bool {
    let mut buf = [0u8; 256];
    let Ok(n) = encode_publish(&mut buf, &black_box(publish)) else {
        return false;
    };
    let wire = buf.get(..n).unwrap_or(&[]);
    wire == expected
        && codec::publish_len(publish.topic.len(), publish.payload.len(), publish.qos) == Ok(n)
        && decode_packet(wire) == Ok(Some((Packet::Publish(publish), n)))
}

pub fn publish_qos0_round_trip() -> bool {
    let publish = Publish {
        topic: "dev-1/events",
        payload: b"{\"t\":21.5}",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        packet_id: 0,
    };
    let expected = bytes(&[&[0x30, 24, 0, 12], b"dev-1/events", b"{\"t\":21.5}"]);
    publish_round_trip(publish, &expected)
}

pub fn publish_qos1_round_trip() -> bool {
    let publish = Publish {
        topic: "dev-1/events",
        payload: b"{\"t\":21.5}",
        qos: QoS::AtLeastOnce,
        retain: true,
        dup: false,
        packet_id: 0x0102,
    };
    let expected = bytes(&[
        &[0x33, 26, 0, 12],
        b"dev-1/events",
        &[1, 2],
        b"{\"t\":21.5}",
    ]);
    let dup = Publish {
        dup: true,
        ..publish
    };
    let expected_dup = bytes(&[
        &[0x3B, 26, 0, 12],
        b"dev-1/events",
        &[1, 2],
        b"{\"t\":21.5}",
    ]);
    publish_round_trip(publish, &expected) && publish_round_trip(dup, &expected_dup)
}

pub fn publish_two_byte_length_round_trip() -> bool {
    // 2 + 12 + 200 = 214 bytes after the header: 0xD6 0x01 as a varint.
    let payload = [b'x'; 200];
    let publish = Publish {
        topic: "dev-1/events",
        payload: &payload,
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        packet_id: 0,
    };
    let expected = bytes(&[&[0x30, 0xD6, 0x01, 0, 12], b"dev-1/events", &payload]);
    publish_round_trip(publish, &expected)
}

pub fn connect_encodes_every_field() -> bool {
    let connect = Connect {
        client_id: "dev-1",
        username: Some("u"),
        password: Some(b"p"),
        keep_alive_s: 240,
        clean_session: true,
        will: Some(Will {
            topic: "dev-1/events",
            payload: b"bye",
            qos: QoS::AtLeastOnce,
            retain: true,
        }),
    };
    // Flags: user 0x80, password 0x40, will retain 0x20, will QoS 1 0x08,
    // will 0x04, clean session 0x02.
    let expected = bytes(&[
        &[0x10, 42, 0, 4],
        b"MQTT",
        &[4, 0xEE, 0, 240, 0, 5],
        b"dev-1",
        &[0, 12],
        b"dev-1/events",
        &[0, 3],
        b"bye",
        &[0, 1, b'u', 0, 1, b'p'],
    ]);
    let mut buf = [0u8; 64];
    let n = encode_connect(&mut buf, &black_box(connect));
    let minimal = Connect {
        username: None,
        password: None,
        will: None,
        clean_session: false,
        keep_alive_s: 60,
        ..connect
    };
    let expected_minimal = bytes(&[&[0x10, 17, 0, 4], b"MQTT", &[4, 0, 0, 60, 0, 5], b"dev-1"]);
    let mut small = [0u8; 64];
    let m = encode_connect(&mut small, &black_box(minimal));
    n == Ok(expected.len())
        && buf.get(..expected.len()) == Some(&expected[..])
        && codec::connect_len(&connect) == Ok(44)
        && m == Ok(expected_minimal.len())
        && small.get(..expected_minimal.len()) == Some(&expected_minimal[..])
}

pub fn connect_refuses_what_mqtt_cannot_express() -> bool {
    let base = Connect {
        client_id: "dev-1",
        username: None,
        password: Some(b"p"),
        keep_alive_s: 60,
        clean_session: true,
        will: None,
    };
    let qos2_will = Connect {
        password: None,
        will: Some(Will {
            topic: "dev-1/events",
            payload: b"",
            qos: QoS::ExactlyOnce,
            retain: false,
        }),
        ..base
    };
    codec::connect_len(&black_box(base)) == Err(Error::InvalidArgument)
        && codec::connect_len(&black_box(qos2_will)) == Err(Error::QosNotSupported)
}

pub fn subscribe_and_suback_round_trip() -> bool {
    let mut buf = [0u8; 32];
    let n = encode_subscribe(&mut buf, 7, black_box("dev-1/request/#"), QoS::AtLeastOnce);
    let expected = bytes(&[&[0x82, 20, 0, 7, 0, 15], b"dev-1/request/#", &[1]]);
    let suback = [0x90, 3, 0, 7, 1];
    let refused = [0x90, 3, 0, 8, 0x80];
    n == Ok(22)
        && codec::subscribe_len(15, true) == Ok(22)
        && buf.get(..22) == Some(&expected[..])
        && decode_packet(black_box(&suback))
            == Ok(Some((
                Packet::SubAck {
                    packet_id: 7,
                    return_codes: &[1],
                },
                5,
            )))
        && decode_packet(black_box(&refused))
            == Ok(Some((
                Packet::SubAck {
                    packet_id: 8,
                    return_codes: &[0x80],
                },
                5,
            )))
}

pub fn puback_and_connack_round_trip() -> bool {
    let mut buf = [0u8; 4];
    let n = encode_puback(&mut buf, black_box(0xBEEF));
    let connack = [0x20, 2, 1, 5];
    n == Ok(4)
        && buf == [0x40, 2, 0xBE, 0xEF]
        && decode_packet(&buf) == Ok(Some((Packet::PubAck { packet_id: 0xBEEF }, 4)))
        && decode_packet(black_box(&connack))
            == Ok(Some((
                Packet::ConnAck {
                    session_present: true,
                    return_code: 5,
                },
                4,
            )))
        && encode_puback(&mut [0u8; 3], 1) == Err(Error::BufferTooSmall)
}

pub fn malformed_packets_are_refused() -> bool {
    const CASES: &[(&[u8], Error)] = &[
        // Remaining length longer than four bytes.
        (
            &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            Error::MalformedPacket,
        ),
        // PUBACK: one byte too many, packet id 0, flags set.
        (&[0x40, 3, 0, 1, 0], Error::MalformedPacket),
        (&[0x40, 2, 0, 0], Error::MalformedPacket),
        (&[0x41, 2, 0, 1], Error::MalformedPacket),
        // PUBLISH: QoS 3, DUP on QoS 0, topic past the end, no packet id,
        // packet id 0.
        (&[0x36, 5, 0, 1, b'a', 0, 1], Error::MalformedPacket),
        (&[0x38, 3, 0, 1, b'a'], Error::MalformedPacket),
        (&[0x30, 3, 0, 5, b'a'], Error::MalformedPacket),
        (&[0x32, 3, 0, 1, b'a'], Error::MalformedPacket),
        (&[0x32, 5, 0, 1, b'a', 0, 0], Error::MalformedPacket),
        // PUBLISH: empty and non-UTF-8 topics.
        (&[0x30, 2, 0, 0], Error::InvalidTopic),
        (&[0x30, 3, 0, 1, 0xFF], Error::InvalidTopic),
        // QoS 2 and packets only a broker receives.
        (&[0x34, 5, 0, 1, b'a', 0, 1], Error::UnexpectedPacket),
        (&[0x10, 0], Error::UnexpectedPacket),
        (&[0x82, 0], Error::UnexpectedPacket),
        (&[0xE0, 0], Error::UnexpectedPacket),
        // Reserved types, SUBACK without codes, PINGRESP with a body,
        // CONNACK with reserved flags.
        (&[0x00, 0], Error::MalformedPacket),
        (&[0xF0, 0], Error::MalformedPacket),
        (&[0x90, 2, 0, 1], Error::MalformedPacket),
        (&[0xD0, 1, 0], Error::MalformedPacket),
        (&[0x20, 2, 2, 0], Error::MalformedPacket),
    ];
    CASES
        .iter()
        .all(|&(wire, error)| decode_packet(black_box(wire)) == Err(error))
}

pub fn truncated_packets_wait_for_more() -> bool {
    let wire = bytes(&[&[0x32, 9, 0, 3], b"a/b", &[0, 9], b"{}"]);
    let whole = decode_packet(&wire).is_ok_and(|p| p.is_some_and(|(_, n)| n == wire.len()));
    whole
        && (0..wire.len())
            .all(|cut| decode_packet(black_box(wire.get(..cut).unwrap_or(&[]))) == Ok(None))
}

pub fn short_buffers_are_refused() -> bool {
    let publish = Publish {
        topic: "dev-1/events",
        payload: b"0123456789",
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        packet_id: 1,
    };
    let mut buf = [0xAAu8; 64];
    let fits = encode_publish(&mut buf, &publish).unwrap_or(0);
    fits == 28
        && (0..fits).all(|len| {
            let mut short = [0u8; 28];
            let out = short.get_mut(..len).unwrap_or(&mut []);
            encode_publish(black_box(out), &publish) == Err(Error::BufferTooSmall)
        })
        && encode_subscribe(&mut [0u8; 21], 1, "dev-1/request/#", QoS::AtMostOnce)
            == Err(Error::BufferTooSmall)
}
