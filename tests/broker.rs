//! The session against a real broker: Debian's mosquitto on 127.0.0.1.
//!
//! The test starts its own mosquitto on a free loopback port with its own
//! configuration, connects over a non-blocking `TcpStream`, subscribes, and
//! sends a QoS 0 and a QoS 1 message through the broker back to itself.
//!
//! A missing mosquitto is a failure, not a skip.

mod common;

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Ev, ScriptedRandom};
use nimbus::mqtt::{Buffers, Config, OpenState, QoS, Session, State, Transport, TransportError};

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A running mosquitto; killed and its directory removed on drop (also
/// when the test fails).
struct Broker {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Broker {
    /// Starts a broker on a free loopback port, logging to `mosquitto.log`
    /// in its own temp dir.
    fn start(deadline: Instant) -> Broker {
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
        let conf = format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
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

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `Transport` over a non-blocking TCP stream.
struct TcpTransport {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

impl TcpTransport {
    fn new(addr: SocketAddr) -> Self {
        TcpTransport { addr, stream: None }
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
        Ok(OpenState::Ready)
    }

    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        let stream = self.stream.as_mut().ok_or(TransportError::Closed)?;
        match stream.write(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(0),
            Err(_) => Err(TransportError::Failed),
        }
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        let stream = self.stream.as_mut().ok_or(TransportError::Closed)?;
        match stream.read(buf) {
            Ok(0) => Err(TransportError::Closed),
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
    let broker = Broker::start(deadline);
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
