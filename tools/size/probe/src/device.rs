//! The device helpers as the facade uses them: route requests, list and
//! read sensors (JSON or CBOR), remember requests until answered, and run
//! the telemetry schedule.

use core::hint::black_box;
use nimbus::cloud::Route;
use nimbus::device::requests::{PendingTable, RequestHandle};
use nimbus::device::route::Router;
use nimbus::device::schedule::Schedule;
use nimbus::device::sensor::{
    sensor_in_path, write_reading, Encoding, Reading, SensorInfo, Sensors, Stamp,
};

/// Request routes a device registers (the probe's choice).
pub const ROUTES: usize = 8;
/// Sensors a device registers (the probe's choice).
pub const SENSORS: usize = 8;
/// Requests waiting for the application's answer (the probe's choice).
pub const PENDING: usize = 8;

/// A C request handler and its context, as a route's value.
pub type PortHandler = (extern "C" fn(ctx: usize, handle: u32) -> i32, usize);

/// The routing table firmware gets.
pub type DeviceRouter = Router<'static, PortHandler, ROUTES>;
/// The sensor table firmware gets.
pub type DeviceSensors = Sensors<'static, SENSORS>;
/// The table of unanswered requests firmware gets.
pub type DevicePending = PendingTable<PENDING>;

extern "C" fn port_handler(ctx: usize, handle: u32) -> i32 {
    (ctx as u32 ^ handle) as i32
}

/// A request from arrival to answer: route it, remember it, answer a
/// sensor read with a reading in JSON or CBOR (by `input`), expire the rest.
#[no_mangle]
pub extern "C" fn nimbus_probe_device(input: u32) -> u32 {
    let handler: PortHandler = (
        black_box(port_handler as extern "C" fn(usize, u32) -> i32),
        input as usize,
    );
    let mut router = DeviceRouter::new();
    let _ = router.register("sensor/+/get", handler);
    let _ = router.register("sensor/list", handler);
    let _ = router.register("#", handler);
    let mut sensors = DeviceSensors::new();
    let _ = sensors.register(SensorInfo {
        id: 12,
        kind: black_box("temperature"),
        unit: "Cel",
    });
    let mut pending = DevicePending::new();
    let now = u64::from(input);
    let path = black_box("sensor/12/get");
    let mut out = [0u8; 256];
    let mut total = 0u32;
    let Some((_, &(call, ctx))) = router.find(path) else {
        return 0;
    };
    let (route, rid) = if input & 1 == 0 {
        (Route::Topic, "")
    } else {
        (Route::Method, "1f")
    };
    if let Ok(handle) = pending.open(route, rid, path, now, 5_000) {
        total += call(ctx, handle.to_raw()) as u32;
    }
    let handle = RequestHandle::from_raw(black_box(input >> 8));
    if let (Ok(_), Some(sensor)) = (
        pending.take(handle, now),
        sensor_in_path(path).and_then(|id| sensors.find(id)),
    ) {
        let encoding = if input & 2 == 0 {
            Encoding::Json
        } else {
            Encoding::Cbor
        };
        let reading = Reading {
            mantissa: i64::from(input as i32),
            decimals: (input >> 24) as u8,
        };
        total += write_reading(sensor, reading, Some(Stamp::seq(input)), encoding, &mut out)
            .map_or(0, |n| n as u32);
        total += encoding.content_type().len() as u32;
    }
    total += sensors.write_list(&mut out).map_or(0, |n| n as u32);
    while let Some((h, _)) = pending.take_expired(now + 10_000) {
        total += h.to_raw();
    }
    let mut schedule = Schedule::new(black_box(60_000), now);
    total += u32::from(schedule.fire(now + 60_000));
    total
}
