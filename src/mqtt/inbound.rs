//! What comes in on the link: each decoded packet applied to the
//! session's state (CONNACK, PUBLISH, the acknowledgements), and the
//! session resumed or renewed after a CONNACK.

use super::codec::{self, Packet, QoS, DUP_FLAG};
use super::event::{Event, SubscriptionId};
use super::link::Link;
use super::outbox::{MsgState, Outbox, SubState};
use crate::{Error, Result};

impl<'b, const INFLIGHT: usize, const SUBS: usize> Outbox<'b, INFLIGHT, SUBS> {
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
            // What is left unsubscribing is what was dropped.
            self.subs
                .retain(|s, _| !matches!(s.state, SubState::UnsubPending | SubState::UnsubSent(_)));
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
