//! Topic classification and property bags of both clouds, and the
//! answer topic of every request that is classified.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::cloud::{Cloud, Dialect, Incoming, PropertyBag, Route};
use nimbus::device::requests::PendingTable;

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
            if let Some(rid) = request.rid() {
                assert_eq!(request.route(), Route::Method);
                PendingTable::<1>::new()
                    .open(Route::Method, rid, "p", 0, 1)
                    .expect("a classified rid is answerable");
                let mut buf = [0u8; 256];
                nimbus::cloud::azure::method_response_topic(200, rid, &mut buf)
                    .expect("and its answer topic is written");
            }
        }
    }
});
