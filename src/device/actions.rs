//! What the application can do to a client, inside or outside `poll`:
//! answer requests, report state, publish events and telemetry.

use crate::bounds::{
    MAX_INFLIGHT, MAX_PENDING_REQUESTS, MAX_SENSORS, MAX_SUBSCRIPTIONS, MAX_TWIN_REQUESTS,
};
use crate::cloud::rate::TokenBucket;
use crate::cloud::Route;
use crate::cloud::{azure, Cloud, Dialect, EncodedProperties, Topic, TwinOp};
use crate::device::info::DeviceInfo;
use crate::device::queue::{self, telemetry_topic, Queue, Store, HEADER_ROOM};
use crate::device::requests::{PendingTable, RequestHandle};
use crate::device::schedule::Schedule;
use crate::device::sensor::{self, Encoding, Reading, Sensors};
use crate::device::settings::Settings;
use crate::mqtt::{Outbox, QoS};
use crate::twin::{RequestId, Twin};
use crate::writer::TextWriter;
use crate::{Error, Result};

/// Longest cloud topic the client writes (AWS allows 256 bytes; Azure
/// topics carry a property bag).
pub const MAX_TOPIC_LEN: usize = 320;

/// In-flight slots that telemetry leaves to control traffic (twin requests,
/// answers): 2, or fewer with a table of 4 or less.
pub const CONTROL_SLOTS: usize = if MAX_INFLIGHT > 4 {
    2
} else {
    MAX_INFLIGHT / 2
};

/// The engine's send side, as the client instantiates it.
pub type ClientOutbox<'b> = Outbox<'b, MAX_INFLIGHT, MAX_SUBSCRIPTIONS>;

/// The client state that callbacks may change: everything but the MQTT
/// receive path, the application and its registrations.
pub struct Core<'b> {
    pub(crate) settings: Settings<'b>,
    pub(crate) dialect: Dialect<'b>,
    pub(crate) twin: Twin<'b, MAX_TWIN_REQUESTS>,
    pub(crate) pending: PendingTable<MAX_PENDING_REQUESTS>,
    pub(crate) sensors: Sensors<'b, MAX_SENSORS>,
    pub(crate) schedule: Schedule,
    pub(crate) rate: TokenBucket,
    pub(crate) info: Option<DeviceInfo<'b>>,
    pub(crate) seq: u32,
    /// With a store: the boot number and how far `seq` is reserved.
    pub(crate) counters: Option<crate::device::boot::Counters>,
    /// With a store: the persisted queue of QoS 1 readings.
    pub(crate) queue: Queue,
    /// Readings taken and then refused since boot.
    pub(crate) refused: u32,
    pub(crate) started_ms: Option<u64>,
    /// The packet id of the publish of the shadow/twin get last sent,
    /// until its PUBACK: what to drop when a new session supersedes it.
    pub(crate) get_packet: Option<u16>,
    /// A reconnect found the application's get pending: fetch the document
    /// for the new session once that get completes.
    pub(crate) resync: bool,
    /// Payloads the client writes itself (twin requests, readings).
    pub(crate) work: &'b mut [u8],
}

/// A handle on the client for one call: inside a callback, or from
/// [`Client::actions`](super::Client::actions) outside `poll`. Every
/// method only queues: the next `poll` sends.
pub struct Actions<'a, 'b> {
    pub(crate) outbox: &'a mut ClientOutbox<'b>,
    pub(crate) core: &'a mut Core<'b>,
    /// The application's store, outside callbacks (inside one the
    /// application itself is busy).
    pub(crate) store: Option<&'a mut dyn Store>,
    pub(crate) now_ms: u64,
}

impl Actions<'_, '_> {
    /// The time this call runs at.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Whether the client is connected.
    pub fn is_connected(&self) -> bool {
        self.outbox.is_connected()
    }

    /// Answers the request `handle` names, the way it came: an AWS response
    /// topic, an Azure method response with the request's `$rid` and
    /// `status`, or an Azure D2C message `subtopic=response.<path>`.
    /// `status` is 200 (with a JSON body), 204 (without), 4xx or 5xx.
    /// Errors: `UnknownRequest` (answered, expired or never known),
    /// `InvalidArgument` (status outside 100–599), the publish errors (then
    /// the request stays open and can be answered again).
    pub fn respond(&mut self, handle: RequestHandle, status: u16, payload: &[u8]) -> Result<()> {
        if !(100..=599).contains(&status) {
            return Err(Error::InvalidArgument);
        }
        let pending = self
            .core
            .pending
            .get(handle)
            .filter(|p| self.now_ms < p.deadline_ms)
            .ok_or(Error::UnknownRequest)?;
        let mut topic = [0u8; MAX_TOPIC_LEN];
        let topic = response_topic(
            &self.core.dialect,
            pending.route,
            &pending.rid,
            &pending.path,
            status,
            &mut topic,
        )?;
        let qos = answer_qos(pending.route, &self.core.settings);
        publish_built(self.outbox, topic, payload, qos)?;
        self.core.pending.take(handle, self.now_ms)?;
        Ok(())
    }

