//! The twin model against Azure IoT Hub device twin rules and answers.

use nimbus::cloud::Cloud;
use nimbus::twin::{
    Ignored, Op, Outcome, Response, SpacePolicy, Twin, TwinConfig, TwinEvent, TwinRequest,
    AZURE_MAX_DEPTH, AZURE_MAX_NAME, AZURE_MAX_SECTION,
};
use nimbus::Error;

const TIMEOUT: u32 = 4_000;

fn twin_with(spaces: SpacePolicy) -> Twin<'static> {
    let mut c = TwinConfig::new(Cloud::Azure);
    c.timeout_ms = TIMEOUT;
    c.spaces = spaces;
    Twin::new(c).unwrap()
}

fn twin() -> Twin<'static> {
    twin_with(SpacePolicy::Reject)
}

fn res<'a>(status: u16, rid: &'a str, version: Option<u64>, payload: &'a [u8]) -> Response<'a> {
    Response::Azure {
        status,
        rid,
        version,
        payload,
    }
}

fn report(t: &mut Twin<'_>, patch: &[u8]) -> Result<(TwinRequest, Vec<u8>), Error> {
    let mut out = vec![0u8; 40_000];
    let r = t.report(patch, &mut out, 0)?;
    out.truncate(r.len);
    Ok((r, out))
}

