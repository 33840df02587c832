//! Hot paths of the cloud dialects, for callgrind instruction counts.
//!
//! Each operation is an `#[inline(never)]` function named on the command
//! line; run one under callgrind and count only inside it:
//!
//! ```text
//! cargo bench --bench cloud_ops --no-run
//! valgrind --tool=callgrind --toggle-collect='*bench_azure_telemetry_topic*' \
//!     target/release/deps/cloud_ops-<hash> azure_telemetry_topic
//! ```
//!
//! Without an argument every operation runs once (a smoke test).

use nimbus::cloud::{Cloud, Dialect, EncodedProperties, Incoming, Property};
mod harness;

use harness::Op;
use std::hint::black_box;
use std::process::ExitCode;

/// Azure telemetry with one property:
/// `devices/d1/messages/events/subtopic=response.sensor.1.reading&%24.ct=application%2Fjson`,
/// the topic of a reading of sensor 1. As in the C library measured for
/// the reference, the property is encoded beforehand (its property buffer
/// holds encoded text).
#[inline(never)]
fn bench_azure_telemetry_topic(
    d: &Dialect<'_>,
    props: EncodedProperties<'_>,
    buf: &mut [u8],
) -> usize {
    d.telemetry_topic(black_box(1), props, buf)
        .map_or(0, |topic| topic.len())
}

/// The same topic translated from the generic topic
/// `d1/response/sensor/1/reading` (parsed, checked, the path mapped), the
/// property encoded beforehand.
#[inline(never)]
fn bench_azure_generic_topic(
    d: &Dialect<'_>,
    props: EncodedProperties<'_>,
    buf: &mut [u8],
) -> usize {
    d.publish_topic_encoded(black_box("d1/response/sensor/1/reading"), props, buf)
        .map_or(0, |topic| topic.len())
}

/// The same translation with the property percent-encoded on the way.
#[inline(never)]
fn bench_azure_generic_topic_encoding(d: &Dialect<'_>, buf: &mut [u8]) -> usize {
    let props = [Property::new(
        black_box("$.ct"),
        black_box("application/json"),
    )];
    d.publish_topic(black_box("d1/response/sensor/1/reading"), &props, buf)
        .map_or(0, |topic| topic.len())
}

const CONTENT_TYPE: [Property<'static>; 1] = [Property::new("$.ct", "application/json")];

const TELEMETRY_TOPIC: &[u8] =
    b"devices/d1/messages/events/subtopic=response.sensor.1.reading&%24.ct=application%2Fjson";

/// Classify an Azure direct method call.
#[inline(never)]
fn bench_classify_azure_method(d: &Dialect<'_>) -> bool {
    matches!(
        d.classify(black_box("$iothub/methods/POST/sensor.12.get/?$rid=1f")),
        Ok(Incoming::Request(_))
    )
}

/// Classify an Azure twin answer.
#[inline(never)]
fn bench_classify_azure_twin_response(d: &Dialect<'_>) -> bool {
    matches!(
        d.classify(black_box("$iothub/twin/res/204/?$rid=42&$version=5")),
        Ok(Incoming::TwinResponse(_))
    )
}

/// Classify an AWS shadow delta.
#[inline(never)]
fn bench_classify_aws_shadow_delta(d: &Dialect<'_>) -> bool {
    matches!(
        d.classify(black_box("$aws/things/d1/shadow/update/delta")),
        Ok(Incoming::Shadow(_))
    )
}

fn main() -> ExitCode {
    harness::main(&[
        Op {
            selector: "azure_telemetry_topic",
            function: "bench_azure_telemetry_topic",
            reference: Some((230, "C library")),
            run: || {
                let azure = Dialect::new(Cloud::Azure, "d1", None).expect("valid id");
                let mut bag = [0u8; 64];
                let props = EncodedProperties::encode(&CONTENT_TYPE, &mut bag).expect("valid");
                let mut buf = [0u8; 256];
                let len = black_box(bench_azure_telemetry_topic(&azure, props, &mut buf));
                assert_eq!(&buf[..len], TELEMETRY_TOPIC);
            },
        },
        Op {
            selector: "azure_generic_topic",
            function: "bench_azure_generic_topic",
            reference: None,
            run: || {
                let azure = Dialect::new(Cloud::Azure, "d1", None).expect("valid id");
                let mut bag = [0u8; 64];
                let props = EncodedProperties::encode(&CONTENT_TYPE, &mut bag).expect("valid");
                let mut buf = [0u8; 256];
                let len = black_box(bench_azure_generic_topic(&azure, props, &mut buf));
                assert_eq!(&buf[..len], TELEMETRY_TOPIC);
            },
        },
        Op {
            selector: "azure_generic_topic_encoding",
            function: "bench_azure_generic_topic_encoding",
            reference: None,
            run: || {
                let azure = Dialect::new(Cloud::Azure, "d1", None).expect("valid id");
                let mut buf = [0u8; 256];
                let len = black_box(bench_azure_generic_topic_encoding(&azure, &mut buf));
                assert_eq!(&buf[..len], TELEMETRY_TOPIC);
            },
        },
        Op {
            selector: "classify_azure_method",
            function: "bench_classify_azure_method",
            reference: Some((500, "C library")),
            run: || {
                let azure = Dialect::new(Cloud::Azure, "d1", None).expect("valid id");
                assert!(black_box(bench_classify_azure_method(&azure)));
            },
        },
        Op {
            selector: "classify_azure_twin_response",
            function: "bench_classify_azure_twin_response",
            reference: Some((1277, "C library")),
            run: || {
                let azure = Dialect::new(Cloud::Azure, "d1", None).expect("valid id");
                assert!(black_box(bench_classify_azure_twin_response(&azure)));
            },
        },
        Op {
            selector: "classify_aws_shadow_delta",
            function: "bench_classify_aws_shadow_delta",
            reference: Some((382, "C library")),
            run: || {
                let aws = Dialect::new(Cloud::Aws, "d1", None).expect("valid thing");
                assert!(black_box(bench_classify_aws_shadow_delta(&aws)));
            },
        },
    ])
}
