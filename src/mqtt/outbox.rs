//! The session's state apart from the receive buffer, the transport and
//! the random source, and here its outbound side: publishes, subscriptions
//! and packet ids. The same state's link and timers are in
//! [`link`](super::link), what comes in is in [`inbound`](super::inbound).
//!
//! The handler given to [`Session::poll`](super::Session::poll) receives an
//! [`Event`](super::Event) that borrows the receive buffer *and* a `&mut Outbox`, so the
//! layer above can queue its answers while still holding the incoming topic
//! and payload, with no copy. Outside `poll` the same methods are reachable
//! through [`Session::outbox`](super::Session::outbox). They only queue:
//! the next `poll` writes to the transport.

use super::backoff::Backoff;
use super::codec::{self, Publish, QoS};
use super::config::Config;
use super::event::SubscriptionId;
use super::link::Link;
use super::slab::Slab;
use super::topic;
use super::tx::TxQueue;
use crate::{bytes, Error, Result};

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
    /// When the last attempt started opening the link, then when it
    /// queued its CONNECT: the next attempt waits `min_interval_ms` from
    /// the later of the two.
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
            QoS::AtLeastOnce => self.store(&mut publish, len).map(Some),
        }
    }

    /// Stores a QoS 1 publish of `len` bytes in the in-flight area, queued
    /// to be written; a publish without a packet id gets a new one.
    /// Returns its packet id. The one writer of stored messages, for
    /// [`publish`](Self::publish) and [`restore`](Self::restore).
    fn store(&mut self, publish: &mut Publish<'_>, len: usize) -> Result<u16> {
        if publish.packet_id == 0 {
            publish.packet_id = self.alloc_packet_id()?;
        }
        let msg = Msg {
            sent_at_ms: 0,
            packet_id: publish.packet_id,
            state: MsgState::Queued,
            acked: false,
        };
        self.inflight
            .push(msg, len, |out| codec::encode_publish(out, publish))?;
        Ok(publish.packet_id)
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
    /// removed at its UNSUBACK ([`Event::Unsubscribed`](super::Event::Unsubscribed)).
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
        let mut publish = Publish {
            topic,
            payload,
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: true,
            packet_id,
        };
        self.store(&mut publish, len).map(|_| ())
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
}
