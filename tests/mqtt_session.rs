//! The session engine driven through a fake transport and a fake clock.

mod common;

use common::{broker, config, decode_sent, Ev, Harness, Sent, Sizes, INFLIGHT};
use nimbus::mqtt::{OpenState, QoS, State, TransportError, Will};
use nimbus::Error;

fn publish_sent(topic: &str, payload: &[u8], qos: u8, packet_id: u16, dup: bool) -> Sent {
    Sent::Publish {
        topic: topic.into(),
        payload: payload.to_vec(),
        qos,
        packet_id,
        retain: false,
        dup,
    }
}

#[test]
fn connect_carries_every_field() {
    let mut c = config();
    c.username = Some("hub.example/dev-1/?api-version=2021-04-12");
    c.password = Some(b"SharedAccessSignature sr=x&sig=y&se=1");
    c.clean_session = true;
    c.keep_alive_s = 240;
    c.will = Some(Will {
        topic: "dev-1/events",
        payload: b"offline",
        qos: QoS::AtLeastOnce,
        retain: true,
    });
    let mut h = Harness::with(c, Sizes::default());
    assert_eq!(h.session.state(), State::Stopped);
    assert_eq!(h.poll(), u64::MAX, "a stopped session never needs a poll");
    h.session.connect();
    h.poll();
    assert_eq!(h.session.state(), State::Connecting);
    assert_eq!(
        h.take_sent(),
        vec![Sent::Connect {
            client_id: "dev-1".into(),
            username: Some("hub.example/dev-1/?api-version=2021-04-12".into()),
            password: Some(b"SharedAccessSignature sr=x&sig=y&se=1".to_vec()),
            keep_alive: 240,
            clean_session: true,
            will: Some(("dev-1/events".into(), b"offline".to_vec(), 1, true)),
        }]
    );
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Connected(false)]);
    assert_eq!(h.session.state(), State::Connected);
}

#[test]
fn subscribe_publish_and_receive() {
    let mut h = Harness::connected();
    let id = h
        .session
        .subscribe("dev-1/request/#", QoS::AtLeastOnce)
        .unwrap();
    assert_eq!(h.take_sent(), vec![], "subscribe only queues");
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![Sent::Subscribe {
            packet_id: 1,
            filters: vec![("dev-1/request/#".into(), 1)]
        }]
    );
    h.feed(&broker::suback(1, 1));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Subscribed(
            id.index(),
            QoS::AtLeastOnce,
            Ok(QoS::AtLeastOnce)
        )]
    );

    assert_eq!(
        h.session
            .publish("dev-1/events", b"boot", QoS::AtMostOnce, false),
        Ok(None)
    );
    let pid = h
        .session
        .publish("dev-1/response/x", b"{}", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![
            publish_sent("dev-1/events", b"boot", 0, 0, false),
            publish_sent("dev-1/response/x", b"{}", 1, pid, false),
        ]
    );
    assert_eq!(h.session.outbox().in_flight(), 1);
    h.feed(&broker::puback(pid));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Published(pid)]);
    assert_eq!(h.session.outbox().in_flight(), 0);

    h.feed(&broker::publish(
        "dev-1/request/a",
        b"q1",
        1,
        77,
        true,
        false,
    ));
    h.feed(&broker::publish(
        "dev-1/request/b",
        b"q0",
        0,
        0,
        false,
        false,
    ));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![
            Ev::Message {
                topic: "dev-1/request/a".into(),
                payload: b"q1".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
                dup: false
            },
            Ev::Message {
                topic: "dev-1/request/b".into(),
                payload: b"q0".to_vec(),
                qos: QoS::AtMostOnce,
                retain: false,
                dup: false
            },
        ]
    );
    assert_eq!(
        h.take_sent(),
        vec![Sent::PubAck(77)],
        "only QoS 1 is acknowledged"
    );
}

#[test]
fn handler_answers_while_holding_the_incoming_message() {
    let mut h = Harness::connected();
    h.feed(&broker::publish(
        "dev-1/request/sensor/list",
        b"[1,2]",
        1,
        5,
        false,
        false,
    ));
    let mut answered = None;
    h.poll_with(|event, out| {
        if let nimbus::mqtt::Event::Message(m) = event {
            // The topic and payload still borrow the receive buffer here.
            let path = m.topic.strip_prefix("dev-1/request/").unwrap();
            let topic = format!("dev-1/response/{path}");
            answered = out
                .publish(&topic, m.payload, QoS::AtLeastOnce, false)
                .unwrap();
            out.publish(&topic, m.payload, QoS::AtMostOnce, false)
                .unwrap();
        }
    });
    let pid = answered.expect("QoS 1 answer has an id");
    assert_eq!(
        h.take_sent(),
        vec![
            Sent::PubAck(5),
            publish_sent("dev-1/response/sensor/list", b"[1,2]", 0, 0, false),
            publish_sent("dev-1/response/sensor/list", b"[1,2]", 1, pid, false),
        ]
    );
}

#[test]
fn an_incoming_qos1_publish_is_acknowledged_only_after_its_handler_returned() {
    // Azure completes a C2D message at its PUBACK: a power cut while the
    // handler runs must leave it unacknowledged, so that the hub sends it
    // again.
    let mut h = Harness::connected();
    let tap = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    h.link().tap = Some(tap.clone());
    h.feed(&broker::publish(
        "devices/d/messages/devicebound/subtopic=request.x",
        b"{}",
        1,
        9,
        false,
        false,
    ));
    let mut on_wire_during_handler = None;
    h.poll_with(|event, _| {
        if let nimbus::mqtt::Event::Message(_) = event {
            on_wire_during_handler = Some(decode_sent(&tap.borrow()));
        }
    });
    assert_eq!(on_wire_during_handler, Some(vec![]), "nothing sent yet");
    assert_eq!(h.take_sent(), vec![Sent::PubAck(9)], "then the PUBACK");
}

#[test]
fn connack_refusals_map_to_distinct_errors() {
    let cases = [
        (1, Error::RefusedProtocolVersion),
        (2, Error::RefusedIdentifier),
        (3, Error::RefusedServerUnavailable),
        (4, Error::RefusedBadCredentials),
        (5, Error::RefusedNotAuthorized),
        (6, Error::RefusedUnknown),
        (255, Error::RefusedUnknown),
    ];
    for (code, error) in cases {
        let mut h = Harness::new();
        h.session.connect();
        h.poll();
        h.feed(&broker::connack(false, code));
        h.poll();
        assert_eq!(
            h.take_events(),
            vec![Ev::Disconnected(Some(error), Some(0))],
            "code {code}"
        );
        assert_eq!(h.session.state(), State::Waiting);
        assert_eq!(h.link().closes, 1);
        assert!(!h.link().is_open);
        // It tries again after the backoff delay.
        h.poll();
        assert_eq!(h.link().opens, 2, "code {code}");
    }
}

