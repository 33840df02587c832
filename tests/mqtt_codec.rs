//! The hand-written codec against mqttrs, an independent implementation:
//! what one encodes the other must decode to the same fields.

use nimbus::mqtt::codec::{self, Connect, Packet, Publish, QoS, Will};
use nimbus::Error;

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    /// A valid topic name: ASCII and some multi-byte characters, no wildcards.
    fn topic(&mut self, max_chars: usize) -> String {
        const PARTS: [&str; 8] = ["a", "dev-1", "/", "é", "温度", "$aws", "_", "🌡"];
        let n = 1 + self.below(max_chars);
        (0..n).map(|_| PARTS[self.below(PARTS.len())]).collect()
    }
}

const PAYLOAD_SIZES: [usize; 10] = [0, 1, 2, 64, 120, 127, 128, 16_383, 16_384, 70_000];

fn mqttrs_qos(q: QoS) -> mqttrs::QoS {
    match q {
        QoS::AtMostOnce => mqttrs::QoS::AtMostOnce,
        QoS::AtLeastOnce => mqttrs::QoS::AtLeastOnce,
        QoS::ExactlyOnce => mqttrs::QoS::ExactlyOnce,
    }
}

#[test]
fn publish_encoded_here_decodes_identically_in_mqttrs() {
    let mut rng = Rng(0x1234_5678);
    let mut buf = vec![0u8; 2_200_000];
    let mut sizes = PAYLOAD_SIZES.to_vec();
    sizes.push(2_097_152); // a four-byte remaining length
    for case in 0..400 {
        let topic = rng.topic(40);
        let payload = rng.bytes(sizes[case % sizes.len()]);
        let qos = if rng.bool() {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };
        let p = Publish {
            topic: &topic,
            payload: &payload,
            qos,
            retain: rng.bool(),
            dup: qos == QoS::AtLeastOnce && rng.bool(),
            packet_id: if qos == QoS::AtLeastOnce {
                1 + rng.below(65_535) as u16
            } else {
                0
            },
        };
        let n = codec::encode_publish(&mut buf, &p).unwrap();
        assert_eq!(codec::publish_len(topic.len(), payload.len(), qos), Ok(n));
        let Some(mqttrs::Packet::Publish(theirs)) = mqttrs::decode_slice(&buf[..n]).unwrap() else {
            panic!("case {case}: not a publish");
        };
        assert_eq!(theirs.topic_name, p.topic);
        assert_eq!(theirs.payload, p.payload);
        assert_eq!(theirs.retain, p.retain);
        assert_eq!(theirs.dup, p.dup);
        assert_eq!(theirs.qospid.qos(), mqttrs_qos(qos));
        assert_eq!(theirs.qospid.pid().map_or(0, |p| p.get()), p.packet_id);
        // And back through our own decoder.
        assert_eq!(
            codec::decode_packet(&buf[..n]),
            Ok(Some((Packet::Publish(p), n)))
        );
    }
}

#[test]
fn publish_encoded_by_mqttrs_decodes_identically_here() {
    let mut rng = Rng(0xDEAD_BEEF);
    let mut buf = vec![0u8; 100_000];
    for case in 0..400 {
        let topic = rng.topic(40);
        let payload = rng.bytes(PAYLOAD_SIZES[case % PAYLOAD_SIZES.len()]);
        let pid = 1 + rng.below(65_535) as u16;
        let qospid = if rng.bool() {
            mqttrs::QosPid::AtLeastOnce(mqttrs::Pid::try_from(pid).unwrap())
        } else {
            mqttrs::QosPid::AtMostOnce
        };
        let retain = rng.bool();
        let dup = qospid != mqttrs::QosPid::AtMostOnce && rng.bool();
        let theirs = mqttrs::Packet::Publish(mqttrs::Publish {
            dup,
            qospid,
            retain,
            topic_name: &topic,
            payload: &payload,
        });
        let n = mqttrs::encode_slice(&theirs, &mut buf).unwrap();
        let (packet, used) = codec::decode_packet(&buf[..n]).unwrap().unwrap();
        assert_eq!(used, n);
        let Packet::Publish(ours) = packet else {
            panic!("not a publish")
        };
        assert_eq!(ours.topic, topic);
        assert_eq!(ours.payload, &payload[..]);
        assert_eq!(ours.retain, retain);
        assert_eq!(ours.dup, dup);
        assert_eq!(mqttrs_qos(ours.qos), qospid.qos());
        assert_eq!(ours.packet_id, qospid.pid().map_or(0, |p| p.get()));
    }
}

