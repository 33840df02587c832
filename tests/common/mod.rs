//! Test helpers: a deterministic fake transport, a scripted random source,
//! broker-side packet builders and a decoder of what the client sent (both
//! through `mqttrs`, the independent oracle), and a harness with a fake
//! clock that records events.
#![allow(dead_code)]

use std::collections::VecDeque;

use nimbus::mqtt::{
    Buffers, Config, Event, OpenState, Outbox, QoS, Random, Session, Transport, TransportError,
};
use nimbus::Error;

/// A scripted link: `incoming` is what the broker sends, `sent` what the
/// client wrote. Chunk sizes and budgets model partial I/O.
#[derive(Debug)]
pub struct FakeTransport {
    pub incoming: VecDeque<u8>,
    pub sent: Vec<u8>,
    /// Most bytes one `send` takes.
    pub send_chunk: usize,
    /// Most bytes one `recv` returns.
    pub recv_chunk: usize,
    /// Bytes `send` accepts before returning "would block" (None: no limit).
    pub send_budget: Option<usize>,
    /// Results of the next `open` calls; `Ready` when empty.
    pub open_script: VecDeque<Result<OpenState, TransportError>>,
    /// An error returned by the next `recv`.
    pub recv_error: Option<TransportError>,
    pub opens: usize,
    pub closes: usize,
    pub is_open: bool,
    /// A copy of every byte sent, shared with the test (to see what was on
    /// the wire while a handler ran).
    pub tap: Option<std::rc::Rc<std::cell::RefCell<Vec<u8>>>>,
}

impl Default for FakeTransport {
    fn default() -> Self {
        FakeTransport {
            incoming: VecDeque::new(),
            sent: Vec::new(),
            send_chunk: usize::MAX,
            recv_chunk: usize::MAX,
            send_budget: None,
            open_script: VecDeque::new(),
            recv_error: None,
            opens: 0,
            closes: 0,
            is_open: false,
            tap: None,
        }
    }
}

impl Transport for FakeTransport {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        self.opens += 1;
        let r = self.open_script.pop_front().unwrap_or(Ok(OpenState::Ready));
        if r == Ok(OpenState::Ready) {
            self.is_open = true;
        }
        r
    }

    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        assert!(self.is_open, "send on a closed link");
        let mut n = buf.len().min(self.send_chunk);
        if let Some(budget) = self.send_budget.as_mut() {
            n = n.min(*budget);
            *budget -= n;
        }
        self.sent.extend_from_slice(&buf[..n]);
        if let Some(tap) = &self.tap {
            tap.borrow_mut().extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        assert!(self.is_open, "recv on a closed link");
        if let Some(e) = self.recv_error.take() {
            return Err(e);
        }
        let n = buf.len().min(self.recv_chunk).min(self.incoming.len());
        for slot in buf.iter_mut().take(n) {
            *slot = self.incoming.pop_front().unwrap();
        }
        Ok(n)
    }

    fn close(&mut self) {
        if self.is_open {
            self.closes += 1;
        }
        self.is_open = false;
        self.incoming.clear();
    }
}

/// A random source that plays back a script, then repeats its last value.
#[derive(Debug, Default)]
pub struct ScriptedRandom {
    pub values: VecDeque<u32>,
    pub last: u32,
    pub calls: usize,
}

impl Random for ScriptedRandom {
    fn next_u32(&mut self) -> u32 {
        self.calls += 1;
        if let Some(v) = self.values.pop_front() {
            self.last = v;
        }
        self.last
    }
}

/// A packet the client sent, decoded by mqttrs into owned values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    Connect {
        client_id: String,
        username: Option<String>,
        password: Option<Vec<u8>>,
        keep_alive: u16,
        clean_session: bool,
        will: Option<(String, Vec<u8>, u8, bool)>,
    },
    Publish {
        topic: String,
        payload: Vec<u8>,
        qos: u8,
        packet_id: u16,
        retain: bool,
        dup: bool,
    },
    PubAck(u16),
    Subscribe {
        packet_id: u16,
        filters: Vec<(String, u8)>,
    },
    Unsubscribe {
        packet_id: u16,
        filters: Vec<String>,
    },
    PingReq,
    Disconnect,
}

fn qos_u8(q: mqttrs::QoS) -> u8 {
    match q {
        mqttrs::QoS::AtMostOnce => 0,
        mqttrs::QoS::AtLeastOnce => 1,
        mqttrs::QoS::ExactlyOnce => 2,
    }
}

