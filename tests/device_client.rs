//! The client end to end through the engine, with a fake transport and a
//! fake clock: requests on every route of both clouds, answers, the device
//! model, telemetry, reported/desired state and SAS renewal.

mod common;

use common::{broker, decode_sent, FakeTransport, ScriptedRandom, Sent};
use nimbus::cloud::sas::{HmacSha256, RustCryptoHmac};
use nimbus::cloud::Cloud;
#[cfg(feature = "builtin")]
use nimbus::device::info::{DeviceInfo, Identity};
use nimbus::device::queue::QueuePolicy;
use nimbus::device::requests::RequestHandle;
use nimbus::device::sensor::{Reading, SensorInfo};
use nimbus::device::trace::Level;
use nimbus::device::{
    Actions, Answer, App, Buffers, Client, Connection, Request, Route, Sas, Settings, TwinResult,
};
use nimbus::{bounds, Error};

/// The sensor the store and offline tests register.
const SENSOR0: SensorInfo<'static> = SensorInfo {
    id: 0,
    kind: "temperature",
    unit: "Cel",
};

/// A port's store as the tests keep it: record id -> bytes.
type Store = std::rc::Rc<std::cell::RefCell<std::collections::BTreeMap<u16, Vec<u8>>>>;

/// What the test's handlers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    /// Answers 200 with the request payload.
    Echo,
    /// Answers later.
    Defer,
}

#[derive(Default)]
struct TestApp {
    requests: Vec<(String, Route, Vec<u8>)>,
    deferred: Vec<RequestHandle>,
    desired: Vec<(String, u64)>,
    twin: Vec<String>,
    errors: Vec<(Error, String)>,
    expired: Vec<String>,
    /// `on_error` and `on_request_expired` publish an event about what
    /// they were told, through the actions they are lent, while set.
    tell_the_cloud: bool,
    connections: Vec<Connection>,
    unix_time_s: Option<u64>,
    /// The port's store, if it has one: record id -> bytes; shared, so a
    /// test can hand it to the next "boot".
    store: Option<Store>,
    /// Store writes fail while set.
    store_broken: bool,
    /// Store writes are torn (half written, as by a power cut) while set.
    store_tears: bool,
    /// Store writes so far.
    writes: usize,
    /// A power cut at this write: nothing written, half of it, or all of
    /// it; every later write fails (the device is dead).
    cut: Option<(usize, Cut)>,
    /// The power cut happened.
    dead: bool,
    /// The last store write returned `Ok`.
    last_write_ok: bool,
    /// PUBACKs the client reported (its record deleted, if it had one).
    published: Vec<u16>,
    /// The application logs (trace lines are written) when set.
    logging: bool,
    /// The trace lines the client wrote.
    logs: Vec<(Level, String)>,
}

/// Where a power cut falls in a store write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    Before,
    Torn,
    After,
}

impl HmacSha256 for TestApp {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> nimbus::Result<[u8; 32]> {
        RustCryptoHmac.hmac_sha256(key, message)
    }
}

impl App for TestApp {
    type Handler = Handler;
    type Sensor = i64;

    fn on_request(
        &mut self,
        handler: Handler,
        request: &Request<'_>,
        reply: &mut [u8],
        _actions: &mut Actions<'_, '_>,
    ) -> Answer {
        self.requests
            .push((request.path.into(), request.route, request.payload.to_vec()));
        match handler {
            Handler::Echo => {
                reply[..request.payload.len()].copy_from_slice(request.payload);
                Answer::Now {
                    status: 200,
                    len: request.payload.len(),
                }
            }
            Handler::Defer => {
                self.deferred.push(request.handle);
                Answer::Later
            }
        }
    }

    fn read_sensor(&mut self, _sensor: &SensorInfo<'_>, source: i64) -> nimbus::Result<Reading> {
        if source < 0 {
            return Err(Error::SensorFailed);
        }
        Ok(Reading {
            mantissa: source,
            decimals: 1,
        })
    }

    fn unix_time_s(&mut self) -> Option<u64> {
        self.unix_time_s
    }

    fn on_connection(&mut self, event: Connection, _actions: &mut Actions<'_, '_>) {
        self.connections.push(event);
    }

    fn on_desired(&mut self, patch: &[u8], version: u64, _actions: &mut Actions<'_, '_>) {
        self.desired
            .push((String::from_utf8_lossy(patch).into(), version));
    }

    fn on_twin(&mut self, result: TwinResult<'_>, _actions: &mut Actions<'_, '_>) {
        self.twin.push(format!("{result:?}"));
    }

    fn log_level(&self) -> Option<Level> {
        self.logging.then_some(Level::Info)
    }

    fn log(&mut self, level: Level, line: &str) {
        self.logs.push((level, line.into()));
    }

    fn on_published(&mut self, packet_id: u16, _actions: &mut Actions<'_, '_>) {
        if self.last_write_ok {
            self.published.push(packet_id);
        }
    }

    fn on_request_expired(
        &mut self,
        _handle: RequestHandle,
        path: &str,
        actions: &mut Actions<'_, '_>,
    ) {
        self.expired.push(path.into());
        if self.tell_the_cloud {
            let body = format!("{{\"expired\":\"{path}\"}}");
            actions.publish_event(body.as_bytes(), QOS1).unwrap();
        }
    }

    fn on_error(&mut self, error: Error, what: &str, actions: &mut Actions<'_, '_>) {
        self.errors.push((error, what.into()));
        if self.tell_the_cloud {
            let body = format!("{{\"error\":{}}}", error.code());
            actions.publish_event(body.as_bytes(), QOS1).unwrap();
        }
    }

    fn has_store(&self) -> bool {
        self.store.is_some()
    }

    fn store_read(&mut self, id: u16, buf: &mut [u8]) -> nimbus::Result<Option<usize>> {
        let store = self.store.as_ref().ok_or(Error::NotFound)?.borrow();
        let Some(record) = store.get(&id) else {
            return Ok(None);
        };
        let out = buf.get_mut(..record.len()).ok_or(Error::BufferTooSmall)?;
        out.copy_from_slice(record);
        Ok(Some(record.len()))
    }

    fn store_write(&mut self, id: u16, data: &[u8]) -> nimbus::Result<()> {
        self.last_write_ok = false;
        if self.store_broken || self.dead {
            return Err(Error::TransportFailed);
        }
        let store = self.store.as_ref().ok_or(Error::NotFound)?;
        let mut kept = if self.store_tears {
            &data[..data.len() / 2]
        } else {
            data
        };
        let n = self.writes;
        self.writes += 1;
        match self.cut {
            Some((k, Cut::Before)) if k == n => {
                self.dead = true;
                return Err(Error::TransportFailed);
            }
            Some((k, Cut::Torn)) if k == n => {
                self.dead = true;
                kept = &data[..data.len() / 2];
                if !kept.is_empty() {
                    store.borrow_mut().insert(id, kept.to_vec());
                }
                return Err(Error::TransportFailed);
            }
            Some((k, Cut::After)) if k == n => self.dead = true,
            _ => {}
        }
        self.last_write_ok = true;
        // An empty record is no record.
        if data.is_empty() {
            store.borrow_mut().remove(&id);
        } else {
            store.borrow_mut().insert(id, kept.to_vec());
        }
        Ok(())
    }
}

type TestClient = Client<'static, FakeTransport, ScriptedRandom, TestApp>;

fn leak(n: usize) -> &'static mut [u8] {
    Box::leak(vec![0u8; n].into_boxed_slice())
}

/// A published message the client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Out {
    topic: String,
    payload: String,
    qos: u8,
}

struct Harness {
    client: TestClient,
    now: u64,
}

impl Harness {
    fn new(settings: Settings<'static>) -> Harness {
        Self::try_new(settings).expect("client")
    }

    fn try_new(settings: Settings<'static>) -> nimbus::Result<Harness> {
        Self::with_rx(settings, 4096)
    }

    fn with_rx(settings: Settings<'static>, rx: usize) -> nimbus::Result<Harness> {
        Self::with_app(settings, rx, TestApp::default())
    }

    fn with_app(settings: Settings<'static>, rx: usize, app: TestApp) -> nimbus::Result<Harness> {
        let buffers = Buffers {
            rx: leak(rx),
            tx: leak(4096),
            inflight: leak(16384),
            filters: leak(512),
            work: leak(2048),
            reply: leak(1024),
            credentials: leak(1024),
        };
        let client = Client::new(
            settings,
            FakeTransport::default(),
            ScriptedRandom::default(),
            app,
            buffers,
        )?;
        Ok(Harness { client, now: 1_000 })
    }

