//! The client: one MQTT session, one cloud dialect, the shadow/twin model,
//! the request table and the application, driven by `poll`.

use crate::bounds::{
    MAX_HANDLERS, MAX_INFLIGHT, MAX_SENSORS, MAX_SUBSCRIPTIONS, MAX_TWIN_REQUESTS,
};
use crate::cloud::rate::{Rate, TokenBucket};
use crate::cloud::sas::{self, Renewal};
use crate::cloud::{self, azure, Cloud, Dialect, Incoming, ShadowOp};
use crate::device::actions::{self, Actions, Core, MAX_TOPIC_LEN};
use crate::device::app::{Answer, App, Connection, Request, TwinResult};
use crate::device::boot::{Counters, SEQ_BLOCK};
use crate::device::builtin;
use crate::device::info::DeviceInfo;
use crate::device::queue::Queue;
use crate::device::requests::{PendingTable, RequestHandle};
use crate::device::route::{Router, MAX_PATH_LEN};
use crate::device::schedule::Schedule;
use crate::device::sensor::{Encoding, SensorInfo, Sensors};
use crate::device::settings::Settings;
use crate::device::trace::{trace, Level, Part};
use crate::mqtt::{self, Event, Publish, QoS, Random, Session, State, Transport};
use crate::twin::{self, json, AwsReply, Outcome, Response, Twin};
use crate::{Error, Result};

/// Shortest SAS token lifetime accepted, in seconds (a token is renewed
/// at half its life at the earliest, so shorter ones would mean a
/// reconnection every few seconds).
pub const MIN_SAS_LIFETIME_S: u32 = 10;

/// The caller's memory for a client: all of its RAM beyond the `Client`
/// value itself. Sizes are the application's choice; the comments say
/// what bounds what.
pub struct Buffers<'b> {
    /// Receive buffer: bounds the largest incoming message (topic, payload
    /// and 5 bytes). Twin documents and method payloads arrive here.
    pub rx: &'b mut [u8],
    /// Transmit queue: CONNECT, QoS 0 publishes and acknowledgements.
    pub tx: &'b mut [u8],
    /// QoS 1 publishes until acknowledged (they survive reconnects).
    pub inflight: &'b mut [u8],
    /// Subscription filters (about 300 bytes for either cloud).
    pub filters: &'b mut [u8],
    /// Payloads the client writes itself: shadow/twin requests (a report
    /// plus about 60 bytes on AWS), readings, the SAS token.
    pub work: &'b mut [u8],
    /// Immediate answers to requests, written by handlers.
    pub reply: &'b mut [u8],
    /// Credentials built at start: on Azure the client id of a module,
    /// the user name and the SAS token (about 700 bytes is ample); on AWS
    /// nothing (may be empty).
    pub credentials: &'b mut [u8],
}

/// A Nimbus client; see the [module docs](super).
pub struct Client<'b, T, R, A: App> {
    session: Session<'b, T, R, MAX_INFLIGHT, MAX_SUBSCRIPTIONS>,
    core: Core<'b>,
    reply: &'b mut [u8],
    app: A,
    router: Router<'b, A::Handler, MAX_HANDLERS>,
    sources: heapless::Vec<A::Sensor, MAX_SENSORS>,
    /// When the current SAS token was issued (Unix seconds).
    sas_issued_s: Option<u64>,
    /// A clean reconnect with a fresh token is under way.
    renewing: bool,
    /// The device information was reported since boot.
    info_reported: bool,
    /// The store failed while the client was made: told at the first poll.
    store_error: Option<Error>,
}

/// What became of the readings since boot ([`Client::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// The `seq` of the last reading accepted.
    pub seq: u32,
    /// This boot's number (0 without a store).
    pub boot: u32,
    /// Readings accepted and not yet acknowledged (in the persisted queue;
    /// 0 without one).
    pub queued: u32,
    /// Readings dropped from a full queue.
    pub dropped: u32,
    /// Readings refused (no room, rate limit, store error).
    pub refused: u32,
}

