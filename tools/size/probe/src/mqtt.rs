//! The MQTT engine as firmware drives it: create a session over the port's
//! transport, connect, subscribe, publish QoS 0 and 1, poll, answer
//! incoming messages from the handler, disconnect.

use crate::port::{self, PortRandom, PortTransport};
use core::hint::black_box;
use nimbus::mqtt::{Buffers, Config, Event, QoS, Session};

/// Unacknowledged QoS 1 messages a session keeps (the engine's default).
pub const INFLIGHT: usize = 8;
/// Stored subscriptions (the engine's default).
pub const SUBS: usize = 8;

/// The session type firmware gets: the port's transport and random source.
pub type PortSession<'b> = Session<'b, PortTransport, PortRandom, INFLIGHT, SUBS>;

/// Runs a session through its life: `input` is the port's context, so the
/// link's behaviour (and the number of polls, at most 8) is unknown here.
#[no_mangle]
pub extern "C" fn nimbus_probe_mqtt_session(input: u32) -> u32 {
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 256];
    let mut inflight = [0u8; 1024];
    let mut filters = [0u8; 128];
    let mut config = Config::new(black_box("dev-1"));
    config.username = Some(black_box("hub.example/dev-1/?api-version=2021-04-12"));
    config.password = Some(black_box(b"SharedAccessSignature sr=x".as_slice()));
    config.keep_alive_s = 240;
    let buffers = Buffers {
        rx: &mut rx,
        tx: &mut tx,
        inflight: &mut inflight,
        filters: &mut filters,
    };
    let Ok(mut session) =
        PortSession::new(port::transport(input), port::random(input), config, buffers)
    else {
        return 0;
    };
    session.connect();
    let mut events = 0u32;
    let _ = session.subscribe(black_box("dev-1/request/#"), QoS::AtLeastOnce);
    let mut now = u64::from(input);
    for _ in 0..(input & 7) {
        now = session.poll(now, |event, outbox| {
            events += 1;
            // Answer a request while holding it, as the layers above do.
            if let Event::Message(m) = event {
                let _ = outbox.publish(m.topic, m.payload, m.qos, false);
            }
        });
        let payload = black_box(b"{\"t\":21.5}".as_slice());
        let _ = session.publish(black_box("dev-1/events"), payload, QoS::AtMostOnce, false);
        let _ = session.publish(black_box("dev-1/events"), payload, QoS::AtLeastOnce, false);
    }
    if input & 0x100 != 0 {
        let _ = session.unsubscribe("dev-1/request/#");
    }
    session.disconnect(now);
    session.poll(now, |_, _| events += 1);
    events + u32::from(session.is_connected())
}
