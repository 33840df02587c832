//! The reported-content writer: shape, escaping, omission, buffer bounds,
//! and that its output passes both clouds' rules.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nimbus::cloud::Cloud;
use nimbus::device::info::{DeviceInfo, Identity, Location, Network};
use nimbus::twin::{json, SpacePolicy, Twin, TwinConfig};
use nimbus::Error;

fn full() -> DeviceInfo<'static> {
    DeviceInfo {
        identity: Identity {
            name: Some("Boiler \"north\""),
            device_type: Some("thermostat"),
            model: Some("T-1000"),
            manufacturer: Some("Acme\\Corp"),
            manufacturing_date: Some("2024-05-01"),
            hardware_version: Some("rev C"),
            serial_number: Some("SN\u{1}42\n\u{e9}"),
        },
        network: Network {
            ipv4: Some(Ipv4Addr::new(192, 0, 2, 10)),
            ipv6: Some(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            mac: Some([0x00, 0x1a, 0x2b, 0xfc, 0x0d, 0xee]),
            netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            gateway: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
            dns_primary: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 53))),
            dns_secondary: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        },
        firmware_version: Some("1.4.2+build.7"),
        location: Location {
            coordinates: Some((47_376_887, -8_541_694)),
            altitude_m: Some(-12),
            description: Some("Plant 2, hall B"),
        },
    }
}

fn render(info: &DeviceInfo<'_>) -> String {
    let mut buf = [0u8; 1024];
    let n = info.write_json(&mut buf).unwrap();
    String::from_utf8(buf[..n].to_vec()).unwrap()
}

#[test]
fn renders_everything_with_escaping() {
    let s = render(&full());
    assert_eq!(
        s,
        concat!(
            r#"{"identity":{"name":"Boiler \"north\"","type":"thermostat","model":"T-1000","#,
            r#""manufacturer":"Acme\\Corp","manufacturing_date":"2024-05-01","hardware_version":"rev C","#,
            "\"serial_number\":\"SN\\u000142\\n\u{e9}\"},",
            r#""network":{"ipv4":"192.0.2.10","ipv6":"2001:db8::1","mac":"00:1a:2b:fc:0d:ee","#,
            r#""netmask":"255.255.255.0","gateway":"192.0.2.1","dns":{"primary":"192.0.2.53","secondary":"::1"}},"#,
            r#""firmware_version":"1.4.2+build.7","#,
            r#""location":{"latitude":47.376887,"longitude":-8.541694,"altitude_m":-12,"description":"Plant 2, hall B"}}"#,
        )
    );
    // It is valid JSON that round-trips through a reference parser.
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["identity"]["name"], "Boiler \"north\"");
    assert_eq!(v["identity"]["serial_number"], "SN\u{1}42\n\u{e9}");
    assert_eq!(v["identity"]["manufacturer"], "Acme\\Corp");
}

#[test]
fn omits_unset_fields_and_empty_groups() {
    assert_eq!(render(&DeviceInfo::default()), "{}");
    let info = DeviceInfo {
        identity: Identity {
            serial_number: Some("42"),
            ..Identity::default()
        },
        location: Location {
            coordinates: Some((-1_500_000, 2_000_000)),
            ..Location::default()
        },
        ..DeviceInfo::default()
    };
    assert_eq!(
        render(&info),
        r#"{"identity":{"serial_number":"42"},"location":{"latitude":-1.5,"longitude":2}}"#
    );
    let info = DeviceInfo {
        network: Network {
            dns_secondary: Some(IpAddr::V4(Ipv4Addr::new(9, 9, 9, 9))),
            ..Network::default()
        },
        firmware_version: Some(""),
        ..DeviceInfo::default()
    };
    assert_eq!(
        render(&info),
        r#"{"network":{"dns":{"secondary":"9.9.9.9"}},"firmware_version":""}"#
    );
    let tiny = DeviceInfo {
        location: Location {
            coordinates: Some((-1, 0)),
            ..Location::default()
        },
        ..DeviceInfo::default()
    };
    assert_eq!(
        render(&tiny),
        r#"{"location":{"latitude":-0.000001,"longitude":0}}"#
    );
}

#[test]
fn buffer_too_small_at_every_length() {
    let info = full();
    let mut big = [0u8; 1024];
    let n = info.write_json(&mut big).unwrap();
    for len in 0..n {
        let mut buf = vec![0u8; len];
        assert_eq!(
            info.write_json(&mut buf),
            Err(Error::BufferTooSmall),
            "len {len}"
        );
    }
    let mut exact = vec![0u8; n];
    assert_eq!(info.write_json(&mut exact), Ok(n));
}

#[test]
fn output_is_a_valid_report_on_both_clouds() {
    let mut buf = [0u8; 1024];
    let n = full().write_json(&mut buf).unwrap();
    let patch = &buf[..n];
    assert_eq!(json::validate(patch).map(|s| s.depth), Ok(3));
    let mut out = [0u8; 2048];
    for cloud in [Cloud::Aws, Cloud::Azure] {
        let mut config = TwinConfig::new(cloud);
        config.spaces = SpacePolicy::Reject;
        let mut twin: Twin<'_> = Twin::new(config).unwrap();
        let req = twin.report(patch, &mut out, 0).unwrap();
        assert!(req.len >= n);
    }
}
