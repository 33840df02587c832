//! Instruction counts of whole paths through the client, from the bytes
//! the transport delivers to the application's callback: an Azure direct
//! method reaching its handler, an Azure twin answer completing a report,
//! and an AWS shadow delta (with its 200-byte document) reaching
//! `on_desired`. Each measures one `Client::poll` that receives one
//! PUBLISH (QoS 0, so nothing is sent back).

mod harness;

use std::hint::black_box;
use std::process::ExitCode;

use harness::Op;
use nimbus::cloud::sas::HmacSha256;
use nimbus::cloud::Cloud;
use nimbus::device::sensor::{Reading, SensorInfo};
use nimbus::device::{Actions, Answer, App, Buffers, Client, Request, Settings, TwinResult};
use nimbus::mqtt::codec::{self, Publish, QoS};
use nimbus::mqtt::{OpenState, Transport, TransportError};

/// A transport over two fixed buffers.
struct FakeLink {
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
}

impl Transport for FakeLink {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        Ok(OpenState::Ready)
    }
    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
    fn close(&mut self) {}
}

/// Counts what reached the application.
#[derive(Default)]
struct Seen {
    requests: usize,
    desired: usize,
    twin: usize,
}

impl HmacSha256 for Seen {
    fn hmac_sha256(&mut self, _: &[u8], _: &[&[u8]]) -> nimbus::Result<[u8; 32]> {
        Err(nimbus::Error::InvalidCredentials)
    }
}

impl App for Seen {
    type Handler = ();
    type Sensor = ();

    fn on_request(
        &mut self,
        _: (),
        request: &Request<'_>,
        _: &mut [u8],
        _: &mut Actions<'_, '_>,
    ) -> Answer {
        self.requests += black_box(request.path.len());
        Answer::Later
    }

    fn read_sensor(&mut self, _: &SensorInfo<'_>, _: ()) -> nimbus::Result<Reading> {
        Err(nimbus::Error::SensorFailed)
    }

    fn on_desired(&mut self, patch: &[u8], _: u64, _: &mut Actions<'_, '_>) {
        self.desired += black_box(patch.len());
    }

    fn on_twin(&mut self, _: TwinResult<'_>, _: &mut Actions<'_, '_>) {
        self.twin += 1;
    }
}

type BenchClient = Client<'static, FakeLink, fn() -> u32, Seen>;

fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

fn packet(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 512];
    let p = Publish {
        topic,
        payload,
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        packet_id: 0,
    };
    let n = codec::encode_publish(&mut out, &p).expect("encode");
    out.truncate(n);
    out
}

/// A connected client of `cloud`, with a handler for `sensor/list`.
fn connected(cloud: Cloud) -> BenchClient {
    let mut settings = Settings::new(cloud, "dev1");
    if cloud == Cloud::Azure {
        settings.hub_host = Some("hub.example.net");
    }
    let buffers = Buffers {
        rx: leak(2048),
        tx: leak(2048),
        inflight: leak(4096),
        filters: leak(512),
        work: leak(1024),
        reply: leak(1024),
        credentials: leak(768),
    };
    let link = FakeLink {
        input: Vec::new(),
        pos: 0,
        output: Vec::new(),
    };
    let random: fn() -> u32 = || 7;
    let mut client = Client::new(settings, link, random, Seen::default(), buffers).expect("client");
    client.register_handler("sensor/list", ()).expect("handler");
    client.connect(0).expect("connect");
    client.poll(0);
    client
        .transport_mut()
        .input
        .extend_from_slice(&[0x20, 0x02, 0x00, 0x00]);
    client.poll(1);
    // Acknowledge the subscriptions and the twin fetch so that nothing
    // else is pending when the measured poll runs.
    let sent = std::mem::take(&mut client.transport_mut().output);
    let acks = acknowledgements(&sent);
    client.transport_mut().input.extend_from_slice(&acks);
    client.poll(2);
    client.poll(3);
    client.transport_mut().output.clear();
    client
}

/// The SUBACKs and PUBACKs a broker sends for what the client wrote.
fn acknowledgements(mut sent: &[u8]) -> Vec<u8> {
    let mut acks = Vec::new();
    while let [first, rest @ ..] = sent {
        let (mut len, mut shift, mut used) = (0usize, 0, 0);
        for b in rest {
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            used += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let body = &rest[used..used + len];
        match first >> 4 {
            8 => acks.extend_from_slice(&[0x90, 0x03, body[0], body[1], 0x01]),
            3 if first & 0x06 != 0 => {
                let at = 2 + usize::from(u16::from_be_bytes([body[0], body[1]]));
                acks.extend_from_slice(&[0x40, 0x02, body[at], body[at + 1]]);
            }
            _ => {}
        }
        sent = &rest[used + len..];
    }
    acks
}

#[inline(never)]
fn bench_client_poll(client: &mut BenchClient, now_ms: u64) -> u64 {
    client.poll(now_ms)
}

fn method_to_handler() {
    let mut client = connected(Cloud::Azure);
    let bytes = packet("$iothub/methods/POST/sensor.list/?$rid=1f", b"");
    client.transport_mut().input.extend_from_slice(&bytes);
    black_box(bench_client_poll(black_box(&mut client), 10));
    assert_eq!(client.app().requests, "sensor/list".len());
}

fn azure_res204() {
    let mut client = connected(Cloud::Azure);
    let id = client
        .actions(5)
        .report(br#"{"led":"on"}"#)
        .expect("report");
    client.poll(6);
    let topic = format!("$iothub/twin/res/204/?$rid={}&$version=5", id.as_str());
    let bytes = packet(&topic, b"");
    client.transport_mut().input.extend_from_slice(&bytes);
    let before = client.app().twin;
    black_box(bench_client_poll(black_box(&mut client), 10));
    assert_eq!(client.app().twin, before + 1);
}

const DELTA: &[u8] = br#"{"version":1234,"timestamp":1700000000,"state":{"led":"on","rate":15,"cfg":{"mode":"eco","limits":[1,2,3]}},"metadata":{"led":{"timestamp":1700000000},"rate":{"timestamp":1700000000}},"x":"123456789"}"#;

fn aws_delta() {
    assert_eq!(DELTA.len(), 200);
    let mut client = connected(Cloud::Aws);
    let bytes = packet("$aws/things/dev1/shadow/update/delta", DELTA);
    client.transport_mut().input.extend_from_slice(&bytes);
    black_box(bench_client_poll(black_box(&mut client), 10));
    assert!(client.app().desired > 0);
}

fn main() -> ExitCode {
    harness::main(&[
        Op {
            selector: "method_to_handler",
            function: "bench_client_poll",
            reference: Some((666, "C libraries (decode 166 + topic 500)")),
            run: method_to_handler,
        },
        Op {
            selector: "azure_res204",
            function: "bench_client_poll",
            reference: None,
            run: azure_res204,
        },
        Op {
            selector: "aws_delta",
            function: "bench_client_poll",
            reference: None,
            run: aws_delta,
        },
    ])
}
