//! Every row of the mapping tables of ARCHITECTURE.md §2–4, both directions.

use nimbus::cloud::{
    Cloud, Dialect, EncodedProperties, Incoming, Property, Request, Route, ShadowOp, ShadowTopic,
    TwinOp, TwinResponse,
};
use nimbus::Error;

fn aws() -> Dialect<'static> {
    Dialect::new(Cloud::Aws, "d1", None).unwrap()
}

fn azure() -> Dialect<'static> {
    Dialect::new(Cloud::Azure, "d1", None).unwrap()
}

fn out(d: &Dialect<'_>, generic: &str, props: &[Property<'_>]) -> String {
    let mut buf = [0u8; 512];
    d.publish_topic(generic, props, &mut buf)
        .unwrap()
        .to_string()
}

fn request(d: &Dialect<'_>, topic: &str) -> (String, Request<'static>) {
    let topic: &'static str = Box::leak(topic.to_string().into_boxed_str());
    let Incoming::Request(req) = d.classify(topic).unwrap() else {
        panic!("{topic} is not a request");
    };
    let mut buf = [0u8; 512];
    (d.request_topic(&req, &mut buf).unwrap().to_string(), req)
}

fn respond(d: &Dialect<'_>, topic: &str, status: u16) -> String {
    let Incoming::Request(req) = d.classify(topic).unwrap() else {
        panic!("{topic} is not a request");
    };
    let mut buf = [0u8; 512];
    d.response_topic(&req, status, &mut buf)
        .unwrap()
        .to_string()
}

