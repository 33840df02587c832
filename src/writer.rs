//! The one writer of payloads into a caller buffer: bytes, text and JSON,
//! with no heap and no float formatting. Every layer that writes a payload
//! or a line (shadow/twin payloads, reported information, readings,
//! answers, trace lines) uses it, and the CBOR encoders write through it
//! (kept records, CBOR readings). Cloud topics have their own writer,
//! `cloud::topic_writer::TopicWriter`, which knows its text is UTF-8; MQTT
//! packets theirs, in `mqtt::codec`.

use core::num::NonZeroU16;

use crate::{Error, Result};

/// `n / d` and `n % d` with 32-bit divisions only, 16 bits of `n` at a
/// time. Cortex-M has no 64-bit divide: the library routine the compiler
/// would call for `u64 / u64` costs about 900 B of flash.
pub(crate) fn div_rem(n: u64, d: NonZeroU16) -> (u64, u16) {
    let d = u32::from(d.get());
    let (mut q, mut r) = (0u64, 0u32);
    for shift in [48, 32, 16, 0] {
        // `r < d <= 0xffff`, so this fits in 32 bits.
        let part = (r << 16) | ((n >> shift) as u32 & 0xffff);
        q = (q << 16) | u64::from(part / d);
        r = part % d;
    }
    (q, r as u16)
}

/// The decimal digits of `v`, at least `min` of them (zero-padded; `min`
/// at most 20), at the end of `buf`.
pub(crate) fn digits(v: u64, min: usize, buf: &mut [u8; 20]) -> &[u8] {
    const TEN: NonZeroU16 = NonZeroU16::new(10).unwrap();
    let mut v = v;
    let mut at = buf.len();
    let stop = at.saturating_sub(min);
    // At most 20 digits: `u64::MAX` has 20.
    for d in buf.iter_mut().rev() {
        let (q, r) = match u32::try_from(v) {
            Ok(small) => (u64::from(small / 10), (small % 10) as u16),
            Err(_) => div_rem(v, TEN),
        };
        *d = b'0' + r as u8;
        at -= 1;
        v = q;
        if v == 0 && at <= stop {
            break;
        }
    }
    buf.get(at..).unwrap_or_default()
}

/// Writes text (JSON helpers included) or bytes into a fixed buffer.
/// Every write either fits whole or fails with `BufferTooSmall`, leaving
/// what was written before intact.
///
/// Commas between members are the caller's job (`comma`); strings are
/// escaped per RFC 8259.
///
/// ```
/// use nimbus::writer::TextWriter;
/// let mut buf = [0u8; 32];
/// let mut w = TextWriter::new(&mut buf);
/// w.raw("{").unwrap();
/// w.key("t").unwrap();
/// w.decimal(-2345, 2).unwrap();
/// w.raw("}").unwrap();
/// assert_eq!(w.as_str(), r#"{"t":-23.45}"#);
/// ```
#[derive(Debug)]
pub struct TextWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> TextWriter<'b> {
    /// A writer that fills `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text written so far.
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 strings and ASCII are ever written.
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    /// The text written, for as long as the buffer lives.
    pub fn into_str(self) -> &'b str {
        let written: &'b [u8] = self.buf;
        core::str::from_utf8(written.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    /// Appends raw text (punctuation, pre-validated JSON).
    pub fn raw(&mut self, text: &str) -> Result<()> {
        self.push(text.as_bytes())
    }

    /// Appends bytes as they are.
    pub fn push(&mut self, bytes: &[u8]) -> Result<()> {
        let free = self.buf.get_mut(self.len..).ok_or(Error::BufferTooSmall)?;
        crate::bytes::copy(free, bytes)?;
        self.len += bytes.len();
        Ok(())
    }

    /// Appends one byte.
    pub fn byte(&mut self, b: u8) -> Result<()> {
        self.push(&[b])
    }

    /// Appends `","` when `needed` (after the first member of an object or array).
    pub fn comma(&mut self, needed: bool) -> Result<()> {
        if needed {
            self.raw(",")
        } else {
            Ok(())
        }
    }

    /// Appends a quoted, escaped string.
    pub fn string(&mut self, s: &str) -> Result<()> {
        let start = self.len;
        let r = self.string_inner(s);
        if r.is_err() {
            self.len = start;
        }
        r
    }

    fn string_inner(&mut self, s: &str) -> Result<()> {
        self.raw("\"")?;
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                0..=0x1f => b"",
                _ => continue,
            };
            self.push(s.as_bytes().get(plain..i).unwrap_or_default())?;
            plain = i + 1;
            if esc.is_empty() {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                self.push(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ])?;
            } else {
                self.push(esc)?;
            }
        }
        self.push(s.as_bytes().get(plain..).unwrap_or_default())?;
        self.raw("\"")
    }

    /// Appends `"name":`.
    pub fn key(&mut self, name: &str) -> Result<()> {
        self.string(name)?;
        self.raw(":")
    }

    /// Appends an unsigned integer.
    pub fn uint(&mut self, v: u64) -> Result<()> {
        self.push(digits(v, 1, &mut [0; 20]))
    }

    /// Appends a signed integer.
    pub fn int(&mut self, v: i64) -> Result<()> {
        if v < 0 {
            let start = self.len;
            self.raw("-")?;
            self.uint(v.unsigned_abs())
                .inspect_err(|_| self.len = start)
        } else {
            self.uint(v.unsigned_abs())
        }
    }

    /// Appends the exact decimal `mantissa × 10^-decimals` (e.g. 2345, 2 →
    /// `23.45`), with no binary floating point involved. `decimals` above
    /// 18 is `InvalidArgument`.
    pub fn decimal(&mut self, mantissa: i64, decimals: u8) -> Result<()> {
        if decimals > 18 {
            return Err(Error::InvalidArgument);
        }
        if decimals == 0 {
            return self.int(mantissa);
        }
        let start = self.len;
        let mut buf = [0; 20];
        // At least one digit before the point.
        let all = digits(mantissa.unsigned_abs(), usize::from(decimals) + 1, &mut buf);
        let (whole, frac) = all
            .split_at_checked(all.len().saturating_sub(usize::from(decimals)))
            .ok_or(Error::InvalidArgument)?;
        let r = (|| {
            if mantissa < 0 {
                self.raw("-")?;
            }
            self.push(whole)?;
            self.raw(".")?;
            self.push(frac)
        })();
        if r.is_err() {
            self.len = start;
        }
        r
    }

    /// Appends `true` or `false`.
    pub fn bool(&mut self, v: bool) -> Result<()> {
        self.raw(if v { "true" } else { "false" })
    }
}