fn object_of_len(len: usize) -> String {
    let s = format!(r#"{{"k":"{}"}}"#, "x".repeat(len - 8));
    assert_eq!(s.len(), len);
    s
}

#[test]
fn report_is_sent_as_is_and_accepted() {
    let mut t = twin();
    let patch = br#"{"led":"on","cfg":{"rate":5,"name":"a b.c"}}"#;
    let (req, payload) = report(&mut t, patch).unwrap();
    assert_eq!((req.op, req.id.as_str()), (Op::Report, "1"));
    assert_eq!(payload, patch);
    let out = t.on_response(res(204, "1", Some(5), b"")).unwrap();
    assert_eq!(
        out,
        Outcome::Event(TwinEvent::ReportAccepted {
            id: req.id,
            version: Some(5)
        })
    );
    assert_eq!(
        t.on_response(res(204, "1", Some(5), b"")),
        Ok(Outcome::Ignored(Ignored::UnknownRequest))
    );
}

#[test]
fn report_rejected_with_each_status() {
    let mut t = twin();
    for status in [400u16, 429, 500, 503] {
        let (req, _) = report(&mut t, b"{}").unwrap();
        let body = format!(r#"{{"Message":"status {status}","ExceptionMessage":""}}"#);
        let out = t
            .on_response(res(status, req.id.as_str(), None, body.as_bytes()))
            .unwrap();
        assert_eq!(
            out,
            Outcome::Event(TwinEvent::Rejected {
                id: req.id,
                op: Op::Report,
                status,
                message: body.as_bytes()
            })
        );
    }
    // The body is handed on as is, JSON or not.
    let (req, _) = report(&mut t, b"{}").unwrap();
    let out = t
        .on_response(res(400, req.id.as_str(), None, b"not json"))
        .unwrap();
    assert!(matches!(
        out,
        Outcome::Event(TwinEvent::Rejected {
            message: b"not json",
            ..
        })
    ));
    assert_eq!(t.pending(), 0);
}

#[test]
fn timeout_then_late_answer_is_ignored() {
    let mut t = twin();
    let mut out = [0u8; 8];
    let req = t.report(b"{}", &mut out, 50).unwrap();
    assert_eq!(t.poll(50 + u64::from(TIMEOUT) - 1), None);
    assert_eq!(
        t.poll(50 + u64::from(TIMEOUT)),
        Some(TwinEvent::Failed {
            id: req.id,
            op: Op::Report,
            error: Error::Timeout
        })
    );
    assert_eq!(t.poll(u64::MAX), None);
    assert_eq!(
        t.on_response(res(204, req.id.as_str(), Some(2), b"")),
        Ok(Outcome::Ignored(Ignored::UnknownRequest))
    );
}

#[test]
fn answers_for_unknown_rids_are_ignored() {
    let mut t = twin();
    let (req, _) = report(&mut t, b"{}").unwrap();
    for rid in ["2", "01", "", "1 ", "A", "100000000", "-1"] {
        assert_eq!(
            t.on_response(res(204, rid, Some(1), b"")),
            Ok(Outcome::Ignored(Ignored::UnknownRequest)),
            "{rid:?}"
        );
    }
    assert_eq!(t.pending(), 1);
    let aws = Response::Aws {
        reply: nimbus::twin::AwsReply::UpdateAccepted,
        payload: br#"{"clientToken":"1"}"#,
    };
    assert_eq!(t.on_response(aws), Err(Error::InvalidArgument));
    assert!(matches!(
        t.on_response(res(204, req.id.as_str(), None, b"")),
        Ok(Outcome::Event(TwinEvent::ReportAccepted {
            version: None,
            ..
        }))
    ));
}

#[test]
fn get_full_document_is_normalised() {
    let mut t = twin();
    let mut out = [0u8; 8];
    let req = t.get(&mut out, 0).unwrap();
    assert_eq!((req.op, req.len), (Op::Get, 0));
    let doc = br#"{"desired":{"led":"on","cfg":{"rate":5},"$version":4},"reported":{"led":"off","$version":9}}"#;
    let out = t.on_response(res(200, req.id.as_str(), None, doc)).unwrap();
    assert_eq!(
        out,
        Outcome::Event(TwinEvent::Document {
            id: req.id,
            desired: br#"{"led":"on","cfg":{"rate":5},"$version":4}"#,
            reported: br#"{"led":"off","$version":9}"#,
            version: 4
        })
    );
}

#[test]
fn get_with_empty_sections_and_malformed_bodies() {
    let mut t = twin();
    for (doc, version) in [
        (&b"{}"[..], 0),
        (br#"{"desired":{"$version":1}}"#, 1),
        (br#"{"reported":null}"#, 0),
    ] {
        let req = t.get(&mut [], 0).unwrap();
        let out = t.on_response(res(200, req.id.as_str(), None, doc)).unwrap();
        let want_desired: &[u8] = if version == 1 {
            br#"{"$version":1}"#
        } else {
            b"{}"
        };
        assert_eq!(
            out,
            Outcome::Event(TwinEvent::Document {
                id: req.id,
                desired: want_desired,
                reported: b"{}",
                version
            })
        );
    }
    // A 200 whose body cannot be read still completes the request, once.
    for (doc, error) in [
        (&b""[..], Error::InvalidJson),
        (br#"{"desired":{"$version":1}"#, Error::InvalidJson),
        (br#"{"desired":{"$version":"1"}}"#, Error::UnexpectedJson),
        (br#"{"desired":"x"}"#, Error::UnexpectedJson),
    ] {
        let req = t.get(&mut [], 0).unwrap();
        let out = t.on_response(res(200, req.id.as_str(), None, doc)).unwrap();
        assert_eq!(
            out,
            Outcome::Event(TwinEvent::Failed {
                id: req.id,
                op: Op::Get,
                error
            })
        );
    }
    assert_eq!(t.pending(), 0);
}

#[test]
fn get_document_at_and_over_the_size_limit() {
    let mut t = twin();
    for (which, size, fits) in [
        ("desired", AZURE_MAX_SECTION, true),
        ("reported", AZURE_MAX_SECTION, true),
        ("desired", AZURE_MAX_SECTION + 1, false),
        ("reported", AZURE_MAX_SECTION + 1, false),
    ] {
        let req = t.get(&mut [], 0).unwrap();
        let doc = format!(r#"{{"{which}":{},"other":1}}"#, object_of_len(size));
        let out = t
            .on_response(res(200, req.id.as_str(), None, doc.as_bytes()))
            .unwrap();
        if fits {
            assert!(
                matches!(out, Outcome::Event(TwinEvent::Document { .. })),
                "{which} {size}"
            );
        } else {
            assert_eq!(
                out,
                Outcome::Event(TwinEvent::Failed {
                    id: req.id,
                    op: Op::Get,
                    error: Error::DocumentTooLarge
                })
            );
        }
    }
}

#[test]
fn desired_patches_in_order_out_of_order_and_duplicated() {
    let mut t = twin();
    let p = |v: u64| format!(r#"{{"led":"v{v}","$version":{v}}}"#);
    let p3 = p(3);
    assert_eq!(
        t.on_desired(Some(3), p3.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: p3.as_bytes(),
            version: 3
        }))
    );
    assert_eq!(
        t.on_desired(Some(3), p3.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 3 }))
    );
    let p5 = p(5);
    assert!(matches!(
        t.on_desired(Some(5), p5.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired { version: 5, .. }))
    ));
    let p4 = p(4);
    assert_eq!(
        t.on_desired(Some(4), p4.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 4 }))
    );
    // Without a topic version, the body's $version counts.
    let p6 = p(6);
    assert!(matches!(
        t.on_desired(None, p6.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired { version: 6, .. }))
    ));
    // With both, the topic's.
    assert_eq!(
        t.on_desired(Some(6), p(7).as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 6 }))
    );
    // Whitespace around the body is not part of the patch.
    assert_eq!(
        t.on_desired(Some(7), b" {\"a\":1} \n"),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: b"{\"a\":1}",
            version: 7
        }))
    );
    for bad in [
        &br#"{"led":1}"#[..],
        br#"{"$version":"8"}"#,
        br#"{"$version":1e1}"#,
        b"[1]",
        b"8",
    ] {
        assert_eq!(
            t.on_desired(None, bad),
            Err(Error::UnexpectedJson),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(t.on_desired(Some(9), b"{"), Err(Error::InvalidJson));
    assert_eq!(t.last_desired_version(), Some(7));
}

#[test]
fn offline_changes_arrive_once_after_reconnect() {
    let mut t = twin();
    let mut out = [0u8; 8];
    assert!(matches!(
        t.on_desired(Some(2), br#"{"a":2,"$version":2}"#),
        Ok(Outcome::Event(_))
    ));
    // Offline: desired goes to 3 then 4. On reconnect the model fetches the twin.
    let sync = t.on_connected(&mut out, 0).unwrap();
    assert_eq!((sync.op, sync.len), (Op::Get, 0));
    let doc = br#"{"desired":{"a":4,"b":1,"$version":4},"reported":{"$version":7}}"#;
    assert_eq!(
        t.on_response(res(200, sync.id.as_str(), None, doc)),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: br#"{"a":4,"b":1,"$version":4}"#,
            version: 4
        }))
    );
    // The queued PATCH for version 4 arriving afterwards is a duplicate.
    assert_eq!(
        t.on_desired(Some(4), br#"{"b":1,"$version":4}"#),
        Ok(Outcome::Ignored(Ignored::Stale { version: 4 }))
    );
    // Reconnect again, nothing changed: nothing delivered.
    let sync = t.on_connected(&mut out, 0).unwrap();
    assert_eq!(
        t.on_response(res(200, sync.id.as_str(), None, doc)),
        Ok(Outcome::Ignored(Ignored::Stale { version: 4 }))
    );
    // A failed sync is reported with its id so the caller can retry.
    let sync = t.on_connected(&mut out, 0).unwrap();
    assert!(matches!(
        t.on_response(res(429, sync.id.as_str(), None, b"")),
        Ok(Outcome::Event(TwinEvent::Rejected {
            status: 429,
            op: Op::Get,
            ..
        }))
    ));
    let sync = t.on_connected(&mut out, 0).unwrap();
    let newer = br#"{"desired":{"a":5,"$version":5}}"#;
    assert!(matches!(
        t.on_response(res(200, sync.id.as_str(), None, newer)),
        Ok(Outcome::Event(TwinEvent::Desired { version: 5, .. }))
    ));
}