impl<'b, T: Transport, R: Random, A: App> Client<'b, T, R, A> {
    /// A client that is not connecting yet; register handlers and sensors,
    /// then [`connect`](Self::connect) and [`poll`](Self::poll).
    ///
    /// Errors: `InvalidName` (device, module or shadow name), `InvalidArgument`
    /// (Azure without `hub_host`, a module on AWS, SAS on AWS, a SAS
    /// lifetime under [`MIN_SAS_LIFETIME_S`], a zero connect, twin or
    /// request timeout, a zero backoff base or one above its cap; SAS
    /// without the `sas` feature, CBOR readings without `cbor`),
    /// `BufferTooSmall` / `StorageTooSmall` (a buffer cannot hold what it must).
    pub fn new(
        settings: Settings<'b>,
        transport: T,
        mut random: R,
        mut app: A,
        buffers: Buffers<'b>,
    ) -> Result<Self> {
        let dialect = Dialect::new(settings.cloud, settings.device_id, settings.module_id)?;
        if settings
            .sas
            .is_some_and(|sas| !cfg!(feature = "sas") || sas.lifetime_s < MIN_SAS_LIFETIME_S)
            || (settings.encoding == Encoding::Cbor && !cfg!(feature = "cbor"))
            || settings.twin_timeout_ms == 0
            || settings.request_timeout_ms == 0
        {
            return Err(Error::InvalidArgument);
        }
        let (client_id, username, password_storage) =
            credentials(&settings, &dialect, buffers.credentials)?;
        let mut config = mqtt::Config::new(client_id);
        config.username = username;
        config.keep_alive_s = settings.keep_alive_s;
        config.clean_session = settings.clean_session;
        config.connect_timeout_ms = settings.connect_timeout_ms;
        config.ack_timeout_ms = settings.ack_timeout_ms;
        config.backoff = settings.backoff;

        let mut twin_config = twin::TwinConfig::new(settings.cloud);
        twin_config.shadow_name = settings.shadow_name;
        twin_config.timeout_ms = settings.twin_timeout_ms;
        twin_config.spaces = settings.spaces;
        // Ids of a previous boot must not match late answers after a reboot.
        twin_config.first_request_id = random.next_u32();
        let twin: Twin<'b, MAX_TWIN_REQUESTS> = Twin::new(twin_config)?;
        let rate = TokenBucket::new(Rate::per_second(settings.publish_rate_per_s), 0)?;

        let mqtt_buffers = mqtt::Buffers {
            rx: buffers.rx,
            tx: buffers.tx,
            inflight: buffers.inflight,
            filters: buffers.filters,
        };
        // With a store: count this boot and reserve the first seq block. An
        // error is reported at the first poll, where the application can act.
        let mut store_error = None;
        let (counters, seq) = match Counters::start(&mut app) {
            Ok(Some((counters, seq))) => (Some(counters), seq),
            Ok(None) => (None, 0),
            Err(e) => {
                store_error = Some(e);
                (None, 0)
            }
        };
        let mut session = Session::new(transport, random, config, mqtt_buffers)?;
        if settings.sas.is_some() {
            session.set_password_storage(password_storage);
        }
        subscribe_all(&mut session, &dialect, settings.shadow_name)?;
        // With a store: the readings a power cut left, back in order.
        let queue = match counters {
            Some(_) => Queue::start(
                &mut app,
                &settings,
                session.outbox(),
                &dialect,
                buffers.work,
            ),
            None => Queue::off(),
        };

        Ok(Client {
            session,
            core: Core {
                settings,
                dialect,
                twin,
                pending: PendingTable::new(),
                sensors: Sensors::new(),
                schedule: Schedule::new(0, 0),
                rate,
                info: None,
                seq,
                counters,
                queue,
                refused: 0,
                started_ms: None,
                get_packet: None,
                resync: false,
                work: buffers.work,
            },
            reply: buffers.reply,
            app,
            router: Router::new(),
            sources: heapless::Vec::new(),
            sas_issued_s: None,
            renewing: false,
            info_reported: false,
            store_error,
        })
    }

    /// Registers `handler` for request paths matching `pattern`
    /// (`general_information`, `sensor/+/get`, `#`). An exact or `+`
    /// pattern overrides the built-in device model; a trailing `#` catches
    /// what nothing else handles. Errors: `InvalidArgument`, `Busy`.
    pub fn register_handler(&mut self, pattern: &'b str, handler: A::Handler) -> Result<()> {
        self.router.register(pattern, handler)
    }

    /// Registers a sensor for `sensor/list`, `sensor/<id>/get` and the
    /// automatic telemetry; `source` comes back to [`App::read_sensor`].
    /// Errors: `InvalidArgument` (duplicate id, bad names), `Busy`.
    pub fn register_sensor(&mut self, info: SensorInfo<'b>, source: A::Sensor) -> Result<()> {
        self.core.sensors.register(info)?;
        self.sources.push(source).map_err(|_| Error::Busy)
    }

