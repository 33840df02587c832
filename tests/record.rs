//! The provisioning record: round trips, every refusal one by one (on
//! records assembled byte by byte here, independently of the encoder),
//! truncations and corruptions, and the CRC-32 against known vectors.

#![cfg(feature = "record")]

use nimbus::cloud::Cloud;
use nimbus::record::{crc32, DeviceRecord, CRC_LEN};
use nimbus::Error;

const PEM_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
const PEM_KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n";
const SAS: &str = "c2VjcmV0LWtleS1vZi10aGlydHktdHdvLWJ5dGVzISE=";

fn aws_full() -> DeviceRecord<'static> {
    DeviceRecord {
        shadow_name: Some("config"),
        ca_pem: Some(PEM_CA),
        cert_pem: Some(PEM_CERT),
        key_pem: Some(PEM_KEY),
        ..DeviceRecord::new(
            Cloud::Aws,
            "abc123-ats.iot.eu-west-1.amazonaws.com",
            8883,
            "thing-7",
        )
    }
}

fn azure_full() -> DeviceRecord<'static> {
    DeviceRecord {
        module_id: Some("mod-1"),
        sas_key: Some(SAS),
        ca_pem: Some(PEM_CA),
        ..DeviceRecord::new(Cloud::Azure, "myhub.azure-devices.net", 8883, "thermo-7")
    }
}

fn encode(r: &DeviceRecord<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let n = r.encode(&mut buf).expect("encode");
    buf.truncate(n);
    buf
}

/// Every text of a decoded record is followed by its NUL in `bytes`.
fn assert_nul_terminated_in(r: &DeviceRecord<'_>, bytes: &[u8]) {
    let base = bytes.as_ptr() as usize;
    let texts = [
        Some(r.host),
        Some(r.device_id),
        r.module_id,
        r.shadow_name,
        r.sas_key,
        r.ca_pem,
        r.cert_pem,
        r.key_pem,
    ];
    for t in texts.into_iter().flatten() {
        let start = t.as_ptr() as usize - base;
        assert!(start + t.len() < bytes.len(), "{t:?} inside the record");
        assert_eq!(bytes[start + t.len()], 0, "{t:?} is followed by its NUL");
    }
}

#[test]
fn crc32_matches_known_vectors() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32(b"a"), 0xE8B7_BE43);
    assert_eq!(
        crc32(b"The quick brown fox jumps over the lazy dog"),
        0x414F_A339
    );
    assert_eq!(crc32(&[0u8; 32]), 0x190A_55AD);
    assert_eq!(crc32(&[0xFFu8; 32]), 0xFF6C_AB0B);
}

#[test]
fn round_trip_with_and_without_every_optional_field() {
    let minimal_aws = DeviceRecord::new(Cloud::Aws, "broker.example.com", 8883, "t1");
    let minimal_azure = DeviceRecord::new(Cloud::Azure, "hub.azure-devices.net", 443, "d1");
    let azure_x509 = DeviceRecord {
        module_id: Some("m"),
        ca_pem: Some(PEM_CA),
        cert_pem: Some(PEM_CERT),
        key_pem: Some(PEM_KEY),
        ..minimal_azure
    };
    let mut cases = vec![
        minimal_aws,
        minimal_azure,
        aws_full(),
        azure_full(),
        azure_x509,
    ];
    // Each optional field alone.
    cases.push(DeviceRecord {
        shadow_name: Some("s"),
        ..minimal_aws
    });
    cases.push(DeviceRecord {
        ca_pem: Some(PEM_CA),
        ..minimal_aws
    });
    cases.push(DeviceRecord {
        module_id: Some("m"),
        ..minimal_azure
    });
    cases.push(DeviceRecord {
        sas_key: Some(SAS),
        ..minimal_azure
    });
    for r in cases {
        let bytes = encode(&r);
        let back = DeviceRecord::decode(&bytes).expect("decode");
        assert_eq!(back, r);
        assert_nul_terminated_in(&back, &bytes);
        // The CRC is the last four bytes, over everything before them.
        let (cbor, crc) = bytes.split_at(bytes.len() - CRC_LEN);
        assert_eq!(crc, crc32(cbor).to_le_bytes());
        // What follows the record (an erased partition) is ignored.
        let mut partition = bytes.clone();
        partition.resize(4096, 0xFF);
        assert_eq!(DeviceRecord::decode(&partition), Ok(r));
    }
}

#[test]
fn encode_says_buffer_too_small_at_every_shorter_length() {
    let r = azure_full();
    let full = encode(&r);
    for len in 0..full.len() {
        let mut buf = vec![0u8; len];
        assert_eq!(r.encode(&mut buf), Err(Error::BufferTooSmall), "{len}");
    }
    let mut buf = vec![0u8; full.len()];
    assert_eq!(r.encode(&mut buf), Ok(full.len()));
    assert_eq!(buf, full);
}

