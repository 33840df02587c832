//! The MQTT 3.1.1 wire format, client side.
//!
//! Encoders write one whole packet into a caller buffer and return its
//! length (or [`Error::BufferTooSmall`] without writing past the buffer);
//! decoders borrow from the input and never copy a topic or payload. The
//! two hot paths, [`encode_publish`] and [`decode_packet`] of a PUBLISH, are
//! straight-line code: one length check, `copy_from_slice` for the topic
//! and payload, `core::str::from_utf8` for the topic.
//!
//! The encoders do not check topic *contents* (wildcards, NUL): callers
//! validate them once with [`super::topic`] before encoding, as the
//! session does.

use crate::{Error, Result};

/// The largest remaining length MQTT can express (four length bytes).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The largest fixed header: one type byte and four length bytes.
pub const MAX_FIXED_HEADER_LEN: usize = 5;

/// An encoded PINGREQ.
pub const PINGREQ: [u8; 2] = [0xC0, 0x00];

/// An encoded DISCONNECT.
pub const DISCONNECT: [u8; 2] = [0xE0, 0x00];

/// The PUBLISH flag bit that marks a retransmission.
pub const DUP_FLAG: u8 = 0x08;

/// Quality of service of a message or subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum QoS {
    /// At most once: fire and forget.
    AtMostOnce = 0,
    /// At least once: acknowledged with PUBACK, retransmitted until then.
    AtLeastOnce = 1,
    /// Exactly once. Neither cloud supports it: the engine refuses it with
    /// [`Error::QosNotSupported`] and never sends it.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS of a wire or C value (0, 1 or 2); anything else is
    /// [`Error::InvalidArgument`].
    pub const fn from_u8(value: u8) -> Result<QoS> {
        match value {
            0 => Ok(QoS::AtMostOnce),
            1 => Ok(QoS::AtLeastOnce),
            2 => Ok(QoS::ExactlyOnce),
            _ => Err(Error::InvalidArgument),
        }
    }
}

/// A PUBLISH packet, outgoing or incoming (borrowing its topic and payload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Publish<'a> {
    /// Topic name (never empty, no wildcards).
    pub topic: &'a str,
    /// Application payload.
    pub payload: &'a [u8],
    /// Quality of service.
    pub qos: QoS,
    /// Retain flag.
    pub retain: bool,
    /// Duplicate-delivery flag (a retransmission).
    pub dup: bool,
    /// Packet identifier; 0 for QoS 0 (not on the wire).
    pub packet_id: u16,
}

/// The last-will message the broker publishes if the client vanishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Will<'a> {
    /// Topic of the will message.
    pub topic: &'a str,
    /// Payload of the will message.
    pub payload: &'a [u8],
    /// QoS of the will message (0 or 1).
    pub qos: QoS,
    /// Whether the broker retains the will message.
    pub retain: bool,
}

/// The fields of a CONNECT packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect<'a> {
    /// Client identifier.
    pub client_id: &'a str,
    /// User name, if any.
    pub username: Option<&'a str>,
    /// Password, if any (MQTT 3.1.1 requires a user name with it).
    pub password: Option<&'a [u8]>,
    /// Keepalive in seconds; 0 disables it.
    pub keep_alive_s: u16,
    /// Ask the broker to discard any previous session.
    pub clean_session: bool,
    /// Last will, if any.
    pub will: Option<Will<'a>>,
}

/// A packet a client can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// CONNACK.
    ConnAck {
        /// The broker resumed a stored session.
        session_present: bool,
        /// 0 accepted, 1–5 the standard refusals, other values unknown.
        return_code: u8,
    },
    /// PUBLISH (QoS 0 or 1).
    Publish(Publish<'a>),
    /// PUBACK.
    PubAck {
        /// Acknowledged packet id.
        packet_id: u16,
    },
    /// SUBACK.
    SubAck {
        /// Acknowledged packet id.
        packet_id: u16,
        /// One return code per filter: granted QoS, or 0x80 (refused).
        return_codes: &'a [u8],
    },
    /// UNSUBACK.
    UnsubAck {
        /// Acknowledged packet id.
        packet_id: u16,
    },
    /// PINGRESP.
    PingResp,
}

/// A decoded fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedHeader {
    /// Packet type (high nibble) and flags (low nibble).
    pub first_byte: u8,
    /// Length of the packet after the fixed header.
    pub remaining_length: usize,
    /// Length of the fixed header itself (2 to 5 bytes).
    pub header_length: usize,
}

impl FixedHeader {
    /// Length of the whole packet (cannot overflow: both parts are bounded).
    pub const fn packet_length(&self) -> usize {
        self.header_length + self.remaining_length
    }
}

