//! The session: link state machine, receive path and write path.

use super::codec::{self, Packet, DISCONNECT, DUP_FLAG};
use super::config::Config;
use super::event::Event;
use super::link::Link;
use super::outbox::{Cursor, MsgState, Outbox};
use super::topic;
use super::transport::{OpenState, Random, Transport};
use crate::{bytes, Error, Result};

/// The smallest receive buffer accepted by [`Session::new`].
pub const MIN_RX_BUFFER: usize = 16;

/// Complete packets handled per [`Session::poll`] at most; if more are
/// waiting, `poll` returns "now" so the port calls it again at once.
pub const MAX_PACKETS_PER_POLL: usize = 16;

/// Connections in a row that end before they are stable after which
/// [`Event::Unstable`] is reported (and again at every multiple).
pub const UNSTABLE_AFTER: u8 = 3;

/// The caller-provided memory of a session (its RAM beyond the struct).
pub struct Buffers<'b> {
    /// Receive buffer: bounds the largest incoming packet (topic, payload
    /// and up to 5 header bytes). A larger PUBLISH is discarded as it
    /// arrives and reported ([`Event::Oversized`]); any other packet that
    /// large is [`Error::PacketTooLarge`]. At least [`MIN_RX_BUFFER`] bytes.
    pub rx: &'b mut [u8],
    /// Transmit queue: CONNECT, QoS 0 PUBLISH, PUBACK, (UN)SUBSCRIBE and
    /// PINGREQ wait here for the transport. Must hold the CONNECT.
    pub tx: &'b mut [u8],
    /// In-flight area: the encoded QoS 1 PUBLISHes until their PUBACK.
    pub inflight: &'b mut [u8],
    /// Filter area: the stored subscription filters.
    pub filters: &'b mut [u8],
}

/// The link state, for observers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Not connecting: before [`Session::connect`] or after a completed
    /// [`Session::disconnect`].
    Stopped,
    /// Waiting for the backoff delay before the next attempt.
    Waiting,
    /// Opening the link or waiting for CONNACK.
    Connecting,
    /// CONNACK accepted.
    Connected,
    /// Writing what is queued and DISCONNECT before closing.
    Disconnecting,
}

/// An MQTT 3.1.1 client session (sans-I/O); see the [module docs](super).
///
/// `INFLIGHT` bounds the unacknowledged QoS 1 messages and `SUBS` the
/// stored subscriptions (≤ 255).
pub struct Session<'b, T, R, const INFLIGHT: usize = 8, const SUBS: usize = 8> {
    transport: T,
    random: R,
    rx: &'b mut [u8],
    /// Received bytes not yet handled are `rx[rx_start..rx_start + rx_len]`.
    rx_start: usize,
    rx_len: usize,
    outbox: Outbox<'b, INFLIGHT, SUBS>,
    /// `poll` stopped with work left (packet budget, backpressure).
    more_work: bool,
    /// A complete packet waits in `rx` for room in the transmit queue.
    rx_blocked: bool,
    /// An oversized PUBLISH being discarded.
    skip: Option<Skip>,
}

/// What is left of an oversized PUBLISH being read and discarded (a
/// remaining length is below 2^28, so `u32` holds every offset).
#[derive(Clone, Copy, Debug)]
struct Skip {
    /// Bytes still to discard.
    left: u32,
    /// The whole packet's length.
    len: u32,
    /// Offset in the packet of the two packet-id bytes when they are picked
    /// up while discarding (QoS 1 with a topic that did not fit), else
    /// `u32::MAX`.
    id_at: u32,
    /// The packet id of a QoS 1 message (0 until read).
    packet_id: u16,
    qos1: bool,
    /// The event is still to be sent (the topic did not fit).
    report: bool,
}

