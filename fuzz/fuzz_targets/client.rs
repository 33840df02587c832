//! The whole client (both clouds) over a scripted link: CONNACK, SUBACK,
//! PUBLISH to every kind of cloud topic with fuzzed payloads (requests,
//! methods, C2D, shadow and twin answers, desired patches), PUBACK,
//! PINGRESP and garbage, split at fuzz-chosen points, with the clock
//! advancing. Asserts liveness like the session target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::cloud::sas::{HmacSha256, RustCryptoHmac};
use nimbus::cloud::Cloud;
use nimbus::device::sensor::{Reading, SensorInfo};
use nimbus::device::{Actions, Answer, App, Buffers, Client, Request, Settings};
use nimbus_fuzz::{Counter, Input, Link, Liveness};

struct FuzzApp {
    defer: bool,
    handles: Vec<nimbus::device::requests::RequestHandle>,
}

impl HmacSha256 for FuzzApp {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> nimbus::Result<[u8; 32]> {
        RustCryptoHmac.hmac_sha256(key, message)
    }
}

impl App for FuzzApp {
    type Handler = u8;
    type Sensor = i64;

    fn on_request(
        &mut self,
        _h: u8,
        request: &Request<'_>,
        reply: &mut [u8],
        _a: &mut Actions<'_, '_>,
    ) -> Answer {
        if self.defer {
            self.handles.push(request.handle);
            return Answer::Later;
        }
        let n = request.payload.len().min(reply.len());
        reply[..n].copy_from_slice(&request.payload[..n]);
        Answer::Now {
            status: 200,
            len: n,
        }
    }

    fn read_sensor(&mut self, _s: &SensorInfo<'_>, source: i64) -> nimbus::Result<Reading> {
        Ok(Reading {
            mantissa: source,
            decimals: 1,
        })
    }

    fn unix_time_s(&mut self) -> Option<u64> {
        Some(1_700_000_000)
    }
}

const TOPICS: &[&str] = &[
    "d1/request/sensor/list",
    "d1/request/sensor/0/get",
    "d1/request/general_information",
    "d1/request/x/y",
    "$aws/things/d1/shadow/get/accepted",
    "$aws/things/d1/shadow/get/rejected",
    "$aws/things/d1/shadow/update/accepted",
    "$aws/things/d1/shadow/update/rejected",
    "$aws/things/d1/shadow/update/delta",
    "$iothub/methods/POST/sensor.list/?$rid=1",
    "$iothub/methods/POST/x/?$rid=abc-DEF_1.2~",
    "devices/d1/messages/devicebound/subtopic=request.sensor.list",
    "devices/d1/messages/devicebound/%24.mid=1&subtopic=request.x",
    "$iothub/twin/res/200/?$rid=",
    "$iothub/twin/res/204/?$rid=",
    "$iothub/twin/res/429/?$rid=",
    "$iothub/twin/PATCH/properties/desired/?$version=",
];