/// Number of bytes of the variable-length encoding of `n` (≤ 4 for any
/// valid remaining length).
#[inline]
const fn varint_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else if n < 0x4000 {
        2
    } else if n < 0x20_0000 {
        3
    } else {
        4
    }
}

/// Writes the fixed header of a packet whose remaining length is `rl`
/// (≤ [`MAX_REMAINING_LENGTH`]) and returns the body slice after it, exactly
/// `rl` bytes long.
#[inline(always)]
fn put_fixed_header(buf: &mut [u8], first: u8, rl: usize) -> Result<&mut [u8]> {
    let header_len = 1 + varint_len(rl);
    let packet = buf
        .get_mut(..header_len + rl)
        .ok_or(Error::BufferTooSmall)?;
    let Some((header, body)) = packet.split_at_mut_checked(header_len) else {
        return Err(Error::BufferTooSmall);
    };
    match header {
        [h0, h1] => {
            *h0 = first;
            *h1 = rl as u8;
        }
        [h0, h1, h2] => {
            *h0 = first;
            *h1 = rl as u8 | 0x80;
            *h2 = (rl >> 7) as u8;
        }
        _ => {
            let mut n = rl;
            let mut byte = first;
            for slot in header.iter_mut() {
                *slot = byte;
                byte = (n & 0x7F) as u8;
                n >>= 7;
                if n != 0 {
                    byte |= 0x80;
                }
            }
        }
    }
    Ok(body)
}

/// Remaining length of a PUBLISH, checked against the MQTT bounds.
#[inline(always)]
fn publish_remaining_length(topic_len: usize, payload_len: usize, qos: QoS) -> Result<usize> {
    if topic_len > u16::MAX as usize {
        return Err(Error::TopicTooLong);
    }
    let id_len = if matches!(qos, QoS::AtMostOnce) { 0 } else { 2 };
    match (2 + id_len + topic_len).checked_add(payload_len) {
        Some(rl) if rl <= MAX_REMAINING_LENGTH => Ok(rl),
        _ => Err(Error::PayloadTooLarge),
    }
}

/// Length of the encoded PUBLISH for these sizes (what [`encode_publish`]
/// will write): [`Error::TopicTooLong`] over 65,535 topic bytes,
/// [`Error::PayloadTooLarge`] beyond MQTT's remaining-length limit.
pub fn publish_len(topic_len: usize, payload_len: usize, qos: QoS) -> Result<usize> {
    let rl = publish_remaining_length(topic_len, payload_len, qos)?;
    Ok(1 + varint_len(rl) + rl)
}

/// Encodes a PUBLISH (any QoS flag as given; the packet id is written for
/// QoS ≥ 1) and returns its length.
pub fn encode_publish(buf: &mut [u8], publish: &Publish<'_>) -> Result<usize> {
    let topic = publish.topic.as_bytes();
    let payload = publish.payload;
    let rl = publish_remaining_length(topic.len(), payload.len(), publish.qos)?;
    let first =
        0x30 | ((publish.dup as u8) << 3) | ((publish.qos as u8) << 1) | (publish.retain as u8);
    let body = put_fixed_header(buf, first, rl)?;
    // `body` is exactly `rl` bytes, so the writes below always happen.
    let topic_end = 2 + topic.len();
    if let Some(out) = body.get_mut(..topic_end) {
        if let Some((len, out)) = out.split_first_chunk_mut::<2>() {
            *len = (topic.len() as u16).to_be_bytes();
            out.copy_from_slice(topic);
        }
    }
    let payload_start = rl - payload.len();
    if publish.qos != QoS::AtMostOnce {
        if let Some(id) = body.get_mut(topic_end..payload_start) {
            id.copy_from_slice(&publish.packet_id.to_be_bytes());
        }
    }
    if let Some(out) = body.get_mut(payload_start..) {
        out.copy_from_slice(payload);
    }
    Ok(1 + varint_len(rl) + rl)
}

/// A small bounds-checked writer for the cold encoders.
struct PacketWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl PacketWriter<'_> {
    fn bytes(&mut self, data: &[u8]) -> Result<()> {
        let end = self
            .pos
            .checked_add(data.len())
            .ok_or(Error::BufferTooSmall)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(data);
        self.pos = end;
        Ok(())
    }

    fn u16(&mut self, v: u16) -> Result<()> {
        self.bytes(&v.to_be_bytes())
    }

    /// A length-prefixed string or binary field.
    fn field(&mut self, data: &[u8]) -> Result<()> {
        self.u16(data.len() as u16)?;
        self.bytes(data)
    }
}

