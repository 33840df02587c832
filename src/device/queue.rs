//! The persisted queue of QoS 1 readings: what a power cut or an outage
//! must not lose.
//!
//! With a store and [`Settings::queue_len`](super::Settings::queue_len)
//! slots, every QoS 1 reading the client accepts is written to the store
//! as one record *before* the call reports success, and deleted (a record
//! of length 0) when its PUBACK arrives. The in-flight window on the wire
//! (`MAX_INFLIGHT` minus the control slots) and the queue behind it are
//! separate bounds: the queue holds `queue_len` readings, whatever the
//! window.
//!
//! - Records `QUEUE_FIRST + index % queue_len` hold publish `index` (a
//!   `u32` that only grows), a reading or an event ([`Kind`]): a CBOR
//!   array `[index, packet_id, kind, sensor, payload]` followed by its
//!   CRC-32. A record whose CRC or CBOR
//!   does not check out (a write torn by a power cut) is skipped: its
//!   reading had not been accepted yet, as its write had not returned.
//! - A reading goes straight into the window when nothing waits before it
//!   and the window and the rate limit have room; its record then carries
//!   its packet id. Otherwise it waits in the store, and `poll` hands the
//!   waiting ones to the window in order, as the window and the client's
//!   rate limit allow, while connected.
//! - At boot the records are read back: the oldest ones that carry a
//!   packet id go into the window with that id and DUP set, as they were
//!   before the power cut (on a new session the engine sends them as new
//!   publishes); every later one waits its turn. So after a reboot the
//!   readings go out in order, before any new one.
//! - When the queue is full, [`QueuePolicy`] decides: refuse the new
//!   reading (`Busy`) or drop the oldest. Both are counted, and said in the
//!   next reading (`refused`, `dropped`).
//!
//! Store writes: two per reading (the record, then its deletion), plus the
//! boot record once per [`SEQ_BLOCK`](super::boot::SEQ_BLOCK) readings.
//! With [`Settings::queue_backlog_only`](super::Settings::queue_backlog_only),
//! a reading that goes straight into the window is not written at all: no
//! store write while the link keeps up, and a power cut may then cost the
//! readings in the window (at most `MAX_INFLIGHT - CONTROL_SLOTS`, sent
//! and not yet acknowledged); those that waited are persisted as above.

use crate::bounds::MAX_INFLIGHT;
use crate::cloud::{Cloud, Dialect, EncodedProperties, Topic};
use crate::device::sensor::Encoding;
use crate::device::settings::Settings;
use crate::mqtt::QoS;
use crate::seal::{self, kept_uint, unseal};
use crate::writer::TextWriter;
use crate::{Error, Result};
use minicbor::{Decoder, Encoder};

use super::actions::{event_topic, publish_built, ClientOutbox, CONTROL_SLOTS, MAX_TOPIC_LEN};

/// The store id of the first queue slot (ids below are the boot records).
pub const QUEUE_FIRST: u16 = 16;

/// Slots of the queue by default.
pub const DEFAULT_QUEUE_LEN: u16 = 64;

/// Bytes kept in front of a reading in the work buffer for its record's
/// header (the longest header: array, `u32`, `u16`, the kind, `u16` and
/// the byte-string length).
pub const HEADER_ROOM: usize = 1 + 5 + 3 + 3 + 1 + 5;

/// What a reading needs in the work buffer beyond its payload.
pub const RECORD_OVERHEAD: usize = HEADER_ROOM + 4;

/// What a full queue does with a new reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Refuse it with `Busy` (counted as `refused`): what was accepted
    /// stays.
    #[default]
    RefuseNew,
    /// Drop the oldest reading to make room (counted as `dropped`; one
    /// already in flight may still arrive).
    DropOldest,
}

/// The persistent port the queue writes to (the application's store).
pub trait Store {
    /// Record `id` into `buf`: its length, or `None` when there is none.
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<Option<usize>>;
    /// Writes record `id` whole; an empty `data` deletes it.
    fn write(&mut self, id: u16, data: &[u8]) -> Result<()>;
}

impl<A: super::App> Store for A {
    fn read(&mut self, id: u16, buf: &mut [u8]) -> Result<Option<usize>> {
        self.store_read(id, buf)
    }

    fn write(&mut self, id: u16, data: &[u8]) -> Result<()> {
        self.store_write(id, data)
    }
}

