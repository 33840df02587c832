//! The provisioning record parser, and the round trip of what it accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::record::DeviceRecord;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = DeviceRecord::decode(data) {
        let mut buf = vec![0u8; data.len() + 64];
        let len = record.encode(&mut buf).expect("an accepted record encodes");
        let again = DeviceRecord::decode(&buf[..len]).expect("and decodes again");
        assert_eq!(format!("{record:?}"), format!("{again:?}"));
    }
});