/// Length of a length-prefixed field, or `err` if it exceeds 65,535 bytes.
fn field_len(data: &[u8], err: Error) -> Result<usize> {
    if data.len() > u16::MAX as usize {
        Err(err)
    } else {
        Ok(2 + data.len())
    }
}

fn connect_remaining_length(c: &Connect<'_>) -> Result<usize> {
    if c.password.is_some() && c.username.is_none() {
        return Err(Error::InvalidArgument);
    }
    // Protocol name (6), level (1), flags (1), keepalive (2).
    let mut rl = 10 + field_len(c.client_id.as_bytes(), Error::InvalidArgument)?;
    if let Some(will) = &c.will {
        if will.qos == QoS::ExactlyOnce {
            return Err(Error::QosNotSupported);
        }
        if will.topic.is_empty() {
            return Err(Error::InvalidTopic);
        }
        rl += field_len(will.topic.as_bytes(), Error::TopicTooLong)?;
        rl += field_len(will.payload, Error::PayloadTooLarge)?;
    }
    if let Some(user) = c.username {
        rl += field_len(user.as_bytes(), Error::InvalidArgument)?;
    }
    if let Some(pass) = c.password {
        rl += field_len(pass, Error::InvalidArgument)?;
    }
    Ok(rl)
}

/// Length of the encoded CONNECT, or why it cannot be encoded: a password
/// without a user name or an over-long field ([`Error::InvalidArgument`]),
/// a QoS 2 will ([`Error::QosNotSupported`]), an empty will topic
/// ([`Error::InvalidTopic`]).
pub fn connect_len(connect: &Connect<'_>) -> Result<usize> {
    let rl = connect_remaining_length(connect)?;
    Ok(1 + varint_len(rl) + rl)
}

/// Encodes a CONNECT (protocol level 4, MQTT 3.1.1) and returns its length.
pub fn encode_connect(buf: &mut [u8], c: &Connect<'_>) -> Result<usize> {
    let rl = connect_remaining_length(c)?;
    let mut flags = (c.clean_session as u8) << 1;
    if let Some(will) = &c.will {
        flags |= 0x04 | ((will.qos as u8) << 3) | ((will.retain as u8) << 5);
    }
    if c.username.is_some() {
        flags |= 0x80;
    }
    if c.password.is_some() {
        flags |= 0x40;
    }
    let body = put_fixed_header(buf, 0x10, rl)?;
    let mut w = PacketWriter { buf: body, pos: 0 };
    w.bytes(&[0, 4, b'M', b'Q', b'T', b'T', 4, flags])?;
    w.u16(c.keep_alive_s)?;
    w.field(c.client_id.as_bytes())?;
    if let Some(will) = &c.will {
        w.field(will.topic.as_bytes())?;
        w.field(will.payload)?;
    }
    if let Some(user) = c.username {
        w.field(user.as_bytes())?;
    }
    if let Some(pass) = c.password {
        w.field(pass)?;
    }
    Ok(1 + varint_len(rl) + rl)
}

fn subscribe_remaining_length(filter_len: usize, subscribe: bool) -> Result<usize> {
    if filter_len > u16::MAX as usize {
        return Err(Error::TopicTooLong);
    }
    // Packet id (2), filter length (2), filter, and the QoS byte.
    Ok(4 + filter_len + subscribe as usize)
}

/// Length of an encoded SUBSCRIBE (`subscribe`) or UNSUBSCRIBE for one
/// filter; [`Error::TopicTooLong`] over 65,535 bytes.
pub fn subscribe_len(filter_len: usize, subscribe: bool) -> Result<usize> {
    let rl = subscribe_remaining_length(filter_len, subscribe)?;
    Ok(1 + varint_len(rl) + rl)
}

/// Encodes a SUBSCRIBE for one filter and returns its length.
pub fn encode_subscribe(buf: &mut [u8], packet_id: u16, filter: &str, qos: QoS) -> Result<usize> {
    let rl = subscribe_remaining_length(filter.len(), true)?;
    let body = put_fixed_header(buf, 0x82, rl)?;
    let mut w = PacketWriter { buf: body, pos: 0 };
    w.u16(packet_id)?;
    w.field(filter.as_bytes())?;
    w.bytes(&[qos as u8])?;
    Ok(1 + varint_len(rl) + rl)
}

/// Encodes an UNSUBSCRIBE for one filter and returns its length.
pub fn encode_unsubscribe(buf: &mut [u8], packet_id: u16, filter: &str) -> Result<usize> {
    let rl = subscribe_remaining_length(filter.len(), false)?;
    let body = put_fixed_header(buf, 0xA2, rl)?;
    let mut w = PacketWriter { buf: body, pos: 0 };
    w.u16(packet_id)?;
    w.field(filter.as_bytes())?;
    Ok(1 + varint_len(rl) + rl)
}