    /// Sends a reported-properties patch (a JSON object) to the shadow or
    /// twin; the outcome comes to [`App::on_twin`](super::App::on_twin)
    /// with the returned id. Errors: the twin rules (`InvalidJson`,
    /// `JsonTooDeep`, `DocumentTooLarge`, `InvalidPropertyName`, `Busy`),
    /// `BufferTooSmall` (the work buffer), the publish errors.
    pub fn report(&mut self, patch: &[u8]) -> Result<RequestId> {
        let request = self.core.twin.report(patch, self.core.work, self.now_ms)?;
        self.send_twin(TwinOp::Report, request)
    }

    /// Asks for the whole shadow/twin document; it comes to
    /// [`App::on_twin`](super::App::on_twin) as `TwinResult::Document`.
    /// Errors: `Busy` while a get is pending (at most one is outstanding,
    /// the client's own after each connection included), the publish errors.
    pub fn get_twin(&mut self) -> Result<RequestId> {
        let request = self.core.twin.get(self.core.work, self.now_ms)?;
        self.send_twin(TwinOp::Get, request)
    }

    /// Fetches the document for a new connection: at most one get is ever
    /// outstanding, so an earlier sync get is superseded (its publish is
    /// dropped, not resent beside this one) and a pending application get
    /// is waited for. Out of line: its topic buffer stays off the stack of
    /// the message path that checks for a deferred sync.
    #[inline(never)]
    pub(crate) fn sync_twin(&mut self) -> Result<()> {
        let request = match self.core.twin.on_connected(self.core.work, self.now_ms) {
            Err(Error::Busy) if self.core.twin.pending_get().is_some() => {
                self.core.resync = true;
                return Ok(());
            }
            request => request?,
        };
        if request.superseded.is_some() {
            if let Some(packet_id) = self.core.get_packet.take() {
                self.outbox.cancel(packet_id);
            }
        }
        self.core.resync = false;
        self.send_twin(TwinOp::Get, request).map(|_| ())
    }

    /// The deferred sync get, once no get is pending any more.
    pub(crate) fn resync_if_due(&mut self) -> Result<()> {
        if self.core.resync && self.core.twin.pending_get().is_none() && self.is_connected() {
            return self.sync_twin();
        }
        Ok(())
    }

    fn send_twin(&mut self, op: TwinOp, request: crate::twin::TwinRequest) -> Result<RequestId> {
        let mut topic = [0u8; MAX_TOPIC_LEN];
        let shadow = self.core.settings.shadow_name;
        let topic = self
            .core
            .dialect
            .twin_topic(op, request.id.as_str(), shadow, &mut topic)?;
        let payload = self
            .core
            .work
            .get(..request.len)
            .ok_or(Error::BufferTooSmall)?;
        // A request that could not be queued must not wait for an answer.
        match publish_built(self.outbox, topic, payload, QoS::AtLeastOnce) {
            Ok(packet_id) => {
                if op == TwinOp::Get {
                    self.core.get_packet = packet_id;
                }
                Ok(request.id)
            }
            Err(e) => {
                self.core.twin.cancel(request.id);
                Err(e)
            }
        }
    }

    /// Publishes an asynchronous event (`<dev>/events`). Returns the packet
    /// id of a QoS 1 publish (its PUBACK comes to `on_published`). With the
    /// persisted queue a QoS 1 event is queued and persisted like a
    /// reading (see [`publish_reading`](Self::publish_reading); `Ok(None)`
    /// when it waits), and must fit the work buffer less 22 bytes.
    /// Errors: `RateLimited`, `QosNotSupported`, `PayloadTooLarge`, `Busy`,
    /// `NotConnected` (QoS 0 while offline), `BufferTooSmall` (queued:
    /// larger than the work buffer allows), the store's write error.
    pub fn publish_event(&mut self, payload: &[u8], qos: QoS) -> Result<Option<u16>> {
        let persist = qos == QoS::AtLeastOnce && self.core.queue.is_on();
        if let (true, Some(store)) = (persist, self.store.as_deref_mut()) {
            let core = &mut *self.core;
            let end = core.work.len().saturating_sub(4);
            core.work
                .get_mut(HEADER_ROOM..end)
                .and_then(|w| w.get_mut(..payload.len()))
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(payload);
            let (rate, now) = (&mut core.rate, self.now_ms);
            return core.queue.accept(
                store,
                self.outbox,
                &core.dialect,
                queue::Kind::Event,
                core.work,
                payload.len(),
                || rate.take(now).is_ok(),
            );
        }
        let mut topic = [0u8; MAX_TOPIC_LEN];
        let topic = event_topic(&self.core.dialect, &mut topic)?;
        let core = &mut *self.core;
        let (queue, rate, now) = (&core.queue, &mut core.rate, self.now_ms);
        send_now(self.outbox, queue, rate, now, topic, payload, qos, false)
    }

