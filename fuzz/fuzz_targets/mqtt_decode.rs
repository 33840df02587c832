//! The MQTT decoder on arbitrary bytes: every packet type, every length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::mqtt::codec;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(header)) = codec::decode_fixed_header(rest) {
        let total = header.packet_length();
        let Some(body) = rest.get(header.header_length..total) else {
            return;
        };
        if header.first_byte >> 4 == 3 {
            if let Ok(p) = codec::decode_publish(header.first_byte, body) {
                // What the decoder accepts is what MQTT allows a receiver to.
                assert!(!p.topic.is_empty());
                assert!(!p.topic.contains(['+', '#', '\0']));
            }
        } else {
            let _ = codec::decode_body(header.first_byte, body);
        }
        rest = &rest[total..];
    }
});
