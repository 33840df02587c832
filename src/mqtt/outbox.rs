//! The send side of a session: everything except the receive buffer, the
//! transport and the random source.
//!
//! The handler given to [`Session::poll`](super::Session::poll) receives an
//! [`Event`] that borrows the receive buffer *and* a `&mut Outbox`, so the
//! layer above can queue its answers while still holding the incoming topic
//! and payload, with no copy. Outside `poll` the same methods are reachable
//! through [`Session::outbox`](super::Session::outbox). They only queue:
//! the next `poll` writes to the transport.

use super::backoff::Backoff;
use super::codec::{self, Packet, Publish, QoS, DUP_FLAG, PINGREQ};
use super::config::Config;
use super::event::{Event, SubscriptionId};
use super::slab::Slab;
use super::topic;
use super::tx::TxQueue;
use crate::{bytes, Error, Result};

/// State of the link, as the engine sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    /// Not connecting (before `connect`, after `disconnect`).
    Stopped,
    /// Backing off; the next attempt starts at `until_ms`.
    Waiting { until_ms: u64 },
    /// `Transport::open` returned `Pending`.
    Opening { deadline_ms: u64 },
    /// CONNECT queued, waiting for CONNACK.
    AwaitConnack { deadline_ms: u64 },
    /// CONNACK accepted.
    Connected,
    /// Sending what is queued, then DISCONNECT (`sent` bytes of it so far).
    Closing { deadline_ms: u64, sent: u8 },
}

impl Link {
    /// Whether the transport is open (bytes may be sent and received).
    pub(crate) fn is_open(self) -> bool {
        matches!(
            self,
            Link::AwaitConnack { .. } | Link::Connected | Link::Closing { .. }
        )
    }
}

/// Where a stored QoS 1 PUBLISH is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MsgState {
    /// To be written at the next opportunity.
    Queued,
    /// Being written (the write cursor points at it).
    Writing,
    /// Written at `Msg::sent_at_ms`; waiting for PUBACK.
    Sent,
}

/// In-flight table entry (the packet bytes live in the arena).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Msg {
    /// When the last write of the packet completed (valid when `Sent`).
    pub(crate) sent_at_ms: u64,
    pub(crate) packet_id: u16,
    pub(crate) state: MsgState,
    /// PUBACK arrived while a retransmission was being written: removed
    /// once the write completes (a packet is never cut short).
    pub(crate) acked: bool,
}

/// Where a stored subscription is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubState {
    /// SUBSCRIBE to be sent.
    Pending,
    /// SUBSCRIBE sent with this packet id.
    Sent(u16),
    /// SUBACK received.
    Active,
    /// UNSUBSCRIBE to be sent.
    UnsubPending,
    /// UNSUBSCRIBE sent with this packet id.
    UnsubSent(u16),
}

/// Subscription table entry (the filter bytes live in the arena).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sub {
    pub(crate) id: u8,
    pub(crate) requested: QoS,
    pub(crate) granted: Option<QoS>,
    pub(crate) state: SubState,
}

/// A subscription as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubscriptionInfo<'a> {
    /// The topic filter.
    pub filter: &'a str,
    /// The QoS asked for.
    pub requested: QoS,
    /// The QoS the broker granted on this connection, once SUBACKed.
    pub granted: Option<QoS>,
    /// An UNSUBSCRIBE is pending.
    pub unsubscribing: bool,
}

/// Progress of writing one stored QoS 1 PUBLISH.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor {
    pub(crate) packet_id: u16,
    pub(crate) pos: usize,
}