#[test]
fn connack_timeout() {
    let mut h = Harness::new();
    h.session.connect();
    let deadline = h.poll();
    assert_eq!(deadline, 5_000, "the poll deadline is the CONNACK deadline");
    h.advance(4_999);
    h.poll();
    assert_eq!(h.take_events(), vec![]);
    h.advance(1);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::ConnackTimeout), Some(0))]
    );
    assert!(!h.link().is_open);
}

#[test]
fn opening_pending_then_timeout_and_open_errors() {
    let mut h = Harness::new();
    h.link().open_script.extend([Ok(OpenState::Pending); 10]);
    h.session.connect();
    h.poll();
    h.advance(1_000);
    h.poll();
    assert_eq!(h.link().opens, 2, "open is retried while pending");
    assert_eq!(h.take_sent(), vec![]);
    h.advance(4_000);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::ConnackTimeout), Some(0))]
    );

    let mut h = Harness::new();
    h.link().open_script.push_back(Err(TransportError::Tls));
    h.link().open_script.push_back(Err(TransportError::Failed));
    h.session.connect();
    h.poll();
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![
            Ev::Disconnected(Some(Error::TlsFailed), Some(0)),
            Ev::Disconnected(Some(Error::TransportFailed), Some(0)),
        ]
    );
}

#[test]
fn keepalive_ping_and_ping_timeout() {
    let mut h = Harness::connected();
    assert_eq!(h.next, 30_000, "next poll at the keepalive");
    h.advance(29_999);
    h.poll();
    assert_eq!(h.take_sent(), vec![]);
    h.advance(1);
    assert_eq!(h.poll(), 32_000, "next poll at the ping deadline");
    assert_eq!(h.take_sent(), vec![Sent::PingReq]);
    h.advance(500);
    h.feed(&broker::pingresp());
    h.poll();
    assert_eq!(h.next, 60_000, "keepalive counts from the last packet sent");

    h.now = 60_000;
    h.poll();
    assert_eq!(h.take_sent(), vec![Sent::PingReq]);
    h.advance(1_999);
    h.poll();
    assert!(h.session.is_connected());
    h.advance(1);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::PingTimeout), Some(0))]
    );
    assert!(!h.link().is_open);
}

#[test]
fn qos1_accepted_offline_is_sent_after_connect_and_qos0_is_refused() {
    let mut h = Harness::new();
    assert_eq!(
        h.session.publish("t/0", b"x", QoS::AtMostOnce, false),
        Err(Error::NotConnected)
    );
    let pid = h
        .session
        .publish("t/1", b"kept", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.session.connect();
    h.poll();
    assert!(
        matches!(h.take_sent()[..], [Sent::Connect { .. }]),
        "nothing before CONNACK"
    );
    assert_eq!(
        h.session.publish("t/0", b"x", QoS::AtMostOnce, false),
        Err(Error::NotConnected),
        "not connected until CONNACK"
    );
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![publish_sent("t/1", b"kept", 1, pid, false)]
    );
}

/// Connects, subscribes, leaves one QoS 1 message unacknowledged, breaks the
/// link and reconnects with the given session-present flag.
fn reconnect(session_present: bool) -> (Harness, u16) {
    let mut h = Harness::connected();
    h.session.subscribe("a/#", QoS::AtLeastOnce).unwrap();
    h.session.subscribe("b/+", QoS::AtMostOnce).unwrap();
    h.poll();
    h.feed(&broker::suback(1, 1));
    h.feed(&broker::suback(2, 0));
    let pid = h
        .session
        .publish("t/1", b"m1", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.poll();
    h.take_sent();
    h.take_events();
    // An unsent message too: accepted while the link is down.
    h.link().recv_error = Some(TransportError::Closed);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::ConnectionClosed), Some(0))]
    );
    h.session
        .publish("t/2", b"m2", QoS::AtLeastOnce, false)
        .unwrap();
    h.poll();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(session_present, 0));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Connected(session_present)]);
    (h, pid)
}

#[test]
fn resumed_session_resends_in_flight_with_dup() {
    let (mut h, pid) = reconnect(true);
    assert_eq!(
        h.take_sent(),
        vec![
            publish_sent("t/1", b"m1", 1, pid, true),
            publish_sent("t/2", b"m2", 1, pid + 1, false),
        ],
        "no SUBSCRIBE: the broker kept them"
    );
}

#[test]
fn new_session_renews_subscriptions_and_resends_as_new() {
    let (mut h, pid) = reconnect(false);
    let sent = h.take_sent();
    assert_eq!(
        sent,
        vec![
            Sent::Subscribe {
                packet_id: pid + 2,
                filters: vec![("a/#".into(), 1)]
            },
            Sent::Subscribe {
                packet_id: pid + 3,
                filters: vec![("b/+".into(), 0)]
            },
            publish_sent("t/1", b"m1", 1, pid, false),
            publish_sent("t/2", b"m2", 1, pid + 1, false),
        ]
    );
    h.feed(&broker::suback(pid + 2, 1));
    h.feed(&broker::suback(pid + 3, 0));
    h.feed(&broker::puback(pid));
    h.feed(&broker::puback(pid + 1));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![
            Ev::Subscribed(0, QoS::AtLeastOnce, Ok(QoS::AtLeastOnce)),
            Ev::Subscribed(1, QoS::AtMostOnce, Ok(QoS::AtMostOnce)),
            Ev::Published(pid),
            Ev::Published(pid + 1),
        ]
    );
}

