//! A whole `Session` on the target, over [`FakeLink`] and a clock that is
//! the number passed to `poll`.

use super::bytes;
use super::fake::{fixed_random, message, FakeLink, Log, Seen};
use crate::stack;
use core::hint::black_box;
use core::sync::atomic::{AtomicUsize, Ordering};
use nimbus::mqtt::{Buffers, Config, Event, QoS, Session, State};
use nimbus::Error;

/// Stack used by one `Session::poll` that receives a QoS 1 PUBLISH, hands
/// it to the handler and writes its PUBACK (0 until measured).
pub static POLL_STACK: AtomicUsize = AtomicUsize::new(0);

type TestSession<'b> = Session<'b, FakeLink, fn() -> u32, 4, 4>;

/// The caller memory of a test session.
struct Memory {
    rx: [u8; 256],
    tx: [u8; 128],
    inflight: [u8; 256],
    filters: [u8; 64],
}

impl Memory {
    const fn new() -> Self {
        Memory {
            rx: [0; 256],
            tx: [0; 128],
            inflight: [0; 256],
            filters: [0; 64],
        }
    }

    fn session(&mut self) -> Option<TestSession<'_>> {
        let buffers = Buffers {
            rx: &mut self.rx,
            tx: &mut self.tx,
            inflight: &mut self.inflight,
            filters: &mut self.filters,
        };
        let random: fn() -> u32 = fixed_random;
        Session::new(FakeLink::new(), random, Config::new("dev-1"), buffers).ok()
    }
}

const CONNACK: [u8; 4] = [0x20, 2, 0, 0];

/// CONNECT of `Config::new("dev-1")`: keepalive 60 s, persistent session.
fn connect_packet() -> heapless::Vec<u8, 256> {
    bytes(&[&[0x10, 17, 0, 4], b"MQTT", &[4, 0, 0, 60, 0, 5], b"dev-1"])
}

/// Polls once at `now`, recording events in `log`.
fn poll(s: &mut TestSession<'_>, log: &mut Log, now: u64) -> u64 {
    s.poll(black_box(now), |event, _| log.record(event))
}

/// A session connected at time 5, its CONNECT and CONNACK consumed.
fn connected<'b>(mem: &'b mut Memory, log: &mut Log) -> Option<TestSession<'b>> {
    let mut s = mem.session()?;
    s.connect();
    poll(&mut s, log, 0);
    s.transport_mut().clear_sent();
    s.transport_mut().feed(&CONNACK);
    poll(&mut s, log, 5);
    let ok = s.is_connected()
        && log.took(&[Seen::Connected {
            session_present: false,
        }]);
    ok.then_some(s)
}

pub fn connect_then_connack() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = mem.session() else {
        return false;
    };
    let idle = s.state() == State::Stopped && poll(&mut s, &mut log, 0) == u64::MAX;
    s.connect();
    let next = poll(&mut s, &mut log, 0);
    let connecting = s.state() == State::Connecting
        && next == 10_000 // the connect timeout
        && s.transport_mut().took(&connect_packet())
        && log.took(&[]);
    s.transport_mut().feed(&CONNACK);
    let next = poll(&mut s, &mut log, 5);
    idle && connecting
        && s.state() == State::Connected
        && next == 60_005 // keepalive after the CONNACK
        && log.took(&[Seen::Connected { session_present: false }])
        && s.transport().opens == 1
}

pub fn refused_connack_is_an_error() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = mem.session() else {
        return false;
    };
    s.connect();
    poll(&mut s, &mut log, 0);
    s.transport_mut().feed(&[0x20, 2, 0, 4]);
    poll(&mut s, &mut log, 5);
    s.state() == State::Waiting
        && log.took(&[Seen::Disconnected {
            reason: Some(Error::RefusedBadCredentials),
            reconnects: true,
        }])
}

pub fn subscribe_then_suback() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    let Ok(id) = s.subscribe("dev-1/request/#", QoS::AtLeastOnce) else {
        return false;
    };
    let queued_only = s.transport().sent().is_empty();
    poll(&mut s, &mut log, 10);
    let subscribe = bytes(&[&[0x82, 20, 0, 1, 0, 15], b"dev-1/request/#", &[1]]);
    let sent = s.transport_mut().took(&subscribe);
    s.transport_mut().feed(&[0x90, 3, 0, 1, 1]);
    poll(&mut s, &mut log, 20);
    queued_only
        && sent
        && log.took(&[Seen::Subscribed {
            id: id.index(),
            granted: Ok(QoS::AtLeastOnce),
        }])
        && s.outbox()
            .subscription(id)
            .is_some_and(|i| i.granted == Some(QoS::AtLeastOnce) && i.filter == "dev-1/request/#")
}

