//! Records sealed with a CRC-32: the provisioning record
//! ([`record`](crate::record)) and what the client keeps in the storage
//! port (the boot counter, queued readings) are CBOR followed by the
//! CRC-32 of it, 4 bytes little-endian.

use core::ops::Range;

use minicbor::Decoder;

use crate::{Error, Result};

/// Bytes of the CRC-32 after a record's CBOR.
pub const CRC_LEN: usize = 4;

/// The CRC-32 of zlib, PNG and Ethernet (reflected polynomial 0xEDB88320,
/// initial and final XOR 0xFFFFFFFF), bit by bit: no table, a few dozen
/// bytes of code, ample for a record read once at boot.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Seals the record whose CBOR is `buf[cbor]`: writes the CRC-32 of it
/// right after it and returns where the sealed record ends.
/// [`Error::BufferTooSmall`] when the CRC does not fit. Inlined into
/// its three writers: a call costs 68 B more flash than the copies.
#[inline(always)]
pub(crate) fn seal(buf: &mut [u8], cbor: Range<usize>) -> Result<usize> {
    let crc = crc32(buf.get(cbor.clone()).ok_or(Error::BufferTooSmall)?).to_le_bytes();
    let tail = buf
        .get_mut(cbor.end..)
        .and_then(<[u8]>::first_chunk_mut::<CRC_LEN>);
    *tail.ok_or(Error::BufferTooSmall)? = crc;
    Ok(cbor.end + CRC_LEN)
}

/// The CBOR of a record the client keeps in the storage port (its CBOR,
/// then the CRC-32 of it, little-endian), if the CRC matches.
pub(crate) fn unseal(record: &[u8]) -> Option<&[u8]> {
    let (cbor, crc) = record.split_at_checked(record.len().checked_sub(CRC_LEN)?)?;
    (crc32(cbor).to_le_bytes() == *crc).then_some(cbor)
}

/// The next CBOR item of a kept record as an unsigned integer that fits
/// `T`. One decoder call for every width: each of minicbor's `u8`, `u16`
/// and `u32` is its own few hundred bytes of flash.
pub(crate) fn kept_uint<T: TryFrom<u64>>(d: &mut Decoder<'_>) -> Option<T> {
    T::try_from(d.u64().ok()?).ok()
}
