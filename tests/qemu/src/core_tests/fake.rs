//! An in-memory broker link and an event log, to drive a `Session` on the
//! target exactly as a port would, with the clock as a plain number.

use heapless::Vec;
use nimbus::mqtt::{Event, OpenState, QoS, Transport, TransportError};
use nimbus::Error;

/// Bytes each direction of [`FakeLink`] can hold.
pub const LINK_CAPACITY: usize = 256;

/// A transport whose "broker" is the test: [`feed`](Self::feed) queues
/// bytes for the session to receive, [`sent`](Self::sent) shows what the
/// session wrote since the last [`clear_sent`](Self::clear_sent).
pub struct FakeLink {
    to_client: Vec<u8, LINK_CAPACITY>,
    read: usize,
    from_client: Vec<u8, LINK_CAPACITY>,
    /// Times `open` was called.
    pub opens: u32,
    /// Times `close` was called.
    pub closes: u32,
}

impl FakeLink {
    /// A link that opens at once and carries nothing yet.
    pub const fn new() -> Self {
        FakeLink {
            to_client: Vec::new(),
            read: 0,
            from_client: Vec::new(),
            opens: 0,
            closes: 0,
        }
    }

    /// Queues `bytes` from the broker; false if they do not fit.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        if self.read == self.to_client.len() {
            self.to_client.clear();
            self.read = 0;
        }
        self.to_client.extend_from_slice(bytes).is_ok()
    }

    /// Everything the session wrote since the last `clear_sent`.
    pub fn sent(&self) -> &[u8] {
        &self.from_client
    }

    /// Forgets what the session wrote.
    pub fn clear_sent(&mut self) {
        self.from_client.clear();
    }

    /// Whether the session wrote exactly `bytes` since the last
    /// `clear_sent`; clears them either way.
    pub fn took(&mut self, bytes: &[u8]) -> bool {
        let same = self.sent() == bytes;
        self.clear_sent();
        same
    }
}

impl Transport for FakeLink {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        self.opens += 1;
        Ok(OpenState::Ready)
    }

    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError> {
        let room = self.from_client.capacity() - self.from_client.len();
        let n = buf.len().min(room);
        let taken = buf.get(..n).unwrap_or(&[]);
        self.from_client
            .extend_from_slice(taken)
            .map_err(|_| TransportError::Failed)?;
        Ok(n)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        let waiting = self.to_client.get(self.read..).unwrap_or(&[]);
        let n = waiting.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), waiting.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.read += n;
        Ok(n)
    }

    fn close(&mut self) {
        self.closes += 1;
        self.to_client.clear();
        self.read = 0;
    }
}

/// The jitter source of the tests: always the same value.
pub fn fixed_random() -> u32 {
    0x0123_4567
}

/// One event as the log keeps it (incoming topic and payload copied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// `Event::Connected`.
    Connected { session_present: bool },
    /// `Event::Disconnected`.
    Disconnected {
        reason: Option<Error>,
        reconnects: bool,
    },
    /// `Event::Subscribed`.
    Subscribed { id: u8, granted: Result<QoS, Error> },
    /// `Event::Unsubscribed`.
    Unsubscribed { id: u8 },
    /// `Event::Published`.
    Published { packet_id: u16 },
    /// `Event::Message`.
    Message {
        topic: Vec<u8, 64>,
        payload: Vec<u8, 64>,
        qos: QoS,
        packet_id: u16,
    },
    /// `Event::Oversized` (a PUBLISH larger than the receive buffer, skipped).
    Oversized { packet_id: Option<u16>, len: usize },
    /// `Event::Unstable`.
    Unstable { early_drops: u8 },
    /// An event that did not fit the log.
    Overflow,
}

/// The events a handler saw, in order.
pub struct Log {
    events: Vec<Seen, 8>,
}

impl Log {
    /// An empty log.
    pub const fn new() -> Self {
        Log { events: Vec::new() }
    }

    /// Records `event` (what a handler given to `poll` calls).
    pub fn record(&mut self, event: Event<'_>) {
        let seen = match event {
            Event::Connected { session_present } => Seen::Connected { session_present },
            Event::Disconnected {
                reason,
                reconnect_in_ms,
            } => Seen::Disconnected {
                reason,
                reconnects: reconnect_in_ms.is_some(),
            },
            Event::Subscribed { id, granted, .. } => Seen::Subscribed {
                id: id.index(),
                granted,
            },
            Event::Unsubscribed { id } => Seen::Unsubscribed { id: id.index() },
            Event::Published { packet_id } => Seen::Published { packet_id },
            Event::Message(p) => match (
                Vec::from_slice(p.topic.as_bytes()),
                Vec::from_slice(p.payload),
            ) {
                (Ok(topic), Ok(payload)) => Seen::Message {
                    topic,
                    payload,
                    qos: p.qos,
                    packet_id: p.packet_id,
                },
                _ => Seen::Overflow,
            },
            Event::Oversized { packet_id, len, .. } => Seen::Oversized { packet_id, len },
            Event::Unstable { early_drops } => Seen::Unstable { early_drops },
        };
        if self.events.push(seen).is_err() {
            if let Some(last) = self.events.last_mut() {
                *last = Seen::Overflow;
            }
        }
    }

    /// Whether exactly `expected` was seen since the last check; clears
    /// the log either way.
    pub fn took(&mut self, expected: &[Seen]) -> bool {
        let same = self.events.as_slice() == expected;
        self.events.clear();
        same
    }
}

/// A message as [`Seen`] records it, for comparisons.
pub fn message(topic: &str, payload: &[u8], qos: QoS, packet_id: u16) -> Seen {
    match (Vec::from_slice(topic.as_bytes()), Vec::from_slice(payload)) {
        (Ok(topic), Ok(payload)) => Seen::Message {
            topic,
            payload,
            qos,
            packet_id,
        },
        _ => Seen::Overflow,
    }
}