#[test]
fn acks_encoded_by_mqttrs_decode_here() {
    let mut buf = [0u8; 64];
    let pid = |n| mqttrs::Pid::try_from(n).unwrap();
    let cases: Vec<(mqttrs::Packet<'_>, Packet<'_>)> = vec![
        (
            mqttrs::Packet::Connack(mqttrs::Connack {
                session_present: true,
                code: mqttrs::ConnectReturnCode::Accepted,
            }),
            Packet::ConnAck {
                session_present: true,
                return_code: 0,
            },
        ),
        (
            mqttrs::Packet::Connack(mqttrs::Connack {
                session_present: false,
                code: mqttrs::ConnectReturnCode::NotAuthorized,
            }),
            Packet::ConnAck {
                session_present: false,
                return_code: 5,
            },
        ),
        (
            mqttrs::Packet::Puback(pid(65_535)),
            Packet::PubAck { packet_id: 65_535 },
        ),
        (
            mqttrs::Packet::Unsuback(pid(7)),
            Packet::UnsubAck { packet_id: 7 },
        ),
        (mqttrs::Packet::Pingresp, Packet::PingResp),
        (
            mqttrs::Packet::Suback(mqttrs::Suback {
                pid: pid(300),
                return_codes: [
                    mqttrs::SubscribeReturnCodes::Success(mqttrs::QoS::AtLeastOnce),
                    mqttrs::SubscribeReturnCodes::Failure,
                ]
                .into_iter()
                .collect(),
            }),
            Packet::SubAck {
                packet_id: 300,
                return_codes: &[1, 0x80],
            },
        ),
    ];
    for (theirs, ours) in cases {
        let n = mqttrs::encode_slice(&theirs, &mut buf).unwrap();
        assert_eq!(
            codec::decode_packet(&buf[..n]),
            Ok(Some((ours, n))),
            "{theirs:?}"
        );
    }
}

#[test]
fn connect_encoded_here_decodes_identically_in_mqttrs() {
    let mut rng = Rng(42);
    let mut buf = vec![0u8; 4096];
    for _ in 0..300 {
        let client_id = rng.topic(20);
        let user = rng.topic(30);
        let pass_len = rng.below(300);
        let pass = rng.bytes(pass_len);
        let will_topic = rng.topic(20);
        let will_len = rng.below(200);
        let will_payload = rng.bytes(will_len);
        let username = rng.bool().then_some(user.as_str());
        let c = Connect {
            client_id: &client_id,
            username,
            password: if username.is_some() && rng.bool() {
                Some(&pass)
            } else {
                None
            },
            keep_alive_s: rng.next() as u16,
            clean_session: rng.bool(),
            will: rng.bool().then(|| Will {
                topic: &will_topic,
                payload: &will_payload,
                qos: if rng.bool() {
                    QoS::AtLeastOnce
                } else {
                    QoS::AtMostOnce
                },
                retain: rng.bool(),
            }),
        };
        let n = codec::encode_connect(&mut buf, &c).unwrap();
        assert_eq!(codec::connect_len(&c), Ok(n));
        let Some(mqttrs::Packet::Connect(theirs)) = mqttrs::decode_slice(&buf[..n]).unwrap() else {
            panic!("not a connect")
        };
        assert_eq!(theirs.protocol, mqttrs::Protocol::MQTT311);
        assert_eq!(theirs.client_id, c.client_id);
        assert_eq!(theirs.username, c.username);
        assert_eq!(theirs.password, c.password);
        assert_eq!(theirs.keep_alive, c.keep_alive_s);
        assert_eq!(theirs.clean_session, c.clean_session);
        match (theirs.last_will, c.will) {
            (None, None) => {}
            (Some(t), Some(o)) => {
                assert_eq!(t.topic, o.topic);
                assert_eq!(t.message, o.payload);
                assert_eq!(t.qos, mqttrs_qos(o.qos));
                assert_eq!(t.retain, o.retain);
            }
            other => panic!("will mismatch: {other:?}"),
        }
    }
}

