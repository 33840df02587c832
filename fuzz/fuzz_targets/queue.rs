//! The persisted queue of readings under power cuts at fuzzed store
//! writes (nothing written, torn, or whole), link drops, refused
//! connections, a broker that acknowledges or not, and corrupted records.
//! After the last power cut a cooperative broker gets everything: every
//! reading or event whose publish returned `Ok`, in any boot, must have
//! reached it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::cloud::Cloud;
use nimbus::device::queue::QueuePolicy;
use nimbus::device::sensor::{Reading, SensorInfo};
use nimbus::device::{Actions, Answer, App, Buffers, Client, Request, Settings};
use nimbus::mqtt::{OpenState, QoS, Transport, TransportError};
use nimbus_fuzz::{Counter, Input};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

type Store = Rc<RefCell<BTreeMap<u16, Vec<u8>>>>;

#[derive(Default)]
struct Wire {
    sent: Vec<u8>,
    incoming: VecDeque<u8>,
    open: bool,
    refuse: bool,
}

impl Transport for Wire {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        if self.refuse {
            return Err(TransportError::Failed);
        }
        self.open = true;
        Ok(OpenState::Ready)
    }
    fn send(&mut self, bytes: &[u8]) -> Result<usize, TransportError> {
        if !self.open {
            return Err(TransportError::Closed);
        }
        self.sent.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        if !self.open {
            return Err(TransportError::Closed);
        }
        let n = buf.len().min(self.incoming.len());
        for slot in buf.iter_mut().take(n) {
            *slot = self.incoming.pop_front().unwrap_or(0);
        }
        Ok(n)
    }
    fn close(&mut self) {
        self.open = false;
        self.incoming.clear();
    }
}

struct QApp {
    store: Store,
    /// Store writes left before the power goes (`None`: no cut armed).
    cut_in: Option<u8>,
    tear: bool,
    dead: bool,
}

impl nimbus::cloud::sas::HmacSha256 for QApp {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> nimbus::Result<[u8; 32]> {
        nimbus::cloud::sas::RustCryptoHmac.hmac_sha256(key, message)
    }
}

impl App for QApp {
    type Handler = u8;
    type Sensor = i64;
    fn on_request(
        &mut self,
        _: u8,
        _: &Request<'_>,
        _: &mut [u8],
        _: &mut Actions<'_, '_>,
    ) -> Answer {
        Answer::Now {
            status: 204,
            len: 0,
        }
    }
    fn read_sensor(&mut self, _: &SensorInfo<'_>, source: i64) -> nimbus::Result<Reading> {
        Ok(Reading {
            mantissa: source,
            decimals: 0,
        })
    }
    fn has_store(&self) -> bool {
        true
    }
    fn store_read(&mut self, id: u16, buf: &mut [u8]) -> nimbus::Result<Option<usize>> {
        let store = self.store.borrow();
        let Some(r) = store.get(&id) else {
            return Ok(None);
        };
        let out = buf
            .get_mut(..r.len())
            .ok_or(nimbus::Error::BufferTooSmall)?;
        out.copy_from_slice(r);
        Ok(Some(r.len()))
    }
    fn store_write(&mut self, id: u16, data: &[u8]) -> nimbus::Result<()> {
        if self.dead {
            return Err(nimbus::Error::TransportFailed);
        }
        if let Some(n) = self.cut_in {
            if n == 0 {
                self.dead = true;
                if self.tear && data.len() > 1 {
                    self.store
                        .borrow_mut()
                        .insert(id, data[..data.len() / 2].to_vec());
                }
                return Err(nimbus::Error::TransportFailed);
            }
            self.cut_in = Some(n - 1);
        }
        if data.is_empty() {
            self.store.borrow_mut().remove(&id);
        } else {
            self.store.borrow_mut().insert(id, data.to_vec());
        }
        Ok(())
    }
}

const SENSOR: SensorInfo<'static> = SensorInfo {
    id: 0,
    kind: "t",
    unit: "u",
};

/// Bytes of the client's buffers.
const MEMORY: usize = 512 + 512 + 2048 + 512 + 512 + 256 + 256;

fn boot<'b>(
    store: &Store,
    queue_len: u16,
    memory: &'b mut [u8],
) -> Option<Client<'b, Wire, Counter, QApp>> {
    memory.fill(0);
    let (rx, rest) = memory.split_at_mut(512);
    let (tx, rest) = rest.split_at_mut(512);
    let (inflight, rest) = rest.split_at_mut(2048);
    let (filters, rest) = rest.split_at_mut(512);
    let (work, rest) = rest.split_at_mut(512);
    let (reply, credentials) = rest.split_at_mut(256);
    let buffers = Buffers {
        rx,
        tx,
        inflight,
        filters,
        work,
        reply,
        credentials,
    };
    let mut s = Settings::new(Cloud::Aws, "d1");
    s.queue_len = queue_len;
    s.queue_policy = QueuePolicy::RefuseNew;
    let app = QApp {
        store: store.clone(),
        cut_in: None,
        tear: false,
        dead: false,
    };
    let mut c = Client::new(s, Wire::default(), Counter::default(), app, buffers).ok()?;
    c.register_sensor(SENSOR, 7).ok()?;
    c.connect(0).ok()?;
    Some(c)
}

