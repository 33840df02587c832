//! The dialects' text writer: cloud topics, generic topics, the Azure
//! username and SAS strings, into a caller buffer. Every push fails with
//! [`Error::BufferTooSmall`] instead of overflowing. (Payloads have their
//! own writer, [`crate::writer::TextWriter`].)

use super::swar::{last_word, load};
use super::topic::Topic;
use crate::{Error, Result};

/// Appends bytes to a caller buffer, tracking the written length.
///
/// It also tracks whether the text is UTF-8 by construction (only `str`s
/// and ASCII were pushed), so that [`TopicWriter::finish_topic`] can skip the
/// validation pass that turning bytes into text otherwise costs.
pub(crate) struct TopicWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
    /// Every byte pushed came from a `str` or was ASCII.
    utf8: bool,
}

impl<'b> TopicWriter<'b> {
    /// A writer at the start of `buf`.
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        TopicWriter {
            buf,
            len: 0,
            utf8: true,
        }
    }

    /// Appends one byte (any byte; a non-ASCII one makes
    /// [`finish_topic`](Self::finish_topic) validate).
    #[inline]
    pub(crate) fn push(&mut self, byte: u8) -> Result<()> {
        let slot = self.buf.get_mut(self.len).ok_or(Error::BufferTooSmall)?;
        *slot = byte;
        self.len += 1;
        self.utf8 &= byte.is_ascii();
        Ok(())
    }

    /// Stores `word` and keeps its low `n` bytes (`n <= 8`, packed
    /// little-endian, see [`super::swar`]). When eight bytes are free it
    /// stores the whole word in one go: the bytes after the written text
    /// are scratch, overwritten by the next push or left unused.
    #[inline(always)]
    pub(crate) fn put_word(&mut self, word: u64, n: usize) -> Result<()> {
        let bytes = word.to_le_bytes();
        match self
            .buf
            .get_mut(self.len..)
            .map(<[u8]>::first_chunk_mut::<8>)
        {
            Some(Some(dst)) if n <= 8 => *dst = bytes,
            _ => {
                let kept = bytes.get(..n).ok_or(Error::InvalidArgument)?;
                let end = self.len.checked_add(n).ok_or(Error::BufferTooSmall)?;
                self.buf
                    .get_mut(self.len..end)
                    .ok_or(Error::BufferTooSmall)?
                    .copy_from_slice(kept);
            }
        }
        self.len += n;
        Ok(())
    }

    /// The free space after the written text.
    #[inline(always)]
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        self.buf.get_mut(self.len..).unwrap_or_default()
    }

    /// Counts `n` more bytes, written into [`spare`](Self::spare) (ASCII
    /// only), as written.
    #[inline(always)]
    pub(crate) fn commit(&mut self, n: usize) -> Result<()> {
        let end = self.len.checked_add(n).ok_or(Error::BufferTooSmall)?;
        if end > self.buf.len() {
            return Err(Error::BufferTooSmall);
        }
        debug_assert!(self.buf.get(self.len..end).is_some_and(<[u8]>::is_ascii));
        self.len = end;
        Ok(())
    }

    /// Appends ASCII bytes (others make
    /// [`finish_topic`](Self::finish_topic) validate).
    #[inline]
    pub(crate) fn push_ascii(&mut self, bytes: &[u8]) -> Result<()> {
        self.utf8 &= bytes.is_ascii();
        self.push_bytes(bytes)
    }

    /// Appends a byte slice that keeps the text UTF-8 (callers: `str`s and
    /// ASCII only).
    #[inline]
    fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.push_bytes_inline(bytes)
    }

    /// [`push_str`](Self::push_str), inlined into its caller: for the few
    /// hot paths where the writer then stays in registers.
    #[inline(always)]
    pub(crate) fn push_str_inline(&mut self, s: &str) -> Result<()> {
        self.push_bytes_inline(s.as_bytes())
    }

    /// The body of [`push_bytes`](Self::push_bytes).
    #[inline(always)]
    fn push_bytes_inline(&mut self, bytes: &[u8]) -> Result<()> {
        let n = bytes.len();
        let Some(last) = last_word(bytes) else {
            // Short texts (the usual topic parts): a store or two.
            return self.put_word(load(bytes), n);
        };
        let end = self.len.checked_add(n).ok_or(Error::BufferTooSmall)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        if n > 32 {
            dst.copy_from_slice(bytes);
        } else {
            // Up to four words: the first two and the last two, which may
            // overlap them (storing a byte twice changes nothing). No call,
            // no loop over a tail.
            copy_word(dst, bytes, 0);
            copy_word(dst, bytes, (n - 8).min(8));
            copy_word(dst, bytes, n.saturating_sub(16));
            if let Some(d) = dst.get_mut(n - 8..).and_then(<[u8]>::first_chunk_mut::<8>) {
                *d = *last;
            }
        }
        self.len = end;
        Ok(())
    }

    /// Appends an ASCII literal: a few stores of constants, no loop.
    #[inline(always)]
    pub(crate) fn push_lit<const N: usize>(&mut self, lit: &[u8; N]) -> Result<()> {
        debug_assert!(lit.is_ascii());
        let dst = self
            .buf
            .get_mut(self.len..)
            .and_then(<[u8]>::first_chunk_mut::<N>)
            .ok_or(Error::BufferTooSmall)?;
        *dst = *lit;
        self.len += N;
        Ok(())
    }

    /// Appends a string.
    #[inline]
    pub(crate) fn push_str(&mut self, s: &str) -> Result<()> {
        self.push_bytes(s.as_bytes())
    }

    /// Appends `value` in decimal.
    pub(crate) fn push_u64(&mut self, value: u64) -> Result<()> {
        self.push_bytes(crate::writer::digits(value, 1, &mut [0; 20]))
    }

    /// Appends `value` in decimal: one store for its up to five digits.
    #[inline(always)]
    pub(crate) fn push_u16(&mut self, value: u16) -> Result<()> {
        let mut digits = 0u64;
        let mut n = 0;
        let mut v = value;
        loop {
            // Shifted in from the front: the last digit computed is the
            // first written. `v % 10` < 10, so the cast cannot truncate.
            digits = (digits << 8) | u64::from(b'0' + (v % 10) as u8);
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.put_word(digits, n)
    }

    /// Appends `%XX` (uppercase hex) for `byte`.
    #[inline(always)]
    pub(crate) fn push_percent(&mut self, byte: u8) -> Result<()> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let hi = HEX[usize::from(byte >> 4)];
        let lo = HEX[usize::from(byte & 0x0f)];
        self.put_word(u64::from_le_bytes([b'%', hi, lo, 0, 0, 0, 0, 0]), 3)
    }

    /// The bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The written text, validated: [`Error::InvalidString`] if the bytes
    /// pushed do not make UTF-8.
    pub(crate) fn finish(self) -> Result<&'b str> {
        let bytes = self.buf.get(..self.len).ok_or(Error::BufferTooSmall)?;
        core::str::from_utf8(bytes).map_err(|_| Error::InvalidString)
    }

    /// The written topic. When only `str`s and ASCII were pushed the bytes
    /// are UTF-8 by construction and are not validated again.
    #[inline]
    pub(crate) fn finish_topic(self, max_payload: usize) -> Result<Topic<'b>> {
        self.finish_topic_inline(max_payload)
    }

    /// [`finish_topic`](Self::finish_topic), inlined into its caller (see
    /// [`push_str_inline`](Self::push_str_inline)).
    #[inline(always)]
    pub(crate) fn finish_topic_inline(self, max_payload: usize) -> Result<Topic<'b>> {
        if self.utf8 {
            let bytes = self.buf.get(..self.len).ok_or(Error::BufferTooSmall)?;
            return Ok(Topic::from_utf8_bytes(bytes, max_payload));
        }
        self.finish().map(|text| Topic::new(text, max_payload))
    }
}

