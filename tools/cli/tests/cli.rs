//! The built `nimbus` binary: one JSON line on success, non-zero exit and a
//! reason on stderr on refusal.

use std::process::Command;

mod common;
use common::{nimbus, ok};

#[test]
fn topic_out_both_clouds() {
    assert_eq!(
        ok(&[
            "topic",
            "out",
            "--cloud",
            "azure",
            "--device",
            "d1",
            "d1/response/sensor/list"
        ]),
        r#"{"topic":"devices/d1/messages/events/subtopic=response.sensor.list"}"#
    );
    assert_eq!(
        ok(&[
            "topic",
            "out",
            "--cloud",
            "aws",
            "--device",
            "d1",
            "d1/response/sensor/12/reading"
        ]),
        r#"{"topic":"d1/response/sensor/12/reading"}"#
    );
    assert_eq!(
        ok(&[
            "topic",
            "out",
            "--cloud",
            "azure",
            "--device",
            "d1",
            "--module",
            "m1",
            "--prop",
            "$.ct=application/json",
            "--prop",
            "k=a=b",
            "d1/events",
        ]),
        r#"{"topic":"devices/d1/modules/m1/messages/events/%24.ct=application%2Fjson&k=a%3Db"}"#
    );
}

#[test]
fn topic_in_every_kind() {
    let azure = ["topic", "in", "--cloud", "azure", "--device", "d1"];
    let with = |base: &[&str], topic: &str| {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        v.push(topic.to_string());
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        ok(&refs)
    };
    assert_eq!(
        with(&azure, "$iothub/methods/POST/sensor.12.get/?$rid=a1"),
        r#"{"kind":"request","topic":"d1/request/sensor/12/get","via":"method","rid":"a1"}"#
    );
    assert_eq!(
        with(&azure, "devices/d1/messages/devicebound/%24.mid=7&subtopic=request.sensor.list&q=%22x%5C%22&bare"),
        r#"{"kind":"request","topic":"d1/request/sensor/list","via":"c2d","properties":{"$.mid":"7","subtopic":"request.sensor.list","q":"\"x\\\"","bare":null}}"#
    );
    assert_eq!(
        with(&azure, "$iothub/twin/res/204/?$rid=42&$version=16"),
        r#"{"kind":"twin_response","status":204,"rid":"42","version":16}"#
    );
    assert_eq!(
        with(&azure, "$iothub/twin/res/200/?$rid=41"),
        r#"{"kind":"twin_response","status":200,"rid":"41","version":null}"#
    );
    assert_eq!(
        with(&azure, "$iothub/twin/PATCH/properties/desired/?$version=5"),
        r#"{"kind":"desired","version":5}"#
    );
    let aws = ["topic", "in", "--cloud", "aws", "--device", "d1"];
    assert_eq!(
        with(&aws, "d1/request/general_information"),
        r#"{"kind":"request","topic":"d1/request/general_information","via":"topic"}"#
    );
    assert_eq!(
        with(&aws, "$aws/things/d1/shadow/update/delta"),
        r#"{"kind":"shadow","op":"update/delta","shadow":null}"#
    );
    assert_eq!(
        with(&aws, "$aws/things/d1/shadow/name/net/get/accepted"),
        r#"{"kind":"shadow","op":"get/accepted","shadow":"net"}"#
    );
}

