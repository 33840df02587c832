//! A whole MQTT session over a scripted link: broker bytes (well-formed
//! packets and garbage) split at fuzz-chosen points, send budgets, clock
//! jumps, publishes, subscriptions, connects and disconnects. Asserts
//! liveness: `poll` never keeps asking to run at once without progress.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nimbus::mqtt::{Buffers, Config, QoS, Session};
use nimbus_fuzz::{Counter, Input, Link, Liveness};

/// A packet the broker could send, built from the input.
fn packet(input: &mut Input<'_>, out: &mut Vec<u8>) {
    let id = input.u16();
    match input.byte() % 8 {
        0 => out.extend([0x20, 2, input.byte() & 1, input.byte() % 7]),
        1 => out.extend([
            0x90,
            3,
            (id >> 8) as u8,
            id as u8,
            [0, 1, 0x80, 2][usize::from(input.byte() % 4)],
        ]),
        2 => out.extend([0x40, 2, (id >> 8) as u8, id as u8]),
        3 => out.extend([0xB0, 2, (id >> 8) as u8, id as u8]),
        4 => out.extend([0xD0, 0]),
        _ => {
            let qos = input.byte() % 2;
            let topic = input.bytes(300);
            let payload = vec![0x61; usize::from(input.u16()) % 3000];
            nimbus_fuzz::publish(out, topic, qos, id, &payload);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let rx_len = 16 + usize::from(input.byte()) * 4;
    let tx_len = 64 + usize::from(input.byte()) * 2;
    let (mut rx, mut tx, mut inflight, mut filters) = (
        vec![0u8; rx_len],
        vec![0u8; tx_len],
        vec![0u8; 512],
        vec![0u8; 128],
    );
    let mut config = Config::new("dev");
    config.keep_alive_s = u16::from(input.byte() % 4) * 10;
    config.ack_timeout_ms = u32::from(input.byte()) * 20;
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        filters: &mut filters,
    };
    let link = Link {
        recv_chunk: 64,
        send_budget: usize::MAX,
        ..Link::default()
    };
    let mut session: Session<'_, Link, Counter, 4, 4> =
        Session::new(link, Counter::default(), config, buffers).expect("session");
    session.connect();
    let mut now = 0u64;
    let mut live = Liveness::new();
    let mut events = 0u64;
    let mut bytes = Vec::new();
    while !input.is_empty() {
        match input.byte() % 10 {
            0 | 1 | 2 => {
                bytes.clear();
                packet(&mut input, &mut bytes);
                session.transport_mut().incoming.extend(&bytes);
            }
            3 => {
                let raw = input.bytes(64);
                session.transport_mut().incoming.extend(raw);
            }
            4 => now += u64::from(input.u16()) * u64::from(input.byte() % 8 + 1),
            5 => session.transport_mut().recv_chunk = usize::from(input.byte()) + 1,
            6 => {
                let b = input.byte();
                session.transport_mut().send_budget =
                    if b == 0 { usize::MAX } else { usize::from(b) };
            }
            7 => {
                let qos = if input.byte() % 2 == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                };
                let payload = input.bytes(200);
                let _ = session.publish("dev/t", payload, qos, false);
            }
            8 => {
                let _ = session.subscribe("dev/request/#", QoS::AtLeastOnce);
                let _ = session.unsubscribe("dev/x");
            }
            _ => match input.byte() % 4 {
                0 => session.disconnect(now),
                1 => session.connect(),
                2 => session.transport_mut().refuse_open ^= true,
                _ => session.transport_mut().open = false,
            },
        }
        // Poll as a port does: again at once while asked to.
        for _ in 0..Liveness::MAX_IDLE + 1 {
            let before = (
                session.transport().sent,
                session.transport().incoming.len(),
                events,
                session.state(),
            );
            let wake = session.poll(now, |event, outbox| {
                events += 1;
                if let nimbus::mqtt::Event::Message(m) = event {
                    let _ = outbox.publish("dev/echo", m.payload, m.qos, false);
                }
            });
            let after = (
                session.transport().sent,
                session.transport().incoming.len(),
                events,
                session.state(),
            );
            live.check(now, wake, before != after);
            if wake > now {
                // Sometimes jump to the wake time, as a sleeping port would.
                if input.byte() % 4 == 0 && wake != u64::MAX {
                    now = wake;
                }
                break;
            }
        }
    }
});