    /// Sets what `general_information` answers and what is reported to the
    /// shadow/twin once per boot, at the first connection.
    pub fn set_device_info(&mut self, info: DeviceInfo<'b>) {
        self.core.info = Some(info);
        self.info_reported = false;
    }

    /// Starts connecting (and reconnecting after every failure). On Azure
    /// with SAS, a token is made first: errors `InvalidCredentials` (no
    /// clock, bad key) and the token's errors.
    pub fn connect(&mut self, now_ms: u64) -> Result<()> {
        self.core.started_ms.get_or_insert(now_ms);
        if self.core.settings.sas.is_some() {
            self.renew_token()?;
        }
        let period = self.core.settings.telemetry_period_ms;
        if self.core.schedule.period_ms() == 0 && period != 0 {
            self.core.schedule.set_period(period, now_ms);
        }
        self.session.connect();
        Ok(())
    }

    /// The port's network came back: see
    /// [`Outbox::network_up`](crate::mqtt::Outbox::network_up) (try at once
    /// when waiting, probe the link when connected).
    pub fn network_up(&mut self, now_ms: u64) {
        self.session.outbox().network_up(now_ms);
    }

    /// Disconnects cleanly (queued messages are kept for a later connect).
    pub fn disconnect(&mut self, now_ms: u64) {
        self.renewing = false;
        self.session.disconnect(now_ms);
    }

    /// Reads sensor `id` through the application and publishes the reading
    /// as telemetry. Errors: `NotFound`, the sensor's error, the publish errors.
    pub fn publish_sensor(&mut self, id: u16, qos: QoS, now_ms: u64) -> Result<Option<u16>> {
        let index = self.core.sensors.index_of(id).ok_or(Error::NotFound)?;
        let info = *self.core.sensors.get(index).ok_or(Error::NotFound)?;
        let source = *self.sources.get(index).ok_or(Error::NotFound)?;
        let reading = self.app.read_sensor(&info, source)?;
        self.actions(now_ms).publish_reading(id, reading, qos)
    }

    /// What became of the readings since boot.
    pub fn stats(&self) -> Stats {
        let core = &self.core;
        Stats {
            seq: core.seq,
            boot: core.counters.map_or(0, |c| c.boot),
            queued: core.queue.queued(),
            dropped: core.queue.dropped,
            refused: core.refused,
        }
    }

    /// The link state.
    pub fn state(&self) -> State {
        self.session.state()
    }

    /// The application.
    pub fn app(&self) -> &A {
        &self.app
    }

    /// The application, mutably.
    pub fn app_mut(&mut self) -> &mut A {
        &mut self.app
    }

    /// The transport (e.g. to wait on its socket).
    pub fn transport(&self) -> &T {
        self.session.transport()
    }

    /// The transport, mutably (e.g. to reconfigure it between connections).
    pub fn transport_mut(&mut self) -> &mut T {
        self.session.transport_mut()
    }

    /// Acts on the client outside `poll` (answer later, report, publish).
    pub fn actions(&mut self, now_ms: u64) -> Actions<'_, 'b> {
        Actions {
            outbox: self.session.outbox(),
            core: &mut self.core,
            store: Some(&mut self.app),
            now_ms,
        }
    }

    /// Does all pending work at `now_ms` (a monotonic millisecond clock)
    /// and returns when it must run again at the latest. Call it also when
    /// the transport becomes readable or writable.
    pub fn poll(&mut self, now_ms: u64) -> u64 {
        self.core.started_ms.get_or_insert(now_ms);
        let mut wake = u64::MAX;
        if let Some(at) = self.check_token(now_ms) {
            wake = wake.min(at);
        }
        self.run_timers(now_ms);
        if let Some(at) = self.pump(now_ms) {
            wake = wake.min(at);
        }
        let Client {
            session,
            core,
            reply,
            app,
            router,
            sources,
            info_reported,
            ..
        } = self;
        let mut cx = Dispatch {
            app,
            router,
            sources,
            reply,
            info_reported,
        };
        wake = wake.min(session.poll(now_ms, |event, outbox| {
            let mut actions = Actions {
                outbox,
                core: &mut *core,
                store: None,
                now_ms,
            };
            cx.event(event, &mut actions);
        }));
        self.reserve_seq(now_ms);
        // A connection that just came up, or acknowledgements that made
        // room: the waiting readings may go on at once.
        if self.core.queue.waiting() && self.session.state() == State::Connected {
            let before = self.session.outbox().in_flight();
            if let Some(at) = self.pump(now_ms) {
                wake = wake.min(at);
            }
            if self.session.outbox().in_flight() > before {
                wake = now_ms;
            }
        }
        if self.renewing && self.session.state() == State::Stopped {
            self.renewing = false;
            self.session.connect();
            wake = now_ms;
        }
        [
            self.core.twin.next_deadline(),
            self.core.pending.next_deadline(),
            self.core.schedule.next_ms(),
        ]
        .into_iter()
        .flatten()
        .fold(wake, u64::min)
    }

