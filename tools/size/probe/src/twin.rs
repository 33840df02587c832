//! The shadow/twin model as firmware uses it: fetch after connecting,
//! report, feed answers and desired changes, time requests out, and render
//! the usual reported device information.

use core::hint::black_box;
use core::net::Ipv4Addr;
use nimbus::cloud::Cloud;
use nimbus::device::info::{DeviceInfo, Identity, Network};
use nimbus::twin::{AwsReply, Outcome, Response, Twin, TwinConfig, TwinEvent, MAX_PENDING};

/// The twin type firmware gets (the default capacity, AWS's in-flight limit).
pub type DeviceTwin = Twin<'static, MAX_PENDING>;

fn outcome_code(outcome: Result<Outcome<'_>, nimbus::Error>) -> u32 {
    match outcome {
        Ok(Outcome::Event(TwinEvent::ReportAccepted { version, .. })) => {
            version.map_or(1, |v| v as u32)
        }
        Ok(Outcome::Event(TwinEvent::Document {
            desired, reported, ..
        })) => (desired.len() + reported.len()) as u32,
        Ok(Outcome::Event(TwinEvent::Desired { patch, version })) => {
            patch.len() as u32 + version as u32
        }
        Ok(Outcome::Event(TwinEvent::Rejected {
            status, message, ..
        })) => u32::from(status) + message.len() as u32,
        Ok(Outcome::Event(TwinEvent::Failed { error, .. })) => u32::from(error.code()),
        Ok(Outcome::Ignored(_)) => 2,
        Err(e) => u32::from(e.code()),
    }
}

/// One twin through get, report, an answer, a desired change and a timeout;
/// `input` picks the cloud and stands for the received payloads.
#[no_mangle]
pub extern "C" fn nimbus_probe_twin(input: u32) -> u32 {
    let cloud = if input & 1 == 0 {
        Cloud::Aws
    } else {
        Cloud::Azure
    };
    let Ok(mut twin) = DeviceTwin::new(TwinConfig::new(cloud)) else {
        return 0;
    };
    let mut out = [0u8; 512];
    let mut total = 0u32;
    if let Ok(req) = twin.on_connected(&mut out, u64::from(input)) {
        total += req.len as u32;
    }
    let patch = black_box(br#"{"firmware":"1.2.0","led":"on"}"#.as_slice());
    let Ok(req) = twin.report(patch, &mut out, u64::from(input)) else {
        return total;
    };
    total += req.len as u32;
    let payload = black_box(br#"{"state":{"led":"off"},"version":7,"clientToken":"2"}"#.as_slice());
    let answer = if cloud == Cloud::Aws {
        let reply = if input & 2 == 0 {
            AwsReply::UpdateAccepted
        } else {
            AwsReply::GetAccepted
        };
        Response::Aws { reply, payload }
    } else {
        Response::Azure {
            status: (input >> 16) as u16,
            rid: req.id.as_str(),
            version: Some(u64::from(input)),
            payload,
        }
    };
    total += outcome_code(twin.on_response(answer));
    total += outcome_code(twin.on_desired(Some(u64::from(input >> 8)), payload));
    if let Some(event) = twin.poll(u64::from(input) + 20_000) {
        total += outcome_code(Ok(Outcome::Event(event)));
    }
    total
}

/// The reported identity and network information, rendered as JSON.
#[no_mangle]
pub extern "C" fn nimbus_probe_twin_device_info(input: u32) -> u32 {
    let info = DeviceInfo {
        identity: Identity {
            name: Some(black_box("pump-7")),
            model: Some("P7"),
            serial_number: Some("0042"),
            ..Identity::default()
        },
        network: Network {
            ipv4: Some(Ipv4Addr::from(black_box(input))),
            mac: Some([2, 0, 0, 0, 0, input as u8]),
            ..Network::default()
        },
        firmware_version: Some("1.2.0"),
        ..DeviceInfo::default()
    };
    let mut out = [0u8; 512];
    info.write_json(&mut out).map_or(0, |n| n as u32)
}
