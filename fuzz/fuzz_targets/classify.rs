//! Topic classification and property bags of both clouds, and the
//! answer topic of every request that is classified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::cloud::{Cloud, Dialect, Incoming, PropertyBag, Via};
use nimbus::device::requests;

fuzz_target!(|data: &[u8]| {
    let Ok(topic) = core::str::from_utf8(data) else {
        return;
    };
    let _ = PropertyBag::parse(topic).map(|bag| bag.iter().count());
    for (cloud, module) in [
        (Cloud::Aws, None),
        (Cloud::Azure, None),
        (Cloud::Azure, Some("m1")),
    ] {
        let dialect = Dialect::new(cloud, "d1", module).unwrap();
        if let Ok(Incoming::Request(request)) = dialect.classify(topic) {
            let mut path = [0u8; 256];
            let _ = request.path(&mut path);
            // A classified method call can always be answered.
            if let Via::Method { rid } = request.via() {
                requests::Via::method(rid).expect("a classified rid is answerable");
                let mut buf = [0u8; 256];
                nimbus::cloud::azure::method_response_topic(200, rid, &mut buf)
                    .expect("and its answer topic is written");
            }
        }
    }
});
