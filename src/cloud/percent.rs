//! Percent-encoding as Azure IoT Hub uses it in property bags: the
//! unreserved bytes `A-Z a-z 0-9 - _ . ~` stay, every other byte becomes
//! `%XX` with uppercase hex. Decoding is lazy: [`Encoded`] borrows the
//! encoded text and yields decoded bytes on demand, so nothing is copied
//! unless the caller asks for it with [`Encoded::decode_into`].

use super::scan::{class, UNRESERVED};
use super::writer::Writer;
use crate::{Error, Result};

/// True for the bytes that percent-encoding leaves as they are.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `text` percent-encoded.
pub(crate) fn encode_into(w: &mut Writer<'_>, text: &[u8]) -> Result<()> {
    for &b in text {
        if class(b) == UNRESERVED || b == b'.' {
            w.push(b)?;
        } else {
            w.push_percent(b)?;
        }
    }
    Ok(())
}

/// The value of one hex digit, if it is one (either case).
#[inline]
const fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encoded text borrowed from a topic, checked well-formed (every
/// `%` is followed by two hex digits). Decode it lazily with
/// [`bytes`](Self::bytes), compare it with [`eq_decoded`](Self::eq_decoded),
/// or copy it out with [`decode_into`](Self::decode_into).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoded<'t>(&'t str);

impl<'t> Encoded<'t> {
    /// Checks `raw` and wraps it; [`Error::InvalidEncoding`] on a `%` not
    /// followed by two hex digits.
    pub fn new(raw: &'t str) -> Result<Self> {
        let bytes = raw.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b == b'%' {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                if hi.is_none() || lo.is_none() {
                    return Err(Error::InvalidEncoding);
                }
                i += 3;
            } else {
                i += 1;
            }
        }
        Ok(Encoded(raw))
    }

    /// Wraps text already checked by [`Encoded::new`].
    pub(crate) const fn checked(raw: &'t str) -> Self {
        Encoded(raw)
    }

    /// If the decoded text starts with `prefix`, the encoded rest after it.
    pub(crate) fn strip_decoded_prefix(&self, prefix: &str) -> Option<Encoded<'t>> {
        let mut it = self.bytes();
        for p in prefix.bytes() {
            if it.next()? != p {
                return None;
            }
        }
        let offset = self.0.len().checked_sub(it.rest.len())?;
        self.0.get(offset..).map(Encoded)
    }

    /// The text as it stands in the topic, still encoded.
    pub fn raw(&self) -> &'t str {
        self.0
    }

    /// The decoded bytes, produced on demand.
    pub fn bytes(&self) -> DecodedBytes<'t> {
        DecodedBytes {
            rest: self.0.as_bytes(),
        }
    }

    /// True if the decoded text equals `text`, without copying.
    pub fn eq_decoded(&self, text: &str) -> bool {
        self.bytes().eq(text.bytes())
    }

    /// Decodes into `buf`. [`Error::BufferTooSmall`] if it does not fit,
    /// [`Error::InvalidEncoding`] if the decoded bytes are not UTF-8.
    pub fn decode_into<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str> {
        let mut len = 0;
        for b in self.bytes() {
            let slot = buf.get_mut(len).ok_or(Error::BufferTooSmall)?;
            *slot = b;
            len += 1;
        }
        let out = buf.get(..len).ok_or(Error::BufferTooSmall)?;
        core::str::from_utf8(out).map_err(|_| Error::InvalidEncoding)
    }
}

/// Iterator over the decoded bytes of an [`Encoded`] text.
#[derive(Clone, Debug)]
pub struct DecodedBytes<'t> {
    rest: &'t [u8],
}

impl Iterator for DecodedBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let (&b, after) = self.rest.split_first()?;
        if b == b'%' {
            // Checked by `Encoded::new`; a malformed tail ends the iteration.
            if let [hi, lo, tail @ ..] = after {
                let value = (hex_value(*hi)? << 4) | hex_value(*lo)?;
                self.rest = tail;
                return Some(value);
            }
            self.rest = &[];
            return None;
        }
        self.rest = after;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str) -> std::string::String {
        let mut buf = [0u8; 128];
        let mut w = Writer::new(&mut buf);
        encode_into(&mut w, text.as_bytes()).unwrap();
        w.finish().unwrap().into()
    }

    #[test]
    fn unreserved_stay_everything_else_is_uppercase_hex() {
        assert_eq!(encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            encode("$.ct=a/b c&d+e%f#?"),
            "%24.ct%3Da%2Fb%20c%26d%2Be%25f%23%3F"
        );
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(encode(""), "");
    }

    #[test]
    fn decoding_accepts_either_hex_case() {
        let e = Encoded::new("a%2fb%2F%24%c3%A9").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(e.decode_into(&mut buf).unwrap(), "a/b/$é");
        assert!(e.eq_decoded("a/b/$é"));
        assert!(!e.eq_decoded("a/b/$"));
        assert_eq!(e.raw(), "a%2fb%2F%24%c3%A9");
        assert_eq!(e.strip_decoded_prefix("a/b").unwrap().raw(), "%2F%24%c3%A9");
        assert_eq!(e.strip_decoded_prefix("a/c"), None);
        assert_eq!(e.strip_decoded_prefix("a/b/$é/"), None);
    }

    #[test]
    fn malformed_percent_sequences_are_refused() {
        for bad in ["%", "%2", "a%G0", "%0g", "abc%", "%%41"] {
            assert_eq!(Encoded::new(bad), Err(Error::InvalidEncoding), "{bad}");
        }
    }

    #[test]
    fn decode_reports_small_buffer_and_non_utf8() {
        let e = Encoded::new("abcd").unwrap();
        assert_eq!(e.decode_into(&mut [0u8; 3]), Err(Error::BufferTooSmall));
        let e = Encoded::new("%FF").unwrap();
        assert_eq!(e.decode_into(&mut [0u8; 3]), Err(Error::InvalidEncoding));
        assert_eq!(e.bytes().collect::<std::vec::Vec<_>>(), [0xFF]);
    }
}