    /// Publishes a reading of sensor `id` as telemetry
    /// (`<dev>/response/sensor/<id>/reading`), encoded as configured, with
    /// the next sequence number. With the persisted queue (a store and
    /// `queue_len` slots), a QoS 1 reading is in the store when this
    /// returns `Ok`; it is sent now (its packet id is returned) or, when
    /// readings wait before it or the window or rate limit has no room, in
    /// order by `poll` (`Ok(None)`). Inside a callback the store cannot be
    /// written (the application is busy): the reading then goes to the
    /// in-flight window only, if nothing waits before it (else `Busy`).
    /// Errors: `NotFound` (no such sensor), `Busy` (the queue or the
    /// window is full), `BufferTooSmall` (the work buffer), the store's
    /// write error, the publish errors. Every refused reading is counted
    /// (`refused` in the next reading).
    pub fn publish_reading(&mut self, id: u16, reading: Reading, qos: QoS) -> Result<Option<u16>> {
        let info = *self.core.sensors.find(id).ok_or(Error::NotFound)?;
        let encoding = self.core.settings.encoding;
        let seq = self.core.seq.wrapping_add(1);
        // With a store, a number is used only once it is reserved there
        // (the client reserves the next block well before; `Busy` only if
        // the store could not be written).
        let boot = match self.core.counters {
            Some(c) if seq > c.seq_limit => return Err(Error::Busy),
            Some(c) => Some(c.boot),
            None => None,
        };
        let refused = self.core.refused;
        let stamp = sensor::Stamp {
            seq,
            boot,
            refused,
            dropped: self.core.queue.dropped,
        };
        let persist = qos == QoS::AtLeastOnce && self.core.queue.is_on();
        let sent = match self.store.as_deref_mut() {
            Some(store) if persist => {
                let core = &mut *self.core;
                let end = core.work.len().saturating_sub(4);
                let out = core
                    .work
                    .get_mut(HEADER_ROOM..end)
                    .ok_or(Error::BufferTooSmall)?;
                let len = sensor::write_reading(&info, reading, Some(stamp), encoding, out)?;
                let (rate, now) = (&mut core.rate, self.now_ms);
                let kind = queue::Kind::Reading {
                    sensor: id,
                    encoding,
                };
                core.queue.accept(
                    store,
                    self.outbox,
                    &core.dialect,
                    kind,
                    core.work,
                    len,
                    || rate.take(now).is_ok(),
                )
            }
            _ => {
                let len =
                    sensor::write_reading(&info, reading, Some(stamp), encoding, self.core.work)?;
                let mut topic = [0u8; MAX_TOPIC_LEN];
                let cbor = encoding == Encoding::Cbor;
                let topic = telemetry_topic(&self.core.dialect, id, cbor, &mut topic)?;
                let core = &mut *self.core;
                let payload = core.work.get(..len).ok_or(Error::BufferTooSmall)?;
                let (queue, rate, now) = (&core.queue, &mut core.rate, self.now_ms);
                send_now(self.outbox, queue, rate, now, topic, payload, qos, true)
            }
        };
        match sent {
            Ok(id) => {
                self.core.seq = seq;
                Ok(id)
            }
            Err(e) => {
                // Counted, and said in the next reading that goes out.
                self.core.refused = refused.saturating_add(1);
                Err(e)
            }
        }
    }

    /// Publishes a payload the application encoded itself as telemetry of
    /// sensor `id` (no sequence number is added).
    pub fn publish_telemetry(&mut self, id: u16, payload: &[u8], qos: QoS) -> Result<Option<u16>> {
        let mut topic = [0u8; MAX_TOPIC_LEN];
        let dialect = &self.core.dialect;
        let topic = dialect.telemetry_topic(id, EncodedProperties::NONE, &mut topic)?;
        let core = &mut *self.core;
        let (queue, rate, now) = (&core.queue, &mut core.rate, self.now_ms);
        send_now(self.outbox, queue, rate, now, topic, payload, qos, true)
    }

    /// Changes the period of the automatic telemetry (0: off).
    pub fn set_telemetry_period(&mut self, period_ms: u32) {
        self.core.schedule.set_period(period_ms, self.now_ms);
    }

    /// The period of the automatic telemetry (0: off).
    pub fn telemetry_period_ms(&self) -> u32 {
        self.core.schedule.period_ms()
    }
}

