//! The session against a real broker: Debian's mosquitto on 127.0.0.1.
//!
//! Each test starts its own mosquitto on a free loopback port with its own
//! configuration and connects over a non-blocking `TcpStream`:
//! - a round trip of a QoS 0 and a QoS 1 message through the broker;
//! - a QoS 1 message whose PUBACK is lost when the broker restarts, with
//!   and without persistence: what the broker says at the reconnect
//!   (session present), how the engine resends (DUP) and what a second
//!   client receives.
//!
//! A missing mosquitto is a failure, not a skip.

mod common;

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{decode_sent, Ev, ScriptedRandom, Sent};
use nimbus::mqtt::{Buffers, Config, OpenState, QoS, Session, State, Transport, TransportError};

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// Whether the broker keeps its sessions and messages across a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Persistence {
    /// `persistence false`: a restart forgets everything.
    Off,
    /// `persistence true`, database in the broker's temp dir, saved on
    /// SIGTERM.
    On,
}

/// A running mosquitto; killed and its directory removed on drop (also
/// when the test fails).
struct Broker {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Broker {
    /// Starts a broker on a free loopback port, logging everything it does
    /// to `mosquitto.log` in its own temp dir.
    fn start(persistence: Persistence, deadline: Instant) -> Broker {
        assert!(
            Path::new(MOSQUITTO).exists(),
            "mosquitto is required for this test: install it with `apt-get install mosquitto` \
             (expected at {MOSQUITTO})"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = std::env::temp_dir().join(format!("nimbus-broker-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // `user root`: started as root, mosquitto would switch to the
        // `mosquitto` user, which cannot write its database into this dir;
        // started as anyone else, the line has no effect.
        let mut conf = format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n\
             log_dest stderr\nlog_type all\n"
        );
        match persistence {
            Persistence::Off => conf.push_str("persistence false\n"),
            Persistence::On => conf.push_str(&format!(
                "persistence true\npersistence_location {}/\n",
                dir.display()
            )),
        }
        std::fs::write(dir.join("mosquitto.conf"), conf).expect("write config");
        let child = Self::spawn(&dir);
        let mut broker = Broker {
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        broker.wait_ready(deadline);
        broker
    }

    /// Runs mosquitto on the configuration in `dir`, appending to its log.
    fn spawn(dir: &Path) -> Child {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("mosquitto.log"))
            .expect("log file");
        Command::new(MOSQUITTO)
            .arg("-c")
            .arg(dir.join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {MOSQUITTO}: {e}"))
    }

    /// Waits until the broker accepts connections.
    fn wait_ready(&mut self, deadline: Instant) {
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("mosquitto exited early ({status}): {}", self.log());
            }
            if TcpStream::connect_timeout(&self.addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "mosquitto did not listen on {} in time: {}",
            self.addr,
            self.log()
        );
    }

    /// Stops the broker cleanly (SIGTERM: with persistence it saves its
    /// database) and waits for it to exit.
    fn stop(&mut self, deadline: Instant) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for mosquitto") {
                assert!(
                    status.success(),
                    "mosquitto exited with {status}: {}",
                    self.log()
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("mosquitto did not exit after SIGTERM: {}", self.log());
    }

    /// Starts the broker again on the same port, configuration and database.
    fn restart(&mut self, deadline: Instant) {
        self.child = Self::spawn(&self.dir);
        self.wait_ready(deadline);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }

    /// The log lines containing `needle`.
    fn log_lines(&self, needle: &str) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// Waits until the log has a line containing `needle`.
    fn wait_log(&self, needle: &str, deadline: Instant) {
        while self.log_lines(needle).is_empty() {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in the broker log: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `Transport` over a non-blocking TCP stream that records what it writes.
struct TcpTransport {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    /// The bytes written, one entry per opened connection.
    written: Vec<Vec<u8>>,
    /// Drop whatever arrives on the current connection (the engine sees
    /// nothing but its end); the next `open` clears it. Models a link that
    /// fails with the broker's answer still on the way.
    discard_incoming: bool,
    /// What was dropped that way.
    discarded: Vec<u8>,
}

impl TcpTransport {
    fn new(addr: SocketAddr) -> Self {
        TcpTransport {
            addr,
            stream: None,
            written: Vec::new(),
            discard_incoming: false,
            discarded: Vec::new(),
        }
    }
}

impl Transport for TcpTransport {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        let stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))
            .map_err(|_| TransportError::Failed)?;
        stream
            .set_nonblocking(true)
            .map_err(|_| TransportError::Failed)?;
        stream
            .set_nodelay(true)
            .map_err(|_| TransportError::Failed)?;
        self.stream = Some(stream);
        self.written.push(Vec::new());
        self.discard_incoming = false;
        Ok(OpenState::Ready)
    }

    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        let stream = self.stream.as_mut().ok_or(TransportError::Closed)?;
        match stream.write(buf) {
            Ok(n) => {
                if let Some(written) = self.written.last_mut() {
                    written.extend_from_slice(&buf[..n]);
                }
                Ok(n)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(TransportError::Failed),
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        let stream = self.stream.as_mut().ok_or(TransportError::Closed)?;
        match stream.read(buf) {
            Ok(0) => Err(TransportError::Closed),
            Ok(n) if self.discard_incoming => {
                self.discarded.extend_from_slice(&buf[..n]);
                Ok(0)
            }
            Ok(n) => Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(TransportError::Failed),
        }
    }

    fn close(&mut self) {
        self.stream = None;
    }
}

type Client = Session<'static, TcpTransport, ScriptedRandom, 4, 4>;

/// A session on the broker and the events it reported, on its own clock.
struct Peer {
    session: Client,
    events: Vec<Ev>,
    start: Instant,
}

impl Peer {
    /// A session with 1 KiB buffers (128 B of filters) whose reconnect
    /// delay is always 50 ms.
    fn new(addr: SocketAddr, config: Config<'static>) -> Peer {
        fn area(n: usize) -> &'static mut [u8] {
            Box::leak(vec![0u8; n].into_boxed_slice())
        }
        let random = ScriptedRandom {
            last: 50,
            ..ScriptedRandom::default()
        };
        let buffers = Buffers {
            rx: area(1024),
            tx: area(1024),
            inflight: area(1024),
            filters: area(128),
        };
        Peer {
            session: Session::new(TcpTransport::new(addr), random, config, buffers)
                .expect("session"),
            events: Vec::new(),
            start: Instant::now(),
        }
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Polls until `done` holds; fails at `deadline`.
    fn poll_until(
        &mut self,
        broker: &Broker,
        deadline: Instant,
        what: &str,
        done: impl Fn(&Peer) -> bool,
    ) {
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; saw {:?}; broker log:\n{}",
                self.events,
                broker.log()
            );
            let now = self.now();
            let events = &mut self.events;
            self.session.poll(now, |e, _| events.push(Ev::from(&e)));
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// What the session wrote, decoded, one list per connection.
    fn sent(&self) -> Vec<Vec<Sent>> {
        self.session
            .transport()
            .written
            .iter()
            .map(|w| decode_sent(w))
            .collect()
    }

    /// How many messages on `topic` arrived among `events`.
    fn received(events: &[Ev], topic: &str) -> usize {
        events
            .iter()
            .filter(|e| matches!(e, Ev::Message { topic: t, .. } if t == topic))
            .count()
    }
}

fn message(topic: &str, payload: &[u8], qos: QoS) -> Ev {
    Ev::Message {
        topic: topic.into(),
        payload: payload.to_vec(),
        qos,
        retain: false,
        dup: false,
    }
}

#[test]
fn round_trips_through_mosquitto() {
    let deadline = Instant::now() + Duration::from_secs(20);
    let broker = Broker::start(Persistence::Off, deadline);
    let mut config = Config::new("nimbus-broker-test");
    config.clean_session = true;
    config.keep_alive_s = 30;
    let mut peer = Peer::new(broker.addr, config);

    peer.session.connect();
    peer.poll_until(&broker, deadline, "CONNACK", |p| !p.events.is_empty());
    assert_eq!(
        peer.events,
        vec![Ev::Connected(false)],
        "no failure before connecting"
    );

    let sub = peer
        .session
        .subscribe("nimbus/test/#", QoS::AtLeastOnce)
        .unwrap();
    peer.poll_until(&broker, deadline, "SUBACK", |p| p.events.len() > 1);
    assert_eq!(
        peer.events[1],
        Ev::Subscribed(sub.index(), QoS::AtLeastOnce, Ok(QoS::AtLeastOnce))
    );

    peer.session
        .publish(
            "nimbus/test/q0",
            b"hello at most once",
            QoS::AtMostOnce,
            false,
        )
        .unwrap();
    let q0 = message("nimbus/test/q0", b"hello at most once", QoS::AtMostOnce);
    peer.poll_until(&broker, deadline, "the QoS 0 message", |p| {
        p.events.contains(&q0)
    });

    let pid = peer
        .session
        .publish(
            "nimbus/test/q1",
            b"hello at least once",
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let q1 = message("nimbus/test/q1", b"hello at least once", QoS::AtLeastOnce);
    peer.poll_until(&broker, deadline, "the QoS 1 message and its PUBACK", |p| {
        p.events.contains(&q1) && p.events.contains(&Ev::Published(pid))
    });
    assert_eq!(peer.session.outbox().in_flight(), 0);

    let now = peer.now();
    peer.session.disconnect(now);
    peer.poll_until(&broker, deadline, "the end of the session", |p| {
        p.events.contains(&Ev::Disconnected(None, None))
    });
    assert_eq!(peer.session.state(), State::Stopped);
    assert!(
        !peer
            .events
            .iter()
            .any(|e| matches!(e, Ev::Disconnected(Some(_), _))),
        "no failure on the way: {:?}",
        peer.events
    );
}

const KEPT_TOPIC: &str = "nimbus/restart/kept";
const KEPT_PAYLOAD: &[u8] = b"survives a broker restart";
const MARKER_TOPIC: &str = "nimbus/restart/marker";

/// What happened around a broker restart with a QoS 1 message in flight.
#[derive(Debug)]
struct Restart {
    /// The message's packet id.
    packet_id: u16,
    /// Session present in the publisher's CONNACK after the restart.
    session_present: bool,
    /// Session present in the subscriber's CONNACK after the restart.
    subscriber_session_present: bool,
    /// The message as the publisher wrote it before and after the restart.
    first: Sent,
    resent: Sent,
    /// Copies the subscriber received before and after the restart.
    received_before: usize,
    received_after: usize,
    /// How the broker logged the message coming from the publisher, e.g.
    /// `(d1, q1, r0, m1, 'nimbus/restart/kept', ... (25 bytes))`.
    broker_received: Vec<String>,
    /// The broker's whole log, for failure messages.
    log: String,
}

impl Restart {
    /// The message as the publisher writes it, with the given DUP flag.
    fn kept(&self, dup: bool) -> Sent {
        Sent::Publish {
            topic: KEPT_TOPIC.into(),
            payload: KEPT_PAYLOAD.to_vec(),
            qos: 1,
            packet_id: self.packet_id,
            retain: false,
            dup,
        }
    }

    /// The broker's log entry for the message with the given DUP flag.
    fn logged(&self, dup: bool) -> String {
        format!(
            "(d{}, q1, r0, m{}, '{KEPT_TOPIC}', ... ({} bytes))",
            u8::from(dup),
            self.packet_id,
            KEPT_PAYLOAD.len()
        )
    }
}

/// A persistent publisher sends a QoS 1 message and loses its PUBACK: its
/// transport drops what arrives until the broker stops (SIGTERM). The
/// broker starts again on the same port (and database, if any); the
/// publisher reconnects through its backoff and resends. A persistent
/// subscriber on the same broker counts the copies it receives.
fn restart_with_message_in_flight(persistence: Persistence) -> Restart {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut broker = Broker::start(persistence, deadline);
    let config = |client_id| {
        let mut c = Config::new(client_id);
        c.clean_session = false;
        c.keep_alive_s = 30;
        // Resend only after a reconnect, never on the same connection.
        c.ack_timeout_ms = 0;
        c.connect_timeout_ms = 5_000;
        c.backoff.base_ms = 100;
        c.backoff.max_ms = 400;
        // Retry a refused attempt quickly (the 1 s CONNECT floor is for clouds).
        c.backoff.min_interval_ms = 0;
        c
    };
    let mut sub = Peer::new(broker.addr, config("nimbus-sub"));
    let mut publ = Peer::new(broker.addr, config("nimbus-pub"));

    sub.session.connect();
    let sub_id = sub
        .session
        .subscribe("nimbus/restart/#", QoS::AtLeastOnce)
        .unwrap();
    let subscribed = Ev::Subscribed(sub_id.index(), QoS::AtLeastOnce, Ok(QoS::AtLeastOnce));
    sub.poll_until(&broker, deadline, "the subscriber's SUBACK", |p| {
        p.events.len() >= 2
    });
    assert_eq!(sub.events, vec![Ev::Connected(false), subscribed.clone()]);

    publ.session.connect();
    publ.poll_until(&broker, deadline, "the publisher's CONNACK", |p| {
        !p.events.is_empty()
    });
    assert_eq!(publ.events, vec![Ev::Connected(false)]);

    publ.session.transport_mut().discard_incoming = true;
    let packet_id = publ
        .session
        .publish(KEPT_TOPIC, KEPT_PAYLOAD, QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    let [id_hi, id_lo] = packet_id.to_be_bytes();
    let puback = [0x40, 0x02, id_hi, id_lo];
    publ.poll_until(&broker, deadline, "the PUBACK to arrive (dropped)", |p| {
        p.session.transport().discarded.len() >= puback.len()
    });
    assert_eq!(publ.session.transport().discarded, puback);
    assert_eq!(publ.events, vec![Ev::Connected(false)], "PUBACK unseen");
    sub.poll_until(&broker, deadline, "the message at the subscriber", |p| {
        Peer::received(&p.events, KEPT_TOPIC) == 1
    });
    // The subscriber's PUBACK is handled: nothing stays in flight towards it.
    broker.wait_log("Received PUBACK from nimbus-sub", deadline);

    broker.stop(deadline);
    if persistence == Persistence::On {
        assert!(
            broker.dir.join("mosquitto.db").exists() && broker.log_lines("Error saving").is_empty(),
            "the broker saves its database on SIGTERM: {}",
            broker.log()
        );
    }
    // The publisher sees the link end, then a refused attempt (backoff).
    let refused = Ev::Disconnected(Some(nimbus::Error::TransportFailed), Some(50));
    publ.poll_until(&broker, deadline, "a refused reconnect", |p| {
        p.events.contains(&refused)
    });
    let closed = Ev::Disconnected(Some(nimbus::Error::ConnectionClosed), Some(50));
    assert_eq!(publ.events[1..3], [closed.clone(), refused]);
    assert_eq!(publ.session.outbox().in_flight(), 1);
    sub.poll_until(&broker, deadline, "the subscriber's link ending", |p| {
        p.events.len() > 3
    });
    assert_eq!(sub.events[3], closed);
    let received_before = Peer::received(&sub.events, KEPT_TOPIC);
    let (sub_mark, publ_mark) = (sub.events.len(), publ.events.len());

    broker.restart(deadline);
    // The subscriber first, so that on a new session its subscription is
    // renewed before the publisher resends.
    sub.poll_until(&broker, deadline, "the subscriber back", |p| {
        let events = &p.events[sub_mark..];
        events.contains(&Ev::Connected(true)) || events.contains(&subscribed)
    });
    let subscriber_session_present = sub.events[sub_mark..].contains(&Ev::Connected(true));
    publ.poll_until(&broker, deadline, "the resent message's PUBACK", |p| {
        p.events[publ_mark..].contains(&Ev::Published(packet_id))
    });
    assert_eq!(publ.session.outbox().in_flight(), 0);
    let session_present = publ.events[publ_mark..].contains(&Ev::Connected(true));

    // A marker after the resend: once the subscriber has it, every copy
    // of the kept message the broker sends it has arrived too.
    let marker = publ
        .session
        .publish(MARKER_TOPIC, b"after", QoS::AtLeastOnce, false)
        .unwrap()
        .unwrap();
    publ.poll_until(&broker, deadline, "the marker's PUBACK", |p| {
        p.events.contains(&Ev::Published(marker))
    });
    sub.poll_until(&broker, deadline, "the marker at the subscriber", |p| {
        Peer::received(&p.events, MARKER_TOPIC) == 1
    });
    let received_after = Peer::received(&sub.events[sub_mark..], KEPT_TOPIC);

    let sent = publ.sent();
    assert_eq!(sent.len(), 2, "two connections: {sent:?}");
    let kept = |s: &[Sent]| -> Vec<Sent> {
        s.iter()
            .filter(|s| matches!(s, Sent::Publish { topic, .. } if topic == KEPT_TOPIC))
            .cloned()
            .collect()
    };
    let [first] = &kept(&sent[0])[..] else {
        panic!("one PUBLISH before the restart: {:?}", sent[0]);
    };
    let [resent] = &kept(&sent[1])[..] else {
        panic!("one PUBLISH after the restart: {:?}", sent[1]);
    };
    let from_publisher = "Received PUBLISH from nimbus-pub ";
    let broker_received = broker
        .log_lines(from_publisher)
        .iter()
        .filter(|l| l.contains(KEPT_TOPIC))
        .filter_map(|l| l.split_once(from_publisher))
        .map(|(_, entry)| entry.to_string())
        .collect();
    Restart {
        packet_id,
        session_present,
        subscriber_session_present,
        first: first.clone(),
        resent: resent.clone(),
        received_before,
        received_after,
        broker_received,
        log: broker.log(),
    }
}

/// With its database saved on SIGTERM, mosquitto resumes both sessions
/// (session present = 1); the engine resends the message with DUP = 1.
/// Mosquitto does not drop the duplicate (it only does for QoS 2): the
/// subscriber receives the message once before the restart and again
/// after it.
#[test]
fn restart_with_persistence_resumes_and_resends_with_dup() {
    let r = restart_with_message_in_flight(Persistence::On);
    assert!(r.session_present, "{r:?}");
    assert!(r.subscriber_session_present, "{r:?}");
    assert_eq!(r.first, r.kept(false), "{}", r.log);
    assert_eq!(r.resent, r.kept(true), "{}", r.log);
    assert_eq!(
        r.broker_received,
        [r.logged(false), r.logged(true)],
        "{}",
        r.log
    );
    assert_eq!((r.received_before, r.received_after), (1, 1), "{r:?}");
}

/// Without persistence, mosquitto forgets both sessions (session present
/// = 0); the engine resends the message as a new publish (DUP = 0) after
/// the subscriber has renewed its subscription, and it is delivered again.
#[test]
fn restart_without_persistence_starts_anew_and_resends_without_dup() {
    let r = restart_with_message_in_flight(Persistence::Off);
    assert!(!r.session_present, "{r:?}");
    assert!(!r.subscriber_session_present, "{r:?}");
    assert_eq!(r.first, r.kept(false), "{}", r.log);
    assert_eq!(r.resent, r.kept(false), "{}", r.log);
    assert_eq!(
        r.broker_received,
        [r.logged(false), r.logged(false)],
        "{}",
        r.log
    );
    assert_eq!((r.received_before, r.received_after), (1, 1), "{r:?}");
}
