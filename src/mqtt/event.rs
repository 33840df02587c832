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
}