#[test]
fn telemetry_and_encoded_properties_match_the_generic_translation() {
    let module = Dialect::new(Cloud::Azure, "d1", Some("m-1")).unwrap();
    let props = [
        Property::new("$.ct", "application/json"),
        Property::new("zone name", "a&b"),
    ];
    let mut bag = [0u8; 128];
    let encoded = EncodedProperties::encode(&props, &mut bag).unwrap();
    for d in [aws(), azure(), module] {
        let (props, encoded): (&[Property<'_>], _) = match d.cloud() {
            Cloud::Aws => (&[], EncodedProperties::NONE),
            Cloud::Azure => (&props, encoded),
        };
        for sensor in [0u16, 1, 9, 10, 255, 1000, 65535] {
            let generic = format!("d1/response/sensor/{sensor}/reading");
            let want = out(&d, &generic, props);
            let mut buf = [0u8; 512];
            let got = d.telemetry_topic(sensor, encoded, &mut buf).unwrap();
            assert_eq!(got.as_str(), want, "{sensor}");
            let mut buf = [0u8; 512];
            let got = d
                .publish_topic_encoded(&generic, encoded, &mut buf)
                .unwrap();
            assert_eq!(got.as_str(), want, "{sensor}");
            // Too small a buffer is an error, never a cut topic.
            let mut small = vec![0u8; want.len() - 1];
            if d.cloud() == Cloud::Azure {
                assert_eq!(
                    d.telemetry_topic(sensor, encoded, &mut small),
                    Err(Error::BufferTooSmall)
                );
            }
        }
        for generic in ["d1/events", "d1/response/a b/c~d"] {
            let mut buf = [0u8; 512];
            let got = d.publish_topic_encoded(generic, encoded, &mut buf).unwrap();
            assert_eq!(got.as_str(), out(&d, generic, props));
        }
    }
    // AWS carries no message properties.
    let mut buf = [0u8; 512];
    assert_eq!(
        aws().telemetry_topic(1, encoded, &mut buf),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        aws().publish_topic_encoded("d1/events", encoded, &mut buf),
        Err(Error::InvalidArgument)
    );
    // A thing name at AWS's 128-byte limit still fits the 256-byte topic.
    let long = "t".repeat(128);
    let mut buf = [0u8; 512];
    let reading = Dialect::new(Cloud::Aws, &long, None)
        .unwrap()
        .telemetry_topic(1, EncodedProperties::NONE, &mut buf)
        .map(|t| t.len());
    assert_eq!(reading, Ok(128 + 26));
}

#[test]
fn aws_generic_topics_are_unchanged() {
    for t in [
        "d1/events",
        "d1/response/sensor/12/reading",
        "d1/response/general_information",
        "d1/response/sensor/list",
    ] {
        assert_eq!(out(&aws(), t, &[]), t);
    }
    // Borrowed, not copied: the buffer may be empty.
    let t = "d1/events";
    assert_eq!(
        aws().publish_topic(t, &[], &mut []).unwrap().as_ptr(),
        t.as_ptr()
    );
}

#[test]
fn aws_requests_and_responses() {
    for path in ["general_information", "sensor/list", "sensor/12/get"] {
        let topic = format!("d1/request/{path}");
        let (generic, req) = request(&aws(), &topic);
        assert_eq!(generic, topic);
        assert_eq!(
            (req.route(), req.rid(), req.properties()),
            (Route::Topic, None, None)
        );
        assert_eq!(respond(&aws(), &topic, 200), format!("d1/response/{path}"));
    }
}

#[test]
fn aws_shadow_topics_every_suffix_classic_and_named() {
    let d = aws();
    for op in ShadowOp::ALL {
        for shadow in [None, Some("cfg"), Some("x".repeat(64).leak() as &str)] {
            let mut buf = [0u8; 256];
            let topic = nimbus::cloud::aws::shadow_topic("d1", shadow, op, &mut buf)
                .unwrap()
                .to_string();
            let expected = match shadow {
                None => format!("$aws/things/d1/shadow/{}", op.as_str()),
                Some(n) => format!("$aws/things/d1/shadow/name/{n}/{}", op.as_str()),
            };
            assert_eq!(topic, expected);
            assert_eq!(
                d.classify(&topic),
                Ok(Incoming::Shadow(ShadowTopic { shadow, op }))
            );
        }
    }
}

#[test]
fn aws_twin_request_topics() {
    let d = aws();
    let mut buf = [0u8; 256];
    assert_eq!(
        d.twin_topic(TwinOp::Get, "7", None, &mut buf).unwrap(),
        "$aws/things/d1/shadow/get"
    );
    assert_eq!(
        d.twin_topic(TwinOp::Report, "7", Some("net"), &mut buf)
            .unwrap(),
        "$aws/things/d1/shadow/name/net/update"
    );
}

#[test]
fn azure_outgoing_rows() {
    let d = azure();
    assert_eq!(out(&d, "d1/events", &[]), "devices/d1/messages/events/");
    assert_eq!(
        out(&d, "d1/response/sensor/list", &[]),
        "devices/d1/messages/events/subtopic=response.sensor.list"
    );
    assert_eq!(
        out(&d, "d1/response/sensor/12/reading", &[]),
        "devices/d1/messages/events/subtopic=response.sensor.12.reading"
    );
    assert_eq!(
        out(&d, "d1/response/general_information", &[]),
        "devices/d1/messages/events/subtopic=response.general_information"
    );
}

#[test]
fn azure_outgoing_properties_are_encoded() {
    let d = azure();
    let props = [
        Property::new("$.ct", "application/json"),
        Property::new("$.ce", "utf-8"),
        Property::new("zone name", "a&b=c%d~e"),
        Property::new("empty", ""),
    ];
    assert_eq!(
        out(&d, "d1/response/sensor/1/reading", &props),
        "devices/d1/messages/events/subtopic=response.sensor.1.reading\
         &%24.ct=application%2Fjson&%24.ce=utf-8&zone%20name=a%26b%3Dc%25d~e&empty="
    );
    assert_eq!(
        out(&d, "d1/events", &props[..1]),
        "devices/d1/messages/events/%24.ct=application%2Fjson"
    );
    // Path segments with reserved bytes are encoded in the subtopic value.
    assert_eq!(
        out(&d, "d1/response/a b/é", &[]),
        "devices/d1/messages/events/subtopic=response.a%20b.%C3%A9"
    );
}

#[test]
fn azure_module_identity() {
    let d = Dialect::new(Cloud::Azure, "d1", Some("m1")).unwrap();
    assert_eq!(
        out(&d, "d1/events", &[]),
        "devices/d1/modules/m1/messages/events/"
    );
    assert_eq!(
        out(&d, "d1/response/x", &[]),
        "devices/d1/modules/m1/messages/events/subtopic=response.x"
    );
    let mut buf = [0u8; 64];
    assert_eq!(d.client_id(&mut buf).unwrap(), "d1/m1");
    assert_eq!(azure().client_id(&mut buf).unwrap(), "d1");
    assert_eq!(aws().client_id(&mut buf).unwrap(), "d1");
    // Modules get no C2D but do get methods.
    assert_eq!(
        d.classify("devices/d1/messages/devicebound/subtopic=request.x"),
        Err(nimbus::Error::TopicNotAllowed)
    );
    assert!(matches!(
        d.classify("$iothub/methods/POST/x/?$rid=1"),
        Ok(Incoming::Request(_))
    ));
}

#[test]
fn azure_c2d_requests_with_decoded_properties() {
    let d = azure();
    let topic = "devices/d1/messages/devicebound/%24.mid=m-1&%24.to=%2Fdevices%2Fd1%2Fmessages%2FdeviceBound&subtopic=request.sensor.list&k%20ey=v%2Fal&bare";
    let (generic, req) = request(&d, topic);
    assert_eq!(generic, "d1/request/sensor/list");
    assert_eq!((req.route(), req.rid()), (Route::C2d, None));
    let bag = req.properties().expect("a C2D request has its properties");
    let mut buf = [0u8; 64];
    let mut seen = Vec::new();
    for e in bag {
        let name = e.name.decode_into(&mut buf).unwrap().to_string();
        let value = e
            .value
            .map(|v| v.decode_into(&mut buf).unwrap().to_string());
        seen.push((name, value));
    }
    let expected: Vec<(String, Option<String>)> = vec![
        ("$.mid".into(), Some("m-1".into())),
        (
            "$.to".into(),
            Some("/devices/d1/messages/deviceBound".into()),
        ),
        ("subtopic".into(), Some("request.sensor.list".into())),
        ("k ey".into(), Some("v/al".into())),
        ("bare".into(), None),
    ];
    assert_eq!(seen, expected);
    assert_eq!(
        respond(&d, topic, 200),
        "devices/d1/messages/events/subtopic=response.sensor.list"
    );
}

#[test]
fn azure_c2d_subtopic_decoding() {
    let d = azure();
    // An encoded subtopic value decodes first; %2E is a plain `.`.
    let (generic, _) = request(
        &d,
        "devices/d1/messages/devicebound/subtopic=request%2Esensor.12%2Eget",
    );
    assert_eq!(generic, "d1/request/sensor/12/get");
    let (generic, _) = request(&d, "devices/d1/messages/devicebound/subtopic=request.a%20b");
    assert_eq!(generic, "d1/request/a b");
    assert_eq!(
        respond(
            &d,
            "devices/d1/messages/devicebound/subtopic=request.a%20b",
            200
        ),
        "devices/d1/messages/events/subtopic=response.a%20b"
    );
}

#[test]
fn azure_direct_methods() {
    let d = azure();
    for (method, path) in [
        ("general_information", "general_information"),
        ("sensor.list", "sensor/list"),
        ("sensor.12.get", "sensor/12/get"),
    ] {
        let topic = format!("$iothub/methods/POST/{method}/?$rid=a1f");
        let (generic, req) = request(&d, &topic);
        assert_eq!(generic, format!("d1/request/{path}"));
        assert_eq!(
            (req.route(), req.rid(), req.properties()),
            (Route::Method, Some("a1f"), None)
        );
        assert_eq!(
            respond(&d, &topic, 200),
            "$iothub/methods/res/200/?$rid=a1f"
        );
        assert_eq!(
            respond(&d, &topic, 404),
            "$iothub/methods/res/404/?$rid=a1f"
        );
        let Ok(Incoming::Request(req)) = d.classify(&topic) else {
            panic!()
        };
        assert!(req.path_is(path));
        assert!(!req.path_is("sensor"));
    }
}

#[test]
fn azure_twin_topics() {
    let d = azure();
    let mut buf = [0u8; 128];
    assert_eq!(
        d.twin_topic(TwinOp::Get, "42", None, &mut buf).unwrap(),
        "$iothub/twin/GET/?$rid=42"
    );
    assert_eq!(
        d.twin_topic(TwinOp::Report, "43", None, &mut buf).unwrap(),
        "$iothub/twin/PATCH/properties/reported/?$rid=43"
    );
    assert_eq!(
        d.classify("$iothub/twin/res/200/?$rid=42"),
        Ok(Incoming::TwinResponse(TwinResponse {
            status: 200,
            rid: "42",
            version: None
        }))
    );
    assert_eq!(
        d.classify("$iothub/twin/res/204/?$rid=43&$version=16"),
        Ok(Incoming::TwinResponse(TwinResponse {
            status: 204,
            rid: "43",
            version: Some(16)
        }))
    );
    assert_eq!(
        d.classify("$iothub/twin/res/429/?$rid=44"),
        Ok(Incoming::TwinResponse(TwinResponse {
            status: 429,
            rid: "44",
            version: None
        }))
    );
    assert_eq!(
        d.classify("$iothub/twin/PATCH/properties/desired/?$version=5"),
        Ok(Incoming::Desired { version: 5 })
    );
}

#[test]
fn azure_credentials() {
    let mut buf = [0u8; 128];
    assert_eq!(
        nimbus::cloud::azure::username("hub.azure-devices.net", "d1", None, "2021-04-12", &mut buf)
            .unwrap(),
        "hub.azure-devices.net/d1/?api-version=2021-04-12"
    );
    assert_eq!(
        nimbus::cloud::azure::username(
            "hub.azure-devices.net",
            "d1",
            Some("m1"),
            "2020-09-30",
            &mut buf
        )
        .unwrap(),
        "hub.azure-devices.net/d1/m1/?api-version=2020-09-30"
    );
}

#[test]
fn subscriptions_per_cloud() {
    let list = |d: Dialect<'_>| -> Vec<String> {
        d.subscriptions()
            .map(|f| {
                let mut buf = [0u8; 128];
                let s = f.write(&mut buf).unwrap().to_string();
                assert_eq!(f.len(), s.len());
                s
            })
            .collect()
    };
    assert_eq!(
        list(aws()),
        [
            "d1/request/#",
            "$aws/things/d1/shadow/update/accepted",
            "$aws/things/d1/shadow/update/rejected",
            "$aws/things/d1/shadow/update/delta",
            "$aws/things/d1/shadow/get/accepted",
            "$aws/things/d1/shadow/get/rejected",
        ]
    );
    assert_eq!(
        list(azure()),
        [
            "devices/d1/messages/devicebound/#",
            "$iothub/methods/POST/#",
            "$iothub/twin/res/#",
            "$iothub/twin/PATCH/properties/desired/#",
        ]
    );
    assert_eq!(
        list(Dialect::new(Cloud::Azure, "d1", Some("m")).unwrap()).len(),
        3
    );
}