#[test]
fn encode_refuses_what_decode_would_refuse() {
    let aws = DeviceRecord::new(Cloud::Aws, "h.example", 8883, "t1");
    let azure = DeviceRecord::new(Cloud::Azure, "h.example", 8883, "d1");
    let mut buf = [0u8; 512];
    let cases = [
        (
            DeviceRecord {
                device_id: "t\0",
                ..aws
            },
            Error::InvalidString,
        ),
        (
            DeviceRecord {
                ca_pem: Some("a\0b"),
                ..aws
            },
            Error::InvalidString,
        ),
        (DeviceRecord { port: 0, ..aws }, Error::InvalidRecord),
        (DeviceRecord { host: "a b", ..aws }, Error::InvalidRecord),
        (
            DeviceRecord {
                ca_pem: Some(""),
                ..aws
            },
            Error::InvalidRecord,
        ),
        (
            DeviceRecord {
                module_id: Some("m"),
                ..aws
            },
            Error::InvalidRecord,
        ),
        (
            DeviceRecord {
                shadow_name: Some("s"),
                ..azure
            },
            Error::InvalidRecord,
        ),
        (
            DeviceRecord {
                device_id: "a/b",
                ..aws
            },
            Error::InvalidName,
        ),
        (
            DeviceRecord {
                sas_key: Some("!!"),
                ..azure
            },
            Error::InvalidCredentials,
        ),
    ];
    for (r, want) in cases {
        assert_eq!(r.encode(&mut buf), Err(want), "{r:?}");
    }
}

// ---- records assembled byte by byte ----

/// A CBOR map built by hand: `(key, value)` entries, values already encoded.
struct Map(Vec<(Vec<u8>, Vec<u8>)>);

/// The head of a CBOR item of `major` type with argument `n` (shortest form).
fn head(major: u8, n: u64) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=0xff => vec![m | 24, n as u8],
        0x100..=0xffff => [vec![m | 25], (n as u16).to_be_bytes().to_vec()].concat(),
        0x1_0000..=0xffff_ffff => [vec![m | 26], (n as u32).to_be_bytes().to_vec()].concat(),
        _ => [vec![m | 27], n.to_be_bytes().to_vec()].concat(),
    }
}

fn uint(n: u64) -> Vec<u8> {
    head(0, n)
}

/// A text string of exactly these bytes (the caller adds the NUL).
fn text(s: &[u8]) -> Vec<u8> {
    [head(3, s.len() as u64), s.to_vec()].concat()
}

/// A text string with its NUL.
fn ctext(s: &str) -> Vec<u8> {
    text(&[s.as_bytes(), b"\0"].concat())
}

impl Map {
    /// A valid AWS record: version, cloud, host, port, device.
    fn aws() -> Map {
        Map(vec![
            (uint(0), uint(1)),
            (uint(1), uint(0)),
            (uint(2), ctext("h.example")),
            (uint(3), uint(8883)),
            (uint(4), ctext("t1")),
        ])
    }

    /// A valid Azure record.
    fn azure() -> Map {
        Map(vec![
            (uint(0), uint(1)),
            (uint(1), uint(1)),
            (uint(2), ctext("hub.example")),
            (uint(3), uint(8883)),
            (uint(4), ctext("d1")),
        ])
    }

    fn with(mut self, key: u64, value: Vec<u8>) -> Map {
        self.0.retain(|(k, _)| *k != uint(key));
        self.0.push((uint(key), value));
        self
    }

    fn without(mut self, key: u64) -> Map {
        self.0.retain(|(k, _)| *k != uint(key));
        self
    }

    fn push(mut self, key: Vec<u8>, value: Vec<u8>) -> Map {
        self.0.push((key, value));
        self
    }

    fn cbor(&self) -> Vec<u8> {
        let mut out = head(5, self.0.len() as u64);
        for (k, v) in &self.0 {
            out.extend_from_slice(k);
            out.extend_from_slice(v);
        }
        out
    }

    fn record(&self) -> Vec<u8> {
        with_crc(self.cbor())
    }
}

/// The record with its version moved back to the front (`with` appends).
fn first_version(mut map: Map) -> Vec<u8> {
    map.0.sort_by_key(|(k, _)| *k != uint(0));
    map.record()
}

fn with_crc(mut cbor: Vec<u8>) -> Vec<u8> {
    let crc = crc32(&cbor);
    cbor.extend_from_slice(&crc.to_le_bytes());
    cbor
}

fn refused(bytes: &[u8]) -> Error {
    DeviceRecord::decode(bytes).expect_err("refused")
}