#[test]
fn backoff_delays_follow_the_cap_and_the_random_source() {
    let mut h = Harness::new();
    h.link()
        .open_script
        .extend(std::iter::repeat_n(Err(TransportError::Failed), 7));
    set_random(
        &mut h,
        &[
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            u32::MAX,
            150,
        ],
    );
    h.session.connect();
    let mut delays = Vec::new();
    for _ in 0..7 {
        h.poll();
        match h.events.pop() {
            Some(Ev::Disconnected(Some(Error::TransportFailed), Some(d))) => delays.push(d),
            other => panic!("{other:?}"),
        }
        let d = u64::from(*delays.last().unwrap());
        if d > 0 {
            h.advance(d - 1);
            h.poll();
            assert!(h.events.is_empty(), "no attempt before the delay ends");
            h.advance(1);
        }
    }
    // u32::MAX % (cap + 1) for caps 100, 200, 400, 800, then 1000 (max).
    let expect: Vec<u32> = [100u64, 200, 400, 800, 1_000, 1_000]
        .iter()
        .map(|cap| (u64::from(u32::MAX) % (cap + 1)) as u32)
        .chain([150]) // below the cap of 1_000: taken as is
        .collect();
    assert_eq!(delays, expect);
    assert!(delays.iter().all(|&d| d <= 1_000));
    // A successful CONNACK resets the attempt count.
    h.poll();
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Connected(false)]);
    set_random(&mut h, &[u32::MAX]);
    h.link().recv_error = Some(TransportError::Closed);
    h.poll();
    let cap = 100u64;
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(
            Some(Error::ConnectionClosed),
            Some((u64::from(u32::MAX) % (cap + 1)) as u32)
        )]
    );
}

fn set_random(h: &mut Harness, values: &[u32]) {
    h.session.random_mut().values.extend(values.iter().copied());
}

#[test]
fn byte_at_a_time_both_ways() {
    let mut h = Harness::new();
    h.link().send_chunk = 1;
    h.link().recv_chunk = 1;
    h.session.connect();
    h.settle();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(false, 0));
    h.settle();
    h.session.subscribe("s/#", QoS::AtLeastOnce).unwrap();
    let pid = h
        .session
        .publish("t/1", &[7u8; 300], QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.settle();
    // The message took id 1 when accepted; the SUBSCRIBE takes the next
    // free id when it is written.
    assert_eq!(pid, 1);
    h.feed(&broker::suback(2, 1));
    h.feed(&broker::puback(pid));
    h.feed(&broker::publish("s/x", &[9u8; 200], 1, 3, false, true));
    h.settle();
    assert_eq!(
        h.take_sent(),
        vec![
            Sent::Subscribe {
                packet_id: 2,
                filters: vec![("s/#".into(), 1)]
            },
            publish_sent("t/1", &[7u8; 300], 1, pid, false),
            Sent::PubAck(3),
        ]
    );
    assert_eq!(
        h.take_events(),
        vec![
            Ev::Connected(false),
            Ev::Subscribed(0, QoS::AtLeastOnce, Ok(QoS::AtLeastOnce)),
            Ev::Published(pid),
            Ev::Message {
                topic: "s/x".into(),
                payload: vec![9u8; 200],
                qos: QoS::AtLeastOnce,
                retain: false,
                dup: true
            },
        ]
    );
}

#[test]
fn packet_split_across_polls() {
    let mut h = Harness::connected();
    let packet = broker::publish("split/topic", b"0123456789", 1, 9, false, false);
    for cut in 1..packet.len() {
        h.feed(&packet[..cut]);
        h.poll();
        assert_eq!(h.take_events(), vec![], "cut {cut}");
        h.feed(&packet[cut..]);
        h.poll();
        assert_eq!(h.take_events().len(), 1, "cut {cut}");
        assert_eq!(h.take_sent(), vec![Sent::PubAck(9)]);
    }
}

#[test]
fn would_block_keeps_order_and_loses_nothing() {
    let mut h = Harness::connected();
    h.link().send_budget = Some(0);
    let a = h
        .session
        .publish("t/a", b"A", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.session
        .publish("t/b", b"B", QoS::AtMostOnce, false)
        .unwrap();
    let c = h
        .session
        .publish("t/c", b"C", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    for budget in [0, 1, 2, 5, 3] {
        h.link().send_budget = Some(budget);
        h.poll();
    }
    h.link().send_budget = None;
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![
            publish_sent("t/b", b"B", 0, 0, false),
            publish_sent("t/a", b"A", 1, a, false),
            publish_sent("t/c", b"C", 1, c, false),
        ]
    );
}

/// Feeds `bytes` to a connected session and expects the link to end with
/// `error` and a reconnect to be scheduled.
fn expect_protocol_error(bytes: &[u8], error: Error) {
    let mut h = Harness::connected();
    h.feed(bytes);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(error), Some(0))],
        "input {bytes:02x?}"
    );
    assert!(!h.link().is_open, "link closed after {bytes:02x?}");
    assert_eq!(h.session.state(), State::Waiting);
    // And the engine recovers: reconnects and works.
    h.poll();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert!(h.session.is_connected());
}

#[test]
fn malformed_fixed_headers() {
    expect_protocol_error(&[0x41, 0x02, 0x00, 0x01], Error::MalformedPacket); // PUBACK flags
    expect_protocol_error(&[0x92, 0x03, 0x00, 0x01, 0x00], Error::MalformedPacket); // SUBACK flags
    expect_protocol_error(&[0xD1, 0x00], Error::MalformedPacket); // PINGRESP flags
    expect_protocol_error(&[0x36, 0x05, 0, 1, b'a', 0, 1], Error::MalformedPacket); // QoS 3
    expect_protocol_error(&[0x38, 0x03, 0, 1, b'a'], Error::MalformedPacket); // DUP on QoS 0
    expect_protocol_error(
        &[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
        Error::MalformedPacket,
    );
    expect_protocol_error(&[0x00, 0x00], Error::MalformedPacket); // reserved type 0
    expect_protocol_error(&[0xF0, 0x00], Error::MalformedPacket); // reserved type 15
}

#[test]
fn wrong_lengths_and_truncated_bodies() {
    expect_protocol_error(&[0x40, 0x03, 0x00, 0x01, 0x00], Error::MalformedPacket); // PUBACK len 3
    expect_protocol_error(&[0xD0, 0x01, 0x00], Error::MalformedPacket); // PINGRESP len 1
    expect_protocol_error(&[0x90, 0x02, 0x00, 0x01], Error::MalformedPacket); // SUBACK no codes
                                                                              // PUBLISH whose topic length runs past the packet.
    expect_protocol_error(
        &[0x30, 0x04, 0x00, 0x09, b'a', b'b'],
        Error::MalformedPacket,
    );
    // QoS 1 PUBLISH without room for its packet id.
    expect_protocol_error(
        &[0x32, 0x04, 0x00, 0x02, b'a', b'b'],
        Error::MalformedPacket,
    );
    // QoS 1 PUBLISH with packet id 0.
    expect_protocol_error(
        &[0x32, 0x05, 0x00, 0x01, b'a', 0, 0],
        Error::MalformedPacket,
    );
    // PUBACK with packet id 0.
    expect_protocol_error(&[0x40, 0x02, 0x00, 0x00], Error::MalformedPacket);
}

#[test]
fn unexpected_packet_types() {
    for bytes in [
        &[0x10, 0x00][..],                   // CONNECT
        &[0x82, 0x00],                       // SUBSCRIBE
        &[0xA2, 0x00],                       // UNSUBSCRIBE
        &[0xC0, 0x00],                       // PINGREQ
        &[0xE0, 0x00],                       // DISCONNECT
        &[0x50, 0x02, 0x00, 0x01],           // PUBREC
        &[0x62, 0x02, 0x00, 0x01],           // PUBREL
        &[0x70, 0x02, 0x00, 0x01],           // PUBCOMP
        &[0x20, 0x02, 0x00, 0x00],           // a second CONNACK
        &[0x34, 0x05, 0, 1, b'a', 0, 1][..], // QoS 2 PUBLISH
    ] {
        expect_protocol_error(bytes, Error::UnexpectedPacket);
    }
}

#[test]
fn nothing_but_connack_before_connack() {
    let mut h = Harness::new();
    h.session.connect();
    h.poll();
    h.feed(&broker::pingresp());
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::UnexpectedPacket), Some(0))]
    );
}