#[test]
fn depth_boundary() {
    let mut t = twin();
    let nest = |depth: usize| {
        let mut s = String::new();
        for _ in 0..depth - 1 {
            s.push_str(r#"{"k":"#);
        }
        s.push_str("{}");
        s.push_str(&"}".repeat(depth - 1));
        s
    };
    let ok = nest(AZURE_MAX_DEPTH);
    assert_eq!(
        nimbus::twin::json::validate(ok.as_bytes()).unwrap().depth,
        10
    );
    assert!(report(&mut t, ok.as_bytes()).is_ok());
    assert_eq!(
        report(&mut t, nest(AZURE_MAX_DEPTH + 1).as_bytes()).err(),
        Some(Error::JsonTooDeep)
    );
    assert_eq!(
        report(&mut t, nest(40).as_bytes()).err(),
        Some(Error::JsonTooDeep)
    );
}

#[test]
fn property_names_are_checked_at_every_level() {
    let mut t = twin();
    let long_ok = format!(r#"{{"{}":1}}"#, "n".repeat(AZURE_MAX_NAME));
    assert!(report(&mut t, long_ok.as_bytes()).is_ok());
    // Multi-byte characters count in bytes.
    let long_utf8 = format!(r#"{{"{}é":1}}"#, "n".repeat(AZURE_MAX_NAME - 1));
    let too_long = format!(r#"{{"{}":1}}"#, "n".repeat(AZURE_MAX_NAME + 1));
    assert!(report(&mut t, "{\"\u{e9}\u{4e16}\":{\"x\":true}}".as_bytes()).is_ok());
    for bad in [
        &br#"{"a.b":1}"#[..],
        br#"{"$a":1}"#,
        br#"{"ok":{"in$ner":1}}"#,
        br#"{"ok":{"deep":{"x.y":1}}}"#,
        br#"{"a b":1}"#,
        br#"{"ok":{"a b":1}}"#,
        br#"{"tab\there":1}"#,
        br#"{"nul\u0000":1}"#,
        br#"{"esc\u002e":1}"#,
        br#"{"esc\u0024":1}"#,
        br#"{"del\u007f":1}"#,
        br#"{"c1\u0085":1}"#,
        "{\"c1\u{85}raw\":1}".as_bytes(),
        br#"{"":1}"#,
        long_utf8.as_bytes(),
        too_long.as_bytes(),
    ] {
        assert_eq!(
            report(&mut t, bad).err(),
            Some(Error::InvalidPropertyName),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Values are free text.
    assert!(report(&mut t, br#"{"ok":"a b.c$d","n":null}"#).is_ok());
    assert_eq!(report(&mut t, b"[]").err(), Some(Error::UnexpectedJson));
    assert_eq!(report(&mut t, br#"{"a":}"#).err(), Some(Error::InvalidJson));
}

#[test]
fn spaces_in_names_can_be_removed() {
    let mut t = twin_with(SpacePolicy::Remove);
    let (_, payload) = report(
        &mut t,
        br#"{"fan speed":1,"cfg":{" a  b ":"x y","ok":2},"sp\u0020ace":{}}"#,
    )
    .unwrap();
    assert_eq!(
        payload,
        br#"{"fanspeed":1,"cfg":{"ab":"x y","ok":2},"space":{}}"#
    );
    // Other rules still apply; a name of only spaces is refused.
    assert_eq!(
        report(&mut t, br#"{"a b.c":1}"#).err(),
        Some(Error::InvalidPropertyName)
    );
    assert_eq!(
        report(&mut t, br#"{"  ":1}"#).err(),
        Some(Error::InvalidPropertyName)
    );
    // The size limit applies to what is sent: a patch over 32 KB that
    // shrinks to the limit passes.
    let inner = AZURE_MAX_SECTION - 8;
    let shrinking = format!(r#"{{"k  ":"{}"}}"#, "x".repeat(inner));
    assert_eq!(shrinking.len(), AZURE_MAX_SECTION + 2);
    let (req, payload) = report(&mut t, shrinking.as_bytes()).unwrap();
    assert_eq!(
        (req.len, payload.len()),
        (AZURE_MAX_SECTION, AZURE_MAX_SECTION)
    );
}

#[test]
fn size_boundary() {
    let mut t = twin();
    assert!(report(&mut t, object_of_len(AZURE_MAX_SECTION).as_bytes()).is_ok());
    assert_eq!(
        report(&mut t, object_of_len(AZURE_MAX_SECTION + 1).as_bytes()).err(),
        Some(Error::DocumentTooLarge)
    );
    let mut small = [0u8; 4];
    assert_eq!(
        t.report(br#"{"a":1}"#, &mut small, 0),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(t.pending(), 1);
}

#[test]
fn table_full_is_busy() {
    let mut t: Twin<'_, 3> = Twin::new(TwinConfig::new(Cloud::Azure)).unwrap();
    let mut out = [0u8; 16];
    let a = t.report(b"{}", &mut out, 0).unwrap();
    t.report(b"{}", &mut out, 0).unwrap();
    t.on_connected(&mut out, 0).unwrap();
    assert_eq!(t.report(b"{}", &mut out, 0), Err(Error::Busy));
    assert_eq!(t.get(&mut out, 0), Err(Error::Busy));
    assert!(matches!(
        t.on_response(res(204, a.id.as_str(), None, b"")),
        Ok(Outcome::Event(_))
    ));
    assert!(t.report(b"{}", &mut out, 0).is_ok());
    // Ten pending: Azure has no in-flight rule of its own, the table decides.
    let mut t = twin();
    for _ in 0..10 {
        t.report(b"{}", &mut out, 0).unwrap();
    }
    assert_eq!(t.report(b"{}", &mut out, 0), Err(Error::Busy));
}