#[test]
fn hand_assembled_records_are_read() {
    let bytes = Map::aws().record();
    let r = DeviceRecord::decode(&bytes).unwrap();
    assert_eq!(r, DeviceRecord::new(Cloud::Aws, "h.example", 8883, "t1"));
    // Keys in any order after the version, integers in a longer form.
    let shuffled = Map(vec![
        (uint(0), uint(1)),
        (uint(4), ctext("d1")),
        (uint(3), vec![0x1a, 0, 0, 0x01, 0xbb]),
        (vec![0x18, 2], ctext("hub.example")),
        (uint(1), uint(1)),
        (uint(7), ctext(SAS)),
    ]);
    let bytes = shuffled.record();
    let r = DeviceRecord::decode(&bytes).unwrap();
    assert_eq!(
        r,
        DeviceRecord {
            sas_key: Some(SAS),
            ..DeviceRecord::new(Cloud::Azure, "hub.example", 443, "d1")
        }
    );
    // The encoder writes exactly the canonical form assembled here.
    let canonical = Map(vec![
        (uint(0), uint(1)),
        (uint(1), uint(1)),
        (uint(2), ctext("hub.example")),
        (uint(3), uint(443)),
        (uint(4), ctext("d1")),
        (uint(7), ctext(SAS)),
    ]);
    assert_eq!(encode(&r), canonical.record());
}

#[test]
fn too_short_and_crc_mismatch_are_corrupt() {
    let good = Map::aws().record();
    for bytes in [&[][..], &[0xa0], &good[..good.len() - 1], &good[..4]] {
        assert_eq!(refused(bytes), Error::CorruptRecord, "{bytes:?}");
    }
    let mut bad_crc = good.clone();
    *bad_crc.last_mut().unwrap() ^= 0x80;
    assert_eq!(refused(&bad_crc), Error::CorruptRecord);
    // Not well-formed CBOR: a reserved additional info, a break alone,
    // a text that is not UTF-8.
    for cbor in [vec![0x1c], vec![0xff], text(&[0xc3, 0x28, 0])] {
        assert_eq!(
            refused(&with_crc(cbor.clone())),
            Error::CorruptRecord,
            "{cbor:x?}"
        );
    }
}

#[test]
fn not_a_definite_map_is_invalid() {
    for cbor in [
        vec![0x80],                   // an empty array
        uint(1),                      // a number
        ctext("record"),              // a text
        vec![0xbf, 0x00, 0x01, 0xff], // an indefinite-length map
        vec![0xc0, 0xa0],             // a tagged map
    ] {
        assert_eq!(refused(&with_crc(cbor)), Error::InvalidRecord);
    }
    assert_eq!(
        refused(&with_crc(vec![0xa0])),
        Error::InvalidRecord,
        "empty"
    );
}

#[test]
fn unknown_duplicate_and_mistyped_keys_are_invalid() {
    let cases = [
        ("unknown key", Map::aws().push(uint(11), uint(0))),
        ("large key", Map::aws().push(uint(1 << 40), uint(0))),
        ("negative key", Map::aws().push(vec![0x20], uint(0))),
        ("text key", Map::aws().push(ctext("host"), ctext("h"))),
        ("duplicate key", Map::aws().push(uint(4), ctext("t2"))),
        ("duplicate version", Map::aws().push(uint(0), uint(1))),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&map.record()), Error::InvalidRecord, "{what}");
    }
}

#[test]
fn wrong_types_are_invalid() {
    let cases = [
        ("version as text", Map::aws().with(0, ctext("1"))),
        ("cloud as text", Map::aws().with(1, ctext("aws"))),
        ("host as number", Map::aws().with(2, uint(1))),
        (
            "host as bytes",
            Map::aws().with(2, [head(2, 2), b"h\0".to_vec()].concat()),
        ),
        ("port as text", Map::aws().with(3, ctext("8883"))),
        ("port negative", Map::aws().with(3, vec![0x20])),
        ("device as array", Map::aws().with(4, vec![0x80])),
        ("ca as null", Map::aws().with(8, vec![0xf6])),
        (
            "indefinite text",
            Map::aws().with(4, vec![0x7f, 0x62, b't', 0, 0xff]),
        ),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&first_version(map)), Error::InvalidRecord, "{what}");
    }
}

#[test]
fn missing_fields_and_versions_are_invalid() {
    for key in 0..=4 {
        assert_eq!(
            refused(&Map::aws().without(key).record()),
            Error::InvalidRecord,
            "without key {key}"
        );
    }
    let late_version = Map::aws().without(0).push(uint(0), uint(1));
    assert_eq!(refused(&late_version.record()), Error::InvalidRecord);
    for version in [0, 2, 1 << 20] {
        let map = Map::aws().with(0, uint(version));
        assert_eq!(
            refused(&first_version(map)),
            Error::InvalidRecord,
            "v{version}"
        );
    }
}

