//! The twin model and its JSON scanner on the target.

use core::hint::black_box;
use nimbus::cloud::Cloud;
use nimbus::cloud::{self, Dialect, Incoming, TwinOp};
use nimbus::twin::json::{self, Summary};
use nimbus::twin::{Ignored, Op, Outcome, Response, Twin, TwinConfig, TwinEvent};
use nimbus::Error;

pub fn json_validation() -> bool {
    let good = json::validate(black_box(br#"{"a":[1,-2.5e3,{"b":null}],"c":"\u00e9\n"}"#))
        == Ok(Summary {
            depth: 3,
            is_object: true,
        });
    let scalar = json::validate(b" 42 ")
        == Ok(Summary {
            depth: 0,
            is_object: false,
        });
    const BAD: &[&[u8]] = &[
        b"",
        b"{",
        br#"{"a":}"#,
        b"[1,]",
        br#"{"a":1} x"#,
        b"01",
        br#""\x""#,
        b"tru",
    ];
    let bad = BAD
        .iter()
        .all(|&text| json::validate(black_box(text)) == Err(Error::InvalidJson));
    let mut deep = [b'['; 66];
    if let Some(close) = deep.get_mut(33..) {
        close.fill(b']');
    }
    let too_deep = json::validate(black_box(&deep)) == Err(Error::JsonTooDeep);
    let at_limit = json::validate(deep.get(1..65).unwrap_or(&[])).is_ok_and(|s| s.depth == 32);
    good && scalar && bad && too_deep && at_limit
}

pub fn json_lookup() -> bool {
    let doc = br#"{"state":{"desired":{"led":"on","rate":5},"reported":{}},"version":17,"x":[{"state":1}]}"#;
    let found = json::lookup(
        black_box(doc),
        [
            &["state", "desired"],
            &["version"],
            &["state", "missing"],
            &["state", "desired", "rate"],
        ],
    );
    let expected: [Option<&[u8]>; 4] = [
        Some(br#"{"led":"on","rate":5}"#),
        Some(b"17"),
        None,
        Some(b"5"),
    ];
    let version = json::find(doc, &["version"])
        .ok()
        .flatten()
        .map(json::parse_u64)
        == Some(Ok(17));
    let invalid_after = json::find(br#"{"version":1,"#, &["version"]) == Err(Error::InvalidJson);
    found == Ok(expected) && version && invalid_after
}

pub fn azure_report_res_204_round_trip() -> bool {
    let (Ok(mut twin), Ok(dialect)) = (
        Twin::<'_, 4>::new(TwinConfig::new(Cloud::Azure)),
        Dialect::new(cloud::Cloud::Azure, "dev-1", None),
    ) else {
        return false;
    };
    let patch = br#"{"firmware":"1.2.0","net":{"ip":"10.0.0.7"}}"#;
    let mut payload = [0u8; 64];
    let Ok(req) = twin.report(black_box(patch), &mut payload, 100) else {
        return false;
    };
    let mut topic = [0u8; 64];
    let sent = req.op == Op::Report
        && payload.get(..req.len) == Some(&patch[..])
        && twin.pending() == 1
        && dialect
            .twin_topic(TwinOp::Report, req.id.as_str(), None, &mut topic)
            .map(|t| t.as_str())
            == Ok("$iothub/twin/PATCH/properties/reported/?$rid=1");
    // The hub's answer, classified as the client does it.
    let Ok(Incoming::TwinResponse(res)) =
        dialect.classify(black_box("$iothub/twin/res/204/?$rid=1&$version=5"))
    else {
        return false;
    };
    let answer = Response::Azure {
        status: res.status,
        rid: res.rid,
        version: res.version,
        payload: b"",
    };
    let accepted = twin.on_response(answer)
        == Ok(Outcome::Event(TwinEvent::ReportAccepted {
            id: req.id,
            version: Some(5),
        }));
    let again = twin.on_response(answer) == Ok(Outcome::Ignored(Ignored::UnknownRequest));
    sent && accepted && again && twin.pending() == 0
}

pub fn report_timeout_and_refusals() -> bool {
    let Ok(mut twin) = Twin::<'_, 1>::new(TwinConfig::new(Cloud::Azure)) else {
        return false;
    };
    let mut out = [0u8; 32];
    let refused = twin.report(b"[1]", &mut out, 0) == Err(Error::UnexpectedJson)
        && twin.report(br#"{"a b":1}"#, &mut out, 0) == Err(Error::InvalidPropertyName)
        && twin.report(b"{", &mut out, 0) == Err(Error::InvalidJson);
    let Ok(req) = twin.report(b"{}", &mut out, 0) else {
        return false;
    };
    let full = twin.report(b"{}", &mut out, 0) == Err(Error::Busy);
    let deadline = twin.next_deadline() == Some(10_000);
    let early = twin.poll(9_999).is_none();
    let timed_out = twin.poll(10_000)
        == Some(TwinEvent::Failed {
            id: req.id,
            op: Op::Report,
            error: Error::Timeout,
        });
    refused && full && deadline && early && timed_out && twin.pending() == 0
}

pub fn aws_delta_is_desired_once() -> bool {
    let Ok(mut twin) = Twin::<'_, 4>::new(TwinConfig::new(Cloud::Aws)) else {
        return false;
    };
    let delta = br#"{"version":7,"timestamp":1700000000,"state":{"led":"on"},"metadata":{}}"#;
    let first = twin.on_desired(None, black_box(delta))
        == Ok(Outcome::Event(TwinEvent::Desired {
            patch: br#"{"led":"on"}"#,
            version: 7,
        }));
    let stale = twin.on_desired(None, delta) == Ok(Outcome::Ignored(Ignored::Stale { version: 7 }));
    let no_version = twin.on_desired(None, br#"{"state":{}}"#) == Err(Error::UnexpectedJson);
    first && stale && no_version && twin.last_desired_version() == Some(7)
}
