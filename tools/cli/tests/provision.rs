//! `nimbus provision write|show` through the built binary: round trips
//! for both clouds, refusals, and one record checked byte for byte
//! against CBOR assembled here and a CRC from Python's zlib.

use std::path::PathBuf;
use std::process::Command;

mod common;
use common::{nimbus, ok};

/// Runs a command that must fail with `code`; returns its stderr.
fn fails(code: i32, args: &[&str]) -> String {
    let (got, stdout, stderr) = nimbus(args);
    assert_eq!(got, code, "{args:?}: {stdout} {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    stderr
}

/// A fresh directory for one test, removed when the test ends (also when
/// it fails).
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("nimbus-provision-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn path(dir: &std::path::Path, file: &str) -> String {
    dir.join(file).to_str().unwrap().to_string()
}

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
const CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBdev\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIsecret\n-----END EC PRIVATE KEY-----\n";
const SAS: &str = "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=";

#[test]
fn aws_write_then_show() {
    let dir = scratch("aws");
    for (file, text) in [("ca.pem", CA), ("dev.crt", CERT), ("dev.key", KEY)] {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let out = path(&dir, "record.bin");
    let written = ok(&[
        "provision",
        "write",
        "--cloud",
        "aws",
        "--host",
        "abc-ats.iot.eu-west-1.amazonaws.com",
        "--port",
        "8883",
        "--device",
        "thing-7",
        "--shadow",
        "config",
        "--ca",
        &path(&dir, "ca.pem"),
        "--cert",
        &path(&dir, "dev.crt"),
        "--key",
        &path(&dir, "dev.key"),
        "--out",
        &out,
    ]);
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        written.starts_with(&format!("{{\"bytes\":{},\"crc32\":\"", bytes.len())),
        "{written}"
    );
    let shown = ok(&["provision", "show", &out]);
    assert_eq!(
        shown,
        format!(
            "{{\"cloud\":\"aws\",\"host\":\"abc-ats.iot.eu-west-1.amazonaws.com\",\"port\":8883,\
             \"device_id\":\"thing-7\",\"module_id\":null,\"shadow_name\":\"config\",\
             \"sas_key\":null,\"ca_pem\":{},\"cert_pem\":{},\"key_pem\":\"<{} bytes>\"}}",
            json_string(CA),
            json_string(CERT),
            KEY.len()
        )
    );
    assert!(
        !shown.contains("secret"),
        "the private key is never printed"
    );
}

fn json_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\n', "\\n"))
}

#[test]
fn azure_write_then_show() {
    let dir = scratch("azure");
    let out = path(&dir, "record.bin");
    ok(&[
        "provision",
        "write",
        "--cloud",
        "azure",
        "--host",
        "myhub.azure-devices.net",
        "--port",
        "8883",
        "--device",
        "thermo-7",
        "--module",
        "mod-1",
        "--sas-key",
        SAS,
        "--out",
        &out,
    ]);
    let shown = ok(&["provision", "show", &out]);
    assert_eq!(
        shown,
        "{\"cloud\":\"azure\",\"host\":\"myhub.azure-devices.net\",\"port\":8883,\
         \"device_id\":\"thermo-7\",\"module_id\":\"mod-1\",\"shadow_name\":null,\
         \"sas_key\":\"<44 bytes>\",\"ca_pem\":null,\"cert_pem\":null,\"key_pem\":null}"
    );
    assert!(!shown.contains(SAS), "the SAS key is never printed");
}

