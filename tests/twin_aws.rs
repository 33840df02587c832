//! The twin model against AWS IoT device shadow rules and answers.

use nimbus::cloud::Cloud;
use nimbus::twin::{
    json, AwsReply, Ignored, Op, Outcome, RequestId, Response, Twin, TwinConfig, TwinEvent,
    TwinRequest, AWS_MAX_DOCUMENT, AWS_MAX_IN_FLIGHT,
};
use nimbus::Error;

const TIMEOUT: u32 = 5_000;

fn twin() -> Twin<'static> {
    let mut c = TwinConfig::new(Cloud::Aws);
    c.timeout_ms = TIMEOUT;
    Twin::new(c).unwrap()
}

fn aws(reply: AwsReply, payload: &[u8]) -> Response<'_> {
    Response::Aws { reply, payload }
}

fn report(t: &mut Twin<'_>, patch: &str) -> (TwinRequest, String) {
    let mut out = [0u8; 9000];
    let r = t.report(patch.as_bytes(), &mut out, 0).unwrap();
    (r, String::from_utf8(out[..r.len].to_vec()).unwrap())
}

fn accepted(token: &str, version: u64) -> String {
    format!(
        r#"{{"state":{{"reported":{{"led":"on"}}}},"metadata":{{"reported":{{"led":{{"timestamp":1700000000}}}}}},"version":{version},"timestamp":1700000001,"clientToken":"{token}"}}"#
    )
}

