//! Twin hot paths for callgrind, one `#[inline(never)]` function each,
//! selected by the first argument (all of them without one):
//!
//! ```text
//! cargo bench --bench twin_ops --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='*bench_azure_res204*' target/release/deps/twin_ops-<hash> azure_res204
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     --toggle-collect='*bench_aws_delta*' target/release/deps/twin_ops-<hash> aws_delta
//! ```
//!
//! Only the selected function's instructions are counted (`Collected`);
//! setup (building the model, the pending request) is outside it.

mod harness;

use harness::Op;
use std::hint::black_box;
use std::process::ExitCode;

use nimbus::cloud::Cloud;
use nimbus::twin::{Outcome, Response, Twin, TwinConfig, TwinEvent};

/// An AWS `update/delta` payload of exactly 200 bytes.
const DELTA: &[u8] = br#"{"version":1234,"timestamp":1700000000,"state":{"led":"on","rate":15,"cfg":{"mode":"eco","limits":[1,2,3]}},"metadata":{"led":{"timestamp":1700000000},"rate":{"timestamp":1700000000}},"x":"123456789"}"#;

/// Dispatches an Azure `$iothub/twin/res/204/?$rid=..&$version=..` answer,
/// already classified, to its pending report.
#[inline(never)]
fn bench_azure_res204<'p>(twin: &mut Twin<'_>, rid: &'p str, version: u64) -> Outcome<'p> {
    twin.on_response(Response::Azure {
        status: 204,
        rid,
        version: Some(version),
        payload: &[],
    })
    .unwrap_or(Outcome::Ignored(nimbus::twin::Ignored::UnknownRequest))
}

/// Dispatches an AWS `update/delta`, scanning its 200-byte JSON document.
#[inline(never)]
fn bench_aws_delta<'p>(twin: &mut Twin<'_>, payload: &'p [u8]) -> Outcome<'p> {
    twin.on_desired(None, payload)
        .unwrap_or(Outcome::Ignored(nimbus::twin::Ignored::UnknownRequest))
}

fn azure_res204() {
    let mut twin: Twin<'_> = Twin::new(TwinConfig::new(Cloud::Azure)).expect("config");
    let mut out = [0u8; 64];
    // A few requests pending, the answered one last in the table (one
    // get and reports: at most one get is ever outstanding).
    twin.get(&mut out, 0).expect("get");
    for _ in 0..3 {
        twin.report(b"{}", &mut out, 0).expect("report");
    }
    let req = twin
        .report(br#"{"led":"on"}"#, &mut out, 0)
        .expect("report");
    let rid = String::from(req.id.as_str());
    let outcome = bench_azure_res204(black_box(&mut twin), black_box(&rid), black_box(7));
    assert!(matches!(
        outcome,
        Outcome::Event(TwinEvent::ReportAccepted {
            version: Some(7),
            ..
        })
    ));
}

fn aws_delta() {
    assert_eq!(DELTA.len(), 200);
    let mut twin: Twin<'_> = Twin::new(TwinConfig::new(Cloud::Aws)).expect("config");
    let outcome = bench_aws_delta(black_box(&mut twin), black_box(DELTA));
    assert!(matches!(
        outcome,
        Outcome::Event(TwinEvent::Desired { version: 1234, .. })
    ));
}

fn main() -> ExitCode {
    harness::main(&[
        Op {
            selector: "azure_res204",
            function: "bench_azure_res204",
            reference: None,
            run: azure_res204,
        },
        Op {
            selector: "aws_delta",
            function: "bench_aws_delta",
            reference: None,
            run: aws_delta,
        },
    ])
}