/// Encodes a PUBACK and returns its length (4).
pub fn encode_puback(buf: &mut [u8], packet_id: u16) -> Result<usize> {
    let [hi, lo] = packet_id.to_be_bytes();
    buf.get_mut(..4)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(&[0x40, 0x02, hi, lo]);
    Ok(4)
}

/// Decodes a fixed header: `Ok(None)` if more bytes are needed,
/// [`Error::MalformedPacket`] if the remaining length runs past four bytes.
#[inline(always)]
pub fn decode_fixed_header(buf: &[u8]) -> Result<Option<FixedHeader>> {
    let (first_byte, remaining_length, header_length) = match *buf {
        [first, len, ..] if len < 0x80 => (first, len as usize, 2),
        [first, lo, hi, ..] if hi < 0x80 => (first, (lo & 0x7F) as usize | (hi as usize) << 7, 3),
        [first, _, _, ..] => return decode_long_header(first, buf),
        _ => return Ok(None),
    };
    Ok(Some(FixedHeader {
        first_byte,
        remaining_length,
        header_length,
    }))
}

/// The rare headers with a three- or four-byte remaining length.
#[inline(never)]
fn decode_long_header(first_byte: u8, buf: &[u8]) -> Result<Option<FixedHeader>> {
    let rest = buf.get(1..).unwrap_or(&[]);
    let mut rl = 0usize;
    for (i, &b) in rest.iter().take(4).enumerate() {
        rl |= ((b & 0x7F) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some(FixedHeader {
                first_byte,
                remaining_length: rl,
                header_length: i + 2,
            }));
        }
    }
    if rest.len() >= 4 {
        Err(Error::MalformedPacket)
    } else {
        Ok(None)
    }
}

/// Decodes one packet from the start of `buf`: `Ok(None)` until the whole
/// packet is there, else the packet and the number of bytes it used.
#[inline]
pub fn decode_packet(buf: &[u8]) -> Result<Option<(Packet<'_>, usize)>> {
    let Some(header) = decode_fixed_header(buf)? else {
        return Ok(None);
    };
    let end = header.packet_length();
    let Some(body) = buf.get(header.header_length..end) else {
        return Ok(None);
    };
    // PUBLISH, the hot path, is decoded inline; the rest out of line.
    let packet = if header.first_byte >> 4 == 3 {
        Packet::Publish(decode_publish(header.first_byte, body)?)
    } else {
        decode_body(header.first_byte, body)?
    };
    Ok(Some((packet, end)))
}

/// Reads a two-byte packet id that must be the whole body and non-zero.
#[inline]
fn ack_id(first: u8, body: &[u8]) -> Result<u16> {
    match body {
        [hi, lo] if first & 0x0F == 0 => match u16::from_be_bytes([*hi, *lo]) {
            0 => Err(Error::MalformedPacket),
            id => Ok(id),
        },
        _ => Err(Error::MalformedPacket),
    }
}

/// Decodes the body of a packet whose fixed header's first byte is `first`.
///
/// Packets a client never receives (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
/// PINGREQ, DISCONNECT, and the QoS 2 flow: the engine never sends QoS 2)
/// are [`Error::UnexpectedPacket`]; reserved types, wrong flags and wrong
/// lengths are [`Error::MalformedPacket`].
#[inline(never)]
pub fn decode_body(first: u8, body: &[u8]) -> Result<Packet<'_>> {
    match first >> 4 {
        3 => decode_publish(first, body).map(Packet::Publish),
        2 => match body {
            [flags, code] if first & 0x0F == 0 && flags & 0xFE == 0 => Ok(Packet::ConnAck {
                session_present: *flags & 1 != 0,
                return_code: *code,
            }),
            _ => Err(Error::MalformedPacket),
        },
        4 => Ok(Packet::PubAck {
            packet_id: ack_id(first, body)?,
        }),
        9 => match body {
            [hi, lo, codes @ ..] if first & 0x0F == 0 && !codes.is_empty() => {
                let packet_id = u16::from_be_bytes([*hi, *lo]);
                if packet_id == 0 {
                    return Err(Error::MalformedPacket);
                }
                Ok(Packet::SubAck {
                    packet_id,
                    return_codes: codes,
                })
            }
            _ => Err(Error::MalformedPacket),
        },
        11 => Ok(Packet::UnsubAck {
            packet_id: ack_id(first, body)?,
        }),
        13 if first & 0x0F == 0 && body.is_empty() => Ok(Packet::PingResp),
        1 | 5 | 6 | 7 | 8 | 10 | 12 | 14 => Err(Error::UnexpectedPacket),
        _ => Err(Error::MalformedPacket),
    }
}

