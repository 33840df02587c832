//! A bounded writer over a caller buffer: every push fails with
//! [`Error::BufferTooSmall`] instead of overflowing.

use crate::{Error, Result};

/// Appends bytes to a caller buffer, tracking the written length.
pub(crate) struct Writer<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> Writer<'b> {
    /// A writer at the start of `buf`.
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Appends one byte.
    #[inline]
    pub(crate) fn push(&mut self, byte: u8) -> Result<()> {
        let slot = self.buf.get_mut(self.len).ok_or(Error::BufferTooSmall)?;
        *slot = byte;
        self.len += 1;
        Ok(())
    }

    /// Appends a byte slice.
    #[inline]
    pub(crate) fn push_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(Error::BufferTooSmall)?;
        let dst = self
            .buf
            .get_mut(self.len..end)
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends a string.
    #[inline]
    pub(crate) fn push_str(&mut self, s: &str) -> Result<()> {
        self.push_bytes(s.as_bytes())
    }

    /// Appends `value` in decimal.
    pub(crate) fn push_u64(&mut self, value: u64) -> Result<()> {
        let mut digits = [0u8; 20];
        let text = format_u64(value, &mut digits);
        self.push_bytes(text)
    }

    /// Appends `%XX` (uppercase hex) for `byte`.
    #[inline]
    pub(crate) fn push_percent(&mut self, byte: u8) -> Result<()> {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.push_bytes(&[
            b'%',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0x0f)],
        ])
    }

    /// The bytes written so far.
    pub(crate) fn written(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The written text. Everything pushed is UTF-8 (copied `str`s and
    /// ASCII), so the check cannot fail; it is kept because the core has no
    /// `unsafe`.
    pub(crate) fn finish(self) -> Result<&'b str> {
        let Writer { buf, len } = self;
        let bytes = buf.get(..len).ok_or(Error::BufferTooSmall)?;
        core::str::from_utf8(bytes).map_err(|_| Error::InvalidString)
    }
}

/// Formats `value` in decimal into `digits`, returning the used tail.
pub(crate) fn format_u64(mut value: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    loop {
        start -= 1;
        // `value % 10` < 10, so the cast cannot truncate.
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    &digits[start..]
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
        let mut w = Writer::new(&mut buf);
        w.push_str("ab").unwrap();
        assert_eq!(w.push_str("cde"), Err(Error::BufferTooSmall));
        w.push(b'c').unwrap();
        w.push_percent(b'$').map(|_| ()).unwrap_err();
        assert_eq!(w.finish().unwrap(), "abc");
    }

    #[test]
    fn decimal_round_trip() {
        let mut d = [0u8; 20];
        assert_eq!(format_u64(0, &mut d), b"0");
        assert_eq!(format_u64(u64::MAX, &mut d), b"18446744073709551615");
        assert_eq!(parse_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64("18446744073709551616"), None);
        assert_eq!(parse_u64(""), None);
        assert_eq!(parse_u64("+1"), None);
        assert_eq!(parse_u64("12a"), None);
    }
}
