//! The dialects as firmware uses them: the topic of every publish, the
//! meaning of every incoming topic, the filters to subscribe, Azure
//! credentials and the rate limits.

use core::hint::black_box;
use nimbus::cloud::rate::{Rate, TokenBucket};
use nimbus::cloud::{sas, Cloud, Dialect, Incoming, Property, Route, TwinOp};

fn cloud(input: u32) -> Cloud {
    if input & 1 == 0 {
        Cloud::Aws
    } else {
        Cloud::Azure
    }
}

/// Outgoing topics: telemetry with a content type, a request's answer, the
/// twin topics, the subscriptions, the publish guard and its rate limit.
#[no_mangle]
pub extern "C" fn nimbus_probe_cloud_publish(input: u32) -> u32 {
    let Ok(dialect) = Dialect::new(cloud(input), black_box("dev-1"), None) else {
        return 0;
    };
    let mut buf = [0u8; 256];
    let mut total = 0usize;
    let props = [Property::new("$.ct", "application/json")];
    let props = if input & 2 == 0 { &props[..] } else { &[] };
    if let Ok(topic) = dialect.publish_topic(
        black_box("dev-1/response/sensor/12/reading"),
        props,
        &mut buf,
    ) {
        total += topic.len();
        total += usize::from(dialect.check_publish(topic.as_str(), 1, 64).is_ok());
    }
    let op = if input & 4 == 0 {
        TwinOp::Get
    } else {
        TwinOp::Report
    };
    if let Ok(topic) = dialect.twin_topic(op, black_box("1f"), None, &mut buf) {
        total += topic.len();
    }
    for filter in dialect.subscriptions() {
        total += filter.write(&mut buf).map_or(0, |t| t.len());
    }
    total += dialect.client_id(&mut buf).map_or(0, |t| t.len());
    if let Ok(mut bucket) = TokenBucket::new(Rate::AZURE_D2C, u64::from(input)) {
        total += usize::from(bucket.take(u64::from(input) + 10).is_ok());
    }
    total as u32
}

/// Incoming topics: classify, then build the generic request topic and the
/// topic of its answer.
#[no_mangle]
pub extern "C" fn nimbus_probe_cloud_classify(input: u32) -> u32 {
    let Ok(dialect) = Dialect::new(cloud(input), black_box("dev-1"), None) else {
        return 0;
    };
    let topic = black_box("$iothub/methods/POST/sensor.12.get/?$rid=1f");
    let mut generic = [0u8; 128];
    let mut answer = [0u8; 128];
    match dialect.classify(topic) {
        Ok(Incoming::Request(req)) => {
            let method = (req.route() == Route::Method) as usize;
            let path = dialect
                .request_topic(&req, &mut generic)
                .map_or(0, |t| t.len());
            let back = dialect
                .response_topic(&req, 200, &mut answer)
                .map_or(0, |t| t.len());
            (method + path + back) as u32
        }
        Ok(Incoming::Shadow(s)) => s.op as u32 + 100,
        Ok(Incoming::TwinResponse(r)) => u32::from(r.status),
        Ok(Incoming::Desired { version }) => version as u32,
        Err(e) => u32::from(e.code()),
    }
}

/// An Azure SAS token as the MQTT password, signed by the port's HMAC.
#[no_mangle]
pub extern "C" fn nimbus_probe_cloud_sas(input: u32) -> u32 {
    let mut buf = [0u8; 256];
    let key = black_box("c2VjcmV0IGRldmljZSBrZXkgZm9yIHRoZSBzaXplIHJlcG9ydA==");
    #[cfg(not(feature = "rustcrypto"))]
    let mut hmac = crate::port::hmac(input);
    #[cfg(feature = "rustcrypto")]
    let mut hmac = sas::RustCryptoHmac;
    let token = sas::token(
        &mut hmac,
        black_box("hub.example"),
        "dev-1",
        None,
        key,
        u64::from(input),
        &mut buf,
    );
    let renew = sas::renewal(u64::from(input), 3_600, u64::from(input) + 3_000);
    token.map_or(0, |t| t.len() as u32) + matches!(renew, sas::Renewal::Now) as u32
}
