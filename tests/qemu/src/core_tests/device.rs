//! The device helpers on the target: routes, sensors, readings, pending
//! requests.

use core::hint::black_box;
use nimbus::cloud::Route;
use nimbus::device::requests::PendingTable;
use nimbus::device::route::{matches, Router};
use nimbus::device::sensor::{
    sensor_in_path, write_reading, Encoding, Reading, SensorInfo, Sensors, Stamp,
};
use nimbus::writer::TextWriter;
use nimbus::Error;

const TEMP: SensorInfo<'static> = SensorInfo {
    id: 12,
    kind: "temperature",
    unit: "Cel",
};

pub fn route_matching() -> bool {
    let patterns = matches(black_box("sensor/+/get"), "sensor/12/get")
        && !matches("sensor/+/get", "sensor/12/13/get")
        && !matches("sensor/+/get", "sensor//get/x")
        && matches("sensor/#", "sensor/list")
        && matches("#", "general_information")
        && !matches("sensor/list", "sensor/list/x");
    let mut router: Router<'_, u8, 4> = Router::new();
    let registered = router.register("#", 1).is_ok()
        && router.register("sensor/+/get", 2).is_ok()
        && router.register("sensor/list", 3).is_ok()
        && router.register("a/#/b", 4) == Err(Error::InvalidArgument)
        && router.register("a/b+", 4) == Err(Error::InvalidArgument)
        && router.register("x", 4).is_ok()
        && router.register("y", 5) == Err(Error::Busy);
    let found = router.find(black_box("sensor/12/get")) == Some(("sensor/+/get", &2))
        && router.find("sensor/list") == Some(("sensor/list", &3))
        && router.find("general_information") == Some(("#", &1))
        && sensor_in_path("sensor/12/get") == Some(12)
        && sensor_in_path("sensor/x/get").is_none()
        && sensor_in_path("sensor/99999999/get").is_none();
    patterns && registered && found
}

pub fn reading_json() -> bool {
    let mut out = [0u8; 96];
    let reading = Reading {
        mantissa: 2345,
        decimals: 2,
    };
    let expected = br#"{"id":12,"type":"temperature","unit":"Cel","value":23.45,"seq":7}"#;
    let n = write_reading(
        &TEMP,
        black_box(reading),
        Some(Stamp::seq(7)),
        Encoding::Json,
        &mut out,
    );
    let json = n == Ok(expected.len()) && out.get(..expected.len()) == Some(&expected[..]);
    let negative = Reading {
        mantissa: -5,
        decimals: 2,
    };
    let n = write_reading(
        &TEMP,
        black_box(negative),
        Some(Stamp::seq(0)),
        Encoding::Json,
        &mut out,
    );
    let expected = br#"{"id":12,"type":"temperature","unit":"Cel","value":-0.05,"seq":0}"#;
    let small = n == Ok(expected.len()) && out.get(..expected.len()) == Some(&expected[..]);
    let short = write_reading(
        &TEMP,
        reading,
        Some(Stamp::seq(7)),
        Encoding::Json,
        &mut [0u8; 40],
    ) == Err(Error::BufferTooSmall);
    let too_precise = Reading {
        mantissa: 1,
        decimals: 19,
    };
    let refused = write_reading(
        &TEMP,
        too_precise,
        Some(Stamp::seq(7)),
        Encoding::Json,
        &mut out,
    ) == Err(Error::InvalidArgument);
    json && small && short && refused
}

pub fn reading_cbor() -> bool {
    let mut out = [0u8; 96];
    let reading = Reading {
        mantissa: 2345,
        decimals: 2,
    };
    let Ok(n) = write_reading(
        &TEMP,
        black_box(reading),
        Some(Stamp::seq(7)),
        Encoding::Cbor,
        &mut out,
    ) else {
        return false;
    };
    // map(5) "id" 12 "type" "temperature" "unit" "Cel" "value"
    // 4([-2, 2345]) "seq" 7, RFC 8949.
    let expected: &[u8] = &[
        0xA5, 0x62, b'i', b'd', 0x0C, 0x64, b't', b'y', b'p', b'e', 0x6B, b't', b'e', b'm', b'p',
        b'e', b'r', b'a', b't', b'u', b'r', b'e', 0x64, b'u', b'n', b'i', b't', 0x63, b'C', b'e',
        b'l', 0x65, b'v', b'a', b'l', b'u', b'e', 0xC4, 0x82, 0x21, 0x19, 0x09, 0x29, 0x63, b's',
        b'e', b'q', 0x07,
    ];
    out.get(..n) == Some(expected)
        && write_reading(
            &TEMP,
            reading,
            Some(Stamp::seq(7)),
            Encoding::Cbor,
            &mut [0u8; 20],
        ) == Err(Error::BufferTooSmall)
}

pub fn json_writer_escapes() -> bool {
    let mut buf = [0u8; 64];
    let mut w = TextWriter::new(&mut buf);
    let ok = w.raw("{").is_ok()
        && w.key("name").is_ok()
        && w.string(black_box("a\"b\\c\n\u{1}")).is_ok()
        && w.raw(",").is_ok()
        && w.key("n").is_ok()
        && w.int(-42).is_ok()
        && w.raw("}").is_ok();
    ok && w.as_str() == r#"{"name":"a\"b\\c\n\u0001","n":-42}"#
}

pub fn sensor_list_and_pending_requests() -> bool {
    let mut sensors: Sensors<'_, 2> = Sensors::new();
    let registered = sensors.register(TEMP).is_ok()
        && sensors.register(TEMP) == Err(Error::InvalidArgument)
        && sensors
            .register(SensorInfo {
                id: 3,
                kind: "humidity",
                unit: "%RH",
            })
            .is_ok();
    let mut out = [0u8; 128];
    let list = br#"{"sensors":[{"id":12,"type":"temperature","unit":"Cel"},{"id":3,"type":"humidity","unit":"%RH"}]}"#;
    let listed =
        sensors.write_list(&mut out) == Ok(list.len()) && out.get(..list.len()) == Some(&list[..]);

    let mut table: PendingTable<2> = PendingTable::new();
    let Ok(first) = table.open(Route::Topic, "", "sensor/list", 0, 1_000) else {
        return false;
    };
    let Ok(second) = table.open(Route::Method, "1f", "sensor/12/get", 0, 5_000) else {
        return false;
    };
    let full = table.open(Route::C2d, "", "x", 0, 1_000) == Err(Error::Busy);
    let mut expired = 0;
    while let Some((handle, path)) = table.take_expired(1_000) {
        if handle == first && path == "sensor/list" {
            expired += 1;
        }
    }
    let answered = table
        .take(second, 10)
        .is_ok_and(|p| p.path == "sensor/12/get" && p.route == Route::Method && p.rid == "1f");
    let stale = table.take(first, 10).is_err() && table.take(second, 10).is_err();
    registered && listed && full && expired == 1 && answered && stale && table.is_empty()
}