/// A string member padded so that the object is exactly `len` bytes.
fn object_of_len(len: usize) -> String {
    let s = format!(r#"{{"k":"{}"}}"#, "x".repeat(len - 8));
    assert_eq!(s.len(), len);
    s
}

#[test]
fn report_is_wrapped_and_accepted() {
    let mut t = twin();
    let (req, payload) = report(&mut t, r#"{"led":"on"}"#);
    assert_eq!(req.op, Op::Report);
    assert_eq!(req.id.as_str(), "1");
    assert_eq!(
        payload,
        r#"{"state":{"reported":{"led":"on"}},"clientToken":"1"}"#
    );
    assert_eq!(t.pending(), 1);
    let answer = accepted("1", 7);
    let out = t
        .on_response(aws(AwsReply::UpdateAccepted, answer.as_bytes()))
        .unwrap();
    assert_eq!(
        out,
        Outcome::Event(TwinEvent::ReportAccepted {
            id: req.id,
            version: Some(7)
        })
    );
    assert_eq!(t.pending(), 0);
    // The same answer again is for a completed request.
    let again = t.on_response(aws(AwsReply::UpdateAccepted, answer.as_bytes()));
    assert_eq!(again, Ok(Outcome::Ignored(Ignored::UnknownRequest)));
}

#[test]
fn report_rejected_with_each_status() {
    let mut t = twin();
    for status in [400u16, 401, 403, 404, 409, 413, 429, 500] {
        let (req, _) = report(&mut t, r#"{"a":1}"#);
        let answer = format!(
            r#"{{"code":{status},"message":"refused \"{status}\"","timestamp":1,"clientToken":"{}"}}"#,
            req.id.as_str()
        );
        let out = t
            .on_response(aws(AwsReply::UpdateRejected, answer.as_bytes()))
            .unwrap();
        let Outcome::Event(TwinEvent::Rejected {
            id,
            op,
            status: got,
            message,
        }) = out
        else {
            panic!("{out:?}")
        };
        assert_eq!((id, op, got), (req.id, Op::Report, status));
        assert_eq!(message, format!(r#"refused \"{status}\""#).as_bytes());
        let mut buf = [0u8; 32];
        assert_eq!(
            json::unescape(message, &mut buf),
            Ok(format!("refused \"{status}\"").as_str())
        );
    }
    assert_eq!(t.pending(), 0);
}

#[test]
fn get_rejected_and_rejection_without_code() {
    let mut t = twin();
    let mut out = [0u8; 64];
    let req = t.get(&mut out, 0).unwrap();
    assert_eq!(&out[..req.len], br#"{"clientToken":"1"}"#);
    // An update/rejected for a get's token is not its answer.
    let answer = br#"{"code":404,"message":"No shadow exists with name: 'x'","clientToken":"1"}"#;
    assert_eq!(
        t.on_response(aws(AwsReply::UpdateRejected, answer)),
        Ok(Outcome::Ignored(Ignored::UnknownRequest))
    );
    assert_eq!(t.pending(), 1);
    let out = t.on_response(aws(AwsReply::GetRejected, answer)).unwrap();
    assert_eq!(
        out,
        Outcome::Event(TwinEvent::Rejected {
            id: req.id,
            op: Op::Get,
            status: 404,
            message: b"No shadow exists with name: 'x'"
        })
    );
    let req = t.get(&mut [0u8; 64], 0).unwrap();
    let answer = format!(r#"{{"code":70000,"clientToken":"{}"}}"#, req.id.as_str());
    let out = t
        .on_response(aws(AwsReply::GetRejected, answer.as_bytes()))
        .unwrap();
    assert!(matches!(
        out,
        Outcome::Event(TwinEvent::Rejected {
            status: 0,
            message: b"",
            ..
        })
    ));
}

#[test]
fn timeout_then_late_answer_is_ignored() {
    let mut t = twin();
    let mut out = [0u8; 128];
    let req = t.report(b"{}", &mut out, 1_000).unwrap();
    assert_eq!(t.next_deadline(), Some(1_000 + u64::from(TIMEOUT)));
    assert_eq!(t.poll(1_000 + u64::from(TIMEOUT) - 1), None);
    assert_eq!(
        t.poll(1_000 + u64::from(TIMEOUT)),
        Some(TwinEvent::Failed {
            id: req.id,
            op: Op::Report,
            error: Error::Timeout
        })
    );
    assert_eq!(t.poll(u64::MAX), None, "a request times out once");
    assert_eq!(t.pending(), 0);
    let late = accepted(req.id.as_str(), 3);
    assert_eq!(
        t.on_response(aws(AwsReply::UpdateAccepted, late.as_bytes())),
        Ok(Outcome::Ignored(Ignored::UnknownRequest))
    );
}

#[test]
fn timeouts_come_out_earliest_first() {
    let mut t = twin();
    let mut out = [0u8; 128];
    let late = t.report(b"{}", &mut out, 300).unwrap();
    let early = t.get(&mut out, 100).unwrap();
    let mid = t.report(b"{}", &mut out, 200).unwrap();
    let mut order = Vec::new();
    while let Some(TwinEvent::Failed { id, .. }) = t.poll(u64::MAX) {
        order.push(id);
        assert!(order.len() <= 3);
    }
    assert_eq!(order, [early.id, mid.id, late.id]);
}

#[test]
fn answers_for_unknown_ids_are_ignored() {
    let mut t = twin();
    let (req, _) = report(&mut t, "{}");
    for answer in [
        accepted("2", 1),
        accepted("01", 1),
        accepted("1 ", 1),
        accepted("01", 1),
        accepted("", 1),
        r#"{"state":{},"version":2}"#.to_string(),
        r#"{"state":{},"version":2,"clientToken":1}"#.to_string(),
        r#"{"state":{},"version":2,"clientToken":"some-other-client"}"#.to_string(),
    ] {
        assert_eq!(
            t.on_response(aws(AwsReply::UpdateAccepted, answer.as_bytes())),
            Ok(Outcome::Ignored(Ignored::UnknownRequest)),
            "{answer}"
        );
    }
    // A malformed answer is an error and completes nothing.
    assert_eq!(
        t.on_response(aws(AwsReply::UpdateAccepted, br#"{"clientToken":"1""#)),
        Err(Error::InvalidJson)
    );
    assert_eq!(t.pending(), 1);
    // Answers of the other cloud are refused.
    let azure = Response::Azure {
        status: 204,
        rid: req.id.as_str(),
        version: None,
        payload: b"",
    };
    assert_eq!(t.on_response(azure), Err(Error::InvalidArgument));
    assert_eq!(t.pending(), 1);
}

#[test]
fn get_full_document_is_normalised() {
    let mut t = twin();
    let req = t.get(&mut [0u8; 64], 0).unwrap();
    let doc = br#"{"state":{"desired":{"led":"on","cfg":{"rate":5}},"reported":{"led":"off"},"delta":{"led":"on"}},"metadata":{"desired":{"led":{"timestamp":1}}},"version":12,"timestamp":2,"clientToken":"1"}"#;
    let out = t.on_response(aws(AwsReply::GetAccepted, doc)).unwrap();
    assert_eq!(
        out,
        Outcome::Event(TwinEvent::Document {
            id: req.id,
            desired: br#"{"led":"on","cfg":{"rate":5}}"#,
            reported: br#"{"led":"off"}"#,
            version: 12
        })
    );
    // A user get does not count as delivering the desired state.
    assert_eq!(t.last_desired_version(), None);
}

#[test]
fn get_with_empty_or_missing_sections() {
    let mut t = twin();
    for doc in [
        r#"{"state":{},"version":3,"clientToken":"TOKEN"}"#,
        r#"{"version":3,"clientToken":"TOKEN"}"#,
        r#"{"state":{"desired":null,"reported":{}},"version":3,"clientToken":"TOKEN"}"#,
    ] {
        let req = t.get(&mut [0u8; 64], 0).unwrap();
        let doc = doc.replace("TOKEN", req.id.as_str());
        let out = t
            .on_response(aws(AwsReply::GetAccepted, doc.as_bytes()))
            .unwrap();
        assert_eq!(
            out,
            Outcome::Event(TwinEvent::Document {
                id: req.id,
                desired: b"{}",
                reported: b"{}",
                version: 3
            }),
            "{doc}"
        );
    }
    // A section that is not an object is a malformed answer.
    let req = t.get(&mut [0u8; 64], 0).unwrap();
    let doc = format!(
        r#"{{"state":{{"desired":[1]}},"version":3,"clientToken":"{}"}}"#,
        req.id.as_str()
    );
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, doc.as_bytes())),
        Ok(Outcome::Event(TwinEvent::Failed {
            id: req.id,
            op: Op::Get,
            error: Error::UnexpectedJson
        }))
    );
}

#[test]
fn get_document_at_and_over_the_size_limit() {
    let mut t = twin();
    for (size, fits) in [(AWS_MAX_DOCUMENT, true), (AWS_MAX_DOCUMENT + 1, false)] {
        let req = t.get(&mut [0u8; 64], 0).unwrap();
        let desired = object_of_len(size - 11);
        let reported = object_of_len(11);
        let doc = format!(
            r#"{{"state":{{"desired":{desired},"reported":{reported}}},"metadata":{{"desired":{{"k":{{"timestamp":1}}}}}},"version":9,"clientToken":"{}"}}"#,
            req.id.as_str()
        );
        let out = t
            .on_response(aws(AwsReply::GetAccepted, doc.as_bytes()))
            .unwrap();
        if fits {
            assert!(
                matches!(out, Outcome::Event(TwinEvent::Document { desired: d, version: 9, .. }) if d.len() == size - 11)
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
    assert_eq!(t.pending(), 0);
}

#[test]
fn desired_deltas_in_order_out_of_order_and_duplicated() {
    let mut t = twin();
    let delta = |v: u64| {
        format!(
            r#"{{"version":{v},"timestamp":1,"state":{{"led":"v{v}"}},"metadata":{{"led":{{"timestamp":1}}}}}}"#
        )
    };
    let d5 = delta(5);
    assert_eq!(
        t.on_desired(None, d5.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: br#"{"led":"v5"}"#,
            version: 5
        }))
    );
    let d6 = delta(6);
    assert!(matches!(
        t.on_desired(None, d6.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired { version: 6, .. }))
    ));
    // Duplicate and older deltas are stale.
    assert_eq!(
        t.on_desired(None, d6.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 6 }))
    );
    assert_eq!(
        t.on_desired(None, d5.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 5 }))
    );
    // A gap is fine: versions only need to move forward.
    let d9 = delta(9);
    assert!(matches!(
        t.on_desired(None, d9.as_bytes()),
        Ok(Outcome::Event(TwinEvent::Desired { version: 9, .. }))
    ));
    let d8 = delta(8);
    assert_eq!(
        t.on_desired(None, d8.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 8 }))
    );
    assert_eq!(t.last_desired_version(), Some(9));
    // The topic version is not AWS's: the body decides.
    assert_eq!(
        t.on_desired(Some(100), d8.as_bytes()),
        Ok(Outcome::Ignored(Ignored::Stale { version: 8 }))
    );
    // Malformed deltas are errors and change nothing.
    for bad in [
        &br#"{"state":{"a":1}}"#[..],
        br#"{"version":10}"#,
        br#"{"version":"10","state":{}}"#,
        br#"{"version":10.0,"state":{}}"#,
        br#"{"version":-1,"state":{}}"#,
        br#"{"version":10,"state":[]}"#,
    ] {
        assert_eq!(
            t.on_desired(None, bad),
            Err(Error::UnexpectedJson),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        t.on_desired(None, br#"{"version":10,"state":{}"#),
        Err(Error::InvalidJson)
    );
    assert_eq!(t.last_desired_version(), Some(9));
}

#[test]
fn offline_changes_arrive_once_after_reconnect() {
    let mut t = twin();
    let mut out = [0u8; 64];
    // First connection: the sync get delivers the desired state.
    let sync = t.on_connected(&mut out, 0).unwrap();
    assert_eq!(sync.op, Op::Get);
    assert_eq!(
        &out[..sync.len],
        format!(r#"{{"clientToken":"{}"}}"#, sync.id.as_str()).as_bytes()
    );
    let doc = |token: &str, v: u64| {
        format!(
            r#"{{"state":{{"desired":{{"led":"v{v}"}},"reported":{{"led":"v3"}}}},"version":{v},"clientToken":"{token}"}}"#
        )
    };
    let first = doc(sync.id.as_str(), 3);
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, first.as_bytes())),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: br#"{"led":"v3"}"#,
            version: 3
        }))
    );
    // Offline: desired changed to v4 then v5. Reconnect.
    let sync = t.on_connected(&mut out, 10).unwrap();
    let second = doc(sync.id.as_str(), 5);
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, second.as_bytes())),
        Ok(Outcome::Event(TwinEvent::Desired {
            patch: br#"{"led":"v5"}"#,
            version: 5
        }))
    );
    // The delta of that change, arriving after the get, is a duplicate.
    let delta = br#"{"version":5,"state":{"led":"v5"}}"#;
    assert_eq!(
        t.on_desired(None, delta),
        Ok(Outcome::Ignored(Ignored::Stale { version: 5 }))
    );
    // A reconnect with nothing new delivers nothing.
    let sync = t.on_connected(&mut out, 20).unwrap();
    let third = doc(sync.id.as_str(), 5);
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, third.as_bytes())),
        Ok(Outcome::Ignored(Ignored::Stale { version: 5 }))
    );
    assert_eq!(t.pending(), 0);
}

