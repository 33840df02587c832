//! Every refusal of the dialects and of the publish guard.

use nimbus::cloud::{Cloud, Dialect, Property, TwinOp};
use nimbus::Error;

fn aws() -> Dialect<'static> {
    Dialect::new(Cloud::Aws, "d1", None).unwrap()
}

fn azure() -> Dialect<'static> {
    Dialect::new(Cloud::Azure, "d1", None).unwrap()
}

fn publish(d: &Dialect<'_>, generic: &str) -> Result<String, Error> {
    let mut buf = [0u8; 1024];
    d.publish_topic(generic, &[], &mut buf)
        .map(|t| t.to_string())
}

#[test]
fn bad_names_are_refused_up_front() {
    assert_eq!(
        Dialect::new(Cloud::Aws, "a b", None),
        Err(Error::InvalidName)
    );
    assert_eq!(
        Dialect::new(Cloud::Aws, "a.b", None),
        Err(Error::InvalidName)
    );
    assert_eq!(
        Dialect::new(Cloud::Aws, &"t".repeat(129), None),
        Err(Error::InvalidName)
    );
    assert_eq!(
        Dialect::new(Cloud::Aws, "t", Some("m")),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        Dialect::new(Cloud::Azure, "d/1", None),
        Err(Error::InvalidName)
    );
    assert_eq!(
        Dialect::new(Cloud::Azure, "d1", Some("m#")),
        Err(Error::InvalidName)
    );
    assert_eq!(
        Dialect::new(Cloud::Azure, "", None),
        Err(Error::InvalidName)
    );
}

#[test]
fn other_devices_are_refused() {
    for d in [aws(), azure()] {
        assert_eq!(publish(&d, "d2/events"), Err(Error::OtherDevice));
        assert_eq!(publish(&d, "d2/response/x"), Err(Error::OtherDevice));
    }
    assert_eq!(aws().classify("d2/request/x"), Err(Error::OtherDevice));
    assert_eq!(
        aws().classify("$aws/things/d2/shadow/update/delta"),
        Err(Error::OtherDevice)
    );
    assert_eq!(
        azure().classify("devices/d2/messages/devicebound/subtopic=request.x"),
        Err(Error::OtherDevice)
    );
}

#[test]
fn non_generic_topics_are_refused() {
    for d in [aws(), azure()] {
        for bad in [
            "d1",
            "d1/telemetry",
            "d1/response",
            "d1/response/",
            "d1/response/a//b",
            "d1/response/a.b",
            "d1/request/x",
        ] {
            assert_eq!(publish(&d, bad), Err(Error::NotGenericTopic), "{bad}");
        }
    }
    for bad in [
        "d1/response/x",
        "d1/events",
        "d1/request",
        "$aws/things/d1/shadow/update/other",
        "$aws/things/d1/shadow/name/cfg",
        "$aws/things/d1/shadow/name/cfg/",
        "$aws/things/d1/shadows/get",
        "$aws/things/d1",
        "other/topic/entirely",
    ] {
        assert_eq!(aws().classify(bad), Err(Error::NotGenericTopic), "{bad}");
    }
    for bad in [
        "$iothub/methods/POST/",
        "$iothub/methods/POST/x",
        "$iothub/methods/POST/a..b/?$rid=1",
        "$iothub/twin/other/",
        "devices/d1/messages/devicebound/",
        "devices/d1/messages/devicebound/a=1",
        "devices/d1/messages/devicebound/subtopic=response.x",
        "devices/d1/messages/devicebound/subtopic",
        "devices/d1/messages/devicebound/subtopic=request.",
        "devices/d1/messages/devicebound/subtopic=request.a%2Fb",
        "devices/d1/messages/events/",
        "d1/request/x",
    ] {
        assert_eq!(azure().classify(bad), Err(Error::NotGenericTopic), "{bad}");
    }
}