impl<'b, T, R, const INFLIGHT: usize, const SUBS: usize> Session<'b, T, R, INFLIGHT, SUBS>
where
    T: Transport,
    R: Random,
{
    /// A stopped session; call [`connect`](Self::connect) to start.
    ///
    /// Errors: [`Error::StorageTooSmall`] if `rx` is below
    /// [`MIN_RX_BUFFER`], [`Error::BufferTooSmall`] if `tx` cannot hold the
    /// CONNECT, and the CONNECT encoding errors of
    /// [`codec::connect_len`] (or [`Error::InvalidTopic`] for the will topic).
    pub fn new(transport: T, random: R, config: Config<'b>, buffers: Buffers<'b>) -> Result<Self> {
        if buffers.rx.len() < MIN_RX_BUFFER {
            return Err(Error::StorageTooSmall);
        }
        check_config(&config, buffers.tx.len())?;
        Ok(Session {
            transport,
            random,
            rx: buffers.rx,
            rx_start: 0,
            rx_len: 0,
            outbox: Outbox::new(config, buffers.tx, buffers.inflight, buffers.filters),
            more_work: false,
            rx_blocked: false,
            skip: None,
        })
    }

    /// Starts connecting at the next [`poll`](Self::poll) (and reconnecting
    /// after every failure) if stopped.
    pub fn connect(&mut self) {
        if self.outbox.link == Link::Stopped {
            self.outbox.backoff.reset();
            self.outbox.early_drops = 0;
            let until_ms = self.outbox.last_attempt_ms.map_or(0, |at| {
                at.saturating_add(u64::from(self.outbox.config.backoff.min_interval_ms))
            });
            self.outbox.link = Link::Waiting { until_ms };
        }
    }

    /// Ends the session gracefully: when connected, the queued bytes and a
    /// DISCONNECT are written by the next polls (within the connect timeout),
    /// then the link is closed and [`Event::Disconnected`] reports `None`.
    /// Otherwise any attempt under way is abandoned at once. Stored QoS 1
    /// messages and subscriptions are kept for a later [`connect`](Self::connect).
    pub fn disconnect(&mut self, now_ms: u64) {
        match self.outbox.link {
            Link::Connected => {
                let deadline_ms =
                    now_ms.saturating_add(u64::from(self.outbox.config.connect_timeout_ms));
                self.outbox.link = Link::Closing {
                    deadline_ms,
                    sent: 0,
                };
            }
            Link::Opening { .. } | Link::AwaitConnack { .. } => {
                self.close_link();
                self.outbox.link = Link::Stopped;
            }
            Link::Waiting { .. } => self.outbox.link = Link::Stopped,
            Link::Stopped | Link::Closing { .. } => {}
        }
    }

    /// Does all pending work at time `now_ms` (a monotonic millisecond
    /// clock) and returns the time at which it must run again at the latest.
    /// Call it also whenever the transport becomes readable or writable.
    ///
    /// Events go to `handler`, together with the [`Outbox`] so that it can
    /// queue publishes and subscriptions while it holds an incoming message.
    pub fn poll<H>(&mut self, now_ms: u64, mut handler: H) -> u64
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        self.more_work = false;
        self.rx_blocked = false;
        if let Err(reason) = self.step(now_ms, &mut handler) {
            self.fail(now_ms, reason, &mut handler);
        }
        if self.more_work || (self.rx_blocked && self.outbox.tx.is_empty()) {
            now_ms
        } else {
            self.outbox.next_deadline()
        }
    }

    /// The send side, to publish or subscribe outside `poll`.
    pub fn outbox(&mut self) -> &mut Outbox<'b, INFLIGHT, SUBS> {
        &mut self.outbox
    }

    /// Shorthand for [`Outbox::publish`].
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: codec::QoS,
        retain: bool,
    ) -> Result<Option<u16>> {
        self.outbox.publish(topic, payload, qos, retain)
    }

    /// Shorthand for [`Outbox::subscribe`].
    pub fn subscribe(
        &mut self,
        filter: &str,
        qos: codec::QoS,
    ) -> Result<super::event::SubscriptionId> {
        self.outbox.subscribe(filter, qos)
    }

    /// Shorthand for [`Outbox::unsubscribe`].
    pub fn unsubscribe(&mut self, filter: &str) -> Result<super::event::SubscriptionId> {
        self.outbox.unsubscribe(filter)
    }

    /// Whether a CONNACK has been accepted and the link is up.
    pub fn is_connected(&self) -> bool {
        self.outbox.is_connected()
    }

    /// The link state.
    pub fn state(&self) -> State {
        match self.outbox.link {
            Link::Stopped => State::Stopped,
            Link::Waiting { .. } => State::Waiting,
            Link::Opening { .. } | Link::AwaitConnack { .. } => State::Connecting,
            Link::Connected => State::Connected,
            Link::Closing { .. } => State::Disconnecting,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config<'b> {
        &self.outbox.config
    }

    /// The configuration, to change for the next connection (e.g. renewed
    /// credentials). A CONNECT that no longer fits the transmit buffer
    /// fails that attempt with [`Error::BufferTooSmall`].
    pub fn config_mut(&mut self) -> &mut Config<'b> {
        &mut self.outbox.config
    }

    /// Gives the session storage for a password that changes while it
    /// runs (an Azure SAS token renewed before it expires): `Config`
    /// borrows its password for the session's whole life, so a renewable
    /// one needs a place the session owns. RAM: `storage.len()` bytes.
    pub fn set_password_storage(&mut self, storage: &'b mut [u8]) {
        self.outbox.secret = storage;
        self.outbox.secret_len = None;
    }

    /// Sets the password the next CONNECT carries, copied into the storage
    /// given to [`set_password_storage`](Self::set_password_storage); it
    /// replaces `Config::password`. Errors: [`Error::BufferTooSmall`] when
    /// it does not fit the storage or the CONNECT no longer fits the
    /// transmit buffer, [`Error::InvalidArgument`] without a user name.
    /// The current connection is not touched: reconnect to use it.
    pub fn set_password(&mut self, password: &[u8]) -> Result<()> {
        let mut connect = self.outbox.config.connect();
        connect.password = Some(password);
        if connect.username.is_none() {
            return Err(Error::InvalidArgument);
        }
        if codec::connect_len(&connect)? > self.outbox.tx.capacity() {
            return Err(Error::BufferTooSmall);
        }
        bytes::copy(self.outbox.secret, password)?;
        self.outbox.secret_len = Some(password.len());
        Ok(())
    }

    /// The random source (e.g. to reseed it).
    pub fn random_mut(&mut self) -> &mut R {
        &mut self.random
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (e.g. to reconfigure it between connections).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    fn step<H>(&mut self, now_ms: u64, handler: &mut H) -> Result<()>
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        self.open_link(now_ms)?;
        if !self.outbox.link.is_open() {
            return Ok(());
        }
        if !matches!(self.outbox.link, Link::Closing { .. }) {
            self.receive(now_ms, handler)?;
        }
        self.outbox.check_timers(now_ms)?;
        self.flush(now_ms)?;
        if matches!(self.outbox.link, Link::Closing { sent, .. } if usize::from(sent) == DISCONNECT.len())
        {
            self.close_link();
            self.outbox.link = Link::Stopped;
            handler(
                Event::Disconnected {
                    reason: None,
                    reconnect_in_ms: None,
                },
                &mut self.outbox,
            );
        }
        Ok(())
    }

    /// Starts or continues opening the link when its time has come.
    fn open_link(&mut self, now_ms: u64) -> Result<()> {
        let deadline_ms = match self.outbox.link {
            Link::Waiting { until_ms } if now_ms >= until_ms => {
                // `config_mut` may have changed the timers since `new`.
                self.outbox.config.check_timers()?;
                self.outbox.last_attempt_ms = Some(now_ms);
                let deadline =
                    now_ms.saturating_add(u64::from(self.outbox.config.connect_timeout_ms));
                self.outbox.link = Link::Opening {
                    deadline_ms: deadline,
                };
                deadline
            }
            Link::Opening { deadline_ms } if now_ms >= deadline_ms => {
                return Err(Error::ConnackTimeout)
            }
            Link::Opening { deadline_ms } => deadline_ms,
            _ => return Ok(()),
        };
        if self.transport.open()? == OpenState::Pending {
            return Ok(());
        }
        // The link is up: start the MQTT connection with a CONNECT.
        self.reset_rx();
        self.outbox.drop_link();
        let mut connect = self.outbox.config.connect();
        if let Some(len) = self.outbox.secret_len {
            connect.password = self.outbox.secret.get(..len);
        }
        let len = codec::connect_len(&connect)?;
        if len > self.outbox.tx.capacity() {
            return Err(Error::BufferTooSmall);
        }
        self.outbox
            .tx
            .push(len, |out| codec::encode_connect(out, &connect))?;
        self.outbox.link = Link::AwaitConnack { deadline_ms };
        // The floor between attempts counts from here too: the cloud
        // counts CONNECTs, and a handshake shorter than the last one would
        // otherwise bring two of them closer than `min_interval_ms`.
        self.outbox.last_attempt_ms = Some(now_ms);
        self.outbox.last_send_ms = now_ms;
        self.outbox.last_recv_ms = now_ms;
        Ok(())
    }

    /// Empties the receive buffer and picks where the next bytes land: a
    /// PUBLISH received there with a two-byte remaining length (128 to
    /// 16,383 bytes, the usual size of cloud messages) has its topic on a
    /// word boundary, where `core::str::from_utf8` checks it a word at a
    /// time (about half the instructions of a misaligned 64-byte topic).
    fn reset_rx(&mut self) {
        const WORD: usize = core::mem::size_of::<usize>();
        const TOPIC_AT: usize = 3 + 2;
        let misalign = (self.rx.as_ptr().addr() + TOPIC_AT) % WORD;
        self.rx_start = (WORD - misalign) % WORD;
        self.rx_len = 0;
    }

    /// Reads from the transport and handles every complete packet.
    fn receive<H>(&mut self, now_ms: u64, handler: &mut H) -> Result<()>
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        let mut packets = 0;
        loop {
            while let Some(used) = self.handle_one(now_ms, handler)? {
                self.rx_start += used;
                self.rx_len -= used;
                if self.rx_len == 0 {
                    self.reset_rx();
                }
                packets += 1;
                if packets >= MAX_PACKETS_PER_POLL {
                    self.more_work = true;
                    return Ok(());
                }
            }
            if self.rx_blocked {
                return Ok(());
            }
            let end = self.rx_start + self.rx_len;
            if end == self.rx.len() {
                // No room after the data: move it to the front.
                bytes::move_down(self.rx, self.rx_start..end, 0)?;
                self.rx_start = 0;
            }
            let free = match self.rx.get_mut(self.rx_start + self.rx_len..) {
                Some(free) if !free.is_empty() => free,
                // Cannot happen: a packet larger than `rx` is refused as
                // soon as its header is read.
                _ => return Err(Error::PacketTooLarge),
            };
            let n = self.transport.recv(free)?;
            if n == 0 {
                return Ok(());
            }
            if n > free.len() {
                return Err(Error::TransportFailed);
            }
            self.rx_len += n;
            self.outbox.last_recv_ms = now_ms;
        }
    }

    /// Decodes and handles the packet at the front of the received bytes;
    /// returns its length, or `None` if it is incomplete or must wait.
    fn handle_one<H>(&mut self, now_ms: u64, handler: &mut H) -> Result<Option<usize>>
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        if self.skip.is_some() {
            return self.discard(handler);
        }
        let end = self.rx_start + self.rx_len;
        let buf = self.rx.get(self.rx_start..end).unwrap_or(&[]);
        let Some(header) = codec::decode_fixed_header(buf)? else {
            return Ok(None);
        };
        let total = header.packet_length();
        if total > self.rx.len() {
            return self.start_skip(header, buf.len(), handler);
        }
        if total > self.rx.len() - self.rx_start {
            // It fits the buffer, but not from here: move it to the front.
            bytes::move_down(self.rx, self.rx_start..end, 0)?;
            self.rx_start = 0;
            return Ok(None);
        }
        let Some(body) = buf.get(header.header_length..total) else {
            return Ok(None);
        };
        let packet = if header.first_byte >> 4 == 3 {
            Packet::Publish(codec::decode_publish(header.first_byte, body)?)
        } else {
            codec::decode_body(header.first_byte, body)?
        };
        if self.outbox.handle_packet(packet, now_ms, handler)? {
            Ok(Some(total))
        } else {
            self.rx_blocked = true;
            Ok(None)
        }
    }

    /// Starts discarding a packet longer than the receive buffer: a PUBLISH
    /// is skipped (reported, and acknowledged when QoS 1); any other
    /// packet that long is malformed. Returns the bytes consumed, or `None`
    /// while the topic is still arriving.
    fn start_skip<H>(
        &mut self,
        header: codec::FixedHeader,
        have: usize,
        handler: &mut H,
    ) -> Result<Option<usize>>
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        let first = header.first_byte;
        if first >> 4 != 3 {
            return Err(Error::PacketTooLarge);
        }
        let qos1 = match first & 0x06 {
            0 if first & DUP_FLAG == 0 => false,
            2 => true,
            4 => return Err(Error::UnexpectedPacket),
            _ => return Err(Error::MalformedPacket),
        };
        let total = header.packet_length();
        let at = header.header_length;
        // The topic length: at most 5 + 2 bytes in, so it always fits.
        let Some(len) = self.wait_for(at + 2, have)? else {
            return Ok(None);
        };
        let topic_len = usize::from(u16::from_be_bytes(len));
        let id_len = if qos1 { 2 } else { 0 };
        let prefix = at + 2 + topic_len + id_len;
        if topic_len == 0 || prefix > total {
            return Err(Error::MalformedPacket);
        }
        // A remaining length is below 2^28: `total` fits.
        let total32 = total as u32;
        let mut skip = Skip {
            left: total32,
            len: total32,
            id_at: u32::MAX,
            packet_id: 0,
            qos1,
            report: false,
        };
        if prefix > self.rx.len() {
            // The topic does not fit either: discard it too, and pick up the
            // packet id on the way.
            if qos1 {
                skip.id_at = (prefix - id_len) as u32;
            }
            skip.report = true;
            self.skip = Some(skip);
            return self.discard(handler);
        }
        if self.wait_for(prefix, have)?.is_none() {
            return Ok(None);
        }
        let start = self.rx_start + at + 2;
        let bytes = self
            .rx
            .get(start..start + topic_len + id_len)
            .unwrap_or(&[]);
        let (topic, id) = bytes.split_at(topic_len.min(bytes.len()));
        let topic = codec::decode_topic_name(topic)?;
        skip.packet_id = match id {
            [hi, lo] => u16::from_be_bytes([*hi, *lo]),
            _ => 0,
        };
        if qos1 && skip.packet_id == 0 {
            return Err(Error::MalformedPacket);
        }
        skip.left = (total - prefix) as u32;
        handler(
            Event::Oversized {
                topic: Some(topic),
                packet_id: qos1.then_some(skip.packet_id),
                len: total,
            },
            &mut self.outbox,
        );
        self.skip = Some(skip);
        Ok(Some(prefix))
    }

    /// The two bytes at `pos..pos + 2` of the packet at the front, once
    /// `pos` bytes of it are buffered (moving it to the front of the
    /// buffer if it would not fit from where it starts); `None` until then.
    fn wait_for(&mut self, pos: usize, have: usize) -> Result<Option<[u8; 2]>> {
        if have >= pos {
            let at = self.rx_start + pos - 2;
            return Ok(self.rx.get(at..at + 2).and_then(|b| b.try_into().ok()));
        }
        if self.rx_start + pos > self.rx.len() {
            let end = self.rx_start + self.rx_len;
            bytes::move_down(self.rx, self.rx_start..end, 0)?;
            self.rx_start = 0;
        }
        Ok(None)
    }

    /// Discards what is buffered of the packet being skipped; once its last
    /// byte is read, queues its PUBACK (waiting for room in the transmit
    /// queue) and reports it if the topic did not fit.
    fn discard<H>(&mut self, handler: &mut H) -> Result<Option<usize>>
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        let Some(mut skip) = self.skip else {
            return Ok(None);
        };
        let end = self.rx_start + self.rx_len;
        let buf = self.rx.get(self.rx_start..end).unwrap_or(&[]);
        let used = buf.len().min(skip.left as usize);
        if skip.id_at != u32::MAX {
            // Offsets in the packet: `len - left` bytes were discarded.
            let done = (skip.len - skip.left) as usize;
            for i in 0..2 {
                let at = (skip.id_at as usize + i).checked_sub(done);
                if let Some(&b) = at.filter(|&o| o < used).and_then(|o| buf.get(o)) {
                    skip.packet_id |= u16::from(b) << (8 - 8 * i);
                }
            }
        }
        skip.left -= used as u32;
        self.skip = Some(skip);
        if skip.left > 0 {
            return Ok(if used > 0 { Some(used) } else { None });
        }
        if skip.qos1 {
            if skip.packet_id == 0 {
                return Err(Error::MalformedPacket);
            }
            if !self.outbox.tx.fits(4) {
                self.rx_blocked = true;
                return Ok(if used > 0 { Some(used) } else { None });
            }
            self.outbox
                .tx
                .push(4, |out| codec::encode_puback(out, skip.packet_id))?;
        }
        self.skip = None;
        if skip.report {
            handler(
                Event::Oversized {
                    topic: None,
                    packet_id: skip.qos1.then_some(skip.packet_id),
                    len: skip.len as usize,
                },
                &mut self.outbox,
            );
        }
        Ok(Some(used))
    }

    /// Writes queued bytes until done or the transport would block: first
    /// the rest of a partly written stored PUBLISH, then the transmit queue,
    /// then pending (UN)SUBSCRIBEs and stored PUBLISHes (only when
    /// connected), then DISCONNECT (when closing). Packets are never
    /// interleaved.
    fn flush(&mut self, now_ms: u64) -> Result<()> {
        // Each pass writes at least one byte or ends the loop, and the bytes
        // to write are bounded, so the loop ends.
        loop {
            let out = &mut self.outbox;
            let n = if let Some(cursor) = out.writing {
                let Some(idx) = out
                    .inflight
                    .position(|m, _| m.packet_id == cursor.packet_id)
                else {
                    out.writing = None;
                    continue;
                };
                let bytes = out.inflight.bytes(idx);
                let rest = bytes.get(cursor.pos..).unwrap_or(&[]);
                let n = send(&mut self.transport, rest)?;
                let pos = cursor.pos + n;
                if pos < bytes.len() {
                    out.writing = Some(Cursor {
                        packet_id: cursor.packet_id,
                        pos,
                    });
                } else {
                    out.writing = None;
                    if let Some((meta, bytes)) = out.inflight.get_mut(idx) {
                        meta.state = MsgState::Sent;
                        meta.sent_at_ms = now_ms;
                        // Any later copy of this packet is a retransmission.
                        if let Some(first) = bytes.first_mut() {
                            *first |= DUP_FLAG;
                        }
                        if meta.acked {
                            out.inflight.remove(idx);
                        }
                    }
                }
                n
            } else if !out.tx.is_empty() {
                let n = send(&mut self.transport, out.tx.pending())?;
                out.tx.advance(n);
                n
            } else if out.ping_unsent {
                out.queue_ping()?;
                continue;
            } else if out.link == Link::Connected {
                if out.queue_subscriptions()? {
                    continue;
                }
                let Some(idx) = out.next_queued() else {
                    break;
                };
                let Some(meta) = out.inflight.meta_mut(idx) else {
                    break;
                };
                meta.state = MsgState::Writing;
                out.writing = Some(Cursor {
                    packet_id: meta.packet_id,
                    pos: 0,
                });
                continue;
            } else if let Link::Closing { deadline_ms, sent } = out.link {
                let rest = DISCONNECT.get(usize::from(sent)..).unwrap_or(&[]);
                if rest.is_empty() {
                    break;
                }
                let n = send(&mut self.transport, rest)?;
                out.link = Link::Closing {
                    deadline_ms,
                    sent: sent + n as u8,
                };
                n
            } else {
                break;
            };
            if n == 0 {
                break;
            }
            self.outbox.last_send_ms = now_ms;
        }
        Ok(())
    }

    /// Ends the link after `reason`, reports it, and schedules the next
    /// attempt (unless the session was closing: then it stops).
    fn fail<H>(&mut self, now_ms: u64, reason: Error, handler: &mut H)
    where
        H: FnMut(Event<'_>, &mut Outbox<'b, INFLIGHT, SUBS>),
    {
        let stopping = matches!(self.outbox.link, Link::Closing { .. } | Link::Stopped);
        let was_up = self.outbox.link == Link::Connected;
        self.close_link();
        let out = &mut self.outbox;
        let backoff = out.config.backoff;
        // A connection that stayed up for the stability window was a
        // success; one that died sooner counts as a failed attempt. (An
        // attempt that failed before its CONNACK is a failed attempt too.)
        let mut unstable = None;
        if let Some(at) = out.connected_at_ms.take().filter(|_| was_up) {
            if now_ms >= at.saturating_add(u64::from(backoff.stable_ms)) {
                out.backoff.reset();
                out.early_drops = 0;
            } else {
                out.early_drops = out.early_drops.saturating_add(1);
                if out.early_drops % UNSTABLE_AFTER == 0 {
                    unstable = Some(out.early_drops);
                }
            }
        }
        let reconnect_in_ms = if stopping {
            out.link = Link::Stopped;
            None
        } else {
            let drawn = out.backoff.next_delay_ms(&backoff, &mut self.random);
            let floor = out.last_attempt_ms.map_or(now_ms, |at| {
                at.saturating_add(u64::from(backoff.min_interval_ms))
            });
            let until_ms = now_ms.saturating_add(u64::from(drawn)).max(floor);
            out.link = Link::Waiting { until_ms };
            Some(u32::try_from(until_ms - now_ms).unwrap_or(u32::MAX))
        };
        handler(
            Event::Disconnected {
                reason: Some(reason),
                reconnect_in_ms,
            },
            &mut self.outbox,
        );
        if let Some(early_drops) = unstable {
            handler(Event::Unstable { early_drops }, &mut self.outbox);
        }
    }

    fn close_link(&mut self) {
        self.transport.close();
        self.reset_rx();
        self.skip = None;
        self.outbox.drop_link();
    }
}

/// One `send`, checked: a transport claiming more than it was given is
/// broken ([`Error::TransportFailed`]).
fn send<T: Transport>(transport: &mut T, bytes: &[u8]) -> Result<usize> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let n = transport.send(bytes)?;
    if n > bytes.len() {
        return Err(Error::TransportFailed);
    }
    Ok(n)
}

/// Checks what `Session::new` can check of the configuration.
fn check_config(config: &Config<'_>, tx_len: usize) -> Result<()> {
    config.check_timers()?;
    if let Some(will) = &config.will {
        topic::validate_topic_name(will.topic)?;
    }
    if codec::connect_len(&config.connect())? > tx_len {
        return Err(Error::BufferTooSmall);
    }
    Ok(())
}