#[test]
fn delta_before_sync_answer_wins_once() {
    let mut t = twin();
    let mut out = [0u8; 64];
    let sync = t.on_connected(&mut out, 0).unwrap();
    assert!(matches!(
        t.on_desired(None, br#"{"version":8,"state":{"x":1}}"#),
        Ok(Outcome::Event(TwinEvent::Desired { version: 8, .. }))
    ));
    let doc = format!(
        r#"{{"state":{{"desired":{{"x":1}}}},"version":8,"clientToken":"{}"}}"#,
        sync.id.as_str()
    );
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, doc.as_bytes())),
        Ok(Outcome::Ignored(Ignored::Stale { version: 8 }))
    );
}

#[test]
fn depth_boundary_counts_the_wrapper() {
    let mut t = twin();
    let mut out = [0u8; 256];
    // Patch depth 4 + "state" + "reported" = document depth 6.
    let ok = br#"{"a":{"b":{"c":{"d":1}}}}"#;
    let r = t.report(ok, &mut out, 0).unwrap();
    assert_eq!(json::validate(&out[..r.len]).unwrap().depth, 6);
    let arrays = br#"{"a":[[{"d":1}]]}"#;
    assert!(t.report(arrays, &mut out, 0).is_ok());
    for deep in [&br#"{"a":{"b":{"c":{"d":{}}}}}"#[..], br#"{"a":[[[{}]]]}"#] {
        assert_eq!(t.report(deep, &mut out, 0), Err(Error::JsonTooDeep));
    }
    assert_eq!(t.pending(), 2);
}