/// What a queued publish is; its topic follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A reading of a sensor (`<dev>/response/sensor/<id>/reading`).
    Reading {
        /// The sensor.
        sensor: u16,
        /// How its payload is encoded (Azure marks CBOR).
        encoding: Encoding,
    },
    /// An event (`<dev>/events`).
    Event,
}

impl Kind {
    /// `(code, sensor)` as a record holds them.
    fn code(self) -> (u8, u16) {
        match self {
            Kind::Reading {
                sensor,
                encoding: Encoding::Json,
            } => (0, sensor),
            Kind::Reading {
                sensor,
                encoding: Encoding::Cbor,
            } => (1, sensor),
            Kind::Event => (2, 0),
        }
    }

    fn from_code(code: u8, sensor: u16) -> Option<Kind> {
        match code {
            0 => Some(Kind::Reading {
                sensor,
                encoding: Encoding::Json,
            }),
            1 => Some(Kind::Reading {
                sensor,
                encoding: Encoding::Cbor,
            }),
            2 => Some(Kind::Event),
            _ => None,
        }
    }
}

/// A decoded record.
struct Record<'a> {
    index: u32,
    packet_id: u16,
    kind: Kind,
    payload: &'a [u8],
}

/// A reading in the in-flight window.
#[derive(Clone, Copy, Debug)]
struct InFlight {
    packet_id: u16,
    /// Its record in the store, if it has one (see `backlog_only`).
    record: bool,
    index: u32,
}

/// The queue's state in RAM: three numbers and the window's ids.
#[derive(Debug)]
pub struct Queue {
    /// Slots in the store (0: no queue).
    slots: u16,
    policy: QueuePolicy,
    /// The next reading to hand to the window.
    next: u32,
    /// The index the next accepted reading gets.
    tail: u32,
    /// The readings in the window.
    window: heapless::Vec<InFlight, MAX_INFLIGHT>,
    /// Only readings that cannot go straight into the window are written
    /// (no store write while the link keeps up; a power cut may then cost
    /// the readings in the window, at most `MAX_INFLIGHT - CONTROL_SLOTS`).
    backlog_only: bool,
    /// Readings dropped by [`QueuePolicy::DropOldest`] since boot.
    pub dropped: u32,
}

impl Queue {
    /// No queue (no store, or `queue_len` 0).
    pub const fn off() -> Self {
        Queue {
            slots: 0,
            policy: QueuePolicy::RefuseNew,
            next: 0,
            tail: 0,
            window: heapless::Vec::new(),
            backlog_only: false,
            dropped: 0,
        }
    }

    /// Whether readings are persisted.
    pub fn is_on(&self) -> bool {
        self.slots != 0
    }

    /// Readings accepted and not yet acknowledged (in the window or
    /// waiting in the store).
    pub fn queued(&self) -> u32 {
        self.tail.wrapping_sub(self.head())
    }

    /// The oldest reading still held.
    fn head(&self) -> u32 {
        self.window
            .iter()
            .filter(|w| w.record)
            .map(|w| w.index)
            .min()
            .unwrap_or(self.next)
    }

    fn slot(&self, index: u32) -> u16 {
        QUEUE_FIRST + (index % u32::from(self.slots)) as u16
    }

    /// Reads the queue back at boot: finds the readings still held,
    /// puts the oldest ones that were in flight back into the window with
    /// their packet ids, and leaves the others waiting. Records that do not
    /// check out are skipped. `work` is the client's work buffer.
    pub fn start(
        store: &mut dyn Store,
        settings: &Settings<'_>,
        outbox: &mut ClientOutbox<'_>,
        dialect: &Dialect<'_>,
        work: &mut [u8],
    ) -> Queue {
        let slots = settings.queue_len;
        let mut q = Queue {
            slots,
            policy: settings.queue_policy,
            backlog_only: settings.queue_backlog_only,
            ..Queue::off()
        };
        if slots == 0 {
            return q;
        }
        // The newest record gives the end; the live ones are the `slots`
        // indexes before it (older leftovers, e.g. a failed deletion, are
        // outside that range and ignored).
        let mut last: Option<u32> = None;
        for k in 0..slots {
            if let Some(r) = read_record(store, QUEUE_FIRST + k, work) {
                last = Some(last.map_or(r.index, |l| l.max(r.index)));
            }
        }
        let Some(last) = last else {
            return q;
        };
        let first = last.saturating_sub(u32::from(slots) - 1);
        q.tail = last.wrapping_add(1);
        q.next = first;
        // Skip what the range no longer holds, and put the prefix that was
        // in flight back into the window; the first reading that was not
        // (or does not fit) and all after it wait their turn.
        while q.next != q.tail {
            let id = q.slot(q.next);
            if let Some(r) = read_record(store, id, work).filter(|r| r.index == q.next) {
                if r.packet_id == 0 || q.window.is_full() {
                    break;
                }
                let mut topic = [0u8; MAX_TOPIC_LEN];
                let restored = topic_of(dialect, r.kind, &mut topic)
                    .and_then(|t| outbox.restore(r.packet_id, t.as_str(), r.payload));
                let entry = InFlight {
                    packet_id: r.packet_id,
                    record: true,
                    index: q.next,
                };
                if restored.is_err() || q.window.push(entry).is_err() {
                    break;
                }
            }
            q.next = q.next.wrapping_add(1);
        }
        q
    }

