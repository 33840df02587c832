//! The session against a real broker: Debian's mosquitto on 127.0.0.1.
//!
//! The test starts its own mosquitto on a free loopback port with its own
//! configuration, connects over a non-blocking `TcpStream`, subscribes, and
//! sends a QoS 0 and a QoS 1 message through the broker back to itself.
//! A missing mosquitto is a failure, not a skip.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nimbus::mqtt::{
    Buffers, Config, Event, OpenState, QoS, Session, State, Transport, TransportError,
};

const MOSQUITTO: &str = "/usr/sbin/mosquitto";

/// A running mosquitto; killed and its directory removed on drop (also
/// when the test fails).
struct Broker {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Broker {
    fn start() -> Broker {
        assert!(
            std::path::Path::new(MOSQUITTO).exists(),
            "mosquitto is required for this test: install it with `apt-get install mosquitto` \
             (expected at {MOSQUITTO})"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = std::env::temp_dir().join(format!("nimbus-broker-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .expect("write config");
        let log = std::fs::File::create(dir.join("mosquitto.log")).expect("log file");
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {MOSQUITTO}: {e}"));
        let mut broker = Broker {
            child,
            dir,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        broker.wait_ready();
        broker
    }

    /// Waits (at most 10 s) until the broker accepts connections.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
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

#[derive(Debug, PartialEq)]
enum Seen {
    Connected,
    Subscribed(Result<QoS, nimbus::Error>),
    Published(u16),
    Message(String, Vec<u8>, QoS),
    Disconnected(Option<nimbus::Error>),
}

#[test]
fn round_trips_through_mosquitto() {
    let broker = Broker::start();
    let mut rx = [0u8; 1024];
    let mut tx = [0u8; 1024];
    let mut inflight = [0u8; 1024];
    let mut filters = [0u8; 128];
    let mut config = Config::new("nimbus-broker-test");
    config.clean_session = true;
    config.keep_alive_s = 30;
    let transport = TcpTransport {
        addr: broker.addr,
        stream: None,
    };
    let random = || 7u32;
    let mut session: Session<'_, _, _, 4, 4> = Session::new(
        transport,
        random,
        config,
        Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            filters: &mut filters,
        },
    )
    .expect("session");

    let start = Instant::now();
    let mut seen: Vec<Seen> = Vec::new();
    // Polls until `done` holds, for at most 10 s.
    let run = |session: &mut Session<'_, TcpTransport, _, 4, 4>,
               seen: &mut Vec<Seen>,
               done: &dyn Fn(&[Seen]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(seen) {
            assert!(
                Instant::now() < deadline,
                "timed out; saw {seen:?}; broker log: {}",
                broker.log()
            );
            let now = start.elapsed().as_millis() as u64;
            session.poll(now, |event, _out| {
                seen.push(match event {
                    Event::Connected { .. } => Seen::Connected,
                    Event::Subscribed { granted, .. } => Seen::Subscribed(granted),
                    Event::Published { packet_id } => Seen::Published(packet_id),
                    Event::Message(m) => {
                        Seen::Message(m.topic.to_string(), m.payload.to_vec(), m.qos)
                    }
                    Event::Disconnected { reason, .. } => Seen::Disconnected(reason),
                    Event::Unsubscribed { .. } => return,
                });
            });
            std::thread::sleep(Duration::from_millis(1));
        }
    };

    session.connect();
    run(&mut session, &mut seen, &|s| s.contains(&Seen::Connected));
    assert_eq!(seen, vec![Seen::Connected], "no failure before connecting");

    session
        .subscribe("nimbus/test/#", QoS::AtLeastOnce)
        .unwrap();
    run(&mut session, &mut seen, &|s| {
        s.iter().any(|e| matches!(e, Seen::Subscribed(_)))
    });
    assert_eq!(seen[1], Seen::Subscribed(Ok(QoS::AtLeastOnce)));

    session
        .publish(
            "nimbus/test/q0",
            b"hello at most once",
            QoS::AtMostOnce,
            false,
        )
        .unwrap();
    let q0 = Seen::Message(
        "nimbus/test/q0".into(),
        b"hello at most once".to_vec(),
        QoS::AtMostOnce,
    );
    run(&mut session, &mut seen, &|s| s.contains(&q0));

    let pid = session
        .publish(
            "nimbus/test/q1",
            b"hello at least once",
            QoS::AtLeastOnce,
            false,
        )
        .unwrap()
        .unwrap();
    let q1 = Seen::Message(
        "nimbus/test/q1".into(),
        b"hello at least once".to_vec(),
        QoS::AtLeastOnce,
    );
    run(&mut session, &mut seen, &|s| {
        s.contains(&q1) && s.contains(&Seen::Published(pid))
    });
    assert_eq!(session.outbox().in_flight(), 0);

    session.disconnect(start.elapsed().as_millis() as u64);
    run(&mut session, &mut seen, &|s| {
        s.contains(&Seen::Disconnected(None))
    });
    assert_eq!(session.state(), State::Stopped);
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Seen::Disconnected(Some(_)))),
        "no failure on the way: {seen:?}"
    );
    drop(broker);
}
