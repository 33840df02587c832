//! Callgrind benchmark of the MQTT hot paths.
//!
//! Each run executes one operation, chosen by the first argument
//! (`encode`, `decode` or `poll`), inside an `#[inline(never)]` function,
//! so that `valgrind --tool=callgrind --toggle-collect='*bench_<name>*'`
//! counts exactly that operation:
//!
//! ```text
//! cargo bench --no-run
//! valgrind --tool=callgrind --callgrind-out-file=cg.encode \
//!     --toggle-collect='*bench_encode_publish_qos1*' target/release/deps/mqtt_ops-<hash> encode
//! callgrind_annotate cg.encode | head
//! ```
//!
//! The workload is the one coreMQTT's figures are quoted for: a QoS 1
//! PUBLISH with a 64-byte topic and a 64-byte payload.

mod harness;

use harness::Op;
use std::hint::black_box;
use std::process::ExitCode;

use nimbus::mqtt::codec::{self, Packet, Publish, QoS};
use nimbus::mqtt::{Buffers, Config, Event, OpenState, Session, Transport, TransportError};

const TOPIC: &str = "dev-0123456789abcdef/request/sensor/12/get/abcdefghijklmnopqrstu";
const PAYLOAD: [u8; 64] = [0x5A; 64];

fn publish() -> Publish<'static> {
    Publish {
        topic: TOPIC,
        payload: &PAYLOAD,
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        packet_id: 0x1234,
    }
}

#[inline(never)]
fn bench_encode_publish_qos1(buf: &mut [u8], publish: &Publish<'_>) -> usize {
    codec::encode_publish(buf, publish).unwrap_or(0)
}

#[inline(never)]
fn bench_decode_publish(buf: &[u8]) -> usize {
    match codec::decode_packet(buf) {
        Ok(Some((Packet::Publish(p), used))) => used + p.payload.len() + p.topic.len(),
        _ => 0,
    }
}

/// A transport over two fixed buffers: `input` is what the broker sends,
/// `output` collects what the client writes.
struct FakeLink {
    input: [u8; 256],
    in_len: usize,
    in_pos: usize,
    output: [u8; 256],
    out_len: usize,
}

impl Transport for FakeLink {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        Ok(OpenState::Ready)
    }
    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        let n = buf.len().min(self.output.len() - self.out_len);
        self.output[self.out_len..self.out_len + n].copy_from_slice(&buf[..n]);
        self.out_len += n;
        Ok(n)
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        let n = buf.len().min(self.in_len - self.in_pos);
        buf[..n].copy_from_slice(&self.input[self.in_pos..self.in_pos + n]);
        self.in_pos += n;
        Ok(n)
    }
    fn close(&mut self) {}
}

impl FakeLink {
    fn feed(&mut self, bytes: &[u8]) {
        self.input[..bytes.len()].copy_from_slice(bytes);
        self.in_len = bytes.len();
        self.in_pos = 0;
        self.out_len = 0;
    }
}

type BenchSession<'b> = Session<'b, FakeLink, fn() -> u32, 8, 8>;

#[inline(never)]
fn bench_poll_publish_puback(session: &mut BenchSession<'_>, seen: &mut usize) -> u64 {
    session.poll(1_000, |event, _out| {
        if let Event::Message(m) = event {
            *seen += m.payload.len();
        }
    })
}

fn run_poll() {
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 256];
    let mut inflight = [0u8; 512];
    let mut filters = [0u8; 128];
    let link = FakeLink {
        input: [0; 256],
        in_len: 0,
        in_pos: 0,
        output: [0; 256],
        out_len: 0,
    };
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        filters: &mut filters,
    };
    let random: fn() -> u32 = || 4;
    let mut session: BenchSession<'_> =
        Session::new(link, random, Config::new("bench-device"), buffers).expect("session");
    session.connect();
    session.transport_mut().feed(&[0x20, 0x02, 0x00, 0x00]);
    session.poll(0, |_, _| {});
    assert!(session.is_connected());

    let mut packet = [0u8; 256];
    let len = codec::encode_publish(&mut packet, &publish()).expect("encode");
    session.transport_mut().feed(&packet[..len]);
    let mut seen = 0;
    let next = bench_poll_publish_puback(black_box(&mut session), &mut seen);
    assert_eq!(seen, PAYLOAD.len());
    let link = session.transport();
    assert_eq!(&link.output[..link.out_len], &[0x40, 0x02, 0x12, 0x34]);
    black_box(next);
}

/// Word-aligned storage, like a receive buffer.
#[repr(align(8))]
struct Aligned([u8; 272]);

/// Encodes the benchmark PUBLISH into `storage` the way the session lays
/// out a received PUBLISH: its topic starting on a word boundary.
fn aligned_packet(storage: &mut Aligned) -> (&[u8], usize) {
    let p = publish();
    let topic_offset = 3 + 2; // two-byte remaining length, topic length
    let start = (8 - topic_offset % 8) % 8;
    let len = codec::encode_publish(&mut storage.0[start..], &p).expect("encode");
    (&storage.0[start..], len)
}

fn encode() {
    let mut buf = [0u8; 256];
    let n = bench_encode_publish_qos1(black_box(&mut buf), black_box(&publish()));
    assert_eq!(
        n,
        1 + 2 + 2 + 64 + 2 + 64,
        "type, remaining length, topic, id, payload"
    );
}

fn decode() {
    let mut aligned = Aligned([0; 272]);
    let (packet, len) = aligned_packet(&mut aligned);
    let n = bench_decode_publish(black_box(&packet[..len]));
    assert_eq!(n, len + 128);
}

fn decode_unaligned() {
    let mut buf = [0u8; 256];
    let len = codec::encode_publish(&mut buf[1..], &publish()).expect("encode");
    let n = bench_decode_publish(black_box(&buf[1..1 + len]));
    assert_eq!(n, len + 128);
}

fn main() -> ExitCode {
    harness::main(&[
        Op {
            selector: "encode",
            function: "bench_encode_publish_qos1",
            reference: Some((194, "coreMQTT v2.3.1 serialize")),
            run: encode,
        },
        Op {
            selector: "decode",
            function: "bench_decode_publish",
            reference: Some((166, "coreMQTT v2.3.1 deserialize")),
            run: decode,
        },
        Op {
            selector: "decode-unaligned",
            function: "bench_decode_publish",
            reference: Some((166, "coreMQTT v2.3.1 deserialize")),
            run: decode_unaligned,
        },
        Op {
            selector: "poll",
            function: "bench_poll_publish_puback",
            reference: None,
            run: run_poll,
        },
    ])
}