#[test]
fn texts_need_their_one_nul() {
    let cases = [
        ("no NUL", Map::aws().with(4, text(b"t1"))),
        ("inner NUL", Map::aws().with(4, text(b"t\x001\0"))),
        ("two NULs at the end", Map::aws().with(4, text(b"t1\0\0"))),
        ("host without NUL", Map::aws().with(2, text(b"h.example"))),
        ("key without NUL", Map::aws().with(10, text(b"k"))),
        ("empty text", Map::aws().with(4, text(b""))),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&first_version(map)), Error::InvalidString, "{what}");
    }
    // A text of just its NUL is empty: refused as a field value.
    assert_eq!(
        refused(&first_version(Map::aws().with(8, ctext("")))),
        Error::InvalidRecord
    );
}

#[test]
fn values_out_of_range_are_invalid() {
    let cases = [
        ("port 0", Map::aws().with(3, uint(0))),
        ("port 65536", Map::aws().with(3, uint(65536))),
        ("cloud 2", Map::aws().with(1, uint(2))),
        ("host with a space", Map::aws().with(2, ctext("h example"))),
        (
            "host with an underscore",
            Map::aws().with(2, ctext("h_x.example")),
        ),
        ("host too long", Map::aws().with(2, ctext(&"a".repeat(254)))),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&first_version(map)), Error::InvalidRecord, "{what}");
    }
    let longest_host = "a".repeat(253);
    assert!(DeviceRecord::decode(&first_version(Map::aws().with(2, ctext(&longest_host)))).is_ok());
}

#[test]
fn names_the_cloud_refuses_are_invalid_names() {
    let cases = [
        ("AWS thing with a slash", Map::aws().with(4, ctext("a/b"))),
        (
            "AWS thing too long",
            Map::aws().with(4, ctext(&"t".repeat(129))),
        ),
        ("AWS shadow with a dot", Map::aws().with(6, ctext("a.b"))),
        (
            "AWS shadow too long",
            Map::aws().with(6, ctext(&"s".repeat(65))),
        ),
        ("Azure device with #", Map::azure().with(4, ctext("a#b"))),
        (
            "Azure device too long",
            Map::azure().with(4, ctext(&"d".repeat(129))),
        ),
        ("Azure module with +", Map::azure().with(5, ctext("m+"))),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&first_version(map)), Error::InvalidName, "{what}");
    }
}

#[test]
fn fields_the_cloud_does_not_take_are_invalid() {
    let cases = [
        ("AWS with a module", Map::aws().with(5, ctext("m"))),
        ("AWS with a SAS key", Map::aws().with(7, ctext(SAS))),
        ("Azure with a shadow", Map::azure().with(6, ctext("s"))),
        (
            "Azure SAS with a certificate",
            Map::azure()
                .with(7, ctext(SAS))
                .with(9, ctext(PEM_CERT))
                .with(10, ctext(PEM_KEY)),
        ),
        (
            "certificate without key",
            Map::aws().with(9, ctext(PEM_CERT)),
        ),
        (
            "key without certificate",
            Map::azure().with(10, ctext(PEM_KEY)),
        ),
    ];
    for (what, map) in cases {
        assert_eq!(refused(&first_version(map)), Error::InvalidRecord, "{what}");
    }
}

#[test]
fn a_sas_key_must_be_base64_of_1_to_64_bytes() {
    let too_long = "QUFB".repeat(22); // 66 bytes decoded
    for key in ["c2VjcmV0=", "c2Vj!mV0", "", "====", too_long.as_str()] {
        let map = Map::azure().with(7, ctext(key));
        let want = if key.is_empty() {
            Error::InvalidRecord
        } else {
            Error::InvalidCredentials
        };
        assert_eq!(refused(&first_version(map)), want, "{key:?}");
    }
    let longest = "QUFB".repeat(21) + "QQ=="; // 64 bytes decoded
    assert!(DeviceRecord::decode(&first_version(Map::azure().with(7, ctext(&longest)))).is_ok());
}

#[test]
fn every_truncation_and_every_byte_flip_is_refused() {
    for record in [
        encode(&aws_full()),
        encode(&azure_full()),
        Map::aws().record(),
    ] {
        for len in 0..record.len() {
            assert!(
                DeviceRecord::decode(&record[..len]).is_err(),
                "truncated to {len}"
            );
        }
        for i in 0..record.len() {
            for mask in [0x01u8, 0x80, 0xFF] {
                let mut bad = record.clone();
                bad[i] ^= mask;
                assert!(DeviceRecord::decode(&bad).is_err(), "byte {i} ^ {mask:#x}");
            }
        }
    }
}