#[test]
fn connect_refuses_what_mqtt_cannot_express() {
    let mut buf = [0u8; 256];
    let base = Connect {
        client_id: "c",
        username: None,
        password: Some(b"p"),
        keep_alive_s: 0,
        clean_session: true,
        will: None,
    };
    assert_eq!(
        codec::encode_connect(&mut buf, &base),
        Err(Error::InvalidArgument)
    );
    let will = |qos, topic| Connect {
        password: None,
        will: Some(Will {
            topic,
            payload: b"",
            qos,
            retain: false,
        }),
        ..base
    };
    assert_eq!(
        codec::encode_connect(&mut buf, &will(QoS::ExactlyOnce, "w")),
        Err(Error::QosNotSupported)
    );
    assert_eq!(
        codec::encode_connect(&mut buf, &will(QoS::AtMostOnce, "")),
        Err(Error::InvalidTopic)
    );
}

#[test]
fn control_packets_encoded_here_decode_in_mqttrs() {
    let mut buf = vec![0u8; 70_000];
    let mut rng = Rng(7);
    for _ in 0..100 {
        let filter = rng.topic(30) + "/#";
        let pid = 1 + rng.below(65_535) as u16;
        let qos = if rng.bool() {
            QoS::AtLeastOnce
        } else {
            QoS::AtMostOnce
        };

        let n = codec::encode_subscribe(&mut buf, pid, &filter, qos).unwrap();
        assert_eq!(codec::subscribe_len(filter.len(), true), Ok(n));
        let Some(mqttrs::Packet::Subscribe(s)) = mqttrs::decode_slice(&buf[..n]).unwrap() else {
            panic!("not a subscribe")
        };
        assert_eq!(s.pid.get(), pid);
        assert_eq!(s.topics.len(), 1);
        assert_eq!(s.topics[0].topic_path.as_str(), filter);
        assert_eq!(s.topics[0].qos, mqttrs_qos(qos));

        let n = codec::encode_unsubscribe(&mut buf, pid, &filter).unwrap();
        assert_eq!(codec::subscribe_len(filter.len(), false), Ok(n));
        let Some(mqttrs::Packet::Unsubscribe(u)) = mqttrs::decode_slice(&buf[..n]).unwrap() else {
            panic!("not an unsubscribe")
        };
        assert_eq!(u.pid.get(), pid);
        assert_eq!(u.topics[0].as_str(), filter);

        let n = codec::encode_puback(&mut buf, pid).unwrap();
        assert_eq!(
            mqttrs::decode_slice(&buf[..n]).unwrap(),
            Some(mqttrs::Packet::Puback(mqttrs::Pid::try_from(pid).unwrap()))
        );
    }
    assert_eq!(
        mqttrs::decode_slice(&codec::PINGREQ).unwrap(),
        Some(mqttrs::Packet::Pingreq)
    );
    assert_eq!(
        mqttrs::decode_slice(&codec::DISCONNECT).unwrap(),
        Some(mqttrs::Packet::Disconnect)
    );
}