#[test]
fn bad_topics() {
    expect_protocol_error(&[0x30, 0x04, 0x00, 0x02, 0xC3, 0x28], Error::InvalidTopic); // bad UTF-8
    expect_protocol_error(&[0x30, 0x03, 0x00, 0x00, b'x'], Error::InvalidTopic);
    // empty topic
}

#[test]
fn acks_for_unknown_ids() {
    // A PUBACK for nothing stored is harmless (a late duplicate): ignored.
    let mut h = Harness::connected();
    h.feed(&broker::puback(42));
    h.poll();
    assert_eq!(h.take_events(), vec![]);
    assert!(h.session.is_connected());
    expect_protocol_error(&broker::suback(42, 0), Error::UnknownPacketId);
    expect_protocol_error(&broker::unsuback(42), Error::UnknownPacketId);
    // A second PUBACK for the same message.
    let mut h = Harness::connected();
    let pid = h
        .session
        .publish("t", b"x", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.poll();
    h.feed(&broker::puback(pid));
    h.feed(&broker::puback(pid));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Published(pid)]);
    assert!(
        h.session.is_connected(),
        "a late second PUBACK keeps the link"
    );
}

#[test]
fn peer_close_and_transport_failure() {
    let mut h = Harness::connected();
    h.link().recv_error = Some(TransportError::Failed);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::TransportFailed), Some(0))]
    );
}

#[test]
fn in_flight_table_full_is_busy_and_area_limits() {
    let mut h = Harness::with(
        config(),
        Sizes {
            inflight: 64,
            ..Sizes::default()
        },
    );
    // Larger than the whole area: never fits.
    assert_eq!(
        h.session.publish("t", &[0u8; 64], QoS::AtLeastOnce, false),
        Err(Error::PayloadTooLarge)
    );
    // 2 + 2 + 1 + 2 + 25 = 32 bytes each: two fill the area.
    let a = h
        .session
        .publish("t", &[1u8; 25], QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.session
        .publish("t", &[2u8; 25], QoS::AtLeastOnce, false)
        .unwrap();
    assert_eq!(
        h.session.publish("t", &[3u8; 1], QoS::AtLeastOnce, false),
        Err(Error::Busy),
        "area full for now"
    );
    h.connect(false);
    h.take_sent();
    h.feed(&broker::puback(a));
    h.poll();
    // The freed space is reused (after compaction).
    h.session
        .publish("t", &[3u8; 25], QoS::AtLeastOnce, false)
        .unwrap();
    assert_eq!(h.session.outbox().in_flight(), 2);

    // The entry table: INFLIGHT messages at most.
    let mut h = Harness::connected();
    for i in 0..INFLIGHT {
        h.session
            .publish("t", &[i as u8], QoS::AtLeastOnce, false)
            .unwrap();
    }
    assert_eq!(
        h.session.publish("t", b"x", QoS::AtLeastOnce, false),
        Err(Error::Busy)
    );
    assert_eq!(h.session.outbox().in_flight(), INFLIGHT);
}

#[test]
fn qos0_larger_than_tx_or_not_fitting_now() {
    let mut h = Harness::with(
        config(),
        Sizes {
            tx: 64,
            ..Sizes::default()
        },
    );
    h.connect(false);
    assert_eq!(
        h.session.publish("t", &[0u8; 64], QoS::AtMostOnce, false),
        Err(Error::PayloadTooLarge)
    );
    h.link().send_budget = Some(0);
    h.session
        .publish("t", &[0u8; 40], QoS::AtMostOnce, false)
        .unwrap();
    assert_eq!(
        h.session.publish("t", &[0u8; 40], QoS::AtMostOnce, false),
        Err(Error::Busy)
    );
}

#[test]
fn packet_ids_are_never_zero_nor_reused_while_in_flight() {
    let mut h = Harness::connected();
    let held = h
        .session
        .publish("t", b"held", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    assert_eq!(held, 1);
    h.poll();
    h.take_sent();
    let mut seen = std::collections::HashSet::new();
    // Cycle through the whole id space twice; `held` stays in flight.
    for _ in 0..(2 * 65_536 / 3) {
        let ids: Vec<u16> = (0..3)
            .map(|_| {
                h.session
                    .publish("t", b"x", QoS::AtLeastOnce, false)
                    .unwrap()
                    .unwrap()
            })
            .collect();
        for &id in &ids {
            assert_ne!(id, 0);
            assert_ne!(id, held, "an id in flight was reused");
            seen.insert(id);
        }
        assert_eq!(ids.len(), 3);
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
        h.poll();
        for id in ids {
            h.feed(&broker::puback(id));
        }
        h.poll();
        h.link().sent.clear();
        h.events.clear();
    }
    assert_eq!(seen.len(), 65_534, "every other id was used");
}

#[test]
fn qos2_is_refused_and_never_sent() {
    let mut h = Harness::connected();
    assert_eq!(
        h.session.publish("t", b"x", QoS::ExactlyOnce, false),
        Err(Error::QosNotSupported)
    );
    assert_eq!(
        h.session.subscribe("t/#", QoS::ExactlyOnce),
        Err(Error::QosNotSupported)
    );
    let mut c = config();
    c.will = Some(Will {
        topic: "w",
        payload: b"",
        qos: QoS::ExactlyOnce,
        retain: false,
    });
    let buffers = nimbus::mqtt::Buffers {
        rx: &mut [0u8; 64],
        tx: &mut [0u8; 64],
        inflight: &mut [0u8; 64],
        filters: &mut [0u8; 64],
    };
    let r = nimbus::mqtt::Session::<_, _, 2, 2>::new(
        common::FakeTransport::default(),
        common::ScriptedRandom::default(),
        c,
        buffers,
    );
    assert_eq!(r.err(), Some(Error::QosNotSupported));
    h.poll();
    assert_eq!(h.take_sent(), vec![]);
}

#[test]
fn subscription_outcomes() {
    let mut h = Harness::connected();
    let low = h.session.subscribe("low/#", QoS::AtLeastOnce).unwrap();
    let refused = h.session.subscribe("refused/#", QoS::AtMostOnce).unwrap();
    assert_eq!(
        h.session.subscribe("bad/#/x", QoS::AtMostOnce),
        Err(Error::InvalidTopic)
    );
    h.poll();
    h.take_sent();
    h.feed(&broker::suback(1, 0));
    h.feed(&broker::suback(2, 0x80));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![
            Ev::Subscribed(low.index(), QoS::AtLeastOnce, Ok(QoS::AtMostOnce)),
            Ev::Subscribed(
                refused.index(),
                QoS::AtMostOnce,
                Err(Error::SubscribeRefused)
            ),
        ]
    );
    let info = h.session.outbox().subscription(low).unwrap();
    assert_eq!(info.filter, "low/#");
    assert_eq!(
        info.granted,
        Some(QoS::AtMostOnce),
        "the lower grant is recorded"
    );
    assert!(
        h.session.outbox().subscription(refused).is_none(),
        "refused is removed"
    );

    // Unsubscribe.
    assert_eq!(h.session.unsubscribe("low/#"), Ok(low));
    assert_eq!(h.session.unsubscribe("nope"), Err(Error::InvalidArgument));
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![Sent::Unsubscribe {
            packet_id: 3,
            filters: vec!["low/#".into()]
        }]
    );
    assert_eq!(
        h.session.unsubscribe("low/#"),
        Err(Error::Busy),
        "awaiting UNSUBACK"
    );
    h.feed(&broker::unsuback(3));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Unsubscribed(low.index())]);
    assert!(h.session.outbox().subscription(low).is_none());
}