/// The send side of a session; see the module documentation.
///
/// `INFLIGHT` bounds the unacknowledged QoS 1 messages (their bytes live in
/// the caller's in-flight area), `SUBS` the stored subscriptions (their
/// filters live in the caller's filter area; at most 255).
pub struct Outbox<'b, const INFLIGHT: usize, const SUBS: usize> {
    pub(crate) config: Config<'b>,
    pub(crate) link: Link,
    pub(crate) tx: TxQueue<'b>,
    pub(crate) inflight: Slab<'b, Msg, INFLIGHT>,
    pub(crate) subs: Slab<'b, Sub, SUBS>,
    pub(crate) writing: Option<Cursor>,
    pub(crate) next_packet_id: u16,
    /// When bytes were last written to / read from the transport.
    pub(crate) last_send_ms: u64,
    pub(crate) last_recv_ms: u64,
    /// A probe (PINGREQ) is due or outstanding: the link is dead unless
    /// something comes back before this time.
    pub(crate) ping_deadline_ms: Option<u64>,
    /// The due PINGREQ did not fit the transmit queue yet.
    pub(crate) ping_unsent: bool,
    pub(crate) backoff: Backoff,
    /// When the current connection's CONNACK arrived.
    pub(crate) connected_at_ms: Option<u64>,
    /// When the last CONNECT attempt started (opening the link).
    pub(crate) last_attempt_ms: Option<u64>,
    /// Consecutive connections that ended before they were stable.
    pub(crate) early_drops: u8,
    /// Where a password that changes over time (a renewed SAS token) is
    /// kept; see [`Session::set_password`](super::Session::set_password).
    pub(crate) secret: &'b mut [u8],
    /// Length of the password in `secret`, once one is set.
    pub(crate) secret_len: Option<usize>,
}

impl<'b, const INFLIGHT: usize, const SUBS: usize> Outbox<'b, INFLIGHT, SUBS> {
    pub(crate) fn new(
        config: Config<'b>,
        tx: &'b mut [u8],
        inflight: &'b mut [u8],
        filters: &'b mut [u8],
    ) -> Self {
        const { assert!(SUBS <= 255, "SUBS must be at most 255") };
        Outbox {
            config,
            link: Link::Stopped,
            tx: TxQueue::new(tx),
            inflight: Slab::new(inflight),
            subs: Slab::new(filters),
            writing: None,
            next_packet_id: 1,
            last_send_ms: 0,
            last_recv_ms: 0,
            ping_deadline_ms: None,
            ping_unsent: false,
            backoff: Backoff::default(),
            connected_at_ms: None,
            last_attempt_ms: None,
            early_drops: 0,
            secret: &mut [],
            secret_len: None,
        }
    }