/// Decodes every whole packet in `bytes` with mqttrs; panics on garbage
/// or on a trailing partial packet.
pub fn decode_sent(bytes: &[u8]) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let packet = mqttrs::decode_slice(rest)
            .unwrap_or_else(|e| panic!("client sent garbage: {e:?} in {rest:02x?}"))
            .unwrap_or_else(|| panic!("partial packet at end: {rest:02x?}"));
        let mut scratch = [0u8; 70_000];
        let len = mqttrs::encode_slice(&packet, &mut scratch).expect("re-encode");
        out.push(owned(&packet));
        rest = &rest[len..];
    }
    out
}

fn owned(packet: &mqttrs::Packet<'_>) -> Sent {
    use mqttrs::Packet as P;
    match packet {
        P::Connect(c) => Sent::Connect {
            client_id: c.client_id.to_string(),
            username: c.username.map(str::to_string),
            password: c.password.map(<[u8]>::to_vec),
            keep_alive: c.keep_alive,
            clean_session: c.clean_session,
            will: c.last_will.as_ref().map(|w| {
                (
                    w.topic.to_string(),
                    w.message.to_vec(),
                    qos_u8(w.qos),
                    w.retain,
                )
            }),
        },
        P::Publish(p) => Sent::Publish {
            topic: p.topic_name.to_string(),
            payload: p.payload.to_vec(),
            qos: qos_u8(p.qospid.qos()),
            packet_id: p.qospid.pid().map_or(0, |p| p.get()),
            retain: p.retain,
            dup: p.dup,
        },
        P::Puback(pid) => Sent::PubAck(pid.get()),
        P::Subscribe(s) => Sent::Subscribe {
            packet_id: s.pid.get(),
            filters: s
                .topics
                .iter()
                .map(|t| (t.topic_path.as_str().to_string(), qos_u8(t.qos)))
                .collect(),
        },
        P::Unsubscribe(u) => Sent::Unsubscribe {
            packet_id: u.pid.get(),
            filters: u.topics.iter().map(|t| t.as_str().to_string()).collect(),
        },
        P::Pingreq => Sent::PingReq,
        P::Disconnect => Sent::Disconnect,
        other => panic!("a client never sends {other:?}"),
    }
}

fn encode(packet: &mqttrs::Packet<'_>) -> Vec<u8> {
    let mut buf = vec![0u8; 70_000];
    let n = mqttrs::encode_slice(packet, &mut buf).expect("mqttrs encode");
    buf.truncate(n);
    buf
}

fn pid(id: u16) -> mqttrs::Pid {
    mqttrs::Pid::try_from(id).expect("non-zero pid")
}

/// Broker → client packets, encoded by mqttrs.
pub mod broker {
    use super::*;

    pub fn connack(session_present: bool, code: u8) -> Vec<u8> {
        vec![0x20, 0x02, session_present as u8, code]
    }

    pub fn puback(id: u16) -> Vec<u8> {
        encode(&mqttrs::Packet::Puback(pid(id)))
    }

    pub fn unsuback(id: u16) -> Vec<u8> {
        encode(&mqttrs::Packet::Unsuback(pid(id)))
    }

    pub fn suback(id: u16, code: u8) -> Vec<u8> {
        vec![0x90, 0x03, (id >> 8) as u8, id as u8, code]
    }

    pub fn pingresp() -> Vec<u8> {
        encode(&mqttrs::Packet::Pingresp)
    }

    pub fn publish(
        topic: &str,
        payload: &[u8],
        qos: u8,
        id: u16,
        retain: bool,
        dup: bool,
    ) -> Vec<u8> {
        let qospid = match qos {
            0 => mqttrs::QosPid::AtMostOnce,
            1 => mqttrs::QosPid::AtLeastOnce(pid(id)),
            _ => mqttrs::QosPid::ExactlyOnce(pid(id)),
        };
        encode(&mqttrs::Packet::Publish(mqttrs::Publish {
            dup,
            qospid,
            retain,
            topic_name: topic,
            payload,
        }))
    }
}

/// An event with owned data, as recorded by the harness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Connected(bool),
    Disconnected(Option<Error>, Option<u32>),
    Subscribed(u8, QoS, Result<QoS, Error>),
    Unsubscribed(u8),
    Published(u16),
    Message {
        topic: String,
        payload: Vec<u8>,
        qos: QoS,
        retain: bool,
        dup: bool,
    },
    Oversized {
        topic: Option<String>,
        packet_id: Option<u16>,
        len: usize,
    },
    Unstable(u8),
}