    /// Twin timeouts, expired requests and the telemetry schedule.
    fn run_timers(&mut self, now_ms: u64) {
        let Client {
            session,
            core,
            app,
            sources,
            store_error,
            ..
        } = self;
        let mut actions = Actions {
            outbox: session.outbox(),
            core: &mut *core,
            store: None,
            now_ms,
        };
        while let Some(event) = actions.core.twin.poll(now_ms) {
            twin_event(app, event, &mut actions);
        }
        if let Some(e) = store_error.take() {
            app.on_error(e, "store", &mut actions);
        }
        if let Err(e) = actions.resync_if_due() {
            app.on_error(e, "twin", &mut actions);
        }
        while let Some((handle, path)) = actions.core.pending.take_expired(now_ms) {
            app.on_request_expired(handle, &path, &mut actions);
        }
        // QoS 1 readings are taken while offline too: they wait in the
        // store's queue (or, without one, in the in-flight area as far as
        // it has room) and go out, in order, after the reconnect. QoS 0
        // ones could only be lost.
        let qos = actions.core.settings.telemetry_qos;
        let fire = actions.core.schedule.fire(now_ms)
            && (actions.is_connected() || qos == QoS::AtLeastOnce);
        if fire {
            for (index, source) in sources.iter().enumerate() {
                let Some(info) = core.sensors.get(index).copied() else {
                    break;
                };
                let dropped = core.queue.dropped;
                let sent = app.read_sensor(&info, *source).and_then(|reading| {
                    let mut actions = Actions {
                        outbox: session.outbox(),
                        core: &mut *core,
                        store: Some(&mut *app),
                        now_ms,
                    };
                    actions.publish_reading(info.id, reading, qos)
                });
                if core.queue.dropped != dropped {
                    let line = [Part::Text("queue full: the oldest reading was dropped")];
                    trace(&mut *app, Level::Warn, &line);
                }
                if let Err(e) = sent {
                    let line = [
                        Part::Text("reading of "),
                        Part::Text(info.kind),
                        Part::Text(" refused: "),
                        Part::Err(e),
                    ];
                    trace(&mut *app, Level::Warn, &line);
                    let mut actions = Actions {
                        outbox: session.outbox(),
                        core: &mut *core,
                        store: None,
                        now_ms,
                    };
                    app.on_error(e, info.kind, &mut actions);
                }
            }
        }
    }

    /// Hands readings waiting in the store to the in-flight window; when
    /// the rate limit stopped it, the time to try again.
    fn pump(&mut self, now_ms: u64) -> Option<u64> {
        let Client {
            session, core, app, ..
        } = self;
        if !core.queue.waiting() {
            return None;
        }
        let rate = &mut core.rate;
        let pumped = core
            .queue
            .pump(app, session.outbox(), &core.dialect, core.work, || {
                rate.take_or_wait(now_ms)
            });
        match pumped {
            Ok(wait) => wait.map(|ms| now_ms.saturating_add(ms)),
            Err(e) => {
                self.tell_error(e, "queue", now_ms);
                None
            }
        }
    }

    /// Tells the application of `error` outside an event, lending it the
    /// actions as every callback is.
    fn tell_error(&mut self, error: Error, what: &str, now_ms: u64) {
        let Client {
            session, core, app, ..
        } = self;
        let mut actions = Actions {
            outbox: session.outbox(),
            core,
            store: None,
            now_ms,
        };
        app.on_error(error, what, &mut actions);
    }

    /// With a store, reserves the next block of `seq` numbers once half of
    /// the current one is used, so readings never wait for the store.
    fn reserve_seq(&mut self, now_ms: u64) {
        let Some(counters) = self.core.counters.as_mut() else {
            return;
        };
        if self.core.seq.saturating_add(SEQ_BLOCK / 2) >= counters.seq_limit {
            if let Err(e) = counters.reserve(&mut self.app) {
                self.tell_error(e, "store", now_ms);
            }
        }
    }