pub fn publish_qos1_until_puback() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    let Ok(Some(pid)) = s.publish("dev-1/events", b"{\"t\":1}", QoS::AtLeastOnce, false) else {
        return false;
    };
    let stored = s.outbox().in_flight() == 1;
    poll(&mut s, &mut log, 10);
    let [hi, lo] = pid.to_be_bytes();
    let publish = bytes(&[&[0x32, 23, 0, 12], b"dev-1/events", &[hi, lo], b"{\"t\":1}"]);
    let sent = s.transport_mut().took(&publish);
    let kept = s.outbox().in_flight() == 1 && log.took(&[]);
    s.transport_mut().feed(&[0x40, 2, hi, lo]);
    poll(&mut s, &mut log, 20);
    stored
        && sent
        && kept
        && pid != 0
        && log.took(&[Seen::Published { packet_id: pid }])
        && s.outbox().in_flight() == 0
}

pub fn qos0_both_ways_without_acks() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    let queued = s.publish("dev-1/events", b"{\"t\":1}", QoS::AtMostOnce, false) == Ok(None);
    poll(&mut s, &mut log, 10);
    let publish = bytes(&[&[0x30, 21, 0, 12], b"dev-1/events", b"{\"t\":1}"]);
    let sent = queued && s.transport_mut().took(&publish) && s.outbox().in_flight() == 0;
    s.transport_mut()
        .feed(&bytes(&[&[0x30, 8, 0, 3], b"a/b", b"xyz"]));
    poll(&mut s, &mut log, 20);
    sent && log.took(&[message("a/b", b"xyz", QoS::AtMostOnce, 0)])
        && s.transport().sent().is_empty()
}

/// Also the "peak stack of poll" figure: the one poll that receives a
/// QoS 1 PUBLISH, hands it to the handler and writes its PUBACK is
/// measured alone. Its handler reads the message in place, as firmware
/// does, so the figure is the engine's (plus a trivial handler frame).
pub fn receive_publish_sends_puback() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    let incoming = bytes(&[
        &[0x32, 31, 0, 25],
        b"dev-1/request/sensor/list",
        &[0x12, 0x34],
        b"{}",
    ]);
    s.transport_mut().feed(&incoming);
    let mut messages = 0u32;
    let mut others = 0u32;
    let (_, used) = stack::measure(|| {
        s.poll(black_box(10), |event, _| match event {
            Event::Message(p)
                if p.topic == "dev-1/request/sensor/list"
                    && p.payload == b"{}"
                    && p.qos == QoS::AtLeastOnce
                    && p.packet_id == 0x1234
                    && !p.dup =>
            {
                messages += 1
            }
            _ => others += 1,
        })
    });
    POLL_STACK.store(used, Ordering::Relaxed);
    used > 0
        && messages == 1
        && others == 0
        && s.transport_mut().took(&[0x40, 2, 0x12, 0x34])
        && s.is_connected()
}

pub fn keepalive_pingreq_and_ping_timeout() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    // Connected at 5 with a 60 s keepalive and a 5 s ping timeout.
    let early = poll(&mut s, &mut log, 60_004) == 60_005 && s.transport().sent().is_empty();
    let ping_due = poll(&mut s, &mut log, 60_005) == 65_005;
    let pinged = s.transport_mut().took(&[0xC0, 0]);
    s.transport_mut().feed(&[0xD0, 0]);
    let answered = poll(&mut s, &mut log, 60_010) == 120_005 && log.took(&[]);
    poll(&mut s, &mut log, 120_005);
    let pinged_again = s.transport_mut().took(&[0xC0, 0]);
    poll(&mut s, &mut log, 125_005);
    early
        && ping_due
        && pinged
        && answered
        && pinged_again
        && s.state() == State::Waiting
        && s.transport().closes == 1
        && log.took(&[Seen::Disconnected {
            reason: Some(Error::PingTimeout),
            reconnects: true,
        }])
}

pub fn malformed_packet_ends_connection() -> bool {
    let mut mem = Memory::new();
    let mut log = Log::new();
    let Some(mut s) = connected(&mut mem, &mut log) else {
        return false;
    };
    // A PUBACK one byte too long, then a valid PUBLISH that must not be
    // delivered: the connection ends at the first bad byte.
    s.transport_mut().feed(&[0x40, 3, 0, 1, 0]);
    s.transport_mut().feed(&bytes(&[&[0x30, 5, 0, 3], b"a/b"]));
    let retry_at = poll(&mut s, &mut log, 10);
    let ended = s.state() == State::Waiting
        && !s.is_connected()
        && s.transport().closes == 1
        && log.took(&[Seen::Disconnected {
            reason: Some(Error::MalformedPacket),
            reconnects: true,
        }]);
    // The next attempt comes after the backoff delay (base 1 s, jittered).
    let before =
        poll(&mut s, &mut log, retry_at.saturating_sub(1)) == retry_at && s.transport().opens == 1;
    poll(&mut s, &mut log, retry_at);
    // Full jitter over [0, 1000] ms (the random value modulo 1001), but
    // never sooner than 1 s after the previous attempt (at 0).
    ended
        && retry_at == (10 + u64::from(fixed_random() % 1_001)).max(1_000)
        && before
        && s.transport().opens == 2
        && s.transport_mut().took(&connect_packet())
}