/// A received topic name: UTF-8 without U+0000 or a wildcard (MQTT 3.1.1
/// §1.5.3, §4.7.1: a receiver treats anything else as a protocol
/// violation). Errors: [`Error::InvalidTopic`].
pub fn decode_topic_name(topic: &[u8]) -> Result<&str> {
    // A word at a time (the target's word: 4 bytes on Cortex-M and
    // RISC-V, 8 on a host), without a branch per word. First a cheap test:
    // a topic whose bytes all lie in 0x2C..=0x7F holds no NUL, '#' (0x23)
    // or '+' (0x2B). Topics it flags ('$', '%', '&', space and non-ASCII
    // are below 0x2C or flagged too) get the exact test. The last word
    // overlaps the one before it, so there is no tail loop.
    let bad = match topic.get(topic.len().wrapping_sub(WORD)..) {
        Some(last) if last.len() == WORD => {
            let words = topic.chunks_exact(WORD);
            let last = word(last);
            let low = words
                .clone()
                .fold(below_0x2c(last), |m, w| m | below_0x2c(word(w)));
            low != 0 && words.fold(forbidden(last), |m, w| m | forbidden(word(w))) != 0
        }
        _ => topic.iter().any(|&b| matches!(b, 0 | b'+' | b'#')),
    };
    if bad {
        return Err(Error::InvalidTopic);
    }
    core::str::from_utf8(topic).map_err(|_| Error::InvalidTopic)
}

const WORD: usize = core::mem::size_of::<usize>();
const LO: usize = usize::MAX / 0xFF;
const HI: usize = LO * 0x80;

/// `WORD` bytes as one word (byte order does not matter to the tests).
#[inline(always)]
fn word(bytes: &[u8]) -> usize {
    usize::from_ne_bytes(bytes.try_into().unwrap_or([0; WORD]))
}

/// Bit 7 set in some byte of the result if a byte of `v` is below 0x2C or
/// not ASCII; never clear when one is (a borrow may flag one more byte).
#[inline(always)]
const fn below_0x2c(v: usize) -> usize {
    (v.wrapping_sub(LO * 0x2C) | v) & HI
}

/// Bit 7 set in each byte of `v` that is NUL, '#' or '+', exactly
/// (setting bit 3 maps 0x23 onto 0x2B, and nothing else onto it).
#[inline(always)]
const fn forbidden(v: usize) -> usize {
    zero_byte(v) | zero_byte((v | (LO * 0x08)) ^ (LO * 0x2B))
}

/// Bit 7 set in each byte of `x` that is zero, exactly.
#[inline(always)]
const fn zero_byte(x: usize) -> usize {
    !((x & !HI).wrapping_add(!HI) | x) & HI
}

/// Decodes the body of a PUBLISH. A QoS 2 PUBLISH is
/// [`Error::UnexpectedPacket`] (the clouds never send one), QoS 3 or DUP on
/// QoS 0 is [`Error::MalformedPacket`], an empty or non-UTF-8 topic, or one
/// with U+0000 or a wildcard, is [`Error::InvalidTopic`].
#[inline(always)]
pub fn decode_publish(first: u8, body: &[u8]) -> Result<Publish<'_>> {
    let qos = match first & 0x06 {
        0 if first & DUP_FLAG == 0 => QoS::AtMostOnce,
        2 => QoS::AtLeastOnce,
        4 => return Err(Error::UnexpectedPacket),
        _ => return Err(Error::MalformedPacket),
    };
    let (len, rest) = body
        .split_first_chunk::<2>()
        .ok_or(Error::MalformedPacket)?;
    let topic_len = u16::from_be_bytes(*len) as usize;
    if topic_len == 0 {
        return Err(Error::InvalidTopic);
    }
    let (topic, rest) = rest
        .split_at_checked(topic_len)
        .ok_or(Error::MalformedPacket)?;
    let (packet_id, payload) = if qos == QoS::AtLeastOnce {
        let (id, rest) = rest
            .split_first_chunk::<2>()
            .ok_or(Error::MalformedPacket)?;
        match u16::from_be_bytes(*id) {
            0 => return Err(Error::MalformedPacket),
            id => (id, rest),
        }
    } else {
        (0, rest)
    };
    let topic = decode_topic_name(topic)?;
    Ok(Publish {
        topic,
        payload,
        qos,
        retain: first & 0x01 != 0,
        dup: first & DUP_FLAG != 0,
        packet_id,
    })
}