    /// Renews the SAS token when due; returns when to look again.
    fn check_token(&mut self, now_ms: u64) -> Option<u64> {
        let sas = self.core.settings.sas.filter(|_| cfg!(feature = "sas"))?;
        let issued = self.sas_issued_s?;
        if self.renewing || self.session.state() == State::Stopped {
            return None;
        }
        let now_s = self.app.unix_time_s()?;
        match sas::renewal(issued, u64::from(sas.lifetime_s), now_s) {
            Renewal::In(s) => Some(now_ms.saturating_add(s.saturating_mul(1000))),
            Renewal::Now => {
                if let Err(e) = self.renew_token() {
                    self.tell_error(e, "sas", now_ms);
                    return Some(now_ms.saturating_add(1000));
                }
                // A clean disconnect, then `poll` reconnects with the new token.
                self.renewing = true;
                self.session.disconnect(now_ms);
                Some(now_ms)
            }
        }
    }

    fn renew_token(&mut self) -> Result<()> {
        if !cfg!(feature = "sas") {
            return Err(Error::InvalidArgument);
        }
        let settings = &self.core.settings;
        let sas = settings.sas.ok_or(Error::InvalidState)?;
        let hub = settings.hub_host.ok_or(Error::InvalidArgument)?;
        let now_s = self.app.unix_time_s().ok_or(Error::InvalidCredentials)?;
        let expiry = now_s.saturating_add(u64::from(sas.lifetime_s));
        let token = sas::token(
            &mut self.app,
            hub,
            settings.device_id,
            settings.module_id,
            sas.key_base64,
            expiry,
            self.core.work,
        )?;
        self.session.set_password(token.as_bytes())?;
        self.sas_issued_s = Some(now_s);
        Ok(())
    }
}

/// Client id, user name and the rest of `buf` (the SAS token's storage).
fn credentials<'b>(
    settings: &Settings<'b>,
    dialect: &Dialect<'b>,
    buf: &'b mut [u8],
) -> Result<(&'b str, Option<&'b str>, &'b mut [u8])> {
    #[cfg(feature = "aws")]
    if settings.cloud == Cloud::Aws {
        if settings.sas.is_some() || settings.hub_host.is_some() {
            return Err(Error::InvalidArgument);
        }
        return Ok((settings.device_id, None, buf));
    }
    let hub = settings.hub_host.ok_or(Error::InvalidArgument)?;
    let (device, module) = (settings.device_id, settings.module_id);
    // Lengths first (into the buffer itself), then the final split.
    let id_len = dialect.client_id(buf)?.len();
    let (id_buf, rest) = buf
        .split_at_mut_checked(id_len)
        .ok_or(Error::BufferTooSmall)?;
    let client_id = match module {
        Some(_) => dialect.client_id(id_buf)?,
        None => device,
    };
    let user_len = azure::username(hub, device, module, settings.api_version, rest)?.len();
    let (user_buf, rest) = rest
        .split_at_mut_checked(user_len)
        .ok_or(Error::BufferTooSmall)?;
    let username = azure::username(hub, device, module, settings.api_version, user_buf)?;
    Ok((client_id, Some(username), rest))
}

/// Subscribes to the cloud's topics (kept and renewed by the session).
fn subscribe_all<T: Transport, R: Random>(
    session: &mut Session<'_, T, R, MAX_INFLIGHT, MAX_SUBSCRIPTIONS>,
    dialect: &Dialect<'_>,
    shadow: Option<&str>,
) -> Result<()> {
    let mut buf = [0u8; MAX_TOPIC_LEN];
    for filter in dialect.subscriptions() {
        let filter = filter.write(&mut buf)?;
        // A named shadow replaces the classic shadow's topics.
        if shadow.is_some() && filter.starts_with("$aws/") {
            continue;
        }
        session.subscribe(filter, QoS::AtLeastOnce)?;
    }
    if let Some(name) = shadow {
        let mut w = crate::writer::TextWriter::new(&mut buf);
        w.raw("$aws/things/")?;
        w.raw(dialect.device())?;
        w.raw("/shadow/name/")?;
        w.raw(name)?;
        w.raw("/+/+")?;
        session.subscribe(w.into_str(), QoS::AtLeastOnce)?;
    }
    Ok(())
}

/// What `poll`'s event handler needs beside the actions.
struct Dispatch<'x, 'b, A: App> {
    app: &'x mut A,
    router: &'x Router<'b, A::Handler, MAX_HANDLERS>,
    sources: &'x [A::Sensor],
    reply: &'x mut [u8],
    info_reported: &'x mut bool,
}