impl Ev {
    pub fn from(event: &Event<'_>) -> Ev {
        match *event {
            Event::Connected { session_present } => Ev::Connected(session_present),
            Event::Disconnected {
                reason,
                reconnect_in_ms,
            } => Ev::Disconnected(reason, reconnect_in_ms),
            Event::Subscribed {
                id,
                requested,
                granted,
            } => Ev::Subscribed(id.index(), requested, granted),
            Event::Unsubscribed { id } => Ev::Unsubscribed(id.index()),
            Event::Published { packet_id } => Ev::Published(packet_id),
            Event::Message(m) => Ev::Message {
                topic: m.topic.to_string(),
                payload: m.payload.to_vec(),
                qos: m.qos,
                retain: m.retain,
                dup: m.dup,
            },
            Event::Oversized {
                topic,
                packet_id,
                len,
            } => Ev::Oversized {
                topic: topic.map(str::to_string),
                packet_id,
                len,
            },
            Event::Unstable { early_drops } => Ev::Unstable(early_drops),
        }
    }
}

pub const INFLIGHT: usize = 4;
pub const SUBS: usize = 4;
pub type TestSession = Session<'static, FakeTransport, ScriptedRandom, INFLIGHT, SUBS>;

/// Buffer sizes of a harness.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub rx: usize,
    pub tx: usize,
    pub inflight: usize,
    pub filters: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            rx: 512,
            tx: 512,
            inflight: 1024,
            filters: 256,
        }
    }
}

fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// A session over a fake transport, a fake clock, and the events so far.
pub struct Harness {
    pub session: TestSession,
    pub now: u64,
    pub events: Vec<Ev>,
    /// The deadline the last poll returned.
    pub next: u64,
}

/// The configuration most tests use.
pub fn config() -> Config<'static> {
    let mut c = Config::new("dev-1");
    c.keep_alive_s = 30;
    c.connect_timeout_ms = 5_000;
    c.ping_timeout_ms = 2_000;
    c.ack_timeout_ms = 3_000;
    c.backoff.base_ms = 100;
    c.backoff.max_ms = 1_000;
    // The CONNECT floor and the stability window have tests of their own;
    // the rest of the suite counts delays from the drawn backoff alone.
    c.backoff.min_interval_ms = 0;
    c.backoff.stable_ms = 0;
    c
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(config(), Sizes::default())
    }

    pub fn with(config: Config<'static>, sizes: Sizes) -> Harness {
        let buffers = Buffers {
            rx: leak(sizes.rx),
            tx: leak(sizes.tx),
            inflight: leak(sizes.inflight),
            filters: leak(sizes.filters),
        };
        let session = Session::new(
            FakeTransport::default(),
            ScriptedRandom::default(),
            config,
            buffers,
        )
        .expect("session");
        Harness {
            session,
            now: 0,
            events: Vec::new(),
            next: 0,
        }
    }

    pub fn link(&mut self) -> &mut FakeTransport {
        self.session.transport_mut()
    }

    /// Polls at the current time, recording events.
    pub fn poll(&mut self) -> u64 {
        let events = &mut self.events;
        self.next = self
            .session
            .poll(self.now, |e, _| events.push(Ev::from(&e)));
        self.next
    }

    /// Polls with a custom handler (after recording each event).
    pub fn poll_with(
        &mut self,
        mut f: impl FnMut(&Event<'_>, &mut Outbox<'static, INFLIGHT, SUBS>),
    ) -> u64 {
        let events = &mut self.events;
        self.next = self.session.poll(self.now, |e, out| {
            events.push(Ev::from(&e));
            f(&e, out);
        });
        self.next
    }

    /// Polls until nothing changes (bounded), advancing no time.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let before = (
                self.link().sent.len(),
                self.link().incoming.len(),
                self.events.len(),
            );
            self.poll();
            let after = (
                self.link().sent.len(),
                self.link().incoming.len(),
                self.events.len(),
            );
            if before == after && self.next > self.now {
                return;
            }
        }
        panic!("session did not settle");
    }

    /// Queues bytes from the broker.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.link().incoming.extend(bytes.iter().copied());
    }

    /// Takes and decodes everything the client sent so far.
    pub fn take_sent(&mut self) -> Vec<Sent> {
        let bytes = std::mem::take(&mut self.link().sent);
        decode_sent(&bytes)
    }

    pub fn take_events(&mut self) -> Vec<Ev> {
        std::mem::take(&mut self.events)
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// Connects and completes the CONNECT/CONNACK exchange.
    pub fn connect(&mut self, session_present: bool) {
        self.session.connect();
        self.settle();
        let sent = self.take_sent();
        assert!(
            matches!(sent.first(), Some(Sent::Connect { .. })),
            "{sent:?}"
        );
        self.feed(&broker::connack(session_present, 0));
        self.settle();
        assert!(self.session.is_connected());
        let events = self.take_events();
        assert_eq!(events.first(), Some(&Ev::Connected(session_present)));
    }

    /// A connected harness with nothing pending.
    pub fn connected() -> Harness {
        let mut h = Harness::new();
        h.connect(false);
        assert_eq!(h.take_sent(), vec![]);
        h
    }
}