#[test]
fn subscription_table_full() {
    let mut h = Harness::connected();
    for i in 0..common::SUBS {
        h.session
            .subscribe(&format!("f/{i}"), QoS::AtMostOnce)
            .unwrap();
    }
    assert_eq!(
        h.session.subscribe("f/x", QoS::AtMostOnce),
        Err(Error::Busy)
    );
    // Re-subscribing a stored filter is not a new entry.
    h.session.subscribe("f/0", QoS::AtLeastOnce).unwrap();
}

#[test]
fn graceful_disconnect() {
    let mut h = Harness::connected();
    let pid = h
        .session
        .publish("t", b"x", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.session.disconnect(h.now);
    assert_eq!(h.session.state(), State::Disconnecting);
    h.link().send_chunk = 1;
    h.settle();
    assert_eq!(
        h.take_sent(),
        vec![Sent::Disconnect],
        "no new publish after DISCONNECT"
    );
    assert_eq!(h.take_events(), vec![Ev::Disconnected(None, None)]);
    assert_eq!(h.session.state(), State::Stopped);
    assert!(!h.link().is_open);
    h.advance(1_000_000);
    h.poll();
    assert_eq!(
        h.link().opens,
        1,
        "no reconnect after a requested disconnect"
    );
    // The stored message survives for a later connect.
    h.session.connect();
    h.poll();
    h.take_sent();
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert_eq!(h.take_sent(), vec![publish_sent("t", b"x", 1, pid, false)]);
}

#[test]
fn incoming_qos1_waits_for_room_to_acknowledge() {
    let mut h = Harness::with(
        config(),
        Sizes {
            tx: 40,
            ..Sizes::default()
        },
    );
    h.connect(false);
    h.link().send_budget = Some(0);
    h.session
        .publish("t", &[0u8; 33], QoS::AtMostOnce, false)
        .unwrap(); // 38 bytes
    h.feed(&broker::publish("in/1", b"a", 1, 1, false, false));
    h.feed(&broker::publish("in/2", b"b", 1, 2, false, false));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![],
        "no room for a PUBACK: the message waits"
    );
    h.link().send_budget = None;
    h.settle();
    let events = h.take_events();
    assert_eq!(events.len(), 2, "{events:?}");
    let sent = h.take_sent();
    assert_eq!(&sent[1..], &[Sent::PubAck(1), Sent::PubAck(2)]);
}

#[test]
fn many_packets_in_one_read_are_all_handled() {
    let mut h = Harness::connected();
    for i in 0..40u16 {
        h.feed(&broker::publish(
            "m",
            &i.to_be_bytes(),
            1,
            i + 1,
            false,
            false,
        ));
    }
    let next = h.poll();
    assert_eq!(next, h.now, "more packets wait: poll again now");
    h.settle();
    let events = h.take_events();
    assert_eq!(events.len(), 40);
    assert_eq!(h.take_sent().len(), 40);
}

#[test]
fn session_size() {
    use core::mem::size_of;
    let size = size_of::<nimbus::mqtt::Session<'static, (), (), 8, 8>>();
    println!("Session<'_, (), (), 8, 8> is {size} bytes on this target");
    // Documented in the module docs: 736 bytes on a 64-bit host.
    if cfg!(target_pointer_width = "64") {
        assert_eq!(size, 736);
    }
}

