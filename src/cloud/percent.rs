//! Percent-encoding as Azure IoT Hub uses it in property bags: the
//! unreserved bytes `A-Z a-z 0-9 - _ . ~` stay, every other byte becomes
//! `%XX` with uppercase hex. Decoding is lazy: [`Encoded`] borrows the
//! encoded text and yields decoded bytes on demand, so nothing is copied
//! unless the caller asks for it with [`Encoded::decode_into`].

use super::scan::{flags, word_flags, ESCAPE, NOT_IN_SLASH_PATH, PATH_STOP};
use super::swar;
use super::topic_writer::TopicWriter;
use crate::{Error, Result};

/// True for the bytes that percent-encoding leaves as they are.
#[inline]
pub(crate) const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Appends `text` percent-encoded.
pub(crate) fn encode_into(w: &mut TopicWriter<'_>, text: &[u8]) -> Result<()> {
    let n = encode_value(w.spare(), text).ok_or(Error::BufferTooSmall)?;
    w.commit(n)
}

/// Percent-encodes `text` into the front of `out`; the length written, or
/// `None` if it does not fit.
fn encode_value(out: &mut [u8], text: &[u8]) -> Option<usize> {
    if out.len() / 3 < text.len() {
        // Might not fit: the exact, byte-checked way.
        return encode_bytes(out, text);
    }
    // Every byte becomes at most three, so there is room for every store
    // below, eight-byte ones included: no early `None`.
    let mut i = 0;
    let mut j = 0;
    while let Some(word) = text.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        if word_flags(word) & ESCAPE == 0 {
            // Eight bytes that stay as they are: one store.
            *out.get_mut(j..)?.first_chunk_mut::<8>()? = *word;
            j += 8;
        } else {
            j += encode_bytes(out.get_mut(j..)?, word)?;
        }
        i += 8;
    }
    Some(j + encode_bytes(out.get_mut(j..)?, text.get(i..)?)?)
}

/// [`encode_value`] one byte at a time.
#[inline(always)]
fn encode_bytes(out: &mut [u8], text: &[u8]) -> Option<usize> {
    let mut j = 0;
    for &b in text {
        j += put_encoded(out.get_mut(j..)?, b)?;
    }
    Some(j)
}

