//! The whole client on the target: an Azure device answers a direct method
//! through the built-in device model, over [`FakeLink`].

use super::fake::{fixed_random, FakeLink};
use crate::stack;
use core::hint::black_box;
use core::sync::atomic::{AtomicUsize, Ordering};
use nimbus::cloud::sas::HmacSha256;
use nimbus::cloud::Cloud;
use nimbus::device::sensor::{Reading, SensorInfo};
use nimbus::device::{Actions, Answer, App, Buffers, Client, Request, Settings};
use nimbus::mqtt::codec::{self, Publish, QoS};
use nimbus::Error;

/// Stack used by one `Client::poll` (what `nimbus_poll` runs) that receives
/// a direct method and publishes its answer (0 until measured).
pub static POLL_STACK: AtomicUsize = AtomicUsize::new(0);

/// An application with one sensor reading 21.5 and no handlers of its own.
struct Device;

impl HmacSha256 for Device {
    fn hmac_sha256(&mut self, _: &[u8], _: &[&[u8]]) -> nimbus::Result<[u8; 32]> {
        Err(Error::InvalidCredentials)
    }
}

impl App for Device {
    type Handler = ();
    type Sensor = ();

    fn on_request(
        &mut self,
        _: (),
        _: &Request<'_>,
        _: &mut [u8],
        _: &mut Actions<'_, '_>,
    ) -> Answer {
        Answer::Now {
            status: 500,
            len: 0,
        }
    }

    fn read_sensor(&mut self, _: &SensorInfo<'_>, _: ()) -> nimbus::Result<Reading> {
        Ok(Reading {
            mantissa: 215,
            decimals: 1,
        })
    }
}

/// The client's memory, as a firmware would give it.
struct Memory {
    rx: [u8; 512],
    tx: [u8; 512],
    inflight: [u8; 1024],
    filters: [u8; 256],
    work: [u8; 512],
    reply: [u8; 256],
    credentials: [u8; 512],
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

impl Memory {
    fn new() -> Memory {
        Memory {
            rx: [0; 512],
            tx: [0; 512],
            inflight: [0; 1024],
            filters: [0; 256],
            work: [0; 512],
            reply: [0; 256],
            credentials: [0; 512],
        }
    }

    fn buffers(&mut self) -> Buffers<'_> {
        Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
            inflight: &mut self.inflight,
            filters: &mut self.filters,
            work: &mut self.work,
            reply: &mut self.reply,
            credentials: &mut self.credentials,
        }
    }
}

/// With the core's `defmt` feature, an application that leaves `log` alone
/// has the client's trace lines go to defmt: "connected" at the CONNACK,
/// the reason at a malformed packet that ends the link.
pub fn trace_lines_reach_defmt() -> bool {
    let mut m = Memory::new();
    let settings = Settings::new(Cloud::Aws, "dev-1");
    let random: fn() -> u32 = fixed_random;
    let Ok(mut client) = Client::new(settings, FakeLink::new(), random, Device, m.buffers()) else {
        return false;
    };
    if client.connect(0).is_err() {
        return false;
    }
    // What earlier tests logged is not this test's.
    crate::defmt_capture::clear();
    client.poll(0);
    let quiet = !crate::defmt_capture::take_contains(b"connected");
    client.transport_mut().feed(&[0x20, 2, 0, 0]);
    client.poll(1);
    let connected = crate::defmt_capture::take_contains(b"connected");
    // A PUBLISH whose topic length runs past its end: malformed.
    client.transport_mut().feed(&[0x30, 3, 0, 9, b'x']);
    client.poll(2);
    let down = crate::defmt_capture::take_contains(b"link down: ");
    quiet && connected && down
}

pub fn azure_method_answered_by_the_device_model() -> bool {
    let mut m = Memory::new();
    let buffers = m.buffers();
    let mut settings = Settings::new(Cloud::Azure, "dev-1");
    settings.hub_host = Some("hub.example.net");
    let random: fn() -> u32 = fixed_random;
    let Ok(mut client) = Client::new(settings, FakeLink::new(), random, Device, buffers) else {
        return false;
    };
    let sensor = SensorInfo {
        id: 0,
        kind: "temperature",
        unit: "Cel",
    };
    if client.register_sensor(sensor, ()).is_err() || client.connect(0).is_err() {
        return false;
    }
    client.poll(0);
    client.transport_mut().clear_sent();
    client.transport_mut().feed(&[0x20, 2, 0, 0]);
    client.poll(1);
    if !contains(client.transport().sent(), b"$iothub/methods/POST/#") {
        return false;
    }
    client.transport_mut().clear_sent();

    let mut packet = [0u8; 96];
    let call = Publish {
        topic: "$iothub/methods/POST/sensor.list/?$rid=1f",
        payload: b"",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        packet_id: 0,
    };
    let Ok(n) = codec::encode_publish(&mut packet, &call) else {
        return false;
    };
    client.transport_mut().feed(&packet[..n]);
    let (_, used) = stack::measure(|| black_box(&mut client).poll(black_box(2)));
    POLL_STACK.store(used, Ordering::Relaxed);
    let sent = client.transport().sent();
    contains(sent, b"$iothub/methods/res/200/?$rid=1f")
        && contains(
            sent,
            br#"{"sensors":[{"id":0,"type":"temperature","unit":"Cel"}]}"#,
        )
}