#[test]
fn document_size_boundary_includes_wrapper_and_token() {
    let mut t = twin();
    let mut out = vec![0u8; 9000];
    let probe = t.report(b"{}", &mut out, 0).unwrap();
    // The wrapper and the token "1"; the next token, "2", is as long.
    let overhead = probe.len - 2;
    let fits = object_of_len(AWS_MAX_DOCUMENT - overhead);
    let r = t.report(fits.as_bytes(), &mut out, 0).unwrap();
    assert_eq!(r.id.as_str(), "2");
    assert_eq!(r.len, AWS_MAX_DOCUMENT);
    let over = object_of_len(AWS_MAX_DOCUMENT - overhead + 1);
    assert_eq!(
        t.report(over.as_bytes(), &mut out, 0),
        Err(Error::DocumentTooLarge)
    );
    assert_eq!(t.pending(), 2);
}

#[test]
fn bad_patches_are_refused_and_change_nothing() {
    let mut t = twin();
    let mut out = [0u8; 64];
    assert_eq!(t.report(b"{\"a\":", &mut out, 0), Err(Error::InvalidJson));
    assert_eq!(t.report(b"", &mut out, 0), Err(Error::InvalidJson));
    assert_eq!(t.report(b"[1]", &mut out, 0), Err(Error::UnexpectedJson));
    assert_eq!(t.report(b"\"x\"", &mut out, 0), Err(Error::UnexpectedJson));
    // AWS accepts any property name.
    assert!(t.report(br#"{"a b.$c":1}"#, &mut out, 0).is_ok());
    assert_eq!(
        t.report(
            br#"{"a":"0123456789012345678901234567890123456789"}"#,
            &mut out,
            0
        ),
        Err(Error::BufferTooSmall)
    );
    assert_eq!(t.get(&mut out[..10], 0), Err(Error::BufferTooSmall));
    assert_eq!(t.pending(), 1);
    // The id of a failed attempt is not burnt: the next request gets "2".
    assert_eq!(t.get(&mut out, 0).unwrap().id.as_str(), "2");
}

#[test]
fn at_most_ten_in_flight() {
    // Even with a bigger table, AWS allows 10.
    let mut t: Twin<'_, 16> = Twin::new(TwinConfig::new(Cloud::Aws)).unwrap();
    let mut out = [0u8; 128];
    let mut ids = Vec::new();
    for i in 0..AWS_MAX_IN_FLIGHT {
        // At most one get is outstanding; the rest are reports.
        let r = if i == 1 {
            t.get(&mut out, 0)
        } else {
            t.report(b"{}", &mut out, 0)
        };
        ids.push(r.unwrap().id);
    }
    assert_eq!(t.report(b"{}", &mut out, 0), Err(Error::Busy));
    assert_eq!(t.get(&mut out, 0), Err(Error::Busy));
    assert_eq!(t.on_connected(&mut out, 0), Err(Error::Busy));
    let answer = accepted(ids[0].as_str(), 1);
    assert!(matches!(
        t.on_response(aws(AwsReply::UpdateAccepted, answer.as_bytes())),
        Ok(Outcome::Event(TwinEvent::ReportAccepted { .. }))
    ));
    assert!(t.report(b"{}", &mut out, 0).is_ok());
}

#[test]
fn ids_stay_unique_across_wraparound() {
    let mut c = TwinConfig::new(Cloud::Aws);
    c.first_request_id = u32::MAX - 1;
    let mut t: Twin<'_> = Twin::new(c).unwrap();
    let mut out = [0u8; 128];
    let a = t.report(b"{}", &mut out, 0).unwrap().id;
    let b = t.report(b"{}", &mut out, 0).unwrap().id;
    let c = t.get(&mut out, 0).unwrap().id;
    assert_eq!(
        [a.as_str(), b.as_str(), c.as_str()],
        ["fffffffe", "ffffffff", "1"]
    );
    assert_eq!(RequestId::new(1), Some(c));
}

#[test]
fn named_shadow_names_are_checked() {
    let with = |name: &'static str| {
        let mut c = TwinConfig::new(Cloud::Aws);
        c.shadow_name = Some(name);
        <Twin<'_>>::new(c).map(|t| t.shadow_name())
    };
    assert_eq!(with("config"), Ok(Some("config")));
    assert_eq!(with("A-b_c:9"), Ok(Some("A-b_c:9")));
    let max = "n".repeat(64);
    let max: &'static str = Box::leak(max.into_boxed_str());
    assert_eq!(with(max), Ok(Some(max)));
    let long: &'static str = Box::leak("n".repeat(65).into_boxed_str());
    for bad in ["", long, "a b", "a/b", "a.b", "a$b", "é"] {
        assert_eq!(with(bad), Err(Error::InvalidName), "{bad:?}");
    }
    let mut c = TwinConfig::new(Cloud::Azure);
    c.shadow_name = Some("config");
    assert_eq!(<Twin<'_>>::new(c).err(), Some(Error::InvalidArgument));
}

#[test]
fn at_most_one_get_is_outstanding_and_a_new_session_supersedes_it() {
    let mut t: Twin<'_> = Twin::new(TwinConfig::new(Cloud::Aws)).unwrap();
    let mut out = [0u8; 128];
    // Reconnects: each sync get replaces the previous one.
    let first = t.on_connected(&mut out, 0).unwrap();
    assert_eq!(first.superseded, None);
    let second = t.on_connected(&mut out, 10).unwrap();
    assert_eq!(second.superseded, Some(first.id));
    let third = t.on_connected(&mut out, 20).unwrap();
    assert_eq!(third.superseded, Some(second.id));
    assert_eq!(t.pending(), 1, "one get, whatever the reconnects");
    assert_eq!(t.pending_get(), Some((third.id, true)));
    // The application cannot add a second get; a late answer to a
    // superseded one is not ours any more.
    assert_eq!(t.get(&mut out, 30), Err(Error::Busy));
    let late = format!(
        r#"{{"state":{{}},"version":3,"clientToken":"{}"}}"#,
        first.id.as_str()
    );
    assert_eq!(
        t.on_response(aws(AwsReply::GetAccepted, late.as_bytes())),
        Ok(Outcome::Ignored(Ignored::UnknownRequest))
    );
    // While an application get is pending, a reconnect waits for it.
    let mut t: Twin<'_> = Twin::new(TwinConfig::new(Cloud::Aws)).unwrap();
    let user = t.get(&mut out, 0).unwrap();
    assert_eq!(t.on_connected(&mut out, 1), Err(Error::Busy));
    assert_eq!(t.pending_get(), Some((user.id, false)));
}

#[test]
fn an_answer_too_large_to_read_fails_its_request() {
    let mut t: Twin<'_> = Twin::new(TwinConfig::new(Cloud::Aws)).unwrap();
    let mut out = [0u8; 128];
    let early = t.report(b"{}", &mut out, 0).unwrap().id;
    let late = t.report(b"{}", &mut out, 5).unwrap().id;
    let get = t.get(&mut out, 5).unwrap().id;
    assert_eq!(
        t.fail(None, Op::Report, Error::PacketTooLarge),
        Some(TwinEvent::Failed {
            id: early,
            op: Op::Report,
            error: Error::PacketTooLarge
        }),
        "the oldest report"
    );
    assert_eq!(
        t.fail(None, Op::Get, Error::PacketTooLarge),
        Some(TwinEvent::Failed {
            id: get,
            op: Op::Get,
            error: Error::PacketTooLarge
        })
    );
    assert_eq!(t.fail(None, Op::Get, Error::PacketTooLarge), None);
    assert!(t
        .fail(Some(late), Op::Report, Error::PacketTooLarge)
        .is_some());
    assert_eq!(t.pending(), 0);
}