/// The broker's side: answers CONNECT, SUBSCRIBE and PINGREQ, takes the
/// readings (acknowledging them when `ack`), and records what it got.
fn broker(wire: &mut Wire, ack: bool, present: bool, got: &mut BTreeSet<(u32, u32)>) {
    let bytes = std::mem::take(&mut wire.sent);
    let mut rest = &bytes[..];
    while rest.len() >= 2 {
        let (mut len, mut i, mut shift) = (0usize, 1usize, 0);
        loop {
            let Some(&b) = rest.get(i) else { return };
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let Some(body) = rest.get(i..i + len) else {
            return;
        };
        let first = rest[0];
        match first >> 4 {
            1 => wire.incoming.extend([0x20, 2, u8::from(present), 0]),
            8 => wire.incoming.extend([0x90, 3, body[0], body[1], 1]),
            12 => wire.incoming.extend([0xd0, 0]),
            3 => {
                let tl = usize::from(u16::from_be_bytes([body[0], body[1]]));
                let qos = (first >> 1) & 3;
                let start = 2 + tl + if qos > 0 { 2 } else { 0 };
                if let Some(payload) = body.get(start..) {
                    let text = String::from_utf8_lossy(payload);
                    if let (Some(seq), Some(boot)) =
                        (field(&text, "\"seq\":"), field(&text, "\"boot\":"))
                    {
                        got.insert((boot, seq));
                    }
                }
                if qos == 1 && ack {
                    wire.incoming.extend([0x40, 2, body[2 + tl], body[3 + tl]]);
                }
            }
            _ => {}
        }
        rest = &rest[i + len..];
    }
}

fn field(text: &str, key: &str) -> Option<u32> {
    let at = text.find(key)? + key.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let queue_len = u16::from(input.byte() % 16) + 1;
    let store: Store = Rc::default();
    let mut memory = vec![0u8; MEMORY];
    let Some(mut client) = boot(&store, queue_len, &mut memory) else {
        return;
    };
    let mut accepted = BTreeSet::new();
    let mut got = BTreeSet::new();
    let mut now = 0u64;
    let mut boots = 1;
    let mut events = 0u32;
    while !input.is_empty() && boots < 12 {
        match input.byte() % 8 {
            0 => {
                if client.publish_sensor(0, QoS::AtLeastOnce, now).is_ok() {
                    let s = client.stats();
                    accepted.insert((s.boot, s.seq));
                }
            }
            1 => {
                // Events: numbered here (boot 0), queued with the readings.
                events += 1;
                let body = format!("{{\"seq\":{events},\"boot\":0}}");
                if client
                    .actions(now)
                    .publish_event(body.as_bytes(), QoS::AtLeastOnce)
                    .is_ok()
                {
                    accepted.insert((0, events));
                }
            }
            2 | 3 => {
                now += u64::from(input.byte()) * 20;
                client.poll(now);
            }
            4 => {
                let (ack, present) = (input.byte() % 4 != 0, input.byte() % 2 == 0);
                broker(client.transport_mut(), ack, present, &mut got);
                client.poll(now);
            }
            5 => {
                let w = client.transport_mut();
                w.close();
                w.refuse = input.byte() % 2 == 0;
            }
            6 => {
                let app = client.app_mut();
                app.cut_in = Some(input.byte() % 4);
                app.tear = input.byte() % 2 == 0;
            }
            _ => {
                // Flash corrupts one byte of one record (it may have been
                // accepted: that reading alone may then be lost).
                let id = 16 + u16::from(input.byte()) % queue_len;
                if let Some(r) = store.borrow_mut().get_mut(&id) {
                    let text = String::from_utf8_lossy(r).into_owned();
                    if let (Some(seq), Some(boot)) =
                        (field(&text, "\"seq\":"), field(&text, "\"boot\":"))
                    {
                        // Its reading no longer has to arrive.
                        accepted.remove(&(boot, seq));
                    }
                    let at = usize::from(input.byte()) % r.len();
                    r[at] ^= 1 | input.byte();
                }
            }
        }
        if client.app().dead {
            // The power went: the next boot, on the same store.
            drop(client);
            boots += 1;
            let Some(c) = boot(&store, queue_len, &mut memory) else {
                return;
            };
            client = c;
        }
    }
    // Power cycle once more, then a broker that takes everything.
    drop(client);
    let Some(mut client) = boot(&store, queue_len, &mut memory) else {
        return;
    };
    for _ in 0..200 {
        now += 100;
        client.poll(now);
        broker(client.transport_mut(), true, true, &mut got);
        client.poll(now);
    }
    let lost: Vec<_> = accepted.difference(&got).collect();
    assert!(
        lost.is_empty(),
        "lost {lost:?}; accepted {accepted:?}, got {got:?}"
    );
    assert_eq!(client.stats().queued, 0);
});