/// CBOR goes through the same writer (`minicbor::Encoder::new(TextWriter::new(buf))`),
/// with the same all-or-nothing writes.
impl minicbor::encode::Write for TextWriter<'_> {
    type Error = Error;

    fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.push(bytes)
    }
}

impl core::fmt::Write for TextWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.push(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn div_rem_matches_the_native_division() {
        let mut n = 0x9e37_79b9_7f4a_7c15u64;
        let edges = [
            0,
            1,
            9,
            10,
            999,
            1000,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ];
        for d in [1u16, 7, 10, 1000, u16::MAX] {
            let nz = NonZeroU16::new(d).unwrap();
            for v in edges.into_iter().chain((0..1000).map(|_| {
                n ^= n << 13;
                n ^= n >> 7;
                n ^= n << 17;
                n >> (n % 64)
            })) {
                assert_eq!(
                    div_rem(v, nz),
                    (v / u64::from(d), (v % u64::from(d)) as u16),
                    "{v} / {d}"
                );
            }
        }
    }

    #[test]
    fn digits_pads_to_the_minimum() {
        let mut buf = [0; 20];
        assert_eq!(digits(7, 3, &mut buf), b"007");
        assert_eq!(digits(1234, 3, &mut buf), b"1234");
        assert_eq!(digits(u64::from(u32::MAX) + 1, 1, &mut buf), b"4294967296");
        assert_eq!(digits(u64::MAX, 20, &mut buf), b"18446744073709551615");
        assert_eq!(digits(0, 20, &mut buf), [b'0'; 20]);
    }

    fn written(f: impl FnOnce(&mut TextWriter<'_>) -> Result<()>) -> std::string::String {
        let mut buf = [0u8; 128];
        let mut w = TextWriter::new(&mut buf);
        f(&mut w).unwrap();
        w.as_str().into()
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(
            written(|w| w.string("a\"b\\c\nd\u{1}é")),
            r#""a\"b\\c\nd\u0001é""#
        );
        assert_eq!(written(|w| w.string("")), r#""""#);
    }

    #[test]
    fn numbers() {
        assert_eq!(written(|w| w.int(i64::MIN)), "-9223372036854775808");
        assert_eq!(written(|w| w.uint(u64::MAX)), "18446744073709551615");
        assert_eq!(written(|w| w.uint(0)), "0");
        assert_eq!(written(|w| w.decimal(5, 3)), "0.005");
        assert_eq!(written(|w| w.decimal(-5, 1)), "-0.5");
        assert_eq!(
            written(|w| w.decimal(i64::MIN, 18)),
            "-9.223372036854775808"
        );
        assert_eq!(written(|w| w.decimal(120, 0)), "120");
        let mut buf = [0u8; 8];
        assert_eq!(
            TextWriter::new(&mut buf).decimal(1, 19),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    fn a_write_that_does_not_fit_leaves_the_rest_intact() {
        let mut buf = [0u8; 6];
        let mut w = TextWriter::new(&mut buf);
        w.raw("[").unwrap();
        assert_eq!(w.string("toolong"), Err(Error::BufferTooSmall));
        assert_eq!(w.decimal(-123456, 2), Err(Error::BufferTooSmall));
        assert_eq!(w.int(-123456), Err(Error::BufferTooSmall));
        assert_eq!(w.as_str(), "[");
        w.int(-12).unwrap();
        assert_eq!(w.as_str(), "[-12");
    }
}