#[test]
fn refusals_exit_non_zero_with_the_reason() {
    let dir = scratch("refusals");
    let out = path(&dir, "record.bin");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "provision",
            "write",
            "--cloud",
            "aws",
            "--host",
            "h.example",
            "--port",
            "8883",
            "--device",
            "t1",
            "--out",
            &out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |code: i32, extra: &[&str]| {
        let args = base(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(code, &refs)
    };
    // Refused by the core: exit 1, nothing written.
    for (extra, why) in [
        (&["--module", "m1"][..], "InvalidRecord"),
        (&["--sas-key", SAS][..], "InvalidRecord"),
        (&["--shadow", "a.b"][..], "InvalidName"),
        (&["--cert", "/dev/null"][..], "InvalidRecord"),
    ] {
        let stderr = run(1, extra);
        assert!(
            stderr.contains("refused") && stderr.contains(why),
            "{extra:?}: {stderr}"
        );
        assert!(!dir.join("record.bin").exists());
    }
    let stderr = run(1, &["--ca", &path(&dir, "missing.pem")]);
    assert!(stderr.contains("cannot read"), "{stderr}");
    // Usage errors: exit 2.
    for extra in [
        &["--port", "x"][..],
        &["--colour", "red"][..],
        &["extra"][..],
    ] {
        let mut args = base(&[]);
        if extra[0] == "--port" {
            let i = args.iter().position(|a| a == "8883").unwrap();
            args[i] = "x".into();
        } else {
            args.extend(extra.iter().map(|s| s.to_string()));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert!(fails(2, &refs).contains("usage"));
    }
    let stderr = fails(
        1,
        &[
            "provision",
            "write",
            "--cloud",
            "azure",
            "--host",
            "h.example",
            "--port",
            "0",
            "--device",
            "d1",
            "--out",
            &out,
        ],
    );
    assert!(stderr.contains("InvalidRecord"), "{stderr}");
    let stderr = fails(
        1,
        &[
            "provision",
            "write",
            "--cloud",
            "azure",
            "--host",
            "h.example",
            "--port",
            "1",
            "--device",
            "d#1",
            "--out",
            &out,
        ],
    );
    assert!(stderr.contains("InvalidName"), "{stderr}");

    // show: a corrupt record, a file that is not one, a missing file.
    ok(&base(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    let mut bytes = std::fs::read(&out).unwrap();
    bytes[5] ^= 0x20;
    std::fs::write(&out, &bytes).unwrap();
    assert!(fails(1, &["provision", "show", &out]).contains("CorruptRecord"));
    std::fs::write(&out, b"").unwrap();
    assert!(fails(1, &["provision", "show", &out]).contains("CorruptRecord"));
    assert!(fails(1, &["provision", "show", &path(&dir, "none.bin")]).contains("cannot read"));
    assert!(fails(2, &["provision", "show"]).contains("usage"));
}

#[test]
fn a_small_record_is_exactly_the_documented_bytes() {
    let dir = scratch("exact");
    let out = path(&dir, "record.bin");
    let written = ok(&[
        "provision",
        "write",
        "--cloud",
        "azure",
        "--host",
        "h.example",
        "--port",
        "8883",
        "--device",
        "d1",
        "--out",
        &out,
    ]);
    let bytes = std::fs::read(&out).unwrap();
    // A map of 5 pairs, keys ascending; texts carry their NUL.
    let mut cbor = vec![0xa5];
    cbor.extend([0x00, 0x01]); // 0: version 1
    cbor.extend([0x01, 0x01]); // 1: cloud 1 (Azure)
    cbor.extend([0x02, 0x6a]); // 2: text of 10 bytes
    cbor.extend(b"h.example\0");
    cbor.extend([0x03, 0x19, 0x22, 0xb3]); // 3: port 8883 (uint16)
    cbor.extend([0x04, 0x63]); // 4: text of 3 bytes
    cbor.extend(b"d1\0");
    assert_eq!(&bytes[..bytes.len() - 4], &cbor[..]);
    assert_eq!(bytes.len(), cbor.len() + 4);

    // The CRC is zlib's CRC-32 of the CBOR, little-endian.
    let python = Command::new("python3")
        .args([
            "-c",
            "import sys, zlib; print('%08x' % zlib.crc32(open(sys.argv[1], 'rb').read()[:-4]))",
            &out,
        ])
        .output()
        .expect("python3 is needed to check the CRC independently");
    assert!(python.status.success(), "{python:?}");
    let zlib = String::from_utf8(python.stdout).unwrap().trim().to_string();
    let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
    assert_eq!(format!("{stored:08x}"), zlib);
    assert_eq!(
        written,
        format!("{{\"bytes\":{},\"crc32\":\"{zlib}\"}}", bytes.len())
    );
}