#[test]
fn packets_straddling_the_end_of_a_small_rx_buffer_arrive_intact() {
    let mut h = Harness::with(
        config(),
        Sizes {
            rx: 64,
            ..Sizes::default()
        },
    );
    h.connect(false);
    let mut expected = Vec::new();
    for i in 0..60u8 {
        let topic = format!("t/{}", "x".repeat(usize::from(i % 9)));
        let payload = vec![i; usize::from(i) % 50];
        h.feed(&broker::publish(
            &topic,
            &payload,
            i % 2,
            u16::from(i) + 1,
            false,
            false,
        ));
        expected.push((topic, payload));
    }
    for chunk in [7, 1, 13, 64, 3] {
        h.link().recv_chunk = chunk;
        for _ in 0..20 {
            h.poll();
        }
    }
    h.link().recv_chunk = usize::MAX;
    h.settle();
    let got: Vec<(String, Vec<u8>)> = h
        .take_events()
        .into_iter()
        .map(|e| match e {
            Ev::Message { topic, payload, .. } => (topic, payload),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn a_renewed_password_goes_out_with_the_next_connect() {
    let mut c = config();
    c.username = Some("hub/dev-1/?api-version=2021-04-12");
    c.password = Some(b"first");
    let mut h = Harness::with(c, Sizes::default());
    assert_eq!(
        h.session.set_password(b"x"),
        Err(Error::BufferTooSmall),
        "no storage given yet"
    );
    h.session
        .set_password_storage(Box::leak(vec![0u8; 16].into_boxed_slice()));
    assert_eq!(
        h.session.set_password(&[b'p'; 17]),
        Err(Error::BufferTooSmall)
    );
    h.session.set_password(b"second").unwrap();
    h.session.connect();
    h.poll();
    let password_sent = |h: &mut Harness| match h.take_sent().pop() {
        Some(Sent::Connect { password, .. }) => password,
        other => panic!("expected a CONNECT, got {other:?}"),
    };
    assert_eq!(password_sent(&mut h), Some(b"second".to_vec()));
    h.feed(&broker::connack(false, 0));
    h.poll();
    h.take_events();

    // Renewal: a new token, then a clean reconnect carries it.
    h.session.set_password(b"third").unwrap();
    h.session.disconnect(h.now);
    h.poll();
    h.take_sent();
    h.session.connect();
    h.poll();
    h.poll();
    assert_eq!(password_sent(&mut h), Some(b"third".to_vec()));
}

#[test]
fn a_password_needs_a_user_name() {
    let mut h = Harness::new();
    h.session
        .set_password_storage(Box::leak(vec![0u8; 16].into_boxed_slice()));
    assert_eq!(h.session.set_password(b"pw"), Err(Error::InvalidArgument));
}

// --- hardening: dead links, late acknowledgements, oversized packets,
// backoff that survives connect-then-drop, timers that never spin ---

/// Publishes one QoS 1 message on a connected harness and writes it.
fn one_in_flight(h: &mut Harness) -> u16 {
    let pid = h
        .session
        .publish("t/1", b"data", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![publish_sent("t/1", b"data", 1, pid, false)]
    );
    pid
}

#[test]
fn an_ack_timeout_probes_the_link_and_never_resends_on_it() {
    let mut h = Harness::connected();
    let pid = one_in_flight(&mut h);
    assert_eq!(h.next, 3_000, "next poll at the ack timeout");
    h.advance(3_000);
    h.poll();
    assert_eq!(h.take_sent(), vec![Sent::PingReq], "a probe, not a resend");
    assert_eq!(h.next, 5_000, "the probe's deadline");
    // The broker answers the probe: the link is kept, nothing is resent.
    h.feed(&broker::pingresp());
    h.advance(100);
    h.poll();
    assert!(h.session.is_connected());
    assert_eq!(h.take_sent(), vec![]);
    assert_eq!(h.next, 6_000, "the ack wait starts again from the probe");
    // The PUBACK comes late: delivered, and the link stays up.
    h.feed(&broker::puback(pid));
    h.poll();
    assert_eq!(h.take_events(), vec![Ev::Published(pid)]);
    h.advance(10_000);
    h.poll();
    assert!(!h
        .take_sent()
        .iter()
        .any(|p| matches!(p, Sent::Publish { .. })));
}

#[test]
fn an_unanswered_probe_ends_the_link_and_the_message_is_resent_after_reconnect() {
    let mut h = Harness::connected();
    let pid = one_in_flight(&mut h);
    h.advance(3_000);
    h.poll();
    assert_eq!(h.take_sent(), vec![Sent::PingReq]);
    h.advance(1_999);
    h.poll();
    assert!(h.session.is_connected());
    h.advance(1);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::PingTimeout), Some(0))]
    );
    // Reconnect onto the resumed session: the message goes out with DUP,
    // once; a late PUBACK for it then and a second one are both harmless.
    h.poll();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(true, 0));
    h.poll();
    assert_eq!(
        h.take_sent(),
        vec![publish_sent("t/1", b"data", 1, pid, true)]
    );
    h.feed(&broker::puback(pid));
    h.feed(&broker::puback(pid));
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Connected(true), Ev::Published(pid)]
    );
    assert!(h.session.is_connected());
}

#[test]
fn puback_during_a_partial_resend_does_not_cut_the_packet() {
    let mut h = Harness::connected();
    let pid = h
        .session
        .publish("t/1", b"payload", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    h.poll();
    h.take_sent();
    h.link().recv_error = Some(TransportError::Closed);
    h.poll();
    h.take_events();
    h.poll();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(true, 0));
    h.link().send_budget = Some(3);
    h.poll();
    assert_eq!(h.link().sent.len(), 3, "the resend, partly written");
    h.feed(&broker::puback(pid));
    h.poll();
    assert!(h.take_events().contains(&Ev::Published(pid)));
    h.link().send_budget = None;
    h.poll();
    let sent = h.take_sent();
    assert_eq!(
        sent.last(),
        Some(&publish_sent("t/1", b"payload", 1, pid, true)),
        "{sent:?}"
    );
    assert_eq!(h.session.outbox().in_flight(), 0);
}

#[test]
fn keepalive_counts_only_what_comes_back() {
    // The device keeps sending (QoS 0), the broker says nothing: a PINGREQ
    // is still due keepalive after the last byte received.
    let mut c = config();
    c.ack_timeout_ms = 0;
    let mut h = Harness::with(c, Sizes::default());
    h.connect(false);
    for _ in 0..29 {
        h.advance(1_000);
        h.session
            .publish("t/0", b"x", QoS::AtMostOnce, false)
            .unwrap();
        h.poll();
    }
    assert!(!h.take_sent().contains(&Sent::PingReq));
    h.advance(1_000);
    h.poll();
    assert_eq!(h.take_sent(), vec![Sent::PingReq], "30 s after the CONNACK");
    h.advance(2_000);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::PingTimeout), Some(0))],
        "found dead within keepalive + ping timeout"
    );
}

#[test]
fn a_transmit_queue_that_cannot_drain_ends_the_link_and_poll_never_spins() {
    // The peer stops reading: QoS 0 fills the transmit queue, the due
    // PINGREQ cannot even be queued, and the link is still declared dead.
    let mut h = Harness::connected();
    h.link().send_budget = Some(0);
    while h
        .session
        .publish("t/0", &[0u8; 16], QoS::AtMostOnce, false)
        .is_ok()
    {}
    let mut polls = 0;
    while h.session.is_connected() {
        let next = h.poll();
        if h.session.is_connected() {
            assert!(next > h.now, "poll asked to run again at once at {}", h.now);
        }
        polls += 1;
        assert!(polls < 100, "never declared dead");
        h.now = next;
    }
    assert_eq!(h.now, 32_000, "keepalive 30 s + ping timeout 2 s");
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::PingTimeout), Some(0))]
    );
}