    /// Accepts the publish `work[HEADER_ROOM..HEADER_ROOM + len]` of
    /// `kind`: checks it against the cloud's rules (so that nothing is
    /// queued that the cloud would refuse), makes room by the policy, sends
    /// it now if nothing waits, the window has room and the rate limit
    /// `take` allows (it then returns its packet id), and writes its
    /// record. Errors: the guard's (topic, QoS, payload limit), `Busy`
    /// (full and refusing), `BufferTooSmall` (no room for the record in
    /// `work`), the store's write error (then nothing was accepted), the
    /// publish errors other than `Busy`.
    #[allow(clippy::too_many_arguments)]
    pub fn accept(
        &mut self,
        store: &mut dyn Store,
        outbox: &mut ClientOutbox<'_>,
        dialect: &Dialect<'_>,
        kind: Kind,
        work: &mut [u8],
        len: usize,
        take: impl FnOnce() -> bool,
    ) -> Result<Option<u16>> {
        let mut topic = [0u8; MAX_TOPIC_LEN];
        let topic = topic_of(dialect, kind, &mut topic)?;
        // Refused now rather than kept for a cloud that would refuse it.
        if len > topic.max_payload() {
            return Err(Error::PayloadTooLarge);
        }
        if work.len() < HEADER_ROOM + len + 4 {
            return Err(Error::BufferTooSmall);
        }
        if self.queued() >= u32::from(self.slots) {
            match self.policy {
                QueuePolicy::RefuseNew => return Err(Error::Busy),
                QueuePolicy::DropOldest => self.drop_oldest(outbox),
            }
        }
        let mut packet_id = None;
        if self.next == self.tail && room(outbox) && take() {
            let payload = work
                .get(HEADER_ROOM..HEADER_ROOM + len)
                .ok_or(Error::BufferTooSmall)?;
            match publish_built(outbox, topic, payload, QoS::AtLeastOnce) {
                Ok(id) => packet_id = id,
                Err(Error::Busy) => {}
                Err(e) => return Err(e),
            }
        }
        if let (Some(id), true) = (packet_id, self.backlog_only) {
            let entry = InFlight {
                packet_id: id,
                record: false,
                index: 0,
            };
            if self.window.push(entry).is_err() {
                outbox.cancel(id);
                return Err(Error::Busy);
            }
            return Ok(packet_id);
        }
        let index = self.tail;
        let record = Record {
            index,
            packet_id: packet_id.unwrap_or(0),
            kind,
            payload: &[],
        };
        let written = seal(&record, work, len).and_then(|r| store.write(self.slot(index), r));
        if let Err(e) = written {
            if let Some(id) = packet_id {
                outbox.cancel(id);
            }
            return Err(e);
        }
        let entry = |packet_id| InFlight {
            packet_id,
            record: true,
            index,
        };
        match packet_id {
            Some(id) if self.window.push(entry(id)).is_ok() => self.next = index.wrapping_add(1),
            // Cannot happen (the window is as large as the in-flight
            // table); the reading then waits in the store and is sent again.
            Some(id) => {
                outbox.cancel(id);
            }
            None => {}
        }
        self.tail = index.wrapping_add(1);
        Ok(packet_id)
    }

    /// Drops the oldest reading held (from the window if it is there).
    fn drop_oldest(&mut self, outbox: &mut ClientOutbox<'_>) {
        let head = self.head();
        if let Some(pos) = self.window.iter().position(|w| w.record && w.index == head) {
            outbox.cancel(self.window.swap_remove(pos).packet_id);
        } else {
            self.next = self.next.wrapping_add(1);
        }
        self.dropped = self.dropped.saturating_add(1);
    }