/// Copies the eight bytes of `src` at `at` to `dst` at `at`, when both
/// have them.
#[inline(always)]
fn copy_word(dst: &mut [u8], src: &[u8], at: usize) {
    let d = dst.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<8>);
    let s = src.get(at..).and_then(<[u8]>::first_chunk::<8>);
    if let (Some(d), Some(s)) = (d, s) {
        *d = *s;
    }
}

/// Parses a non-empty decimal number without sign or leading `+`; `None`
/// on any other byte or on overflow.
pub(crate) fn parse_u64(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for &b in text.as_bytes() {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_refuses_overflow_and_keeps_what_fit() {
        let mut buf = [0u8; 4];
        let mut w = TopicWriter::new(&mut buf);
        w.push_str("ab").unwrap();
        assert_eq!(w.push_str("cde"), Err(Error::BufferTooSmall));
        w.push(b'c').unwrap();
        w.push_percent(b'$').map(|_| ()).unwrap_err();
        assert_eq!(w.finish().unwrap(), "abc");
    }

    #[test]
    fn texts_of_every_length_are_copied_exactly() {
        let text = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
        for n in 0..=text.len() {
            for room in [n, n + 1, n + 8, 64] {
                let mut buf = [b'#'; 64];
                let mut w = TopicWriter::new(&mut buf[..room]);
                let pushed = w.push_lit(b"<").and_then(|()| w.push_str(&text[..n]));
                if room < n + 1 {
                    assert_eq!(pushed, Err(Error::BufferTooSmall), "{n} {room}");
                    continue;
                }
                pushed.unwrap();
                assert_eq!(
                    w.finish().unwrap(),
                    std::format!("<{}", &text[..n]),
                    "{n} {room}"
                );
            }
        }
    }

    #[test]
    fn short_decimals_are_written_in_order() {
        for value in [0u16, 7, 10, 42, 999, 1000, 12345, u16::MAX] {
            let mut buf = [0u8; 16];
            let mut w = TopicWriter::new(&mut buf);
            w.push_lit(b"<").unwrap();
            w.push_u16(value).unwrap();
            w.push_lit(b">").unwrap();
            assert_eq!(w.finish().unwrap(), std::format!("<{value}>"));
        }
        let mut buf = [0u8; 4];
        let mut w = TopicWriter::new(&mut buf);
        assert_eq!(w.push_u16(12345), Err(Error::BufferTooSmall));
    }

    #[test]
    fn decimal_round_trip() {
        let mut d = [0u8; 20];
        assert_eq!(crate::writer::digits(0, 1, &mut d), b"0");
        assert_eq!(
            crate::writer::digits(u64::MAX, 1, &mut d),
            b"18446744073709551615"
        );
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64("12a"), None);
    }
}
