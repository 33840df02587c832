//! The link side of a session's state: where the connection is in its
//! life, and the timers that move it on (CONNACK and closing deadlines,
//! keepalive, the probe of a silent link, the network coming back).

use super::codec::PINGREQ;
use super::outbox::{MsgState, Outbox, SubState};
use crate::{Error, Result};

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

impl<'b, const INFLIGHT: usize, const SUBS: usize> Outbox<'b, INFLIGHT, SUBS> {
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