impl<A: App> Dispatch<'_, '_, A> {
    fn event(&mut self, event: Event<'_>, actions: &mut Actions<'_, '_>) {
        match event {
            Event::Connected { session_present } => {
                let resumed = if session_present {
                    " (session resumed)"
                } else {
                    ""
                };
                let line = [Part::Text("connected"), Part::Text(resumed)];
                trace(self.app, Level::Info, &line);
                self.connected(session_present, actions)
            }
            Event::Disconnected {
                reason,
                reconnect_in_ms,
            } => {
                // The reason tells a refused CONNACK, a malformed packet,
                // a dead link or a closed one apart.
                let line = [
                    Part::Text("link down: "),
                    reason.map_or(Part::Text("closed as asked"), Part::Err),
                    Part::Text(", next attempt in "),
                    Part::Num(u64::from(reconnect_in_ms.unwrap_or(0))),
                    Part::Text(" ms"),
                ];
                let len = if reconnect_in_ms.is_some() { 5 } else { 2 };
                trace(self.app, Level::Warn, line.get(..len).unwrap_or_default());
                let down = Connection::Down {
                    reason,
                    reconnect_in_ms,
                };
                self.app.on_connection(down, actions);
            }
            Event::Subscribed {
                granted: Err(e), ..
            } => {
                let line = [Part::Text("subscription refused: "), Part::Err(e)];
                trace(self.app, Level::Error, &line);
                self.app.on_error(e, "subscribe", actions)
            }
            Event::Subscribed { .. } | Event::Unsubscribed { .. } => {}
            Event::Published { packet_id } => {
                if actions.core.get_packet == Some(packet_id) {
                    actions.core.get_packet = None;
                }
                if let Err(e) = actions.core.queue.acked(&mut *self.app, packet_id) {
                    self.app.on_error(e, "store", actions);
                }
                self.app.on_published(packet_id, actions)
            }
            Event::Message(message) => {
                self.message(&message, actions);
                if let Err(e) = actions.resync_if_due() {
                    self.app.on_error(e, "twin", actions);
                }
            }
            Event::Oversized { topic, .. } => self.oversized(topic, actions),
            Event::Unstable { .. } => {
                let line = [
                    Part::Text("connections dropped right after CONNACK, again and again: "),
                    Part::Text(
                        "a second device with this id, or a policy or topic the cloud refuses",
                    ),
                ];
                trace(self.app, Level::Warn, &line);
                self.app
                    .on_error(Error::UnstableConnection, "connection", actions)
            }
        }
    }

    /// A message too large for the receive buffer (already discarded, and
    /// acknowledged by the session): a request is answered 413 where its
    /// way back is known, a twin answer (Azure, by its rid) or shadow get
    /// answer (AWS) completes its request as failed, and the application
    /// hears of it once through `on_error`. Out of line: its buffers stay
    /// off the stack of the usual paths.
    #[inline(never)]
    fn oversized(&mut self, topic: Option<&str>, actions: &mut Actions<'_, '_>) {
        let line = [
            Part::Text("message larger than the receive buffer, skipped: "),
            Part::Text(topic.unwrap_or("(topic too long too)")),
        ];
        trace(self.app, Level::Warn, &line);
        let Some(topic) = topic else {
            return self.app.on_error(Error::PacketTooLarge, "", actions);
        };
        let failed = match actions.core.dialect.classify(topic) {
            Ok(Incoming::Request(request)) => {
                let mut path_buf = [0u8; MAX_PATH_LEN];
                let answered = request.path(&mut path_buf).and_then(|path| {
                    let len = builtin::error_body(self.reply, 413, "payload too large", path)?;
                    let body = self.reply.get(..len).unwrap_or_default();
                    answer_directly(actions, &request, path, 413, body)
                });
                if let Err(e) = answered {
                    self.app.on_error(e, topic, actions);
                }
                None
            }
            Ok(Incoming::TwinResponse(answer)) => {
                let id = twin::RequestId::parse(answer.rid.as_bytes());
                id.and_then(|id| {
                    actions
                        .core
                        .twin
                        .fail(Some(id), twin::Op::Get, Error::PacketTooLarge)
                })
            }
            // The clientToken is in the lost payload. Only the device asks
            // for its shadow and at most one get is pending, so a get answer
            // is that get's; an update answer may be of anyone's update
            // (AWS sends them all), so a report it may have answered times
            // out instead of being guessed.
            Ok(Incoming::Shadow(shadow))
                if shadow.shadow == actions.core.settings.shadow_name
                    && matches!(shadow.op, ShadowOp::GetAccepted | ShadowOp::GetRejected) =>
            {
                actions
                    .core
                    .twin
                    .fail(None, twin::Op::Get, Error::PacketTooLarge)
            }
            _ => None,
        };
        self.app.on_error(Error::PacketTooLarge, topic, actions);
        if let Some(event) = failed {
            twin_event(self.app, event, actions);
        }
    }