#[test]
fn outputs_report_small_buffers() {
    let d = azure();
    let mut buf = [0u8; 20];
    assert_eq!(
        d.publish_topic("d1/response/sensor/list", &[], &mut buf),
        Err(nimbus::Error::BufferTooSmall)
    );
    assert_eq!(
        d.twin_topic(TwinOp::Get, "1", None, &mut buf),
        Err(nimbus::Error::BufferTooSmall)
    );
}

/// Every topic a dialect builds is one its own guard accepts, with the
/// payload limit it carries: the client sends what the dialect built
/// without checking it again, so the two must agree. Both clouds, a
/// module identity, every kind of outgoing message.
#[test]
fn every_built_topic_passes_the_guard_at_its_payload_limit() {
    let dialects = [
        aws(),
        Dialect::new(Cloud::Aws, "thing-1", None).unwrap(),
        azure(),
        Dialect::new(Cloud::Azure, "d1", Some("m.1")).unwrap(),
    ];
    for d in dialects {
        let device = d.device();
        let mut checked = 0;
        let mut check = |topic: nimbus::cloud::Topic<'_>| {
            let text = topic.as_str();
            let max = topic.max_payload();
            assert!(max >= 32 * 1024, "{text}: {max}");
            assert_eq!(d.check_publish(text, 1, max), Ok(()), "{text}");
            assert_eq!(
                d.check_publish(text, 1, max + 1),
                Err(Error::PayloadTooLarge),
                "{text}"
            );
            checked += 1;
        };
        let mut buf = [0u8; 512];
        let events = format!("{device}/events");
        check(d.publish_topic(&events, &[], &mut buf).unwrap());
        let mut buf = [0u8; 512];
        let response = format!("{device}/response/sensor/3/reading");
        check(d.publish_topic(&response, &[], &mut buf).unwrap());
        let mut buf = [0u8; 512];
        check(
            d.telemetry_topic(7, EncodedProperties::NONE, &mut buf)
                .unwrap(),
        );
        for op in [TwinOp::Get, TwinOp::Report] {
            let mut buf = [0u8; 512];
            check(d.twin_topic(op, "42", None, &mut buf).unwrap());
        }
        let incoming: Vec<String> = match d.cloud() {
            Cloud::Aws => vec![format!("{device}/request/a/b")],
            // Modules have direct methods but no cloud-to-device messages.
            Cloud::Azure if d.module().is_some() => {
                vec!["$iothub/methods/POST/a.b/?$rid=9".to_string()]
            }
            Cloud::Azure => vec![
                "$iothub/methods/POST/a.b/?$rid=9".to_string(),
                format!("devices/{device}/messages/devicebound/subtopic=request.a.b"),
            ],
        };
        for topic in &incoming {
            let Incoming::Request(req) = d.classify(topic).unwrap() else {
                panic!("{topic} is not a request");
            };
            let mut buf = [0u8; 512];
            check(d.response_topic(&req, 200, &mut buf).unwrap());
        }
        if d.cloud() == Cloud::Azure {
            let mut buf = [0u8; 512];
            let props = [
                Property::new("$.ct", "application/json"),
                Property::new("k", "v w"),
            ];
            check(d.publish_topic(&events, &props, &mut buf).unwrap());
        }
        assert!(checked >= 6, "{device}: {checked}");
    }
}