#[test]
fn malformed_azure_topics_are_invalid_encoding() {
    for bad in [
        "$iothub/methods/POST/x/?$rid=",
        "$iothub/methods/POST/x/?rid",
        "$iothub/methods/POST/x/?$rid=a%20b",
        "$iothub/methods/POST/x/?$rid=0123456789012345678901234567890123456789012345678901234567890123x",
        "$iothub/twin/res/abc/?$rid=1",
        "$iothub/twin/res/99/?$rid=1",
        "$iothub/twin/res/200/?$version=1",
        "$iothub/twin/res/204/?$rid=1&$version=x",
        "$iothub/twin/res/204/?$rid=1&$rid=2",
        "$iothub/twin/PATCH/properties/desired/?$version=",
        "$iothub/twin/PATCH/properties/desired/?x=1",
        "devices/d1/messages/devicebound/subtopic=request.x&&a=1",
        "devices/d1/messages/devicebound/subtopic=request.x&a=%4",
        "devices/d1/messages/devicebound/subtopic=request.x&subtopic=request.y",
    ] {
        assert_eq!(azure().classify(bad), Err(Error::InvalidEncoding), "{bad}");
    }
}

#[test]
fn aws_topic_rules() {
    // 7 slashes are fine, 8 are not.
    assert!(publish(&aws(), "d1/response/a/b/c/d/e/f").is_ok());
    assert_eq!(
        publish(&aws(), "d1/response/a/b/c/d/e/f/g"),
        Err(Error::TopicNotAllowed)
    );
    // 256 bytes are fine, 257 are not.
    let long = format!("d1/response/{}", "x".repeat(256 - 12));
    assert_eq!(long.len(), 256);
    assert!(publish(&aws(), &long).is_ok());
    assert_eq!(
        publish(&aws(), &format!("{long}x")),
        Err(Error::TopicTooLong)
    );
    // MQTT 3.1.1 carries no properties on AWS.
    let mut buf = [0u8; 64];
    assert_eq!(
        aws().publish_topic("d1/events", &[Property::new("a", "b")], &mut buf),
        Err(Error::InvalidArgument)
    );
    // Shadow names.
    assert_eq!(
        aws().classify(&format!(
            "$aws/things/d1/shadow/name/{}/get/accepted",
            "s".repeat(65)
        )),
        Err(Error::InvalidName)
    );
    assert_eq!(
        aws().classify("$aws/things/d1/shadow/name/a.b/get/accepted"),
        Err(Error::InvalidName)
    );
    assert_eq!(
        aws().twin_topic(TwinOp::Get, "1", Some("a b"), &mut [0u8; 128]),
        Err(Error::InvalidName)
    );
}

#[test]
fn azure_twin_and_response_refusals() {
    let mut buf = [0u8; 128];
    assert_eq!(
        azure().twin_topic(TwinOp::Get, "1", Some("named"), &mut buf),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        azure().twin_topic(TwinOp::Get, "a&b", None, &mut buf),
        Err(Error::InvalidArgument)
    );
    assert_eq!(
        azure().twin_topic(TwinOp::Get, "", None, &mut buf),
        Err(Error::InvalidArgument)
    );
    // An AWS request cannot be answered on Azure, nor the reverse.
    let Ok(nimbus::cloud::Incoming::Request(r)) = aws().classify("d1/request/x") else {
        panic!()
    };
    assert_eq!(
        azure().response_topic(&r, 200, &mut buf),
        Err(Error::InvalidArgument)
    );
    let Ok(nimbus::cloud::Incoming::Request(r)) =
        azure().classify("$iothub/methods/POST/x/?$rid=1")
    else {
        panic!()
    };
    assert_eq!(
        aws().response_topic(&r, 200, &mut buf),
        Err(Error::InvalidArgument)
    );
    // Outgoing property names.
    for name in ["", "subtopic", "$.to", "$x"] {
        assert_eq!(
            azure().publish_topic("d1/events", &[Property::new(name, "v")], &mut buf),
            Err(Error::InvalidPropertyName),
            "{name}"
        );
    }
}

#[test]
fn qos_2_is_refused_on_both_clouds() {
    assert_eq!(
        aws().check_publish("d1/events", 2, 0),
        Err(Error::QosNotSupported)
    );
    assert_eq!(
        azure().check_publish("devices/d1/messages/events/", 2, 0),
        Err(Error::QosNotSupported)
    );
    assert_eq!(
        aws().check_publish("d1/events", 3, 0),
        Err(Error::InvalidArgument)
    );
    assert_eq!(aws().check_publish("d1/events", 1, 0), Ok(()));
    assert_eq!(
        azure().check_publish("devices/d1/messages/events/", 0, 0),
        Ok(())
    );
}

