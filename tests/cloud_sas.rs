//! SAS tokens checked against an independent HMAC-SHA256 from python3.
//! The test fails (it does not skip) if python3 is missing.

use nimbus::cloud::sas::{self, RustCryptoHmac};
use std::process::Command;

/// The token as Azure's own recipe computes it, in python3's standard library.
fn python_token(resource: &str, key_b64: &str, expiry: u64) -> String {
    let script = r#"
import base64, hashlib, hmac, sys, urllib.parse
resource, key, expiry = sys.argv[1], sys.argv[2], sys.argv[3]
sr = urllib.parse.quote(resource, safe="-_.~")
mac = hmac.new(base64.b64decode(key), (sr + "\n" + expiry).encode(), hashlib.sha256).digest()
sig = urllib.parse.quote(base64.b64encode(mac).decode(), safe="-_.~")
print("SharedAccessSignature sr=%s&sig=%s&se=%s" % (sr, sig, expiry), end="")
"#;
    let out = Command::new("python3")
        .args(["-c", script, resource, key_b64, &expiry.to_string()])
        .output()
        .expect("python3 is required for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn device_token_matches_python() {
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes
    let mut buf = [0u8; 256];
    let token = sas::token(
        &mut RustCryptoHmac,
        "myhub.azure-devices.net",
        "dev-1",
        None,
        key,
        1_700_000_000,
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        token,
        python_token("myhub.azure-devices.net/devices/dev-1", key, 1_700_000_000)
    );
    assert!(token
        .starts_with("SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev-1&sig="));
}

#[test]
fn module_token_with_reserved_characters_matches_python() {
    let key =
        "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCrze8SNFZ4kA=="; // 64 bytes
    let mut buf = [0u8; 256];
    let token = sas::token(
        &mut RustCryptoHmac,
        "h.azure-devices.net",
        "d$1",
        Some("m'(x)"),
        key,
        4_102_444_800,
        &mut buf,
    )
    .unwrap();
    assert_eq!(
        token,
        python_token(
            "h.azure-devices.net/devices/d$1/modules/m'(x)",
            key,
            4_102_444_800
        )
    );
}

#[test]
fn rustcrypto_hmac_matches_openssl() {
    use nimbus::cloud::sas::HmacSha256;
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", "secret-key"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"hub%2Fdevices%2Fd1\n42")?;
            child.wait_with_output()
        })
        .expect("openssl is required for this test");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().rsplit(' ').next().unwrap().to_string();
    let mac = RustCryptoHmac
        .hmac_sha256(b"secret-key", &[b"hub%2Fdevices%2Fd1", b"\n", b"42"])
        .unwrap();
    let ours: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(ours, hex);
}