/// Sends a publish that is not persisted, now: at QoS 1 only when no
/// queued publish waits before it (they go first), and for telemetry
/// (`telemetry`) only outside the last [`CONTROL_SLOTS`] slots of the
/// in-flight table (readings during an outage must leave room for the
/// shadow/twin get and the answers of the next connection); then within
/// the rate limit `rate` at `now_ms`.
#[allow(clippy::too_many_arguments)]
fn send_now(
    outbox: &mut ClientOutbox<'_>,
    queue: &Queue,
    rate: &mut TokenBucket,
    now_ms: u64,
    topic: Topic<'_>,
    payload: &[u8],
    qos: QoS,
    telemetry: bool,
) -> Result<Option<u16>> {
    let first = !queue.waiting() && (!telemetry || queue::room(outbox));
    if qos == QoS::AtLeastOnce && !first {
        return Err(Error::Busy);
    }
    rate.take(now_ms)?;
    publish_built(outbox, topic, payload, qos)
}

/// Queues a publish on a topic the dialect built. Its rules hold by
/// construction (the kind of message, the cloud's topic rules, this
/// identity), so only the payload limit of its kind is left to check:
/// [`Error::PayloadTooLarge`] above it. (`Dialect::check_publish` is for
/// topics a caller writes itself; the client writes none.)
pub(crate) fn publish_built(
    outbox: &mut ClientOutbox<'_>,
    topic: Topic<'_>,
    payload: &[u8],
    qos: QoS,
) -> Result<Option<u16>> {
    if payload.len() > topic.max_payload() {
        return Err(Error::PayloadTooLarge);
    }
    outbox.publish(topic.as_str(), payload, qos, false)
}

/// The QoS of an answer: an Azure direct method is answered at QoS 0 (the
/// hub delivers the call at QoS 0 and its caller's timeout is the retry;
/// an answer waiting for a PUBACK would only hold an in-flight slot), every
/// other route at the configured `response_qos`.
pub(crate) fn answer_qos(route: Route, settings: &Settings<'_>) -> QoS {
    match route {
        Route::Method => QoS::AtMostOnce,
        Route::Topic | Route::C2d => settings.response_qos,
    }
}

/// The topic of the answer to a request that came by `route` for `path`
/// (`rid`: the request id of a direct method).
pub(crate) fn response_topic<'o>(
    dialect: &Dialect<'_>,
    route: Route,
    rid: &str,
    path: &str,
    status: u16,
    buf: &'o mut [u8],
) -> Result<Topic<'o>> {
    if route == Route::Method {
        return azure::method_response_topic(status, rid, buf);
    }
    let tail: &[&str] = &["response/", path];
    match dialect.cloud() {
        // The generic topic is the cloud topic: write it in place.
        #[cfg(feature = "aws")]
        Cloud::Aws => {
            let generic = write_generic(buf, dialect.device(), tail)?;
            dialect.publish_topic(generic, &[], &mut [])
        }
        #[cfg(feature = "azure")]
        Cloud::Azure => {
            let mut generic = [0u8; MAX_TOPIC_LEN];
            let generic = write_generic(&mut generic, dialect.device(), tail)?;
            azure::publish_topic(dialect.device(), dialect.module(), generic, &[], buf)
        }
    }
}

/// The cloud topic of an event (`<dev>/events` translated).
pub(crate) fn event_topic<'o>(dialect: &Dialect<'_>, buf: &'o mut [u8]) -> Result<Topic<'o>> {
    match dialect.cloud() {
        // The generic topic is the cloud topic: write it in place.
        #[cfg(feature = "aws")]
        Cloud::Aws => {
            let generic = write_generic(buf, dialect.device(), &["events"])?;
            dialect.publish_topic(generic, &[], &mut [])
        }
        #[cfg(feature = "azure")]
        Cloud::Azure => {
            let mut generic = [0u8; MAX_TOPIC_LEN];
            let generic = write_generic(&mut generic, dialect.device(), &["events"])?;
            azure::publish_topic(dialect.device(), dialect.module(), generic, &[], buf)
        }
    }
}

/// `<dev>/` followed by `tail`'s parts, into `buf`.
fn write_generic<'o>(buf: &'o mut [u8], device: &str, tail: &[&str]) -> Result<&'o str> {
    let mut w = TextWriter::new(buf);
    w.raw(device)?;
    w.raw("/")?;
    for part in tail {
        w.raw(part)?;
    }
    Ok(w.into_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Property;

    #[test]
    fn cbor_content_type_is_what_the_encoder_writes() {
        let mut buf = [0u8; 64];
        let props = [Property::new("$.ct", "application/cbor")];
        let encoded = EncodedProperties::encode(&props, &mut buf).unwrap();
        assert_eq!(encoded, queue::CBOR_CONTENT_TYPE);
    }
}
