//! Eight bytes at a time ("SIMD within a register"): the topic writers and
//! parsers load and test a whole `u64` of text per step instead of one
//! byte.
//!
//! Bytes are packed little-endian (`text[0]` is the lowest byte) whatever
//! the target, so "the first flagged byte" is always the lowest one. A
//! *mask* has bit 7 of each byte set where that byte has the property
//! tested and every other bit clear.

/// `0x01` in every byte.
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte: the flag bit of a mask.
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;

/// `a` in every byte: the padding that makes a short last word of a path
/// a whole one for the word checks (a letter is a segment byte, stays as
/// it is when percent-encoded, and is no separator).
pub(crate) const PAD: u64 = splat(b'a');

/// `b` in every byte.
#[inline(always)]
pub(crate) const fn splat(b: u8) -> u64 {
    LO.wrapping_mul(b as u64)
}

/// Up to eight bytes of `s` packed little-endian, zero-filled above
/// `s.len()` (only the first eight bytes of a longer `s`).
#[inline]
pub(crate) fn load(s: &[u8]) -> u64 {
    if let [a, b, c, d, e, f, g, h, ..] = *s {
        return u64::from_le_bytes([a, b, c, d, e, f, g, h]);
    }
    // Shorter: two overlapping loads cover every length; the bytes they
    // share are the same, so OR-ing them is exact.
    let n = s.len();
    let tail = |k: usize| s.get(n.wrapping_sub(k)..).unwrap_or_default();
    if let ([a, b, c, d, ..], [w, x, y, z]) = (s, tail(4)) {
        let head = u32::from_le_bytes([*a, *b, *c, *d]);
        let tail = u32::from_le_bytes([*w, *x, *y, *z]);
        return u64::from(head) | (u64::from(tail) << (8 * (n - 4)));
    }
    if let ([a, b, ..], [y, z]) = (s, tail(2)) {
        let head = u16::from_le_bytes([*a, *b]);
        let tail = u16::from_le_bytes([*y, *z]);
        return u64::from(head) | (u64::from(tail) << (8 * (n - 2)));
    }
    s.first().map_or(0, |&b| u64::from(b))
}

/// The index of the first flagged byte of `mask`, 8 if there is none.
#[inline(always)]
pub(crate) const fn first(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The flags of the bytes equal to `b` (any byte values).
#[inline(always)]
pub(crate) const fn equal(v: u64, b: u8) -> u64 {
    let x = v ^ splat(b);
    // A byte is non-zero iff its low seven bits carry into bit 7 or bit 7
    // is set already; exact per byte, unlike the classic zero-byte trick.
    !((x & !HI).wrapping_add(!HI) | x) & HI
}

/// The last eight bytes of `s`, if it has eight. (`<[u8]>::last_chunk`
/// stays an out-of-line call in the size-optimised build; this is a length
/// test.)
#[inline(always)]
pub(crate) fn last_word(s: &[u8]) -> Option<&[u8; 8]> {
    s.get(s.len().checked_sub(8)?..)?.first_chunk::<8>()
}

/// Index of the first `needle` in `s`, eight bytes at a time. The last
/// word overlaps the one before it, so there is no loop over a tail.
#[inline]
pub(crate) fn find(s: &[u8], needle: u8) -> Option<usize> {
    let Some(last) = last_word(s) else {
        // Shorter than a word: only its own bytes may be flagged.
        if s.is_empty() {
            return None;
        }
        let hit = equal(load(s), needle) & (HI >> (64 - 8 * s.len()));
        return (hit != 0).then(|| first(hit));
    };
    let mut base = 0usize;
    let mut rest = s;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        let hit = equal(u64::from_le_bytes(*chunk), needle);
        if hit != 0 {
            return Some(base + first(hit));
        }
        base += 8;
        rest = tail;
    }
    // The bytes before `base` hold no `needle`, so the first hit of the
    // overlapping last word is the first one.
    let hit = equal(u64::from_le_bytes(*last), needle);
    (hit != 0).then(|| s.len() - 8 + first(hit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(mask: u64) -> std::vec::Vec<bool> {
        mask.to_le_bytes().iter().map(|&b| b == 0x80).collect()
    }

    #[test]
    fn masks_agree_with_byte_tests() {
        for base in (0..=255u8).step_by(8) {
            let bytes: [u8; 8] = core::array::from_fn(|i| base + i as u8);
            let v = u64::from_le_bytes(bytes);
            for needle in [0u8, b'/', 0x7f, 0x80, 0xff] {
                assert_eq!(flags(equal(v, needle)), bytes.map(|b| b == needle).to_vec());
            }
        }
    }

    #[test]
    fn load_packs_any_length() {
        let s = b"abcdefghij";
        for n in 0..=10 {
            let mut want = [0u8; 8];
            let k = n.min(8);
            want[..k].copy_from_slice(&s[..k]);
            assert_eq!(load(&s[..n]), u64::from_le_bytes(want), "{n}");
        }
    }

    #[test]
    fn find_agrees_with_position() {
        let long = b"0123456789abcdef/0123456789/x";
        for n in 0..=long.len() {
            let s = &long[..n];
            for needle in [b'0', b'7', b'f', b'/', b'x', b'9', b'#', 0x80, 0] {
                assert_eq!(find(s, needle), s.iter().position(|&b| b == needle));
            }
        }
        assert_eq!(find(&[0x81, 0x00, b'/'], b'/'), Some(2));
        assert_eq!(find(&[0xff; 9], 0xfe), None);
        assert_eq!(find(&[0x01, 0x00], 0x00), Some(1));
        assert_eq!(first(0), 8);
    }
}