    fn connected(&mut self, session_present: bool, actions: &mut Actions<'_, '_>) {
        self.app
            .on_connection(Connection::Up { session_present }, actions);
        // Fetch the document, so that changes made while offline arrive.
        if let Err(e) = actions.sync_twin() {
            self.app.on_error(e, "twin", actions);
        }
        if let (false, Some(info)) = (*self.info_reported, actions.core.info) {
            let reported = info.write_json(self.reply).and_then(|len| {
                let patch = self.reply.get(..len).ok_or(Error::BufferTooSmall)?;
                actions.report(patch)
            });
            match reported {
                Ok(_) => *self.info_reported = true,
                Err(e) => self.app.on_error(e, "device info", actions),
            }
        }
    }

    fn message(&mut self, message: &Publish<'_>, actions: &mut Actions<'_, '_>) {
        let (topic, payload) = (message.topic, message.payload);
        let outcome = match actions.core.dialect.classify(topic) {
            Err(e) => Err(e),
            Ok(Incoming::Request(request)) => return self.request(&request, payload, actions),
            Ok(Incoming::Shadow(shadow)) if shadow.shadow != actions.core.settings.shadow_name => {
                return self.app.on_error(Error::NotGenericTopic, topic, actions)
            }
            Ok(Incoming::Shadow(shadow)) => {
                let reply = match shadow.op {
                    ShadowOp::UpdateAccepted => AwsReply::UpdateAccepted,
                    ShadowOp::UpdateRejected => AwsReply::UpdateRejected,
                    ShadowOp::GetAccepted => AwsReply::GetAccepted,
                    ShadowOp::GetRejected => AwsReply::GetRejected,
                    ShadowOp::UpdateDelta => {
                        let outcome = actions.core.twin.on_desired(None, payload);
                        return self.twin_outcome(outcome, topic, actions);
                    }
                    // Documents and deletes are not part of the model.
                    _ => return,
                };
                actions
                    .core
                    .twin
                    .on_response(Response::Aws { reply, payload })
            }
            Ok(Incoming::TwinResponse(answer)) => actions.core.twin.on_response(Response::Azure {
                status: answer.status,
                rid: answer.rid,
                version: answer.version,
                payload,
            }),
            Ok(Incoming::Desired { version }) => {
                actions.core.twin.on_desired(Some(version), payload)
            }
        };
        self.twin_outcome(outcome, topic, actions);
    }

    fn twin_outcome(
        &mut self,
        outcome: Result<Outcome<'_>>,
        topic: &str,
        actions: &mut Actions<'_, '_>,
    ) {
        match outcome {
            Ok(Outcome::Event(event)) => twin_event(self.app, event, actions),
            Ok(Outcome::Ignored(_)) => {}
            Err(e) => self.app.on_error(e, topic, actions),
        }
    }

    fn request(
        &mut self,
        request: &cloud::Request<'_>,
        payload: &[u8],
        actions: &mut Actions<'_, '_>,
    ) {
        let topic = request.cloud_topic();
        let mut path_buf = [0u8; MAX_PATH_LEN];
        let Ok(path) = request.path(&mut path_buf) else {
            return self.app.on_error(Error::TopicTooLong, topic, actions);
        };
        let timeout = actions.core.settings.request_timeout_ms;
        let (pending, now) = (&mut actions.core.pending, actions.now_ms);
        let opened = pending.open_incoming(request, path, now, timeout);
        let handle = match opened {
            Ok(handle) => handle,
            Err(Error::Busy) => {
                // Every slot waits for an answer: say so rather than drop it.
                if let Err(e) = refuse_unrecorded(actions, request, path, self.reply) {
                    self.app.on_error(e, topic, actions);
                }
                return;
            }
            Err(e) => return self.app.on_error(e, topic, actions),
        };
        let incoming = Request {
            handle,
            path,
            payload,
            route: request.route(),
        };
        let answer = match self.router.find(path) {
            Some((pattern, handler))
                if !(pattern.as_bytes().ends_with(b"#") && builtin::is_builtin(path)) =>
            {
                self.app
                    .on_request(*handler, &incoming, self.reply, actions)
            }
            _ => builtin::answer(path, self.reply, actions, self.app, self.sources),
        };
        if let Answer::Now { status, len } = answer {
            let sent = match self.reply.get(..len) {
                Some(body) => actions.respond(handle, status, body),
                None => actions.respond(handle, 500, b""),
            };
            if let Err(e) = sent {
                self.app.on_error(e, path, actions);
                if e == Error::Busy {
                    // No room for the answer now (a burst of requests): a
                    // short refusal, at most once, rather than silence.
                    let refused = refuse(actions, handle, path, self.reply);
                    if let Err(e) = refused {
                        self.app.on_error(e, path, actions);
                    }
                }
            }
        }
    }
}