    /// A PUBACK: if it is a queued reading's, its record is deleted.
    /// `Ok(true)` when it was one. Errors: the store's (the record stays
    /// and is sent again after a reboot: a duplicate, never a loss).
    pub fn acked(&mut self, store: &mut dyn Store, packet_id: u16) -> Result<bool> {
        let Some(pos) = self.window.iter().position(|w| w.packet_id == packet_id) else {
            return Ok(false);
        };
        let w = self.window.swap_remove(pos);
        if w.record {
            store.write(self.slot(w.index), &[])?;
        }
        Ok(true)
    }

    /// Whether readings wait in the store behind the window.
    pub fn waiting(&self) -> bool {
        self.next != self.tail
    }

    /// Hands the waiting readings to the window, in order, while
    /// connected and the window and the rate limit `take` allow (`take`
    /// says how long to wait for the next token otherwise). Returns in how
    /// many ms the rate limit lets the next one go, if that stopped it.
    /// Errors: the publish errors (the reading then stays waiting).
    pub fn pump(
        &mut self,
        store: &mut dyn Store,
        outbox: &mut ClientOutbox<'_>,
        dialect: &Dialect<'_>,
        work: &mut [u8],
        mut take: impl FnMut() -> core::result::Result<(), u64>,
    ) -> Result<Option<u64>> {
        while self.next != self.tail && outbox.is_connected() && room(outbox) {
            let Some(r) = read_record(store, self.slot(self.next), work) else {
                // Torn (never accepted) or already gone.
                self.next = self.next.wrapping_add(1);
                continue;
            };
            if r.index != self.next {
                self.next = self.next.wrapping_add(1);
                continue;
            }
            if let Err(wait_ms) = take() {
                return Ok(Some(wait_ms));
            }
            let mut topic = [0u8; MAX_TOPIC_LEN];
            let sent = topic_of(dialect, r.kind, &mut topic)
                .and_then(|t| publish_built(outbox, t, r.payload, QoS::AtLeastOnce));
            let id = match sent {
                Ok(Some(id)) => id,
                Err(Error::Busy) => return Ok(None),
                // One the cloud would refuse (its rules changed since it
                // was queued, e.g. another cloud after a reprovisioning):
                // dropped and counted rather than blocking the queue.
                other => {
                    let slot = self.slot(self.next);
                    self.next = self.next.wrapping_add(1);
                    self.dropped = self.dropped.saturating_add(1);
                    store.write(slot, &[])?;
                    return Err(other.err().unwrap_or(Error::InvalidState));
                }
            };
            let entry = InFlight {
                packet_id: id,
                record: true,
                index: self.next,
            };
            if self.window.push(entry).is_err() {
                outbox.cancel(id);
                return Err(Error::Busy);
            }
            self.next = self.next.wrapping_add(1);
        }
        Ok(None)
    }
}

/// Whether telemetry may take another in-flight slot (the last
/// [`CONTROL_SLOTS`] are left to control traffic).
pub(crate) fn room(outbox: &ClientOutbox<'_>) -> bool {
    outbox.in_flight() + CONTROL_SLOTS < MAX_INFLIGHT
}

/// The topic of a queued publish of `kind`.
fn topic_of<'o>(dialect: &Dialect<'_>, kind: Kind, buf: &'o mut [u8]) -> Result<Topic<'o>> {
    match kind {
        Kind::Reading { sensor, encoding } => {
            telemetry_topic(dialect, sensor, encoding == Encoding::Cbor, buf)
        }
        Kind::Event => event_topic(dialect, buf),
    }
}

/// The telemetry topic of `sensor`, with Azure's content type for CBOR.
pub(crate) fn telemetry_topic<'o>(
    dialect: &Dialect<'_>,
    sensor: u16,
    cbor: bool,
    buf: &'o mut [u8],
) -> Result<Topic<'o>> {
    let props = match (dialect.cloud(), cbor) {
        #[cfg(feature = "azure")]
        (Cloud::Azure, true) => CBOR_CONTENT_TYPE,
        _ => EncodedProperties::NONE,
    };
    dialect.telemetry_topic(sensor, props, buf)
}

/// `$.ct=application/cbor`, encoded.
pub(crate) const CBOR_CONTENT_TYPE: EncodedProperties<'static> =
    EncodedProperties::from_encoded("%24.ct=application%2Fcbor");