#[test]
fn zero_timers_are_refused() {
    type Change = fn(&mut nimbus::mqtt::Config<'static>);
    let changes: [Change; 4] = [
        |c| c.connect_timeout_ms = 0,
        |c| c.ping_timeout_ms = 0,
        |c| c.backoff.base_ms = 0,
        |c| c.backoff.max_ms = c.backoff.base_ms - 1,
    ];
    for change in changes {
        let mut c = config();
        change(&mut c);
        let buffers = nimbus::mqtt::Buffers {
            rx: Box::leak(vec![0u8; 64].into_boxed_slice()),
            tx: Box::leak(vec![0u8; 64].into_boxed_slice()),
            inflight: &mut [],
            filters: &mut [],
        };
        let made = nimbus::mqtt::Session::<_, _, 1, 1>::new(
            common::FakeTransport::default(),
            common::ScriptedRandom::default(),
            c,
            buffers,
        );
        assert_eq!(made.err(), Some(Error::InvalidArgument), "{c:?}");
        // The same settings made later through `config_mut` fail each
        // attempt instead of spinning.
        let mut h = Harness::new();
        change(h.session.config_mut());
        h.session.connect();
        h.poll();
        assert_eq!(
            h.take_events(),
            vec![Ev::Disconnected(Some(Error::InvalidArgument), Some(0))]
        );
        assert!(h.next > h.now || h.session.state() == State::Waiting);
    }
}

#[test]
fn backoff_resets_only_after_a_stable_connection() {
    let mut c = config();
    c.backoff.stable_ms = 10_000;
    let mut h = Harness::with(c, Sizes::default());
    // Every delay at its cap.
    h.session.random_mut().values = [100, 200, 400, 800, 100].into();
    h.connect(false);
    // Accepted, then dropped at once, four times: the caps keep growing
    // (100, 200, 400, 800), and the third early drop is reported.
    let mut delays = Vec::new();
    for _ in 0..4 {
        h.link().recv_error = Some(TransportError::Closed);
        h.poll();
        let events = h.take_events();
        let Some(Ev::Disconnected(Some(Error::ConnectionClosed), Some(d))) = events.first() else {
            panic!("{events:?}");
        };
        delays.push(*d);
        if delays.len() == 3 {
            assert_eq!(events[1..], [Ev::Unstable(3)]);
        } else {
            assert_eq!(events.len(), 1, "{events:?}");
        }
        h.advance(u64::from(*d));
        h.poll();
        h.take_sent();
        h.feed(&broker::connack(false, 0));
        h.poll();
        h.take_events();
        h.take_sent();
    }
    assert_eq!(delays, [100, 200, 400, 800]);
    // Up for the stability window: the next drop starts again at the base.
    h.advance(10_000);
    h.feed(&broker::pingresp());
    h.poll();
    h.link().recv_error = Some(TransportError::Closed);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::ConnectionClosed), Some(100))]
    );
}

#[test]
fn connects_are_never_closer_than_the_floor() {
    let mut c = config();
    c.backoff.min_interval_ms = 1_000;
    let mut h = Harness::with(c, Sizes::default());
    // Every attempt is refused at once and the drawn delay is 0.
    h.session.connect();
    let mut attempts = Vec::new();
    for _ in 0..5 {
        h.link().open_script.push_back(Err(TransportError::Failed));
    }
    while attempts.len() < 5 {
        let before = h.link().opens;
        let next = h.poll();
        if h.link().opens > before {
            attempts.push(h.now);
        }
        assert!(next > h.now, "no spin");
        h.now = next;
    }
    let gaps: Vec<u64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, [1_000; 4], "{attempts:?}");
    // A stop and a new `connect` right after do not bypass it either.
    let last = *attempts.last().unwrap();
    h.now = last + 500;
    h.session.disconnect(h.now);
    h.session.connect();
    h.poll();
    assert_eq!(h.link().opens, 5);
    h.now = last + 1_000;
    h.poll();
    assert_eq!(h.link().opens, 6);
}

/// The cloud counts CONNECTs (AWS: 1 per second per client id), not
/// attempts: a slow handshake followed by a quick one must not bring two
/// CONNECTs closer than the floor.
#[test]
fn connects_are_a_floor_apart_however_long_each_handshake_takes() {
    let mut c = config();
    c.backoff.min_interval_ms = 1_000;
    let mut h = Harness::with(c, Sizes::default());
    // The first handshake takes 300 ms, the next ones none.
    h.link().open_script.push_back(Ok(OpenState::Pending));
    h.session.connect();
    let mut connects = Vec::new();
    for _ in 0..1_000 {
        let next = h.poll();
        let sent = h.take_sent();
        h.now = if sent.iter().any(|p| matches!(p, Sent::Connect { .. })) {
            connects.push(h.now);
            // The link closes 1 ms later, before any CONNACK.
            h.link().recv_error = Some(TransportError::Closed);
            h.now + 1
        } else if connects.is_empty() {
            h.now + 300
        } else {
            next.max(h.now + 1)
        };
        if connects.len() == 3 {
            break;
        }
    }
    assert_eq!(connects.len(), 3);
    assert_eq!(
        connects[0], 300,
        "the first CONNECT once its handshake is done"
    );
    let gaps: Vec<u64> = connects.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.iter().all(|&g| g >= 1_000), "{connects:?}");
}

fn small_rx() -> Harness {
    let mut h = Harness::with(
        config(),
        Sizes {
            rx: 64,
            ..Sizes::default()
        },
    );
    h.connect(false);
    h
}

#[test]
fn an_oversized_publish_is_skipped_and_the_next_one_delivered() {
    for chunk in [usize::MAX, 7, 1] {
        let mut h = small_rx();
        h.link().recv_chunk = chunk;
        h.feed(&broker::publish("t", &[0u8; 60], 0, 0, false, false));
        h.feed(&broker::publish("t/next", b"ok", 0, 0, false, false));
        for _ in 0..200 {
            h.poll();
        }
        let events = h.take_events();
        assert_eq!(
            events[0],
            Ev::Oversized {
                topic: Some("t".into()),
                packet_id: None,
                len: 65
            },
            "chunk {chunk}"
        );
        assert!(
            matches!(&events[1..], [Ev::Message { topic, payload, .. }] if topic == "t/next" && payload == b"ok"),
            "{events:?}"
        );
        assert!(h.session.is_connected());
        assert_eq!(h.take_sent(), vec![]);
    }
    // Just fitting is still a message: 2 + 2 + 1 + 59 = 64 bytes.
    let mut h = small_rx();
    h.feed(&broker::publish("t", &[1u8; 59], 0, 0, false, false));
    h.poll();
    assert!(matches!(h.take_events()[..], [Ev::Message { .. }]));
}

