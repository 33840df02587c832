//! What the engine tells the layer above.

use super::codec::{Publish, QoS};
use crate::{Error, Result};

/// A stable handle on one subscription, from
/// [`Outbox::subscribe`](super::Outbox::subscribe) until its UNSUBACK (or
/// its refusal). Handles of removed subscriptions are reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubscriptionId(pub(crate) u8);

impl SubscriptionId {
    /// The slot number (below the session's `SUBS` capacity).
    pub const fn index(self) -> u8 {
        self.0
    }
}

/// An event delivered to the handler given to
/// [`Session::poll`](super::Session::poll). Borrowed data points into the
/// receive buffer and is valid for the duration of the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// CONNACK accepted. On a new session (`session_present == false`) the
    /// stored subscriptions are being renewed; either way the unacknowledged
    /// QoS 1 messages are being resent.
    Connected {
        /// The broker resumed the previous session.
        session_present: bool,
    },
    /// The link ended or a connection attempt failed.
    Disconnected {
        /// Why; `None` after a requested [`disconnect`](super::Session::disconnect).
        reason: Option<Error>,
        /// Delay before the next attempt; `None` if the engine stopped.
        reconnect_in_ms: Option<u32>,
    },
    /// SUBACK for a subscription.
    Subscribed {
        /// The subscription.
        id: SubscriptionId,
        /// The QoS asked for.
        requested: QoS,
        /// The QoS granted (possibly below `requested`), or
        /// [`Error::SubscribeRefused`]; a refused subscription is removed.
        granted: Result<QoS>,
    },
    /// UNSUBACK (or the subscription vanished with a new session).
    Unsubscribed {
        /// The subscription, now removed.
        id: SubscriptionId,
    },
    /// PUBACK: a QoS 1 message is delivered and its storage freed.
    Published {
        /// The id returned by [`Outbox::publish`](super::Outbox::publish).
        packet_id: u16,
    },
    /// An incoming PUBLISH (a QoS 1 message is acknowledged by the engine).
    Message(Publish<'a>),
    /// An incoming PUBLISH longer than the receive buffer. It is not
    /// fatal: its bytes are read and discarded as they arrive (never
    /// buffered), and a QoS 1 one is acknowledged once its last byte is
    /// read, so that the broker does not deliver it again. Reported once,
    /// as soon as its topic is known.
    Oversized {
        /// The topic, when it fits the receive buffer (then the event comes
        /// before the payload is discarded); `None` when it does not (then
        /// the event comes after).
        topic: Option<&'a str>,
        /// The packet id of a QoS 1 message (acknowledged by the engine).
        packet_id: Option<u16>,
        /// The whole packet's length in bytes.
        len: usize,
    },
    /// Connections keep ending soon after their CONNACK (within the
    /// backoff's `stable_ms`): `early_drops` in a row so far. Sent after
    /// the [`Event::Disconnected`] that reaches
    /// [`UNSTABLE_AFTER`](super::UNSTABLE_AFTER), and again at every further
    /// multiple of it. Likely causes: another client connected with the
    /// same client id, the cloud's policy denies a publish or subscribe,
    /// or a topic the cloud refuses.
    Unstable {
        /// Consecutive connections that died before they were stable.
        early_drops: u8,
    },
}
