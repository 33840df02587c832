//! The cloud dialects on the target: generic ↔ cloud topics.

use core::hint::black_box;
use nimbus::cloud::{
    Cloud, Dialect, EncodedProperties, Incoming, Property, Route, ShadowOp, ShadowTopic,
    TwinResponse,
};
use nimbus::Error;

fn azure() -> Option<Dialect<'static>> {
    Dialect::new(Cloud::Azure, black_box("dev-1"), None).ok()
}

fn aws() -> Option<Dialect<'static>> {
    Dialect::new(Cloud::Aws, black_box("thing-1"), None).ok()
}

pub fn azure_telemetry_topic() -> bool {
    let Some(d) = azure() else {
        return false;
    };
    let mut buf = [0u8; 128];
    let reading = d
        .publish_topic("dev-1/response/sensor/12/reading", &[], &mut buf)
        .map(|t| t.as_str())
        == Ok("devices/dev-1/messages/events/subtopic=response.sensor.12.reading");
    let ct = [Property::new("$.ct", "application/json")];
    let typed = d
        .publish_topic("dev-1/response/sensor/list", &ct, &mut buf)
        .map(|t| t.as_str())
        == Ok(
            "devices/dev-1/messages/events/subtopic=response.sensor.list&%24.ct=application%2Fjson",
        );
    let events = d
        .publish_topic("dev-1/events", &[], &mut buf)
        .map(|t| t.as_str())
        == Ok("devices/dev-1/messages/events/");
    let other = d.publish_topic("dev-2/events", &[], &mut buf) == Err(Error::OtherDevice);
    let short = d.publish_topic("dev-1/response/sensor/list", &[], &mut [0u8; 40])
        == Err(Error::BufferTooSmall);
    // Properties encoded once, and the direct telemetry topic.
    let mut bag = [0u8; 32];
    let Ok(props) = EncodedProperties::encode(&ct, &mut bag) else {
        return false;
    };
    let mut buf2 = [0u8; 128];
    let direct = d.telemetry_topic(black_box(12), props, &mut buf2).map(|t| t.as_str())
        == Ok("devices/dev-1/messages/events/subtopic=response.sensor.12.reading&%24.ct=application%2Fjson");
    let encoded = d
        .publish_topic_encoded("dev-1/response/sensor/12/reading", props, &mut buf)
        .map(|t| t.as_str())
        == d.telemetry_topic(12, props, &mut buf2).map(|t| t.as_str());
    let tight = d.telemetry_topic(12, props, &mut [0u8; 60]) == Err(Error::BufferTooSmall);
    reading && typed && events && other && short && direct && encoded && tight
}

pub fn azure_method_is_a_request() -> bool {
    let Some(d) = azure() else {
        return false;
    };
    let Ok(Incoming::Request(req)) =
        d.classify(black_box("$iothub/methods/POST/sensor.12.get/?$rid=1f"))
    else {
        return false;
    };
    let mut generic = [0u8; 64];
    let mut answer = [0u8; 64];
    req.route() == Route::Method
        && req.rid() == Some("1f")
        && req.path_is("sensor/12/get")
        && !req.path_is("sensor/12")
        && d.request_topic(&req, &mut generic) == Ok("dev-1/request/sensor/12/get")
        && d.response_topic(&req, 200, &mut answer).map(|t| t.as_str())
            == Ok("$iothub/methods/res/200/?$rid=1f")
}

pub fn azure_twin_answer_and_refusals() -> bool {
    let Some(d) = azure() else {
        return false;
    };
    let answer = d.classify(black_box("$iothub/twin/res/204/?$rid=1&$version=5"))
        == Ok(Incoming::TwinResponse(TwinResponse {
            status: 204,
            rid: "1",
            version: Some(5),
        }));
    let desired = d.classify("$iothub/twin/PATCH/properties/desired/?$version=9")
        == Ok(Incoming::Desired { version: 9 });
    let c2d_other = d.classify("devices/dev-2/messages/devicebound/subtopic=request.x")
        == Err(Error::OtherDevice);
    let bad_query = d.classify("$iothub/twin/res/204/?$rid") == Err(Error::InvalidEncoding);
    let not_allowed = d.check_publish("dev-1/events", 1, 10) == Err(Error::TopicNotAllowed);
    let allowed = d.check_publish("devices/dev-1/messages/events/", 1, 10) == Ok(());
    answer && desired && c2d_other && bad_query && not_allowed && allowed
}

pub fn aws_shadow_delta() -> bool {
    let Some(d) = aws() else {
        return false;
    };
    let classic = d.classify(black_box("$aws/things/thing-1/shadow/update/delta"))
        == Ok(Incoming::Shadow(ShadowTopic {
            shadow: None,
            op: ShadowOp::UpdateDelta,
        }));
    let named = d.classify("$aws/things/thing-1/shadow/name/cfg/update/delta")
        == Ok(Incoming::Shadow(ShadowTopic {
            shadow: Some("cfg"),
            op: ShadowOp::UpdateDelta,
        }));
    let other = d.classify("$aws/things/thing-2/shadow/update/delta") == Err(Error::OtherDevice);
    let request = matches!(
        d.classify("thing-1/request/general_information"),
        Ok(Incoming::Request(r)) if r.route() == Route::Topic && r.path_is("general_information")
    );
    let mut buf = [0u8; 8];
    let unchanged = d
        .publish_topic("thing-1/events", &[], &mut buf)
        .map(|t| t.as_str())
        == Ok("thing-1/events");
    classic && named && other && request && unchanged
}