#[test]
fn an_oversized_qos1_publish_is_acknowledged_after_its_last_byte() {
    let mut h = small_rx();
    h.link().recv_chunk = 10;
    let packet = broker::publish("dev-1/request/x", &[7u8; 5_000], 1, 77, false, false);
    h.feed(&packet[..40]);
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Oversized {
            topic: Some("dev-1/request/x".into()),
            packet_id: Some(77),
            len: packet.len()
        }]
    );
    assert_eq!(h.take_sent(), vec![], "no PUBACK before the last byte");
    h.feed(&packet[40..]);
    for _ in 0..1_000 {
        h.poll();
    }
    assert_eq!(h.take_sent(), vec![Sent::PubAck(77)]);
    assert!(h.session.is_connected());
}

#[test]
fn an_oversized_publish_whose_topic_does_not_fit_is_still_acknowledged() {
    let mut h = small_rx();
    let topic = "t/".to_string() + &"x".repeat(200);
    let packet = broker::publish(&topic, b"body", 1, 0x1234, false, false);
    for cut in [1, 63, 64, 65, 203, 204, 205, 206] {
        let mut h2 = small_rx();
        h2.feed(&packet[..cut]);
        h2.poll();
        h2.feed(&packet[cut..]);
        h2.poll();
        h2.poll();
        assert_eq!(
            h2.take_events(),
            vec![Ev::Oversized {
                topic: None,
                packet_id: Some(0x1234),
                len: packet.len()
            }],
            "cut at {cut}"
        );
        assert_eq!(h2.take_sent(), vec![Sent::PubAck(0x1234)], "cut at {cut}");
    }
    // One byte at a time, then a normal message.
    h.link().recv_chunk = 1;
    h.feed(&packet);
    h.feed(&broker::publish("t", b"next", 0, 0, false, false));
    for _ in 0..2_000 {
        h.poll();
    }
    let events = h.take_events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(h.take_sent(), vec![Sent::PubAck(0x1234)]);
}

#[test]
fn oversized_packets_other_than_publish_and_bad_oversized_publishes_are_fatal() {
    // A SUBACK claiming 100 return codes.
    let mut suback = vec![0x90, 102, 0, 1];
    suback.extend([0u8; 100]);
    for (bytes, error) in [
        (suback, Error::PacketTooLarge),
        // An oversized QoS 2 PUBLISH, and one whose topic has a wildcard.
        (
            broker::publish("t", &[0u8; 100], 2, 5, false, false),
            Error::UnexpectedPacket,
        ),
        (
            broker::publish("t/#", &[0u8; 100], 0, 0, false, false),
            Error::InvalidTopic,
        ),
    ] {
        let mut h = small_rx();
        h.feed(&bytes);
        h.poll();
        assert_eq!(
            h.take_events(),
            vec![Ev::Disconnected(Some(error), Some(0))]
        );
    }
}

#[test]
fn topic_names_with_nul_or_wildcards_are_refused() {
    for topic in ["a/+", "#", "a\u{0}b", "+/x"] {
        let mut h = Harness::connected();
        h.feed(&broker::publish(topic, b"x", 0, 0, false, false));
        h.poll();
        assert_eq!(
            h.take_events(),
            vec![Ev::Disconnected(Some(Error::InvalidTopic), Some(0))],
            "{topic:?}"
        );
    }
}

#[test]
fn a_requested_disconnect_is_no_early_drop() {
    let mut c = config();
    c.backoff.stable_ms = 10_000;
    let mut h = Harness::with(c, Sizes::default());
    // Up, then closed by the application at once (a SAS renewal does
    // this), then an attempt that fails before its CONNACK: not an early
    // drop, so two real early drops after it are not yet "unstable".
    h.connect(false);
    h.advance(10);
    h.session.disconnect(h.now);
    h.settle();
    h.link().open_script.push_back(Err(TransportError::Failed));
    h.session.connect();
    h.poll();
    for _ in 0..2 {
        h.advance(5_000);
        h.poll();
        h.feed(&broker::connack(false, 0));
        h.poll();
        assert!(h.session.is_connected());
        h.link().recv_error = Some(TransportError::Closed);
        h.poll();
    }
    let events = h.take_events();
    assert!(
        !events.iter().any(|e| matches!(e, Ev::Unstable(_))),
        "{events:?}"
    );
    // The third real one is.
    h.advance(5_000);
    h.poll();
    h.feed(&broker::connack(false, 0));
    h.poll();
    h.link().recv_error = Some(TransportError::Closed);
    h.poll();
    assert!(h.take_events().contains(&Ev::Unstable(3)));
}

#[test]
fn network_up_tries_at_once_and_probes_a_connected_link() {
    let mut c = config();
    c.backoff.min_interval_ms = 1_000;
    c.backoff.base_ms = 60_000;
    c.backoff.max_ms = 60_000;
    let mut h = Harness::with(c, Sizes::default());
    h.session.random_mut().last = 60_000;
    h.link().open_script.push_back(Err(TransportError::Failed));
    h.session.connect();
    h.poll();
    assert_eq!(
        h.take_events(),
        vec![Ev::Disconnected(Some(Error::TransportFailed), Some(60_000))]
    );
    // The network comes back 300 ms later: the next attempt is due at the
    // CONNECT floor (1 s after the last one), not in a minute.
    h.advance(300);
    h.session.outbox().network_up(h.now);
    assert_eq!(h.poll(), 1_000);
    h.now = 1_000;
    h.poll();
    assert!(matches!(h.take_sent()[..], [Sent::Connect { .. }]));
    h.feed(&broker::connack(false, 0));
    h.poll();
    assert!(h.session.is_connected());
    // Connected: the link is probed, and found dead without an answer.
    h.session.outbox().network_up(h.now);
    h.poll();
    assert_eq!(h.take_sent(), vec![Sent::PingReq]);
    h.advance(2_000);
    h.poll();
    assert!(h
        .take_events()
        .contains(&Ev::Disconnected(Some(Error::PingTimeout), Some(60_000))));
}