/// Refuses the request `handle` names with 503 at QoS 0 (that needs only
/// room in the transmit queue, not an in-flight slot); `reply` is scratch
/// for the body. Out of line: its buffers stay off the stack of the usual
/// answer path.
#[inline(never)]
fn refuse(
    actions: &mut Actions<'_, '_>,
    handle: RequestHandle,
    path: &str,
    reply: &mut [u8],
) -> Result<()> {
    let pending = actions.core.pending.take(handle, actions.now_ms)?;
    let len = builtin::error_body(reply, 503, "busy", path)?;
    let body = reply.get(..len).unwrap_or_default();
    let mut topic = [0u8; MAX_TOPIC_LEN];
    let topic = actions::response_topic(
        &actions.core.dialect,
        pending.route,
        &pending.rid,
        path,
        503,
        &mut topic,
    )?;
    actions::publish_built(actions.outbox, topic, body, QoS::AtMostOnce).map(|_| ())
}

/// Answers 503 to a request that found no slot in the pending table. Out
/// of line, like `refuse`.
#[inline(never)]
fn refuse_unrecorded(
    actions: &mut Actions<'_, '_>,
    request: &cloud::Request<'_>,
    path: &str,
    reply: &mut [u8],
) -> Result<()> {
    let len = builtin::error_body(reply, 503, "busy", path)?;
    answer_directly(
        actions,
        request,
        path,
        503,
        reply.get(..len).unwrap_or_default(),
    )
}

/// Answers a request that has no slot in the pending table.
fn answer_directly(
    actions: &mut Actions<'_, '_>,
    request: &cloud::Request<'_>,
    path: &str,
    status: u16,
    body: &[u8],
) -> Result<()> {
    let mut topic = [0u8; MAX_TOPIC_LEN];
    let route = request.route();
    let rid = request.rid().unwrap_or_default();
    let dialect = &actions.core.dialect;
    let topic = actions::response_topic(dialect, route, rid, path, status, &mut topic)?;
    let qos = actions::answer_qos(route, &actions.core.settings);
    actions::publish_built(actions.outbox, topic, body, qos).map(|_| ())
}

/// Hands a shadow/twin event to the application (after applying a
/// desired `telemetry_period_ms` when the client manages it).
fn twin_event<A: App>(app: &mut A, event: twin::TwinEvent<'_>, actions: &mut Actions<'_, '_>) {
    let result = match event {
        twin::TwinEvent::Desired { patch, version } => {
            if actions.core.settings.manage_telemetry_period {
                if let Err(e) = apply_telemetry_period(patch, actions) {
                    app.on_error(e, "telemetry_period_ms", actions);
                }
            }
            return app.on_desired(patch, version, actions);
        }
        twin::TwinEvent::ReportAccepted { id, version } => TwinResult::Accepted { id, version },
        twin::TwinEvent::Document {
            id,
            desired,
            reported,
            version,
        } => TwinResult::Document {
            id,
            desired,
            reported,
            version,
        },
        twin::TwinEvent::Rejected {
            id,
            status,
            message,
            ..
        } => TwinResult::Rejected {
            id,
            status,
            message,
        },
        twin::TwinEvent::Failed { id, error, .. } => TwinResult::Failed { id, error },
    };
    app.on_twin(result, actions);
}

/// Applies a desired `telemetry_period_ms` and reports the value in force.
fn apply_telemetry_period(patch: &[u8], actions: &mut Actions<'_, '_>) -> Result<()> {
    let Some(value) = json::find(patch, &["telemetry_period_ms"])? else {
        return Ok(());
    };
    let period = u32::try_from(json::parse_u64(value)?).map_err(|_| Error::UnexpectedJson)?;
    actions.set_telemetry_period(period);
    let mut buf = [0u8; 40];
    let mut w = crate::writer::TextWriter::new(&mut buf);
    w.raw("{\"telemetry_period_ms\":")?;
    w.uint(u64::from(period))?;
    w.raw("}")?;
    actions.report(w.into_str().as_bytes()).map(|_| ())
}