/// Writes `b` (as it is, or `%XX`) at the front of `out`; the length.
#[inline(always)]
fn put_encoded(out: &mut [u8], b: u8) -> Option<usize> {
    if flags(b) & ESCAPE == 0 {
        *out.first_mut()? = b;
        return Some(1);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let [pct, hi, lo, ..] = out else {
        return None;
    };
    *pct = b'%';
    *hi = HEX[usize::from(b >> 4)];
    *lo = HEX[usize::from(b & 0x0f)];
    Some(3)
}

/// Appends a generic path (`/`-separated segments, see
/// [`super::generic`]) as an Azure subtopic value: `/` becomes `.`, segment
/// bytes are percent-encoded. The path is checked on the way
/// ([`Error::NotGenericTopic`] for an empty segment or a forbidden byte).
///
/// Eight bytes at a time: a word of bytes that stay as they are (and
/// slashes) is checked and stored at once, each `/` turned into `.` by
/// flipping its lowest bit (`0x2F ^ 1 == 0x2E`). A short last word is
/// padded with letters for the checks and stored with its own length.
pub(crate) fn encode_path_into(w: &mut TopicWriter<'_>, path: &[u8]) -> Result<()> {
    match (path.first(), path.last()) {
        (Some(&first), Some(&last)) if first != b'/' && last != b'/' => {}
        _ => return Err(Error::NotGenericTopic),
    }
    // Bit 7 set when the byte before the word is a `/`.
    let mut before = 0u64;
    let mut rest = path;
    loop {
        let (word, n) = match rest.split_first_chunk::<8>() {
            Some((word, tail)) => {
                rest = tail;
                (u64::from_le_bytes(*word), 8)
            }
            None if rest.is_empty() => return Ok(()),
            None => {
                let n = rest.len();
                let word = swar::load(rest) | swar::PAD << (8 * n);
                rest = &[];
                (word, n)
            }
        };
        let bytes = word.to_le_bytes();
        let flags = word_flags(&bytes);
        let seps = swar::equal(word, b'/');
        if flags & NOT_IN_SLASH_PATH != 0 || seps & ((seps << 8) | before) != 0 {
            return Err(Error::NotGenericTopic);
        }
        before = seps >> 56;
        if flags & PATH_STOP == 0 {
            w.put_word(word ^ (seps >> 7), n)?;
        } else {
            for &b in bytes.get(..n).unwrap_or_default() {
                match b {
                    b'/' => w.push(b'.')?,
                    _ if is_unreserved(b) => w.push(b)?,
                    _ => w.push_percent(b)?,
                }
            }
        }
    }
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
        let mut w = TopicWriter::new(&mut buf);
        encode_into(&mut w, text.as_bytes()).unwrap();
        w.finish().unwrap().into()
    }

    /// Byte-at-a-time reference for the word-at-a-time encoders: the
    /// encoded value, or the path as a subtopic (`None`: not a path).
    fn reference(text: &[u8], path: bool) -> Option<std::vec::Vec<u8>> {
        let mut out = std::vec::Vec::new();
        if path
            && (text.is_empty()
                || text.split(|&b| b == b'/').any(|seg| {
                    seg.is_empty()
                        || seg
                            .iter()
                            .any(|b| b"+#.".contains(b) || *b < 0x20 || *b == 0x7f)
                }))
        {
            return None;
        }
        for &b in text {
            if path && b == b'/' {
                out.push(b'.');
            } else if is_unreserved(b) {
                out.push(b);
            } else {
                out.extend_from_slice(std::format!("%{b:02X}").as_bytes());
            }
        }
        Some(out)
    }

    /// Inputs of every length up to 40 over an alphabet of the interesting
    /// bytes, from a fixed pseudo-random sequence.
    fn samples() -> impl Iterator<Item = std::vec::Vec<u8>> {
        const ALPHABET: &[u8] = b"az09AZ-_~./ %+#\x00\x7f\xc3\xa9";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        (0..2000).map(move |i| {
            let len = i % 41;
            (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly letters, so that whole clean words occur.
                    let k = (seed % 64) as usize;
                    ALPHABET.get(k).copied().unwrap_or(b'a' + (k % 26) as u8)
                })
                .collect()
        })
    }

    #[test]
    fn word_encoders_agree_with_the_reference_at_every_buffer_size() {
        for text in samples() {
            for path in [false, true] {
                let want = reference(&text, path);
                for cap in [0, 1, 7, text.len(), 2 * text.len() + 3, 3 * text.len(), 200] {
                    let mut buf = [0xAAu8; 200];
                    let mut w = TopicWriter::new(&mut buf[..cap]);
                    let got = match path {
                        false => encode_into(&mut w, &text),
                        true => encode_path_into(&mut w, &text),
                    }
                    .map(|()| w.written().to_vec());
                    let want = match &want {
                        None => Err(Error::NotGenericTopic),
                        Some(out) if out.len() > cap => Err(Error::BufferTooSmall),
                        Some(out) => Ok(out.clone()),
                    };
                    // A path that does not fit may be refused either way.
                    if path && got == Err(Error::BufferTooSmall) && want.is_err() {
                        continue;
                    }
                    assert_eq!(got, want, "{text:?} path={path} cap={cap}");
                }
            }
        }
    }

    #[test]
    fn path_segments_are_checked_across_words() {
        let encode_path = |p: &str| {
            let mut buf = [0u8; 128];
            let mut w = TopicWriter::new(&mut buf);
            encode_path_into(&mut w, p.as_bytes()).map(|()| w.written().to_vec())
        };
        assert_eq!(
            encode_path("sensor/1/reading").unwrap(),
            b"sensor.1.reading"
        );
        assert_eq!(encode_path("abcdefg/h").unwrap(), b"abcdefg.h");
        assert_eq!(encode_path("abcdefgh/i").unwrap(), b"abcdefgh.i");
        assert_eq!(encode_path("a b/c").unwrap(), b"a%20b.c");
        for bad in [
            "",
            "/",
            "abcdefg/",
            "abcdefg//abcdefgh",
            "abcdefgh//",
            "/abcdefgh",
            "abcdefgh/abcdefg/",
            "a.b",
            "abcdefgh+",
        ] {
            assert_eq!(encode_path(bad), Err(Error::NotGenericTopic), "{bad}");
        }
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