fn publish(input: &mut Input<'_>, out: &mut Vec<u8>) {
    let mut topic = TOPICS[usize::from(input.byte()) % TOPICS.len()]
        .as_bytes()
        .to_vec();
    topic.extend(input.bytes(12));
    let qos = input.byte() % 2;
    let id = input.u16().max(1);
    let mut payload = input.bytes(255).to_vec();
    // Sometimes far larger than the receive buffer.
    if input.byte() == 0xff {
        payload.extend(std::iter::repeat_n(b' ', 5000));
    }
    nimbus_fuzz::publish(out, &topic, qos, id, &payload);
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let cloud = if input.byte() % 2 == 0 {
        Cloud::Aws
    } else {
        Cloud::Azure
    };
    let mut settings = Settings::new(cloud, "d1");
    if cloud == Cloud::Azure {
        settings.hub_host = Some("hub.example.net");
        if input.byte() % 2 == 0 {
            settings.sas = Some(nimbus::device::Sas {
                key_base64: "a2V5",
                lifetime_s: 60,
            });
        }
    }
    settings.telemetry_period_ms = u32::from(input.byte()) * 10;
    let mut memory = vec![0u8; 1024 + 1024 + 4096 + 512 + 1024 + 512 + 768];
    let (rx, rest) = memory.split_at_mut(1024);
    let (tx, rest) = rest.split_at_mut(1024);
    let (inflight, rest) = rest.split_at_mut(4096);
    let (filters, rest) = rest.split_at_mut(512);
    let (work, rest) = rest.split_at_mut(1024);
    let (reply, credentials) = rest.split_at_mut(512);
    let buffers = Buffers {
        rx,
        tx,
        inflight,
        filters,
        work,
        reply,
        credentials,
    };
    let link = Link {
        recv_chunk: 256,
        send_budget: usize::MAX,
        ..Link::default()
    };
    let app = FuzzApp {
        defer: input.byte() % 4 == 0,
        handles: Vec::new(),
    };
    let Ok(mut client) = Client::new(settings, link, Counter::default(), app, buffers) else {
        return;
    };
    let _ = client.register_handler("x/+", 1);
    let _ = client.register_sensor(
        SensorInfo {
            id: 0,
            kind: "temperature",
            unit: "Cel",
        },
        215,
    );
    let mut now = 1_000u64;
    let _ = client.connect(now);
    let mut live = Liveness::new();
    let mut bytes = Vec::new();
    while !input.is_empty() {
        match input.byte() % 12 {
            0 => client.transport_mut().incoming.extend([
                0x20,
                2,
                input.byte() & 1,
                input.byte() % 6,
            ]),
            1 => {
                let id = input.u16();
                client.transport_mut().incoming.extend([
                    0x90,
                    3,
                    (id >> 8) as u8,
                    id as u8,
                    input.byte() % 2,
                ]);
            }
            2 | 3 | 4 | 5 => {
                bytes.clear();
                publish(&mut input, &mut bytes);
                client.transport_mut().incoming.extend(&bytes);
            }
            6 => {
                let id = input.u16();
                client
                    .transport_mut()
                    .incoming
                    .extend([0x40, 2, (id >> 8) as u8, id as u8]);
            }
            7 => {
                let raw = input.bytes(32);
                client.transport_mut().incoming.extend(raw);
            }
            8 => now += u64::from(input.u16()) * u64::from(input.byte() % 16 + 1),
            9 => client.transport_mut().recv_chunk = usize::from(input.byte()) + 1,
            10 => {
                let b = input.byte();
                client.transport_mut().send_budget =
                    if b == 0 { usize::MAX } else { usize::from(b) };
            }
            _ => {
                let mut actions = client.actions(now);
                match input.byte() % 6 {
                    0 => {
                        let _ = actions.report(input.bytes(64));
                    }
                    1 => {
                        let _ = actions.get_twin();
                    }
                    2 => {
                        let _ =
                            actions.publish_event(input.bytes(64), nimbus::mqtt::QoS::AtLeastOnce);
                    }
                    3 => {
                        drop(actions);
                        if let Some(h) = client.app_mut().handles.pop() {
                            let _ = client.actions(now).respond(h, 200, b"{}");
                        }
                    }
                    4 => {
                        drop(actions);
                        client.transport_mut().open = false;
                    }
                    _ => {
                        drop(actions);
                        client.disconnect(now);
                        let _ = client.connect(now);
                    }
                }
            }
        }
        for _ in 0..Liveness::MAX_IDLE + 1 {
            let before = (
                client.transport().sent,
                client.transport().incoming.len(),
                client.state(),
            );
            let wake = client.poll(now);
            let after = (
                client.transport().sent,
                client.transport().incoming.len(),
                client.state(),
            );
            live.check(now, wake, before != after);
            if wake > now {
                if input.byte() % 4 == 0 && wake != u64::MAX {
                    now = wake;
                }
                break;
            }
        }
    }
});