#[test]
fn respond_and_twin() {
    assert_eq!(
        ok(&[
            "topic",
            "respond",
            "--cloud",
            "azure",
            "--device",
            "d1",
            "--to",
            "$iothub/methods/POST/x/?$rid=9",
            "--status",
            "204"
        ]),
        r#"{"topic":"$iothub/methods/res/204/?$rid=9"}"#
    );
    assert_eq!(
        ok(&[
            "topic",
            "respond",
            "--cloud",
            "azure",
            "--device",
            "d1",
            "--to",
            "devices/d1/messages/devicebound/subtopic=request.sensor.list"
        ]),
        r#"{"topic":"devices/d1/messages/events/subtopic=response.sensor.list"}"#
    );
    assert_eq!(
        ok(&[
            "topic",
            "respond",
            "--cloud",
            "aws",
            "--device",
            "d1",
            "--to",
            "d1/request/sensor/list"
        ]),
        r#"{"topic":"d1/response/sensor/list"}"#
    );
    assert_eq!(
        ok(&["twin", "get", "--cloud", "azure", "--device", "d1", "--rid", "42"]),
        r#"{"topic":"$iothub/twin/GET/?$rid=42"}"#
    );
    assert_eq!(
        ok(&["twin", "report", "--cloud", "aws", "--device", "d1", "--shadow", "cfg"]),
        r#"{"topic":"$aws/things/d1/shadow/name/cfg/update"}"#
    );
}

#[test]
fn azure_credentials() {
    assert_eq!(
        ok(&[
            "azure",
            "username",
            "--hub",
            "h.azure-devices.net",
            "--device",
            "d1"
        ]),
        r#"{"username":"h.azure-devices.net/d1/?api-version=2021-04-12","client_id":"d1"}"#
    );
    assert_eq!(
        ok(&[
            "azure",
            "username",
            "--hub",
            "h.azure-devices.net",
            "--device",
            "d1",
            "--module",
            "m",
            "--api-version",
            "2020-09-30"
        ]),
        r#"{"username":"h.azure-devices.net/d1/m/?api-version=2020-09-30","client_id":"d1/m"}"#
    );
    // Checked against python3's hmac, independently of the core.
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let script = r#"
import base64, hashlib, hmac, sys, urllib.parse
sr = urllib.parse.quote("h.azure-devices.net/devices/d1", safe="")
mac = hmac.new(base64.b64decode(sys.argv[1]), (sr + "\n1700000000").encode(), hashlib.sha256).digest()
print("SharedAccessSignature sr=%s&sig=%s&se=1700000000" % (sr, urllib.parse.quote(base64.b64encode(mac).decode(), safe="")), end="")
"#;
    let py = Command::new("python3")
        .args(["-c", script, key])
        .output()
        .expect("python3 is required");
    assert!(py.status.success());
    let expected = String::from_utf8(py.stdout).unwrap();
    assert_eq!(
        ok(&[
            "azure",
            "sas",
            "--hub",
            "h.azure-devices.net",
            "--device",
            "d1",
            "--key",
            key,
            "--expiry",
            "1700000000"
        ]),
        format!(r#"{{"password":"{expected}"}}"#)
    );
}

#[test]
fn refusals_exit_non_zero_with_a_reason() {
    let cases: [(&[&str], i32, &str); 8] = [
        (
            &[
                "topic",
                "out",
                "--cloud",
                "azure",
                "--device",
                "d1",
                "d2/events",
            ],
            1,
            "another device",
        ),
        (
            &[
                "topic", "out", "--cloud", "aws", "--device", "d1", "d1/nope",
            ],
            1,
            "not a generic",
        ),
        (
            &[
                "topic",
                "in",
                "--cloud",
                "azure",
                "--device",
                "d1",
                "$iothub/methods/POST/x/?$rid=a%20b",
            ],
            1,
            "percent-encoding",
        ),
        (
            &[
                "topic", "out", "--cloud", "aws", "--device", "bad name", "x/events",
            ],
            1,
            "invalid device",
        ),
        (
            &[
                "azure", "sas", "--hub", "h", "--device", "d1", "--key", "!!", "--expiry", "1",
            ],
            1,
            "credentials",
        ),
        (
            &[
                "topic",
                "out",
                "--cloud",
                "gcp",
                "--device",
                "d1",
                "d1/events",
            ],
            2,
            "--cloud",
        ),
        (&["topic", "sideways"], 2, "unknown command"),
        (&["twin", "get", "--cloud", "aws"], 2, "missing --device"),
    ];
    for (args, code, reason) in cases {
        let (got, stdout, stderr) = nimbus(args);
        assert_eq!(got, code, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}
