//! The JSON scanner and the twin model's answers and desired patches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::cloud::Cloud;
use nimbus::twin::{json, AwsReply, Response, Twin, TwinConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let _ = json::validate(payload);
    let _ = json::lookup(
        payload,
        [&["state", "desired"], &["version"], &["clientToken"]],
    );
    let _ = json::members(payload).count();
    let mut out = [0u8; 512];
    let _ = nimbus::device::info::DeviceInfo::default().write_json(&mut out);
    for cloud in [Cloud::Aws, Cloud::Azure] {
        let mut t: Twin<'_> = Twin::new(TwinConfig::new(cloud)).unwrap();
        let mut buf = [0u8; 9000];
        let get = t.on_connected(&mut buf, 0).unwrap();
        let _ = t.report(payload, &mut buf, 0);
        let response = match cloud {
            Cloud::Aws => Response::Aws {
                reply: match selector % 4 {
                    0 => AwsReply::UpdateAccepted,
                    1 => AwsReply::UpdateRejected,
                    2 => AwsReply::GetAccepted,
                    _ => AwsReply::GetRejected,
                },
                payload,
            },
            Cloud::Azure => Response::Azure {
                status: [200, 204, 400, 429][usize::from(selector % 4)],
                rid: get.id.as_str(),
                version: Some(u64::from(selector)),
                payload,
            },
        };
        let _ = t.on_response(response);
        let _ = t.on_desired(Some(u64::from(selector)), payload);
        while t.poll(u64::MAX).is_some() {}
        assert_eq!(t.pending(), 0);
    }
});
