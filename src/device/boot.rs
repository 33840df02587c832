//! The boot counter and the readings' sequence numbers, kept across
//! reboots in the port's store (`App::store_read` / `App::store_write`).
//!
//! Two records ([`RECORDS`]) are written in turn, so a write torn by a
//! power cut leaves the other one intact; each is a CBOR map
//! `{0: boot, 1: seq_limit}` followed by its CRC-32 (little-endian), and
//! a record whose CRC or CBOR does not check out is skipped. At boot the
//! newer valid record gives the boot number (plus one) and where `seq`
//! goes on; `seq` numbers are reserved [`SEQ_BLOCK`] at a time, so there
//! is one store write per `SEQ_BLOCK` readings, and after a power cut at
//! most `SEQ_BLOCK` numbers are skipped, never reused. A receiver tells a
//! reboot from a replay by `boot`, and finds every gap and duplicate by
//! (`boot`, `seq`).

use crate::device::app::App;
use crate::seal::{kept_uint, seal, unseal, CRC_LEN};
use crate::{Error, Result};
use minicbor::{Decoder, Encoder};

/// The store ids of the two records, written in turn.
pub const RECORDS: [u16; 2] = [1, 2];

/// Sequence numbers reserved per store write.
pub const SEQ_BLOCK: u32 = 256;

/// Longest encoded record: a map of two `u32`s and the CRC.
const MAX_LEN: usize = 1 + 2 * (1 + 5) + 4;

/// Where the numbering stands, while the device runs with a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counters {
    /// This boot's number (1 for the first boot with an empty store).
    pub boot: u32,
    /// `seq` may go up to this value (reserved in the store).
    pub seq_limit: u32,
    /// Records written this boot (picks the next record id).
    writes: u32,
}

impl Counters {
    /// Reads the records, counts this boot and reserves the first block:
    /// `(counters, first seq - 1)`. `None` when the app has no store.
    /// Errors: the store's write error (then nothing is persisted).
    pub fn start<A: App>(app: &mut A) -> Result<Option<(Counters, u32)>> {
        if !app.has_store() {
            return Ok(None);
        }
        let mut last: Option<(u32, u32)> = None;
        // The first write goes to the record that does not hold the newest
        // valid state, so a write torn now leaves that state readable.
        let mut writes = 0;
        for (k, id) in RECORDS.into_iter().enumerate() {
            let mut buf = [0u8; MAX_LEN];
            // A record that cannot be read or does not check out is skipped.
            if let Ok(Some(len)) = app.store_read(id, &mut buf) {
                if let Some(found) = buf.get(..len).and_then(decode) {
                    if last.is_none_or(|l| found > l) {
                        last = Some(found);
                        writes = k as u32 + 1;
                    }
                }
            }
        }
        let (boot, seq) = last.map_or((1, 0), |(boot, limit)| (boot.wrapping_add(1).max(1), limit));
        let mut counters = Counters {
            boot,
            seq_limit: seq,
            writes,
        };
        counters.reserve(app)?;
        Ok(Some((counters, seq)))
    }

    /// Reserves the next block of sequence numbers in the store.
    pub fn reserve<A: App>(&mut self, app: &mut A) -> Result<()> {
        let limit = self.seq_limit.wrapping_add(SEQ_BLOCK);
        let mut buf = [0u8; MAX_LEN];
        let len = encode(self.boot, limit, &mut buf)?;
        let id = RECORDS[(self.writes % 2) as usize];
        app.store_write(id, buf.get(..len).unwrap_or_default())?;
        self.writes = self.writes.wrapping_add(1);
        self.seq_limit = limit;
        Ok(())
    }
}

/// `{0: boot, 1: limit}` and its CRC-32 into `out`.
fn encode(boot: u32, limit: u32, out: &mut [u8; MAX_LEN]) -> Result<usize> {
    let mut e = Encoder::new(crate::writer::TextWriter::new(
        &mut out[..MAX_LEN - CRC_LEN],
    ));
    e.map(2)
        .and_then(|e| e.u64(0))
        .and_then(|e| e.u64(u64::from(boot)))
        .and_then(|e| e.u64(1))
        .and_then(|e| e.u64(u64::from(limit)))
        .map_err(|_| Error::BufferTooSmall)?;
    let len = e.writer().len();
    seal(out, 0..len)
}

/// A record's `(boot, limit)`, if its CRC and CBOR check out.
fn decode(record: &[u8]) -> Option<(u32, u32)> {
    let cbor = unseal(record)?;
    let mut d = Decoder::new(cbor);
    if d.map().ok()? != Some(2) || kept_uint::<u8>(&mut d)? != 0 {
        return None;
    }
    let boot = kept_uint(&mut d)?;
    if kept_uint::<u8>(&mut d)? != 1 {
        return None;
    }
    let limit = kept_uint(&mut d)?;
    (d.position() == cbor.len()).then_some((boot, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_any_damage_is_refused() {
        let mut buf = [0u8; MAX_LEN];
        let len = encode(7, 1792, &mut buf).unwrap();
        assert_eq!(decode(&buf[..len]), Some((7, 1792)));
        for cut in 0..len {
            assert_eq!(decode(&buf[..cut]), None, "torn at {cut}");
        }
        for i in 0..len {
            for bit in 0..8 {
                let mut bad = buf;
                bad[i] ^= 1 << bit;
                assert_eq!(decode(&bad[..len]), None, "bit {bit} of byte {i}");
            }
        }
    }
}