    /// Whether a CONNACK has been accepted and the link is up.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Connected)
    }

    /// Number of QoS 1 messages stored until their PUBACK.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Queues a PUBLISH and returns its packet id (`None` for QoS 0).
    ///
    /// - QoS 1 is accepted in any state: it is encoded into the in-flight
    ///   area, sent when connected and kept until its PUBACK: after each
    ///   reconnect it is sent again (with DUP on a resumed session, as a
    ///   new publish on a new one), never twice on one connection. [`Error::Busy`] when the in-flight table is full
    ///   or the area lacks space *now*; [`Error::PayloadTooLarge`] when the
    ///   packet is larger than the whole area.
    /// - QoS 0 needs a live connection ([`Error::NotConnected`]) and goes
    ///   into the transmit buffer: [`Error::Busy`] if it does not fit now,
    ///   [`Error::PayloadTooLarge`] if larger than the whole buffer. QoS 0
    ///   is at most once: if the link fails before its bytes are written,
    ///   it is dropped with the link (use QoS 1 for what must arrive).
    /// - QoS 2: [`Error::QosNotSupported`]. A bad topic:
    ///   [`Error::InvalidTopic`] or [`Error::TopicTooLong`].
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<Option<u16>> {
        topic::validate_topic_name(topic)?;
        let len = codec::publish_len(topic.len(), payload.len(), qos)?;
        let mut publish = Publish {
            topic,
            payload,
            qos,
            retain,
            dup: false,
            packet_id: 0,
        };
        match qos {
            QoS::ExactlyOnce => Err(Error::QosNotSupported),
            QoS::AtMostOnce => {
                if !self.is_connected() {
                    return Err(Error::NotConnected);
                }
                self.tx
                    .push(len, |out| codec::encode_publish(out, &publish))?;
                Ok(None)
            }
            QoS::AtLeastOnce => {
                if len > self.inflight.capacity() {
                    return Err(Error::PayloadTooLarge);
                }
                if self.inflight.is_full() {
                    return Err(Error::Busy);
                }
                publish.packet_id = self.alloc_packet_id()?;
                let msg = Msg {
                    sent_at_ms: 0,
                    packet_id: publish.packet_id,
                    state: MsgState::Queued,
                    acked: false,
                };
                self.inflight
                    .push(msg, len, |out| codec::encode_publish(out, &publish))?;
                Ok(Some(publish.packet_id))
            }
        }
    }

    /// Stores a subscription and queues its SUBSCRIBE (sent when connected,
    /// and again after every reconnect onto a new session). Subscribing to a
    /// stored filter again updates its QoS and resends it.
    ///
    /// Errors: [`Error::QosNotSupported`] for QoS 2, [`Error::InvalidTopic`]
    /// or [`Error::TopicTooLong`] for a bad filter, [`Error::Busy`] when the
    /// table or filter area is full or this filter awaits an acknowledgement.
    pub fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<SubscriptionId> {
        topic::validate_topic_filter(filter)?;
        if qos == QoS::ExactlyOnce {
            return Err(Error::QosNotSupported);
        }
        if let Some(idx) = self.find_filter(filter) {
            let sub = self.subs.meta_mut(idx).ok_or(Error::InvalidState)?;
            if matches!(sub.state, SubState::Sent(_) | SubState::UnsubSent(_)) {
                return Err(Error::Busy);
            }
            sub.requested = qos;
            sub.state = SubState::Pending;
            return Ok(SubscriptionId(sub.id));
        }
        codec::subscribe_len(filter.len(), true)?;
        if filter.len() > self.subs.capacity() {
            return Err(Error::TopicTooLong);
        }
        let id = (0..SUBS as u8)
            .find(|id| self.subs.metas().all(|s| s.id != *id))
            .ok_or(Error::Busy)?;
        let sub = Sub {
            id,
            requested: qos,
            granted: None,
            state: SubState::Pending,
        };
        self.subs.push(sub, filter.len(), |out| {
            bytes::copy(out, filter.as_bytes())?;
            Ok(filter.len())
        })?;
        Ok(SubscriptionId(id))
    }

    /// Queues an UNSUBSCRIBE for a stored filter; the subscription is
    /// removed at its UNSUBACK ([`Event::Unsubscribed`]).
    ///
    /// Errors: [`Error::InvalidArgument`] if the filter is not stored,
    /// [`Error::Busy`] while its SUBACK or UNSUBACK is awaited.
    pub fn unsubscribe(&mut self, filter: &str) -> Result<SubscriptionId> {
        let idx = self.find_filter(filter).ok_or(Error::InvalidArgument)?;
        let sub = self.subs.meta_mut(idx).ok_or(Error::InvalidState)?;
        if matches!(sub.state, SubState::Sent(_) | SubState::UnsubSent(_)) {
            return Err(Error::Busy);
        }
        sub.state = SubState::UnsubPending;
        Ok(SubscriptionId(sub.id))
    }

    /// A stored subscription, while its handle is valid.
    pub fn subscription(&self, id: SubscriptionId) -> Option<SubscriptionInfo<'_>> {
        let idx = self.subs.position(|s, _| s.id == id.0)?;
        let sub = self.subs.meta(idx)?;
        Some(SubscriptionInfo {
            filter: core::str::from_utf8(self.subs.bytes(idx)).ok()?,
            requested: sub.requested,
            granted: sub.granted,
            unsubscribing: matches!(sub.state, SubState::UnsubPending | SubState::UnsubSent(_)),
        })
    }

    fn find_filter(&self, filter: &str) -> Option<usize> {
        self.subs.position(|_, bytes| bytes == filter.as_bytes())
    }

    /// Whether `id` is held by an in-flight message or a pending
    /// (UN)SUBSCRIBE.
    /// Puts back a QoS 1 PUBLISH that was in flight before a reboot (read
    /// from the application's store), with its packet id and DUP set: it is
    /// sent like any message resumed after a reconnect, and on a new
    /// session as a new publish (DUP cleared). Call it before `connect`.
    /// Errors: `InvalidArgument` (packet id 0 or in use), the errors of
    /// [`publish`](Self::publish) at QoS 1.
    pub fn restore(&mut self, packet_id: u16, topic: &str, payload: &[u8]) -> Result<()> {
        if packet_id == 0 || self.packet_id_in_use(packet_id) {
            return Err(Error::InvalidArgument);
        }
        topic::validate_topic_name(topic)?;
        let len = codec::publish_len(topic.len(), payload.len(), QoS::AtLeastOnce)?;
        let publish = Publish {
            topic,
            payload,
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: true,
            packet_id,
        };
        let msg = Msg {
            sent_at_ms: 0,
            packet_id,
            state: MsgState::Queued,
            acked: false,
        };
        self.inflight
            .push(msg, len, |out| codec::encode_publish(out, &publish))
    }

    fn packet_id_in_use(&self, id: u16) -> bool {
        self.inflight.metas().any(|m| m.packet_id == id)
            || self
                .subs
                .metas()
                .any(|s| matches!(s.state, SubState::Sent(p) | SubState::UnsubSent(p) if p == id))
    }

    /// The next packet id not in use (never 0). At most `INFLIGHT + SUBS`
    /// ids are in use, so the bounded search always finds one.
    pub(crate) fn alloc_packet_id(&mut self) -> Result<u16> {
        for _ in 0..=INFLIGHT + SUBS {
            let id = self.next_packet_id;
            self.next_packet_id = id.checked_add(1).unwrap_or(1);
            if id != 0 && !self.packet_id_in_use(id) {
                return Ok(id);
            }
        }
        Err(Error::Busy)
    }

    /// Encodes the pending SUBSCRIBEs and UNSUBSCRIBEs that fit into the
    /// transmit queue; returns whether it queued anything.
    pub(crate) fn queue_subscriptions(&mut self) -> Result<bool> {
        let mut queued = false;
        for idx in 0..self.subs.len() {
            let Some(sub) = self.subs.meta(idx).copied() else {
                break;
            };
            let subscribe = match sub.state {
                SubState::Pending => true,
                SubState::UnsubPending => false,
                _ => continue,
            };
            let filter =
                core::str::from_utf8(self.subs.bytes(idx)).map_err(|_| Error::InvalidState)?;
            let len = codec::subscribe_len(filter.len(), subscribe)?;
            if !self.tx.fits(len) {
                break;
            }
            let packet_id = self.alloc_packet_id()?;
            let filter =
                core::str::from_utf8(self.subs.bytes(idx)).map_err(|_| Error::InvalidState)?;
            if subscribe {
                self.tx.push(len, |out| {
                    codec::encode_subscribe(out, packet_id, filter, sub.requested)
                })?;
            } else {
                self.tx
                    .push(len, |out| codec::encode_unsubscribe(out, packet_id, filter))?;
            }
            if let Some(meta) = self.subs.meta_mut(idx) {
                meta.state = if subscribe {
                    SubState::Sent(packet_id)
                } else {
                    SubState::UnsubSent(packet_id)
                };
            }
            queued = true;
        }
        Ok(queued)
    }

    /// Forgets everything tied to the link that just ended; keeps the
    /// stored messages and subscriptions for the next one.
    pub(crate) fn drop_link(&mut self) {
        self.tx.clear();
        self.ping_deadline_ms = None;
        self.ping_unsent = false;
        if self.writing.take().is_some() {
            self.inflight.retain(|m, _| !m.acked);
        }
        for idx in 0..self.inflight.len() {
            if let Some(m) = self.inflight.meta_mut(idx) {
                if m.state == MsgState::Writing {
                    m.state = MsgState::Queued;
                }
            }
        }
        for idx in 0..self.subs.len() {
            if let Some(s) = self.subs.meta_mut(idx) {
                s.state = match s.state {
                    SubState::Sent(_) => SubState::Pending,
                    SubState::UnsubSent(_) => SubState::UnsubPending,
                    other => other,
                };
            }
        }
    }

    /// After CONNACK: requeue the in-flight messages (with DUP on a resumed
    /// session, as new publishes otherwise) and, on a new session, renew
    /// the subscriptions. Returns the subscriptions dropped because their
    /// UNSUBSCRIBE is moot on a new session.
    fn resume(&mut self, session_present: bool) -> heapless::Vec<u8, SUBS> {
        for idx in 0..self.inflight.len() {
            if let Some((meta, bytes)) = self.inflight.get_mut(idx) {
                meta.state = MsgState::Queued;
                if !session_present {
                    if let Some(first) = bytes.first_mut() {
                        *first &= !DUP_FLAG;
                    }
                }
            }
        }
        let mut dropped = heapless::Vec::new();
        if !session_present {
            for idx in 0..self.subs.len() {
                if let Some(s) = self.subs.meta_mut(idx) {
                    s.granted = None;
                    match s.state {
                        SubState::UnsubPending | SubState::UnsubSent(_) => {
                            let _ = dropped.push(s.id);
                        }
                        _ => s.state = SubState::Pending,
                    }
                }
            }
            self.subs.retain(|s, _| !dropped.contains(&s.id));
        }
        dropped
    }

    /// Handles one decoded packet. Returns `Ok(false)` if it cannot be taken
    /// now (a QoS 1 PUBLISH whose PUBACK does not fit the transmit queue):
    /// it stays in the receive buffer until the queue drains.
    pub(crate) fn handle_packet<H>(
        &mut self,
        packet: Packet<'_>,
        now_ms: u64,
        handler: &mut H,
    ) -> Result<bool>
    where
        H: FnMut(Event<'_>, &mut Self),
    {
        let awaiting_connack = matches!(self.link, Link::AwaitConnack { .. });
        if awaiting_connack != matches!(packet, Packet::ConnAck { .. }) {
            return Err(Error::UnexpectedPacket);
        }
        match packet {
            Packet::ConnAck {
                session_present,
                return_code,
            } => {
                refusal(return_code)?;
                self.link = Link::Connected;
                // The backoff restarts only once this connection proved
                // stable (see `Session::fail`).
                self.connected_at_ms = Some(now_ms);
                self.ping_deadline_ms = None;
                self.ping_unsent = false;
                self.last_send_ms = now_ms;
                let dropped = self.resume(session_present);
                handler(Event::Connected { session_present }, self);
                for id in dropped {
                    handler(
                        Event::Unsubscribed {
                            id: SubscriptionId(id),
                        },
                        self,
                    );
                }
            }
            Packet::Publish(publish) => {
                if publish.qos == QoS::AtLeastOnce {
                    if !self.tx.fits(4) {
                        return Ok(false);
                    }
                    self.tx
                        .push(4, |out| codec::encode_puback(out, publish.packet_id))?;
                }
                handler(Event::Message(publish), self);
            }
            Packet::PubAck { packet_id } => {
                // A PUBACK for no stored message is harmless: a late second
                // acknowledgement, or one for a message given up
                // (`cancel`). Ignoring it keeps a working link up.
                let Some(idx) = self
                    .inflight
                    .position(|m, _| m.packet_id == packet_id && !m.acked)
                else {
                    return Ok(true);
                };
                let writing = matches!(self.writing, Some(c) if c.packet_id == packet_id);
                match self.inflight.meta_mut(idx) {
                    Some(m) if writing => m.acked = true,
                    _ => self.inflight.remove(idx),
                }
                handler(Event::Published { packet_id }, self);
            }
            Packet::SubAck {
                packet_id,
                return_codes,
            } => {
                let idx = self
                    .subs
                    .position(|s, _| s.state == SubState::Sent(packet_id))
                    .ok_or(Error::UnknownPacketId)?;
                let granted = match return_codes {
                    [0] => Ok(QoS::AtMostOnce),
                    [1] => Ok(QoS::AtLeastOnce),
                    [0x80] => Err(Error::SubscribeRefused),
                    _ => return Err(Error::MalformedPacket),
                };
                let sub = self.subs.meta_mut(idx).ok_or(Error::InvalidState)?;
                let (id, requested) = (SubscriptionId(sub.id), sub.requested);
                match granted {
                    Ok(qos) => {
                        sub.state = SubState::Active;
                        sub.granted = Some(qos);
                    }
                    Err(_) => self.subs.remove(idx),
                }
                handler(
                    Event::Subscribed {
                        id,
                        requested,
                        granted,
                    },
                    self,
                );
            }
            Packet::UnsubAck { packet_id } => {
                let idx = self
                    .subs
                    .position(|s, _| s.state == SubState::UnsubSent(packet_id))
                    .ok_or(Error::UnknownPacketId)?;
                let id = SubscriptionId(self.subs.meta(idx).map_or(0, |s| s.id));
                self.subs.remove(idx);
                handler(Event::Unsubscribed { id }, self);
            }
            // Anything received proves the link alive; a PINGRESP also
            // answers the probe.
            Packet::PingResp => {
                self.ping_deadline_ms = None;
                self.ping_unsent = false;
            }
        }
        Ok(true)
    }

    /// Connection-level timers: CONNACK and closing deadlines, keepalive,
    /// the probe's deadline, and the ack timeout (which starts a probe).
    pub(crate) fn check_timers(&mut self, now_ms: u64) -> Result<()> {
        match self.link {
            Link::AwaitConnack { deadline_ms } if now_ms >= deadline_ms => {
                Err(Error::ConnackTimeout)
            }
            Link::Closing { deadline_ms, .. } if now_ms >= deadline_ms => Err(Error::Timeout),
            Link::Connected => {
                if let Some(deadline) = self.ping_deadline_ms {
                    if now_ms >= deadline {
                        return Err(Error::PingTimeout);
                    }
                }
                let mut probe = self.keepalive_due_ms().is_some_and(|due| now_ms >= due);
                let ack_timeout = u64::from(self.config.ack_timeout_ms);
                if ack_timeout > 0 {
                    for idx in 0..self.inflight.len() {
                        if let Some(m) = self.inflight.meta_mut(idx) {
                            if m.state == MsgState::Sent
                                && now_ms >= m.sent_at_ms.saturating_add(ack_timeout)
                            {
                                // Not resent here (MQTT 3.1.1 resends only
                                // on a new connection): the link is probed,
                                // and the wait starts again.
                                m.sent_at_ms = now_ms;
                                probe = true;
                            }
                        }
                    }
                }
                if probe && self.ping_deadline_ms.is_none() {
                    self.ping_deadline_ms =
                        Some(now_ms.saturating_add(u64::from(self.config.ping_timeout_ms)));
                    self.ping_unsent = true;
                }
                self.queue_ping()
            }
            _ => Ok(()),
        }
    }

    /// Queues the due PINGREQ once it fits the transmit queue. A queue that
    /// never drains leaves it unsent, and the probe's deadline ends the link.
    pub(crate) fn queue_ping(&mut self) -> Result<()> {
        if self.ping_unsent && self.tx.fits(PINGREQ.len()) {
            self.tx.push(PINGREQ.len(), |out| {
                *out.first_chunk_mut().ok_or(Error::BufferTooSmall)? = PINGREQ;
                Ok(PINGREQ.len())
            })?;
            self.ping_unsent = false;
        }
        Ok(())
    }

    /// When keepalive asks for a PINGREQ: `keep_alive_s` after the last
    /// byte sent or the last byte received, whichever is earlier.
    fn keepalive_due_ms(&self) -> Option<u64> {
        let keep_alive_ms = u64::from(self.config.keep_alive_s) * 1000;
        (keep_alive_ms > 0).then(|| {
            self.last_send_ms
                .min(self.last_recv_ms)
                .saturating_add(keep_alive_ms)
        })
    }

    /// The port's network came back (an RTOS network-up event): a session
    /// waiting for its backoff delay tries again at once (no sooner than
    /// `min_interval_ms` after its last attempt, and the backoff keeps
    /// counting), and a connected one probes its link with a PINGREQ, so
    /// a connection that died with the network is found within the ping
    /// timeout. Otherwise nothing changes.
    pub fn network_up(&mut self, now_ms: u64) {
        match self.link {
            Link::Waiting { until_ms } => {
                let floor = self.last_attempt_ms.map_or(now_ms, |at| {
                    at.saturating_add(u64::from(self.config.backoff.min_interval_ms))
                });
                self.link = Link::Waiting {
                    until_ms: until_ms.min(floor.max(now_ms)),
                };
            }
            Link::Connected if self.ping_deadline_ms.is_none() => {
                self.ping_deadline_ms =
                    Some(now_ms.saturating_add(u64::from(self.config.ping_timeout_ms)));
                self.ping_unsent = true;
            }
            _ => {}
        }
    }

    /// Gives up a stored QoS 1 message (a request superseded by a newer
    /// one): it is not sent again, and a PUBACK that still comes for it is
    /// ignored. Returns whether it was stored. A message being written is
    /// removed once its write completes (packets are never cut short).
    pub fn cancel(&mut self, packet_id: u16) -> bool {
        let Some(idx) = self
            .inflight
            .position(|m, _| m.packet_id == packet_id && !m.acked)
        else {
            return false;
        };
        let writing = matches!(self.writing, Some(c) if c.packet_id == packet_id);
        match self.inflight.meta_mut(idx) {
            Some(m) if writing => m.acked = true,
            _ => self.inflight.remove(idx),
        }
        true
    }

    /// Index of the next stored message to write, if any.
    pub(crate) fn next_queued(&self) -> Option<usize> {
        self.inflight
            .position(|m, _| m.state == MsgState::Queued && !m.acked)
    }

    /// The earliest time a timer needs the engine.
    pub(crate) fn next_deadline(&self) -> u64 {
        match self.link {
            Link::Stopped => u64::MAX,
            Link::Waiting { until_ms } => until_ms,
            Link::Opening { deadline_ms }
            | Link::AwaitConnack { deadline_ms }
            | Link::Closing { deadline_ms, .. } => deadline_ms,
            Link::Connected => {
                let mut next = match self.ping_deadline_ms {
                    Some(deadline) => deadline,
                    None => self.keepalive_due_ms().unwrap_or(u64::MAX),
                };
                let ack_timeout = u64::from(self.config.ack_timeout_ms);
                if ack_timeout > 0 && self.ping_deadline_ms.is_none() {
                    for m in self.inflight.metas() {
                        if m.state == MsgState::Sent {
                            next = next.min(m.sent_at_ms.saturating_add(ack_timeout));
                        }
                    }
                }
                next
            }
        }
    }
}

/// Maps a CONNACK return code to its refusal, if any.
fn refusal(return_code: u8) -> Result<()> {
    match return_code {
        0 => Ok(()),
        1 => Err(Error::RefusedProtocolVersion),
        2 => Err(Error::RefusedIdentifier),
        3 => Err(Error::RefusedServerUnavailable),
        4 => Err(Error::RefusedBadCredentials),
        5 => Err(Error::RefusedNotAuthorized),
        _ => Err(Error::RefusedUnknown),
    }
}