/// Writes the header of `r` in front of the payload at
/// `work[HEADER_ROOM..HEADER_ROOM + len]` and the CRC behind it: the
/// record, a slice of `work`.
fn seal<'w>(r: &Record<'_>, work: &'w mut [u8], len: usize) -> Result<&'w [u8]> {
    let (code, sensor) = r.kind.code();
    let mut head = [0u8; HEADER_ROOM];
    let mut e = Encoder::new(TextWriter::new(&mut head));
    e.array(5)
        .and_then(|e| e.u64(u64::from(r.index)))
        .and_then(|e| e.u64(u64::from(r.packet_id)))
        .and_then(|e| e.u64(u64::from(code)))
        .and_then(|e| e.u64(u64::from(sensor)))
        .and_then(|e| e.bytes_len(len as u64))
        .map_err(|_| Error::BufferTooSmall)?;
    let hlen = e.writer().len();
    let start = HEADER_ROOM - hlen;
    work.get_mut(start..HEADER_ROOM)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(head.get(..hlen).ok_or(Error::BufferTooSmall)?);
    let sealed = seal::seal(work, start..HEADER_ROOM + len)?;
    work.get(start..sealed).ok_or(Error::BufferTooSmall)
}

/// Reads and checks record `id` into `work`.
fn read_record<'w>(store: &mut dyn Store, id: u16, work: &'w mut [u8]) -> Option<Record<'w>> {
    let len = store.read(id, work).ok()??;
    decode(work.get(..len)?)
}

/// A record, if its CRC and CBOR check out.
fn decode(record: &[u8]) -> Option<Record<'_>> {
    let cbor = unseal(record)?;
    let mut d = Decoder::new(cbor);
    if d.array().ok()? != Some(5) {
        return None;
    }
    let index = kept_uint(&mut d)?;
    let packet_id = kept_uint(&mut d)?;
    let code = kept_uint(&mut d)?;
    let kind = Kind::from_code(code, kept_uint(&mut d)?)?;
    let r = Record {
        index,
        packet_id,
        kind,
        payload: d.bytes().ok()?,
    };
    (d.position() == cbor.len()).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(index: u32, payload: &[u8], work: &mut [u8]) -> usize {
        work[HEADER_ROOM..HEADER_ROOM + payload.len()].copy_from_slice(payload);
        let r = Record {
            index,
            packet_id: 7,
            kind: Kind::Reading {
                sensor: 3,
                encoding: Encoding::Cbor,
            },
            payload: &[],
        };
        let rec = seal(&r, work, payload.len()).unwrap().to_vec();
        work[..rec.len()].copy_from_slice(&rec);
        rec.len()
    }

    #[test]
    fn records_round_trip_and_any_damage_is_refused() {
        for index in [0, 23, 24, 255, 65_536, u32::MAX] {
            let mut work = [0u8; 96];
            let len = sealed(index, b"{\"v\":1}", &mut work);
            let r = decode(&work[..len]).unwrap();
            let kind = Kind::Reading {
                sensor: 3,
                encoding: Encoding::Cbor,
            };
            assert_eq!((r.index, r.packet_id, r.kind), (index, 7, kind));
            assert_eq!(r.payload, b"{\"v\":1}");
            for cut in 0..len {
                assert!(decode(&work[..cut]).is_none(), "torn at {cut}");
            }
            for i in 0..len {
                for bit in 0..8 {
                    let mut bad = work;
                    bad[i] ^= 1 << bit;
                    assert!(decode(&bad[..len]).is_none(), "bit {bit} of byte {i}");
                }
            }
        }
    }

    #[test]
    fn every_kind_survives_its_record_and_unknown_kinds_are_refused() {
        let kinds = [
            Kind::Event,
            Kind::Reading {
                sensor: 65_535,
                encoding: Encoding::Json,
            },
        ];
        for kind in kinds {
            let mut work = [0u8; 64];
            let r = Record {
                index: 9,
                packet_id: 0,
                kind,
                payload: &[],
            };
            let len = seal(&r, &mut work, 0).unwrap().len();
            let start = HEADER_ROOM + 4 - len;
            assert_eq!(
                decode(&work[start..start + len]).map(|r| r.kind),
                Some(kind)
            );
        }
        assert_eq!(Kind::from_code(3, 0), None);
    }

    #[test]
    fn a_work_buffer_without_room_for_the_crc_is_refused() {
        let mut work = [0u8; HEADER_ROOM + 5];
        let r = Record {
            index: 1,
            packet_id: 0,
            kind: Kind::Event,
            payload: &[],
        };
        assert_eq!(seal(&r, &mut work, 5).err(), Some(Error::BufferTooSmall));
    }
}