    fn aws() -> Harness {
        Self::new(Settings::new(Cloud::Aws, "dev1"))
    }

    fn azure() -> Harness {
        let mut s = Settings::new(Cloud::Azure, "dev1");
        s.hub_host = Some("hub.example.net");
        Self::new(s)
    }

    fn app(&mut self) -> &mut TestApp {
        self.client.app_mut()
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.client
            .transport_mut()
            .incoming
            .extend(bytes.iter().copied());
    }

    fn poll(&mut self) -> u64 {
        self.client.poll(self.now)
    }

    /// Polls, acknowledges every SUBSCRIBE and QoS 1 PUBLISH the client
    /// sent, and returns the packets.
    fn exchange(&mut self) -> Vec<Sent> {
        self.poll();
        let sent = decode_sent(&std::mem::take(&mut self.client.transport_mut().sent));
        for packet in &sent {
            match packet {
                Sent::Subscribe { packet_id, .. } => self.feed(&broker::suback(*packet_id, 1)),
                Sent::Publish {
                    qos: 1, packet_id, ..
                } => self.feed(&broker::puback(*packet_id)),
                _ => {}
            }
        }
        self.poll();
        sent
    }

    /// The publishes among `exchange`'s packets.
    fn published(&mut self) -> Vec<Out> {
        publishes(self.exchange())
    }

    /// Connects; returns what the client sent after the CONNACK.
    fn connect(&mut self) -> Vec<Sent> {
        self.client.connect(self.now).expect("connect");
        let sent = self.exchange();
        assert!(
            matches!(sent.first(), Some(Sent::Connect { .. })),
            "{sent:?}"
        );
        self.feed(&broker::connack(false, 0));
        self.exchange()
    }

    /// A request arrives on `topic` (QoS 1); returns what the client published.
    fn request(&mut self, topic: &str, payload: &[u8]) -> Vec<Out> {
        self.feed(&broker::publish(topic, payload, 1, 77, false, false));
        self.published()
    }
}

/// The publishes among `sent`.
fn publishes(sent: Vec<Sent>) -> Vec<Out> {
    sent.into_iter()
        .filter_map(|p| match p {
            Sent::Publish {
                topic,
                payload,
                qos,
                ..
            } => Some(Out {
                topic,
                payload: String::from_utf8_lossy(&payload).into(),
                qos,
            }),
            _ => None,
        })
        .collect()
}

fn out(topic: &str, payload: &str) -> Out {
    Out {
        topic: topic.into(),
        payload: payload.into(),
        qos: 1,
    }
}

/// An answer to a direct method: always QoS 0, as the hub calls them.
fn method_out(topic: &str, payload: &str) -> Out {
    Out {
        qos: 0,
        ..out(topic, payload)
    }
}