#[test]
fn short_buffers_are_refused_not_overrun() {
    let payload = [0xAB; 200];
    let p = Publish {
        topic: "a/b",
        payload: &payload,
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        packet_id: 9,
    };
    let mut buf = [0u8; 300];
    let full = codec::encode_publish(&mut buf, &p).unwrap();
    for len in 0..full {
        let mut small = vec![0u8; len];
        assert_eq!(
            codec::encode_publish(&mut small, &p),
            Err(Error::BufferTooSmall),
            "len {len}"
        );
        assert_eq!(
            codec::encode_subscribe(&mut small[..len.min(8)], 1, "a/b/c/d", QoS::AtMostOnce),
            Err(Error::BufferTooSmall)
        );
    }
    let c = Connect {
        client_id: "client",
        username: Some("user"),
        password: Some(b"secret"),
        keep_alive_s: 60,
        clean_session: false,
        will: None,
    };
    let full = codec::connect_len(&c).unwrap();
    for len in 0..full {
        assert_eq!(
            codec::encode_connect(&mut buf[..len], &c),
            Err(Error::BufferTooSmall)
        );
    }
    assert_eq!(
        codec::encode_puback(&mut buf[..3], 1),
        Err(Error::BufferTooSmall)
    );
}

#[test]
fn size_limits() {
    let long = "t".repeat(65_536);
    assert_eq!(
        codec::publish_len(long.len(), 0, QoS::AtMostOnce),
        Err(Error::TopicTooLong)
    );
    assert_eq!(
        codec::publish_len(10, codec::MAX_REMAINING_LENGTH, QoS::AtMostOnce),
        Err(Error::PayloadTooLarge)
    );
    assert_eq!(codec::subscribe_len(65_536, true), Err(Error::TopicTooLong));
}

#[test]
fn every_prefix_of_a_packet_is_incomplete() {
    let mut buf = vec![0u8; 20_000];
    let payload = vec![3u8; 16_500]; // three-byte remaining length
    for (topic, payload) in [("x", &payload[..10]), ("longer/topic", &payload[..])] {
        let p = Publish {
            topic,
            payload,
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            packet_id: 3,
        };
        let n = codec::encode_publish(&mut buf, &p).unwrap();
        for cut in 0..n {
            assert_eq!(codec::decode_packet(&buf[..cut]), Ok(None), "cut {cut}");
        }
        assert!(codec::decode_packet(&buf[..n]).unwrap().is_some());
    }
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(99);
    for _ in 0..200_000 {
        let len = rng.below(12);
        let mut bytes = rng.bytes(len);
        if let Some(first) = bytes.first_mut() {
            // Bias towards the types a client receives.
            if rng.bool() {
                *first = [0x20, 0x30, 0x32, 0x40, 0x90, 0xB0, 0xD0][rng.below(7)];
            }
        }
        if let Some(b) = bytes.get_mut(1) {
            if rng.bool() {
                *b = (len as u8).saturating_sub(2);
            }
        }
        // Any result is fine as long as it does not panic or overrun.
        if let Ok(Some((_, used))) = codec::decode_packet(&bytes) {
            assert!(used <= bytes.len());
        }
    }
}

#[test]
fn qos_from_wire_values() {
    assert_eq!(QoS::from_u8(0), Ok(QoS::AtMostOnce));
    assert_eq!(QoS::from_u8(1), Ok(QoS::AtLeastOnce));
    assert_eq!(QoS::from_u8(2), Ok(QoS::ExactlyOnce));
    assert_eq!(QoS::from_u8(3), Err(Error::InvalidArgument));
}

#[test]
fn topic_names_are_checked_exactly_for_nul_and_wildcards() {
    use nimbus::mqtt::codec::decode_topic_name;
    fn reference(t: &[u8]) -> Result<&str, nimbus::Error> {
        if t.iter().any(|&b| matches!(b, 0 | b'+' | b'#')) {
            Err(nimbus::Error::InvalidTopic)
        } else {
            std::str::from_utf8(t).map_err(|_| nimbus::Error::InvalidTopic)
        }
    }
    // Every byte value at every position of every length up to 24, in a
    // topic of '$' (below the fast test's threshold) and of 'a' (above).
    for len in 1..=24usize {
        for fill in [b'a', b'$'] {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut t = vec![fill; len];
                    t[pos] = b;
                    assert_eq!(decode_topic_name(&t), reference(&t), "{t:?}");
                }
            }
        }
    }
    assert_eq!(decode_topic_name("é/ü".as_bytes()), Ok("é/ü"));
}