#[test]
fn oversized_payloads_are_refused() {
    let cases: [(Dialect<'static>, &str, usize); 5] = [
        (aws(), "d1/events", 128 * 1024),
        (aws(), "$aws/things/d1/shadow/update", 128 * 1024),
        (
            azure(),
            "devices/d1/messages/events/subtopic=response.x",
            256 * 1024,
        ),
        (azure(), "$iothub/methods/res/200/?$rid=1", 128 * 1024),
        (
            azure(),
            "$iothub/twin/PATCH/properties/reported/?$rid=1",
            32 * 1024,
        ),
    ];
    for (d, topic, limit) in cases {
        assert_eq!(d.check_publish(topic, 1, limit), Ok(()), "{topic}");
        assert_eq!(
            d.check_publish(topic, 1, limit + 1),
            Err(Error::PayloadTooLarge),
            "{topic}"
        );
    }
}

#[test]
fn azure_allow_list() {
    let d = azure();
    for ok in [
        "devices/d1/messages/events/",
        "devices/d1/messages/events/subtopic=response.sensor.list&%24.ct=application%2Fjson",
        "$iothub/twin/GET/?$rid=1",
        "$iothub/twin/PATCH/properties/reported/?$rid=ab",
        "$iothub/methods/res/200/?$rid=1f",
    ] {
        assert_eq!(d.check_publish(ok, 1, 10), Ok(()), "{ok}");
    }
    for bad in [
        "d1/events",
        "d1/response/x",
        "devices/d1/messages/devicebound/x",
        "devices/d1/messages/events",
        "devices/d1/messages/events/a/b",
        "devices/d1/twin",
        "$iothub/twin/GET/",
        "$iothub/twin/GET/?x=1",
        "$iothub/twin/PATCH/properties/desired/?$rid=1",
        "$iothub/twin/res/200/?$rid=1",
        "$iothub/methods/POST/x/?$rid=1",
        "$iothub/methods/res/abc/?$rid=1",
        "$iothub/methods/res/70000/?$rid=1",
        "$iothub/methods/res/200",
        "$aws/things/d1/shadow/get",
    ] {
        assert_eq!(
            d.check_publish(bad, 1, 10),
            Err(Error::TopicNotAllowed),
            "{bad}"
        );
    }
    assert_eq!(
        d.check_publish("devices/d2/messages/events/", 1, 10),
        Err(Error::OtherDevice)
    );
    assert_eq!(
        d.check_publish("devices/d1/modules/m/messages/events/", 1, 10),
        Err(Error::OtherDevice)
    );
    assert_eq!(
        d.check_publish("devices/d1/messages/events/a=%zz", 1, 10),
        Err(Error::InvalidEncoding)
    );
    let m = Dialect::new(Cloud::Azure, "d1", Some("m")).unwrap();
    assert_eq!(
        m.check_publish("devices/d1/modules/m/messages/events/", 1, 10),
        Ok(())
    );
    assert_eq!(
        m.check_publish("devices/d1/messages/events/", 1, 10),
        Err(Error::OtherDevice)
    );
}

#[test]
fn aws_guard_rules() {
    let d = aws();
    for ok in [
        "d1/events",
        "$aws/things/d1/shadow/update",
        "$aws/things/d1/shadow/name/n/get",
        "anything/else",
    ] {
        assert_eq!(d.check_publish(ok, 1, 10), Ok(()), "{ok}");
    }
    for bad in [
        "$aws/things/d1/shadow/update/accepted",
        "$aws/things/d1/shadow/update/delta",
        "$sys/x",
        "a/b/c/d/e/f/g/h/i",
    ] {
        assert_eq!(
            d.check_publish(bad, 1, 10),
            Err(Error::TopicNotAllowed),
            "{bad}"
        );
    }
    assert_eq!(
        d.check_publish(&"x".repeat(257), 1, 10),
        Err(Error::TopicTooLong)
    );
    for bad in ["", "d1/+", "d1/#", "d1/\0"] {
        assert_eq!(
            d.check_publish(bad, 1, 10),
            Err(Error::InvalidTopic),
            "{bad:?}"
        );
    }
}