#[test]
fn aws_connect_subscribes_and_fetches_the_shadow() {
    let mut h = Harness::aws();
    let sent = h.connect();
    let filters: Vec<String> = sent
        .iter()
        .filter_map(|p| match p {
            Sent::Subscribe { filters, .. } => Some(filters[0].0.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        filters,
        [
            "dev1/request/#",
            "$aws/things/dev1/shadow/update/accepted",
            "$aws/things/dev1/shadow/update/rejected",
            "$aws/things/dev1/shadow/update/delta",
            "$aws/things/dev1/shadow/get/accepted",
            "$aws/things/dev1/shadow/get/rejected",
        ]
    );
    let gets: Vec<&Sent> = sent
        .iter()
        .filter(
            |p| matches!(p, Sent::Publish { topic, .. } if topic == "$aws/things/dev1/shadow/get"),
        )
        .collect();
    assert_eq!(gets.len(), 1, "{sent:?}");
    assert!(matches!(
        h.app().connections[..],
        [Connection::Up {
            session_present: false
        }]
    ));
}

#[test]
fn aws_request_reaches_its_handler_and_the_answer_goes_to_the_response_topic() {
    let mut h = Harness::aws();
    h.client.register_handler("echo/+", Handler::Echo).unwrap();
    h.connect();
    let sent = h.request("dev1/request/echo/x", br#"{"a":1}"#);
    assert_eq!(sent, [out("dev1/response/echo/x", r#"{"a":1}"#)]);
    assert_eq!(
        h.app().requests,
        [("echo/x".into(), Route::Topic, br#"{"a":1}"#.to_vec())]
    );
}

#[test]
fn azure_method_and_c2d_reach_the_same_handler_and_answer_their_own_way() {
    let mut h = Harness::azure();
    h.client.register_handler("echo/+", Handler::Echo).unwrap();
    h.connect();
    let sent = h.request("$iothub/methods/POST/echo.x/?$rid=1f", b"{}");
    assert_eq!(sent, [method_out("$iothub/methods/res/200/?$rid=1f", "{}")]);
    let sent = h.request(
        "devices/dev1/messages/devicebound/%24.mid=7&subtopic=request.echo.y",
        b"[1]",
    );
    assert_eq!(
        sent,
        [out(
            "devices/dev1/messages/events/subtopic=response.echo.y",
            "[1]"
        )]
    );
    let routes: Vec<Route> = h.app().requests.iter().map(|r| r.1).collect();
    assert_eq!(routes, [Route::Method, Route::C2d]);
}

#[test]
#[cfg(feature = "builtin")]
fn built_in_device_model_answers_on_both_clouds() {
    for cloud in [Cloud::Aws, Cloud::Azure] {
        let mut h = if cloud == Cloud::Aws {
            Harness::aws()
        } else {
            Harness::azure()
        };
        h.client
            .register_sensor(
                SensorInfo {
                    id: 12,
                    kind: "temperature",
                    unit: "Cel",
                },
                215,
            )
            .unwrap();
        h.client.set_device_info(DeviceInfo {
            identity: Identity {
                name: Some("demo"),
                ..Default::default()
            },
            ..Default::default()
        });
        let sent = h.connect();
        assert!(
            sent.iter()
                .any(|p| matches!(p, Sent::Publish { payload, .. }
                if String::from_utf8_lossy(payload).contains(r#""name":"demo""#))),
            "device info reported at the first connection: {sent:?}"
        );
        h.now += 5_000;
        let (list, get, info) = match cloud {
            Cloud::Aws => (
                h.request("dev1/request/sensor/list", b""),
                h.request("dev1/request/sensor/12/get", b""),
                h.request("dev1/request/general_information", b""),
            ),
            Cloud::Azure => (
                h.request("$iothub/methods/POST/sensor.list/?$rid=1", b""),
                h.request("$iothub/methods/POST/sensor.12.get/?$rid=2", b""),
                h.request("$iothub/methods/POST/general_information/?$rid=3", b""),
            ),
        };
        assert_eq!(
            list[0].payload,
            r#"{"sensors":[{"id":12,"type":"temperature","unit":"Cel"}]}"#
        );
        assert_eq!(
            get[0].payload,
            r#"{"id":12,"type":"temperature","unit":"Cel","value":21.5}"#
        );
        assert!(info[0].payload.contains(r#""name":"demo""#), "{info:?}");
        assert!(info[0].payload.ends_with(r#","uptime_s":5}"#), "{info:?}");
    }
}

#[test]
fn unknown_path_is_answered_404() {
    let mut h = Harness::azure();
    h.connect();
    let sent = h.request("$iothub/methods/POST/no.such.thing/?$rid=a", b"");
    assert_eq!(sent[0].topic, "$iothub/methods/res/404/?$rid=a");
    assert_eq!(
        sent[0].payload,
        r#"{"status":404,"error":"not found","path":"no/such/thing"}"#
    );
    let mut h = Harness::aws();
    h.connect();
    let sent = h.request("dev1/request/no/such", b"");
    assert_eq!(sent[0].topic, "dev1/response/no/such");
    assert!(sent[0].payload.contains(r#""status":404"#));
}

#[test]
#[cfg(feature = "builtin")]
fn a_failing_sensor_is_a_503_not_a_crash() {
    let mut h = Harness::aws();
    h.client
        .register_sensor(
            SensorInfo {
                id: 1,
                kind: "t",
                unit: "Cel",
            },
            -1,
        )
        .unwrap();
    h.connect();
    let sent = h.request("dev1/request/sensor/1/get", b"");
    assert!(sent[0].payload.contains(r#""status":503"#), "{sent:?}");
    let sent = h.request("dev1/request/sensor/2/get", b"");
    assert!(sent[0].payload.contains(r#""status":404"#), "{sent:?}");
}

/// Without `builtin`, the device model's paths are like any other: a
/// registered `#` handler takes them, and with none they are answered 404.
#[test]
#[cfg(not(feature = "builtin"))]
fn left_out_builtin_requests_are_404_or_go_to_the_catch_all() {
    let mut h = Harness::aws();
    h.client.register_sensor(SENSOR0, 1).unwrap();
    h.connect();
    for path in ["general_information", "sensor/list", "sensor/0/get"] {
        let sent = h.request(&format!("dev1/request/{path}"), b"");
        assert!(
            sent[0].payload.contains(r#""status":404"#),
            "{path}: {sent:?}"
        );
    }
    h.client.register_handler("#", Handler::Echo).unwrap();
    let sent = h.request("dev1/request/sensor/list", b"x");
    assert_eq!(sent[0].payload, "x", "{sent:?}");
}

/// Without `sas`, a SAS key is refused when the client is made; without
/// `cbor`, CBOR readings are.
#[test]
#[cfg(not(all(feature = "sas", feature = "cbor")))]
fn left_out_sas_and_cbor_are_refused_at_creation() {
    let mut s = Settings::new(Cloud::Azure, "dev1");
    s.hub_host = Some("hub.example.net");
    s.sas = Some(Sas {
        key_base64: "c2VjcmV0LWtleS0xMjM0NQ==",
        lifetime_s: 3600,
    });
    let sas_refused = Harness::try_new(s).err() == Some(Error::InvalidArgument);
    assert_eq!(sas_refused, !cfg!(feature = "sas"));
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.encoding = nimbus::device::sensor::Encoding::Cbor;
    let cbor_refused = Harness::try_new(s).err() == Some(Error::InvalidArgument);
    assert_eq!(cbor_refused, !cfg!(feature = "cbor"));
}

#[test]
fn a_deferred_answer_goes_back_once_and_not_after_expiry() {
    let mut h = Harness::azure();
    h.client.register_handler("slow", Handler::Defer).unwrap();
    h.connect();
    assert_eq!(h.request("$iothub/methods/POST/slow/?$rid=10", b""), []);
    assert_eq!(h.request("$iothub/methods/POST/slow/?$rid=11", b""), []);
    let (first, second) = (h.app().deferred[0], h.app().deferred[1]);
    let now = h.now;
    h.client.actions(now).respond(first, 204, b"").unwrap();
    assert_eq!(
        h.published(),
        [method_out("$iothub/methods/res/204/?$rid=10", "")]
    );
    assert_eq!(
        h.client.actions(now).respond(first, 200, b"{}"),
        Err(Error::UnknownRequest),
        "answered at most once"
    );
    // The second one expires unanswered: reported, then refused.
    h.now += u64::from(Settings::new(Cloud::Azure, "x").request_timeout_ms);
    h.poll();
    assert_eq!(h.app().expired, ["slow"]);
    let now = h.now;
    assert_eq!(
        h.client.actions(now).respond(second, 200, b"{}"),
        Err(Error::UnknownRequest)
    );
    assert_eq!(h.published(), []);
}

#[test]
fn on_error_and_on_request_expired_can_act_on_the_client() {
    let mut h = Harness::azure();
    h.app().tell_the_cloud = true;
    h.client.register_handler("slow", Handler::Defer).unwrap();
    h.connect();
    assert_eq!(h.request("$iothub/methods/POST/slow/?$rid=7", b""), []);
    h.now += u64::from(Settings::new(Cloud::Azure, "x").request_timeout_ms);
    h.poll();
    let events = "devices/dev1/messages/events/";
    assert_eq!(h.published(), [out(events, "{\"expired\":\"slow\"}")]);
    // A request for another device: refused, and said from on_error.
    assert_eq!(
        h.request("devices/other/messages/devicebound/subtopic=request.x", b""),
        [out(
            events,
            &format!("{{\"error\":{}}}", Error::OtherDevice.code())
        )]
    );
    assert_eq!(h.app().errors[0].0, Error::OtherDevice);
}

#[test]
fn a_full_request_table_answers_503_instead_of_dropping() {
    let mut h = Harness::azure();
    h.client.register_handler("slow", Handler::Defer).unwrap();
    h.connect();
    for rid in 0..bounds::MAX_PENDING_REQUESTS {
        let topic = format!("$iothub/methods/POST/slow/?$rid={rid:x}");
        assert_eq!(h.request(&topic, b""), []);
    }
    let sent = h.request("$iothub/methods/POST/slow/?$rid=ff", b"");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].topic, "$iothub/methods/res/503/?$rid=ff");
    // Answering one frees a slot for the next call.
    let handle = h.app().deferred[0];
    let now = h.now;
    h.client.actions(now).respond(handle, 200, b"{}").unwrap();
    h.published();
    assert_eq!(h.request("$iothub/methods/POST/slow/?$rid=100", b""), []);
}

#[test]
fn requests_for_another_device_and_malformed_rids_are_refused() {
    let mut h = Harness::azure();
    h.connect();
    assert_eq!(
        h.request("devices/other/messages/devicebound/subtopic=request.x", b""),
        []
    );
    assert_eq!(h.request("$iothub/methods/POST/x/?$rid=", b""), []);
    let errors: Vec<Error> = h.app().errors.iter().map(|e| e.0).collect();
    assert_eq!(errors.len(), 2, "{:?}", h.app().errors);
    assert!(errors.contains(&Error::OtherDevice), "{errors:?}");
    let mut h = Harness::aws();
    h.connect();
    assert_eq!(h.request("dev2/request/x", b""), []);
    assert_eq!(h.app().errors[0].0, Error::OtherDevice);
}

#[test]
fn an_answer_over_the_cloud_limit_is_refused_and_the_request_stays_open() {
    let mut h = Harness::aws();
    h.client.register_handler("big", Handler::Defer).unwrap();
    h.connect();
    h.request("dev1/request/big", b"");
    let handle = h.app().deferred[0];
    let now = h.now;
    let huge = vec![b'x'; 128 * 1024 + 1];
    assert_eq!(
        h.client.actions(now).respond(handle, 200, &huge),
        Err(Error::PayloadTooLarge)
    );
    h.client.actions(now).respond(handle, 200, b"{}").unwrap();
    assert_eq!(h.published(), [out("dev1/response/big", "{}")]);
}

#[test]
fn desired_telemetry_period_is_applied_reported_and_drives_telemetry() {
    let mut h = Harness::azure();
    h.client
        .register_sensor(
            SensorInfo {
                id: 0,
                kind: "temperature",
                unit: "Cel",
            },
            200,
        )
        .unwrap();
    h.connect();
    let sent = h.request(
        "$iothub/twin/PATCH/properties/desired/?$version=7",
        br#"{"telemetry_period_ms":1000,"$version":7}"#,
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0]
        .topic
        .starts_with("$iothub/twin/PATCH/properties/reported/?$rid="));
    assert_eq!(sent[0].payload, r#"{"telemetry_period_ms":1000}"#);
    assert_eq!(
        h.app().desired,
        [(r#"{"telemetry_period_ms":1000,"$version":7}"#.into(), 7)]
    );

    let mut readings = vec![];
    for _ in 0..3 {
        h.now += 1000;
        readings.extend(h.published());
    }
    let topics: Vec<&str> = readings.iter().map(|o| o.topic.as_str()).collect();
    assert_eq!(
        topics,
        ["devices/dev1/messages/events/subtopic=response.sensor.0.reading"; 3]
    );
    for (i, r) in readings.iter().enumerate() {
        let want = format!(
            r#"{{"id":0,"type":"temperature","unit":"Cel","value":20.0,"seq":{}}}"#,
            i + 1
        );
        assert_eq!(r.payload, want);
    }
    // A stale patch (older version) is dropped.
    h.request(
        "$iothub/twin/PATCH/properties/desired/?$version=6",
        br#"{"telemetry_period_ms":5}"#,
    );
    assert_eq!(h.app().desired.len(), 1);
}

#[test]
fn aws_report_accepted_comes_back_through_on_twin() {
    let mut h = Harness::aws();
    h.connect();
    let now = h.now;
    let id = h.client.actions(now).report(br#"{"fw":"1.2"}"#).unwrap();
    let sent = h.published();
    assert_eq!(sent[0].topic, "$aws/things/dev1/shadow/update");
    assert_eq!(
        sent[0].payload,
        format!(
            r#"{{"state":{{"reported":{{"fw":"1.2"}}}},"clientToken":"{}"}}"#,
            id.as_str()
        )
    );
    let answer = format!(
        r#"{{"state":{{"reported":{{"fw":"1.2"}}}},"version":9,"clientToken":"{}"}}"#,
        id.as_str()
    );
    h.request("$aws/things/dev1/shadow/update/accepted", answer.as_bytes());
    assert!(
        h.app().twin.last().unwrap().starts_with("Accepted"),
        "{:?}",
        h.app().twin
    );
    assert!(h.app().twin.last().unwrap().contains("Some(9)"));
}

#[test]
fn aws_delta_reaches_on_desired() {
    let mut h = Harness::aws();
    h.connect();
    h.request(
        "$aws/things/dev1/shadow/update/delta",
        br#"{"state":{"led":"on"},"version":4}"#,
    );
    assert_eq!(h.app().desired, [(r#"{"led":"on"}"#.into(), 4)]);
}

#[test]
fn a_named_shadow_replaces_the_classic_topics() {
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.shadow_name = Some("cfg");
    let mut h = Harness::new(s);
    let sent = h.connect();
    let filters: Vec<String> = sent
        .iter()
        .filter_map(|p| match p {
            Sent::Subscribe { filters, .. } => Some(filters[0].0.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        filters,
        ["dev1/request/#", "$aws/things/dev1/shadow/name/cfg/+/+"]
    );
    assert!(sent.iter().any(|p| matches!(p, Sent::Publish { topic, .. }
        if topic == "$aws/things/dev1/shadow/name/cfg/get")));
}

#[test]
fn bad_settings_are_refused() {
    let mut s = Settings::new(Cloud::Azure, "dev1");
    assert_eq!(
        Harness::try_new(s).err(),
        Some(Error::InvalidArgument),
        "Azure needs a hub"
    );
    s.hub_host = Some("hub.example.net");
    s.device_id = "bad id";
    assert_eq!(Harness::try_new(s).err(), Some(Error::InvalidName));
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.sas = Some(Sas {
        key_base64: "a2V5",
        lifetime_s: 3600,
    });
    assert_eq!(
        Harness::try_new(s).err(),
        Some(Error::InvalidArgument),
        "no SAS on AWS"
    );
    // Timers that would make the client retry or expire in the same poll.
    type Change = fn(&mut Settings<'static>);
    let zero: [Change; 6] = [
        |s| s.connect_timeout_ms = 0,
        |s| s.twin_timeout_ms = 0,
        |s| s.request_timeout_ms = 0,
        |s| s.backoff.base_ms = 0,
        |s| s.backoff.max_ms = s.backoff.base_ms - 1,
        |s| s.publish_rate_per_s = 0,
    ];
    for change in zero {
        let mut s = Settings::new(Cloud::Aws, "dev1");
        change(&mut s);
        assert_eq!(
            Harness::try_new(s).err(),
            Some(Error::InvalidArgument),
            "{s:?}"
        );
    }
}

#[test]
#[cfg(feature = "sas")]
fn sas_token_is_sent_and_renewed_before_expiry() {
    let mut s = Settings::new(Cloud::Azure, "dev1");
    s.hub_host = Some("hub.example.net");
    s.sas = Some(Sas {
        key_base64: "c2VjcmV0LWtleS0xMjM0NQ==",
        lifetime_s: 3600,
    });
    let mut h = Harness::new(s);
    assert_eq!(
        h.client.connect(h.now),
        Err(Error::InvalidCredentials),
        "no clock, no token"
    );
    h.app().unix_time_s = Some(1_700_000_000);
    h.client.connect(h.now).unwrap();
    let sent = h.exchange();
    let Some(Sent::Connect {
        username,
        password,
        client_id,
        ..
    }) = sent.first()
    else {
        panic!("{sent:?}")
    };
    assert_eq!(client_id, "dev1");
    assert_eq!(
        username.as_deref(),
        Some("hub.example.net/dev1/?api-version=2021-04-12")
    );
    let first = String::from_utf8(password.clone().unwrap()).unwrap();
    assert!(first.starts_with("SharedAccessSignature sr=hub.example.net%2Fdevices%2Fdev1&sig="));
    assert!(first.ends_with("&se=1700003600"), "{first}");
    h.feed(&broker::connack(false, 0));
    h.exchange();

    // Before 80 % of the lifetime nothing happens; after it, a clean
    // reconnect with a fresh token.
    h.app().unix_time_s = Some(1_700_000_000 + 2_000);
    h.now += 1000;
    assert!(!h.exchange().iter().any(|p| matches!(p, Sent::Disconnect)));
    h.app().unix_time_s = Some(1_700_000_000 + 2_900);
    h.now += 1000;
    let sent = h.exchange();
    assert!(sent.contains(&Sent::Disconnect), "{sent:?}");
    let mut reconnect = h.exchange();
    reconnect.extend(h.exchange());
    let renewed = reconnect.iter().find_map(|p| match p {
        Sent::Connect { password, .. } => password.clone(),
        _ => None,
    });
    let renewed = String::from_utf8(renewed.expect("a new CONNECT")).unwrap();
    assert!(renewed.ends_with("&se=1700006500"), "{renewed}");
    assert_ne!(renewed, first);
}

// --- hardening: oversized messages, one get across reconnects, unstable
// connections ---

fn small(cloud: Cloud) -> Harness {
    let mut s = Settings::new(cloud, "dev1");
    if cloud == Cloud::Azure {
        s.hub_host = Some("hub.example.net");
    }
    Harness::with_rx(s, 1024).unwrap()
}

fn error_413(path: &str) -> String {
    format!(r#"{{"status":413,"error":"payload too large","path":"{path}"}}"#)
}

#[test]
fn oversized_requests_are_answered_413_and_the_next_request_is_served() {
    let big = vec![b'x'; 8 * 1024];
    for (cloud, topic, answer) in [
        (Cloud::Aws, "dev1/request/echo/x", "dev1/response/echo/x"),
        (
            Cloud::Azure,
            "$iothub/methods/POST/echo.x/?$rid=2a",
            "$iothub/methods/res/413/?$rid=2a",
        ),
        (
            Cloud::Azure,
            "devices/dev1/messages/devicebound/subtopic=request.echo.x",
            "devices/dev1/messages/events/subtopic=response.echo.x",
        ),
    ] {
        let mut h = small(cloud);
        h.client.register_handler("echo/+", Handler::Echo).unwrap();
        h.connect();
        h.feed(&broker::publish(topic, &big, 1, 91, false, false));
        let sent = h.exchange();
        assert!(sent.contains(&Sent::PubAck(91)), "{topic}: {sent:?}");
        let published = publishes(sent);
        let qos = u8::from(!answer.starts_with("$iothub/methods/"));
        let expected = Out {
            qos,
            ..out(answer, &error_413("echo/x"))
        };
        assert_eq!(published, [expected], "{topic}");
        assert_eq!(
            h.app().errors,
            [(Error::PacketTooLarge, topic.to_string())],
            "reported once"
        );
        assert!(h.app().requests.is_empty(), "the handler never saw it");
        // The connection is still up and the next request is answered.
        assert_eq!(h.client.state(), nimbus::mqtt::State::Connected);
        let small_topic = topic
            .replace("echo.x", "echo.y")
            .replace("echo/x", "echo/y");
        let sent = h.request(&small_topic, b"{}");
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(h.app().requests.len(), 1);
        assert_eq!(h.client.transport().opens, 1, "never reconnected");
    }
}

/// The request id of the first shadow/twin get among `sent`.
fn get_id(sent: &[Sent]) -> String {
    sent.iter()
        .find_map(|p| match p {
            Sent::Publish { topic, payload, .. } if topic.starts_with("$iothub/twin/GET/") => {
                Some(topic.rsplit('=').next().unwrap().to_string())
            }
            Sent::Publish { topic, payload, .. } if topic.ends_with("/shadow/get") => {
                let text = String::from_utf8_lossy(payload);
                Some(text.split('"').nth(3).unwrap().to_string())
            }
            _ => None,
        })
        .expect("a get")
}

#[test]
fn a_twin_answer_too_large_to_read_fails_its_get_instead_of_reconnecting() {
    let big = format!(
        r#"{{"desired":{{"a":"{}"}},"reported":{{}}}}"#,
        "x".repeat(4000)
    );
    let mut h = small(Cloud::Azure);
    let rid = get_id(&h.connect());
    let topic = format!("$iothub/twin/res/200/?$rid={rid}");
    h.feed(&broker::publish(&topic, big.as_bytes(), 0, 0, false, false));
    h.exchange();
    assert_eq!(h.app().errors, [(Error::PacketTooLarge, topic)]);
    assert_eq!(h.app().twin.len(), 1, "{:?}", h.app().twin);
    assert!(
        h.app().twin[0].contains("PacketTooLarge"),
        "{:?}",
        h.app().twin
    );
    assert_eq!(h.client.transport().opens, 1);
    // AWS: the clientToken is in the lost payload; the one get fails.
    let mut h = small(Cloud::Aws);
    h.connect();
    let topic = "$aws/things/dev1/shadow/get/accepted";
    h.feed(&broker::publish(topic, big.as_bytes(), 1, 5, false, false));
    let sent = h.exchange();
    assert!(sent.contains(&Sent::PubAck(5)));
    assert!(
        h.app().twin[0].contains("PacketTooLarge"),
        "{:?}",
        h.app().twin
    );
    assert_eq!(h.client.transport().opens, 1);
}

#[test]
fn reconnects_never_pile_up_shadow_gets() {
    for cloud in [Cloud::Aws, Cloud::Azure] {
        let mut h = small(cloud);
        h.client.connect(h.now).unwrap();
        let mut gets_per_connection = Vec::new();
        for round in 0..5 {
            // CONNECT, CONNACK (session resumed), SUBACKs; the gets are
            // never acknowledged nor answered: the broker is slow.
            h.poll();
            h.feed(&broker::connack(round > 0, 0));
            h.poll();
            let sent = decode_sent(&std::mem::take(&mut h.client.transport_mut().sent));
            for p in &sent {
                if let Sent::Subscribe { packet_id, .. } = p {
                    h.feed(&broker::suback(*packet_id, 1));
                }
            }
            h.poll();
            let gets = sent
                .iter()
                .filter(|p| {
                    matches!(p, Sent::Publish { topic, .. }
                        if topic.ends_with("/shadow/get") || topic.starts_with("$iothub/twin/GET/"))
                })
                .count();
            gets_per_connection.push(gets);
            h.client.transport_mut().recv_error = Some(nimbus::mqtt::TransportError::Closed);
            h.poll();
            h.now += 2_000;
        }
        assert_eq!(gets_per_connection, [1; 5], "{cloud:?}: one get each time");
    }
}

#[test]
fn connections_dropped_right_after_connack_are_reported_as_unstable() {
    let mut h = small(Cloud::Aws);
    h.client.connect(h.now).unwrap();
    for _ in 0..3 {
        h.now += 130_000;
        h.poll();
        h.feed(&broker::connack(false, 0));
        h.poll();
        h.now += 10;
        h.client.transport_mut().recv_error = Some(nimbus::mqtt::TransportError::Closed);
        h.poll();
    }
    let unstable: Vec<_> = h
        .app()
        .errors
        .iter()
        .filter(|e| e.0 == Error::UnstableConnection)
        .collect();
    assert_eq!(unstable.len(), 1, "{:?}", h.app().errors);
}

#[test]
fn a_burst_of_requests_beyond_the_in_flight_table_is_refused_503_not_dropped() {
    // AWS requests are answered at QoS 1: with the in-flight table full
    // (no PUBACK yet), further answers are refused 503 at QoS 0.
    let mut h = Harness::aws();
    h.client.register_handler("echo/+", Handler::Echo).unwrap();
    h.connect();
    for i in 0..(bounds::MAX_INFLIGHT + 3) {
        h.feed(&broker::publish(
            &format!("dev1/request/echo/{i}"),
            b"{}",
            0,
            0,
            false,
            false,
        ));
    }
    h.poll();
    let sent = decode_sent(&std::mem::take(&mut h.client.transport_mut().sent));
    let statuses: Vec<(u8, Option<i64>)> = sent
        .iter()
        .filter_map(|p| match p {
            Sent::Publish { payload, qos, .. } => {
                let body: serde_json::Value = serde_json::from_slice(payload).ok()?;
                Some((*qos, body.get("status").and_then(|s| s.as_i64())))
            }
            _ => None,
        })
        .collect();
    let answered = statuses.iter().filter(|s| **s == (1, None)).count();
    let refused = statuses.iter().filter(|s| **s == (0, Some(503))).count();
    assert_eq!(
        (answered, refused),
        (bounds::MAX_INFLIGHT, 3),
        "{statuses:?}"
    );
    let busy = h.app().errors.iter().filter(|e| e.0 == Error::Busy).count();
    assert_eq!(busy, 3, "each refusal is reported too");
}

// --- the boot counter and seq across reboots, with the port's store ---

/// A connected AWS client with sensor 0 on `store` (one "boot").
fn boot_on(store: &Store) -> Harness {
    boot_with(store, false)
}

/// `boot_on`, with every store write torn when `tears`.
fn boot_with(store: &Store, tears: bool) -> Harness {
    boot_settings(store, tears, Settings::new(Cloud::Aws, "dev1"))
}

fn boot_settings(store: &Store, tears: bool, settings: Settings<'static>) -> Harness {
    let app = TestApp {
        store: Some(store.clone()),
        store_tears: tears,
        ..TestApp::default()
    };
    let mut h = Harness::with_app(settings, 4096, app).unwrap();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    h.connect();
    h
}

/// Publishes `n` readings and returns their (boot, seq).
fn readings(h: &mut Harness, n: usize) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for _ in 0..n {
        h.now += 20; // within the 100/s publish rate
        h.client
            .publish_sensor(0, nimbus::mqtt::QoS::AtLeastOnce, h.now)
            .unwrap();
        for p in h.published() {
            let v: serde_json::Value = serde_json::from_str(&p.payload).unwrap();
            out.push((v["boot"].as_u64().unwrap(), v["seq"].as_u64().unwrap()));
        }
    }
    out
}

#[test]
fn seq_continues_across_reboots_and_every_reading_carries_its_boot() {
    let store = Store::default();
    let mut first = boot_on(&store);
    let taken = readings(&mut first, 300);
    assert_eq!(taken.first(), Some(&(1, 1)));
    assert_eq!(taken.last(), Some(&(1, 300)));
    assert!(taken.windows(2).all(|w| w[1].1 == w[0].1 + 1));
    // One write at boot, then one per 256 readings (ahead of need).
    assert_eq!(store.borrow().len(), 2, "both records in use");
    // Power cut: the next boot continues past everything reserved, never
    // reusing a number.
    let mut second = boot_on(&store);
    let taken = readings(&mut second, 3);
    assert_eq!(taken[0].0, 2);
    assert!(taken[0].1 > 300, "{taken:?}");
    assert_eq!(taken[0].1, 512 + 1, "the second block ended at 512");
    // The third boot's first write is torn by a power cut (so it took no
    // reading); the fourth falls back to the other record, counts boot 3
    // and again uses no number of an earlier boot.
    drop(boot_with(&store, true));
    let mut fourth = boot_on(&store);
    let taken = readings(&mut fourth, 1);
    assert_eq!(taken, [(3, 768 + 1)]);
}

#[test]
fn without_a_store_readings_carry_no_boot_and_a_failing_store_is_reported() {
    let mut h = Harness::aws();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    h.connect();
    h.client
        .publish_sensor(0, nimbus::mqtt::QoS::AtLeastOnce, h.now)
        .unwrap();
    let p = h.published();
    assert!(!p[0].payload.contains("boot"), "{p:?}");
    // A store whose writes fail: with the queue, no reading is accepted
    // without its record; each is refused with the store's error, counted.
    let store = Store::default();
    let mut h = boot_on(&store);
    h.client.app_mut().store_broken = true;
    for n in 1..=3 {
        h.now += 20;
        let sent = h
            .client
            .publish_sensor(0, nimbus::mqtt::QoS::AtLeastOnce, h.now);
        assert_eq!(sent, Err(Error::TransportFailed));
        assert!(h.published().is_empty());
        assert_eq!(h.client.stats().refused, n);
    }
    // Without the queue, no number is used that is not reserved (the first
    // block was; past it readings are refused).
    let store = Store::default();
    let mut settings = Settings::new(Cloud::Aws, "dev1");
    settings.queue_len = 0;
    let mut h = boot_settings(&store, false, settings);
    h.client.app_mut().store_broken = true;
    let mut refused = 0;
    for _ in 0..300 {
        h.now += 20;
        match h
            .client
            .publish_sensor(0, nimbus::mqtt::QoS::AtLeastOnce, h.now)
        {
            Ok(_) => {
                h.published();
            }
            Err(Error::Busy) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(refused, 300 - 256);
    assert!(h
        .app()
        .errors
        .iter()
        .any(|(e, w)| *e == Error::TransportFailed && w == "store"));
}

#[test]
fn readings_taken_offline_wait_leave_room_for_control_and_refusals_are_counted() {
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.telemetry_period_ms = 100;
    let mut h = Harness::new(s);
    h.client.register_sensor(SENSOR0, 215).unwrap();
    // Every attempt to connect fails: the device is offline for 2 s.
    go_offline(&mut h);
    h.client.connect(h.now).unwrap();
    for _ in 0..20 {
        h.now += 100;
        h.poll();
    }
    let queued = bounds::MAX_INFLIGHT - nimbus::device::actions::CONTROL_SLOTS;
    let busy = h.app().errors.iter().filter(|e| e.0 == Error::Busy).count();
    assert_eq!(busy, 20 - queued, "{:?}", h.app().errors);
    // The network is back: the queued readings go out in order, with room
    // left for the shadow get, and the next reading says how many were
    // refused.
    h.client.transport_mut().open_script.clear();
    h.client.network_up(h.now);
    h.now += 1_000; // the CONNECT floor after the last attempt
    h.poll();
    let connect = decode_sent(&std::mem::take(&mut h.client.transport_mut().sent));
    assert!(
        matches!(connect.first(), Some(Sent::Connect { .. })),
        "{connect:?}"
    );
    h.feed(&broker::connack(false, 0));
    let sent = h.exchange();
    let seqs: Vec<u64> = publishes(sent.clone())
        .iter()
        .filter(|p| p.topic.ends_with("/reading"))
        .map(|p| {
            serde_json::from_str::<serde_json::Value>(&p.payload).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, (1..=queued as u64).collect::<Vec<_>>());
    assert!(
        publishes(sent)
            .iter()
            .any(|p| p.topic == "$aws/things/dev1/shadow/get"),
        "the shadow get found room"
    );
    h.now += 100;
    let next = h.published();
    let reading = next
        .iter()
        .find(|p| p.topic.ends_with("/reading"))
        .expect("a reading");
    let v: serde_json::Value = serde_json::from_str(&reading.payload).unwrap();
    assert_eq!(
        v["seq"].as_u64(),
        Some(queued as u64 + 1),
        "refused ones used no number"
    );
    // Each refusal reached the application too (one more reading came
    // due while waiting for the CONNECT floor).
    let busy = h.app().errors.iter().filter(|e| e.0 == Error::Busy).count();
    assert!(busy > 20 - queued);
    assert_eq!(v["refused"].as_u64(), Some(busy as u64));
}

#[test]
fn qos1_telemetry_leaves_the_control_slots_and_an_event_may_take_them() {
    // No queue: the client's readings and a payload the application
    // encoded stop short of the last CONTROL_SLOTS in-flight slots (kept
    // for the shadow get and answers); an event may take them.
    let mut h = Harness::aws();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    h.connect();
    let control = nimbus::device::actions::CONTROL_SLOTS;
    for n in 0..bounds::MAX_INFLIGHT - control {
        let sent = match n % 2 {
            0 => h.client.actions(h.now).publish_telemetry(0, b"{}", QOS1),
            _ => h.client.publish_sensor(0, QOS1, h.now),
        };
        assert!(matches!(sent, Ok(Some(_))), "{n}: {sent:?}");
    }
    assert_eq!(
        h.client.actions(h.now).publish_telemetry(0, b"{}", QOS1),
        Err(Error::Busy)
    );
    assert_eq!(h.client.publish_sensor(0, QOS1, h.now), Err(Error::Busy));
    let qos0 = nimbus::mqtt::QoS::AtMostOnce;
    assert_eq!(
        h.client.actions(h.now).publish_telemetry(0, b"{}", qos0),
        Ok(None),
        "QoS 0 takes no slot"
    );
    for _ in 0..control {
        let sent = h.client.actions(h.now).publish_event(b"{}", QOS1);
        assert!(matches!(sent, Ok(Some(_))), "{sent:?}");
    }
    assert_eq!(
        h.client.actions(h.now).publish_event(b"{}", QOS1),
        Err(Error::Busy),
        "the table is full"
    );
}

/// The rate limit holds a reading back while the window has room.
#[cfg(feature = "rate-limit")]
#[test]
fn qos1_telemetry_that_is_not_persisted_waits_behind_queued_readings() {
    let store = Store::default();
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.publish_rate_per_s = 1;
    let mut h = boot_unconnected_with(&store, s);
    go_offline(&mut h);
    h.client.connect(h.now).unwrap();
    h.poll();
    // The first reading takes the rate's token and the window; the second
    // waits for the next token, with room in the window.
    assert!(matches!(
        h.client.publish_sensor(0, QOS1, h.now),
        Ok(Some(_))
    ));
    assert_eq!(h.client.publish_sensor(0, QOS1, h.now), Ok(None), "waits");
    // A payload the application encoded is not persisted: it may not pass
    // the reading that waits (Busy, before the rate limit is asked).
    assert_eq!(
        h.client.actions(h.now).publish_telemetry(0, b"{}", QOS1),
        Err(Error::Busy)
    );
    // Back online, the readings go first, then the telemetry may.
    let sent = come_back(&mut h, false, 3);
    assert_eq!(reading_ids(&sent).len(), 2, "{sent:?}");
    h.now += 1_000;
    let later = h.client.actions(h.now).publish_telemetry(0, b"{}", QOS1);
    assert!(matches!(later, Ok(Some(_))), "{later:?}");
}

// ---- The persisted queue: readings kept through outages and power cuts.

/// `(seq, packet id, dup)` of every reading among `sent`.
fn reading_ids(sent: &[Sent]) -> Vec<(u64, u16, bool)> {
    sent.iter()
        .filter_map(|p| match p {
            Sent::Publish {
                topic,
                payload,
                packet_id,
                dup,
                ..
            } if topic.ends_with("/reading") => {
                let v: serde_json::Value = serde_json::from_slice(payload).unwrap();
                Some((v["seq"].as_u64().unwrap(), *packet_id, *dup))
            }
            _ => None,
        })
        .collect()
}

/// Every attempt to connect fails from now on.
fn go_offline(h: &mut Harness) {
    for _ in 0..256 {
        h.client
            .transport_mut()
            .open_script
            .push_back(Err(nimbus::mqtt::TransportError::Failed));
    }
}

/// The network is back: connects (the CONNACK says `session_present`),
/// then exchanges (acknowledging everything) for `secs` seconds; returns
/// what was sent after the CONNACK.
fn come_back(h: &mut Harness, session_present: bool, secs: u64) -> Vec<Sent> {
    h.client.transport_mut().open_script.clear();
    h.client.network_up(h.now);
    h.now += 1_000; // the CONNECT floor after the last attempt
    h.poll();
    let connect = decode_sent(&std::mem::take(&mut h.client.transport_mut().sent));
    assert!(
        matches!(connect.last(), Some(Sent::Connect { .. })),
        "{connect:?}"
    );
    h.feed(&broker::connack(session_present, 0));
    let mut sent = Vec::new();
    for _ in 0..secs * 10 {
        sent.extend(h.exchange());
        h.now += 100;
    }
    sent
}

/// The store's queue records (ids 16 and up).
fn queue_records(store: &Store) -> Vec<u16> {
    store
        .borrow()
        .keys()
        .copied()
        .filter(|&id| id >= 16)
        .collect()
}

fn queue_settings(len: u16, policy: QueuePolicy) -> Settings<'static> {
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.queue_len = len;
    s.queue_policy = policy;
    s
}

/// Takes `n` readings `step_ms` apart, polling in between; returns the
/// `seq` of those accepted.
fn take_readings(h: &mut Harness, n: usize, step_ms: u64) -> Vec<u64> {
    let mut accepted = Vec::new();
    for _ in 0..n {
        h.now += step_ms;
        h.poll();
        if h.client.publish_sensor(0, QoS1, h.now).is_ok() {
            accepted.push(u64::from(h.client.stats().seq));
        }
    }
    accepted
}

const QOS1: nimbus::mqtt::QoS = nimbus::mqtt::QoS::AtLeastOnce;
#[allow(non_upper_case_globals)]
const QoS1: nimbus::mqtt::QoS = QOS1;

#[test]
#[cfg(feature = "rate-limit")]
fn readings_taken_offline_are_kept_past_the_window_and_delivered_in_order_at_the_rate() {
    let store = Store::default();
    let mut s = queue_settings(64, QueuePolicy::RefuseNew);
    s.publish_rate_per_s = 10;
    let mut h = boot_unconnected_with(&store, s);
    go_offline(&mut h);
    h.client.connect(h.now).unwrap();
    // 40 readings offline: far more than the window of 6, all accepted.
    let accepted = take_readings(&mut h, 40, 100);
    assert_eq!(accepted, (1..=40).collect::<Vec<_>>());
    let stats = h.client.stats();
    assert_eq!((stats.queued, stats.refused, stats.dropped), (40, 0, 0));
    assert_eq!(queue_records(&store).len(), 40, "each one in the store");
    // Back online: all of them, in order, each once, and the store is
    // empty once acknowledged.
    let sent = come_back(&mut h, false, 0);
    let mut at = vec![(h.now, reading_ids(&sent).len())];
    let mut seqs: Vec<u64> = reading_ids(&sent).iter().map(|r| r.0).collect();
    for _ in 0..80 {
        let ids = reading_ids(&h.exchange());
        at.push((h.now, ids.len()));
        seqs.extend(ids.iter().map(|r| r.0));
        h.now += 100;
    }
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    assert!(
        queue_records(&store).is_empty(),
        "{:?}",
        queue_records(&store)
    );
    assert_eq!(h.client.stats().queued, 0);
    // At the client's rate (10/s, a burst of 10): the 6 readings of the
    // window go first (they were already counted), then never more than
    // 10 in a second beyond the burst.
    let start = at[0].0;
    for (t, _) in &at {
        let within: usize = at
            .iter()
            .filter(|(u, _)| *u >= *t && *u < *t + 1_000)
            .map(|(_, n)| n)
            .sum();
        let first_second = *t < start + 1_000;
        assert!(
            within <= if first_second { 6 + 10 + 10 } else { 10 + 10 },
            "{at:?}"
        );
    }
    let last = at.iter().rev().find(|(_, n)| *n > 0).unwrap().0;
    assert!(
        last - start >= 2_000,
        "the 34 that waited took their time: {at:?}"
    );
}

#[test]
fn a_full_queue_refuses_new_readings_or_drops_the_oldest_and_says_so() {
    for policy in [QueuePolicy::RefuseNew, QueuePolicy::DropOldest] {
        let store = Store::default();
        let mut h = boot_unconnected_with(&store, queue_settings(8, policy));
        go_offline(&mut h);
        h.client.connect(h.now).unwrap();
        let accepted = take_readings(&mut h, 12, 100);
        let stats = h.client.stats();
        assert_eq!(stats.queued, 8, "{policy:?}");
        assert_eq!(queue_records(&store).len(), 8, "{policy:?}");
        let sent = come_back(&mut h, false, 2);
        let seqs: Vec<u64> = reading_ids(&sent).iter().map(|r| r.0).collect();
        match policy {
            QueuePolicy::RefuseNew => {
                assert_eq!(accepted, (1..=8).collect::<Vec<_>>());
                assert_eq!((stats.refused, stats.dropped), (4, 0));
                assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
            }
            QueuePolicy::DropOldest => {
                assert_eq!(accepted, (1..=12).collect::<Vec<_>>());
                assert_eq!((stats.refused, stats.dropped), (0, 4));
                assert_eq!(seqs, (5..=12).collect::<Vec<_>>());
            }
        }
        // The next reading tells the cloud.
        h.client.publish_sensor(0, QOS1, h.now).unwrap();
        let out = h.published();
        let v: serde_json::Value = serde_json::from_str(&out[0].payload).unwrap();
        match policy {
            QueuePolicy::RefuseNew => assert_eq!(v["refused"], 4, "{v}"),
            QueuePolicy::DropOldest => assert_eq!(v["dropped"], 4, "{v}"),
        }
    }
}

#[test]
fn after_a_reboot_readings_in_flight_keep_their_packet_ids_and_go_first() {
    for session_present in [true, false] {
        let store = Store::default();
        let mut h = boot_on(&store);
        // 10 readings, never acknowledged: 6 sent (in the window), 4
        // waiting in the store.
        let mut sent = Vec::new();
        for _ in 0..10 {
            h.now += 20;
            h.client.publish_sensor(0, QOS1, h.now).unwrap();
            h.poll();
            sent.extend(decode_sent(&std::mem::take(
                &mut h.client.transport_mut().sent,
            )));
        }
        let before = reading_ids(&sent);
        assert_eq!(before.len(), 6, "{before:?}");
        drop(h); // power cut
        let (mut h, after) = reboot(&store, session_present, 10);
        let after = reading_ids(&after);
        let seqs: Vec<u64> = after.iter().map(|r| r.0).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "in order, each once");
        // The six that were in flight: same packet ids, DUP on a resumed
        // session; the four that waited are new publishes.
        for (i, (seq, id, dup)) in after.iter().enumerate() {
            if i < 6 {
                assert_eq!((*seq, *id), (before[i].0, before[i].1));
                assert_eq!(*dup, session_present, "{after:?}");
            } else {
                assert!(!dup);
            }
        }
        // And the new boot's readings come after them, numbered on.
        h.now += 20;
        h.client.publish_sensor(0, QOS1, h.now).unwrap();
        let next = reading_ids(&h.exchange());
        assert!(next[0].0 > 10);
        assert!(queue_records(&store).is_empty());
    }
}

#[test]
fn a_corrupt_record_in_the_middle_costs_only_its_own_reading() {
    let store = Store::default();
    let mut h = boot_on_unconnected(&store);
    go_offline(&mut h);
    h.client.connect(h.now).unwrap();
    let accepted = take_readings(&mut h, 10, 100);
    assert_eq!(accepted.len(), 10);
    drop(h);
    // Flip one bit of the fifth record (by index: the ids follow it).
    let ids = queue_records(&store);
    store.borrow_mut().get_mut(&ids[4]).unwrap()[3] ^= 0x10;
    let (_, sent) = reboot(&store, false, 20);
    let seqs: Vec<u64> = reading_ids(&sent).iter().map(|r| r.0).collect();
    let mut expected = accepted.clone();
    expected.remove(4);
    assert_eq!(seqs, expected);
}

/// One device life cut by a power loss at write `cut` (if any): boots,
/// connects, takes 5 readings that are acknowledged, then 10 that are not.
/// Returns the readings accepted, those whose acknowledgement was
/// processed (record deleted), and whether the cut happened.
fn life(store: &Store, cut: Option<(usize, Cut)>) -> (Vec<u64>, Vec<u64>, bool, usize) {
    let app = TestApp {
        store: Some(store.clone()),
        cut,
        ..TestApp::default()
    };
    let mut accepted = Vec::new();
    let mut confirmed = Vec::new();
    let mut h = Harness::with_app(Settings::new(Cloud::Aws, "dev1"), 4096, app).unwrap();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    let dead = |h: &mut Harness| h.app().dead;
    if !dead(&mut h) {
        h.connect();
    }
    for n in 0..15 {
        if dead(&mut h) {
            break;
        }
        h.now += 20;
        if h.client.publish_sensor(0, QOS1, h.now).is_ok() {
            accepted.push(u64::from(h.client.stats().seq));
        }
        let sent = if n < 5 {
            h.exchange()
        } else {
            h.poll();
            decode_sent(&std::mem::take(&mut h.client.transport_mut().sent))
        };
        let ids = reading_ids(&sent);
        for pid in std::mem::take(&mut h.app().published) {
            if let Some(r) = ids.iter().find(|r| r.1 == pid) {
                confirmed.push(r.0);
            }
        }
    }
    let writes = h.app().writes;
    (accepted, confirmed, h.app().dead, writes)
}

#[test]
fn a_power_cut_before_during_or_after_any_store_write_loses_no_accepted_reading() {
    let (_, _, _, writes) = life(&Store::default(), None);
    assert!(writes > 20, "{writes}");
    for k in 0..writes {
        for mode in [Cut::Before, Cut::Torn, Cut::After] {
            let store = Store::default();
            let (accepted, confirmed, dead, _) = life(&store, Some((k, mode)));
            assert!(dead, "the cut at write {k} happened");
            // The next boot delivers what was accepted and not confirmed,
            // in order, and nothing already confirmed.
            let (mut h, sent) = reboot(&store, true, 20);
            let delivered: Vec<u64> = reading_ids(&sent).iter().map(|r| r.0).collect();
            let what = format!("cut {mode:?} at write {k}: accepted {accepted:?}, confirmed {confirmed:?}, delivered {delivered:?}");
            for seq in &accepted {
                assert!(
                    confirmed.contains(seq) || delivered.contains(seq),
                    "{seq} lost; {what}"
                );
            }
            for seq in &delivered {
                assert!(!confirmed.contains(seq), "{seq} twice; {what}");
            }
            assert!(delivered.windows(2).all(|w| w[0] < w[1]), "{what}");
            // The numbering goes on past everything of the first life.
            h.now += 20;
            h.client.publish_sensor(0, QOS1, h.now).unwrap();
            let next = reading_ids(&h.exchange());
            let last = accepted
                .iter()
                .chain(&delivered)
                .max()
                .copied()
                .unwrap_or(0);
            assert!(next[0].0 > last, "{what}");
        }
    }
}

/// The next boot on `store`: connects (the CONNACK says
/// `session_present`) and exchanges for `rounds` × 100 ms, acknowledging
/// everything; returns the client and what it sent after the CONNACK.
fn reboot(store: &Store, session_present: bool, rounds: usize) -> (Harness, Vec<Sent>) {
    let mut h = boot_on_unconnected(store);
    h.client.connect(h.now).unwrap();
    h.poll();
    h.client.transport_mut().sent.clear();
    h.feed(&broker::connack(session_present, 0));
    let mut sent = Vec::new();
    for _ in 0..rounds {
        sent.extend(h.exchange());
        h.now += 100;
    }
    (h, sent)
}

/// A boot on `store` that registers the sensor but does not connect.
fn boot_on_unconnected(store: &Store) -> Harness {
    boot_unconnected_with(store, Settings::new(Cloud::Aws, "dev1"))
}

fn boot_unconnected_with(store: &Store, settings: Settings<'static>) -> Harness {
    let app = TestApp {
        store: Some(store.clone()),
        ..TestApp::default()
    };
    let mut h = Harness::with_app(settings, 4096, app).unwrap();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    h
}

#[test]
fn backlog_only_writes_nothing_while_the_link_keeps_up_and_keeps_the_backlog() {
    let store = Store::default();
    let mut s = Settings::new(Cloud::Aws, "dev1");
    s.queue_backlog_only = true;
    let mut h = boot_unconnected_with(&store, s);
    h.connect();
    let writes = h.app().writes;
    // Online: readings go straight out, and the store is not touched.
    for _ in 0..20 {
        h.now += 20;
        h.client.publish_sensor(0, QOS1, h.now).unwrap();
        assert_eq!(reading_ids(&h.exchange()).len(), 1);
    }
    assert_eq!(h.app().writes, writes, "no store write per reading");
    // The link stalls (nothing acknowledged): the window fills, then the
    // backlog goes to the store.
    for _ in 0..10 {
        h.now += 20;
        h.client.publish_sensor(0, QOS1, h.now).unwrap();
        h.poll();
    }
    let window = bounds::MAX_INFLIGHT - nimbus::device::actions::CONTROL_SLOTS;
    assert_eq!(queue_records(&store).len(), 10 - window);
    // A power cut: what waited in the store arrives after the reboot (the
    // readings of the window were the stated cost).
    drop(h);
    let (_, sent) = reboot(&store, false, 10);
    let seqs: Vec<u64> = reading_ids(&sent).iter().map(|r| r.0).collect();
    let first_waiting = 20 + window as u64 + 1;
    assert_eq!(seqs, (first_waiting..=30).collect::<Vec<_>>());
}

#[test]
fn events_are_queued_with_the_readings_and_keep_their_order_across_a_reboot() {
    let store = Store::default();
    let mut h = boot_on_unconnected(&store);
    go_offline(&mut h);
    h.client.connect(h.now).unwrap();
    // Nine publishes offline: more than the window, events among readings.
    let mut expected = Vec::new();
    for n in 0..9u32 {
        h.now += 20;
        h.poll();
        if n % 3 == 1 {
            let body = format!("{{\"alarm\":{n}}}");
            h.client
                .actions(h.now)
                .publish_event(body.as_bytes(), QOS1)
                .unwrap();
            expected.push(body);
        } else {
            h.client.publish_sensor(0, QOS1, h.now).unwrap();
            expected.push(format!("seq {}", h.client.stats().seq));
        }
    }
    assert_eq!(h.client.stats().queued, 9);
    // An event the cloud would refuse is refused now, not queued.
    let huge = vec![b'x'; 4096];
    assert_eq!(
        h.client.actions(h.now).publish_event(&huge, QOS1),
        Err(Error::BufferTooSmall)
    );
    drop(h); // power cut
    let (_, sent) = reboot(&store, false, 10);
    let got: Vec<String> = publishes(sent)
        .into_iter()
        .filter_map(|p| {
            if p.topic == "dev1/events" {
                Some(p.payload)
            } else if p.topic.ends_with("/reading") {
                let v: serde_json::Value = serde_json::from_str(&p.payload).unwrap();
                Some(format!("seq {}", v["seq"]))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(got, expected);
    assert!(queue_records(&store).is_empty());
}

/// A client whose application logs, taken through a refused connection
/// and a refused CONNACK (what the trace tests look at).
fn logging_client_refused_twice() -> Harness {
    let app = TestApp {
        logging: true,
        ..TestApp::default()
    };
    let mut h = Harness::with_app(Settings::new(Cloud::Aws, "dev1"), 256, app).unwrap();
    h.client
        .transport_mut()
        .open_script
        .push_back(Err(nimbus::mqtt::TransportError::Failed));
    h.client.connect(h.now).unwrap();
    h.poll();
    h.now += 2_000;
    h.poll();
    h.feed(&broker::connack(false, 5));
    h.poll();
    h
}

/// Without `trace`, no line is written even to an application that logs.
#[test]
#[cfg(not(feature = "trace"))]
fn left_out_trace_writes_no_line() {
    let mut h = logging_client_refused_twice();
    assert_eq!(h.app().logs, []);
}

#[test]
#[cfg(feature = "trace")]
fn trace_lines_say_why_the_link_went_down_and_nothing_is_written_when_off() {
    // A refused connection, then a refused CONNACK, then a good one.
    let mut h = logging_client_refused_twice();
    h.client.register_sensor(SENSOR0, 215).unwrap();
    h.now += 10_000;
    h.poll();
    h.feed(&broker::connack(true, 0));
    h.exchange();
    // A message larger than the receive buffer (256 B).
    h.feed(&broker::publish(
        "dev1/request/x",
        &[b'{'; 600],
        1,
        3,
        false,
        false,
    ));
    h.exchange();
    let logs = h.app().logs.clone();
    let lines: Vec<&str> = logs.iter().map(|(_, l)| l.as_str()).collect();
    let has = |level: Level, start: &str| {
        logs.iter()
            .any(|(l, line)| *l == level && line.starts_with(start))
    };
    assert!(
        has(Level::Warn, "link down: transport failed, next attempt in "),
        "{lines:?}"
    );
    assert!(
        has(Level::Warn, "link down: connection refused: not authorised"),
        "{lines:?}"
    );
    assert!(has(Level::Info, "connected (session resumed)"), "{lines:?}");
    assert!(
        has(
            Level::Warn,
            "message larger than the receive buffer, skipped: dev1/request/x"
        ),
        "{lines:?}"
    );
    assert!(logs
        .iter()
        .all(|(_, l)| l.len() <= nimbus::device::trace::MAX_LINE));
    // Off: the same life writes no line at all.
    let mut h = Harness::aws();
    h.client
        .transport_mut()
        .open_script
        .push_back(Err(nimbus::mqtt::TransportError::Failed));
    h.client.connect(h.now).unwrap();
    h.poll();
    h.now += 2_000;
    h.connect();
    assert!(h.app().logs.is_empty());
}
