//! A small standard-alphabet base64 codec (RFC 4648 §4, with padding), just
//! for SAS tokens: decode the device key, encode the signature. It is a few
//! hundred bytes of code and no tables beyond the 64-byte alphabet.

use super::topic_writer::TopicWriter;
use crate::{Error, Result};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends `data` base64-encoded, with `=` padding.
pub(crate) fn encode_into(w: &mut TopicWriter<'_>, data: &[u8]) -> Result<()> {
    let sym = |v: u32| ALPHABET[(v & 0x3f) as usize];
    for chunk in data.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        let c2 = if chunk.len() > 1 { sym(n >> 6) } else { b'=' };
        let c3 = if chunk.len() > 2 { sym(n) } else { b'=' };
        w.push_ascii(&[sym(n >> 18), sym(n >> 12), c2, c3])?;
    }
    Ok(())
}

const fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes padded base64 into `out`, returning the decoded length.
/// [`Error::InvalidEncoding`] for a length not a multiple of 4, a byte
/// outside the alphabet or misplaced padding; [`Error::BufferTooSmall`]
/// when `out` is too short.
pub(crate) fn decode(text: &[u8], out: &mut [u8]) -> Result<usize> {
    if text.len() % 4 != 0 {
        return Err(Error::InvalidEncoding);
    }
    let quads = text.len() / 4;
    let mut len = 0usize;
    for (i, quad) in text.chunks_exact(4).enumerate() {
        let last = i + 1 == quads;
        let pad = match quad {
            [_, _, b'=', b'='] if last => 2,
            [_, _, _, b'='] if last => 1,
            _ => 0,
        };
        let mut n = 0u32;
        for (j, &c) in quad.iter().enumerate() {
            let v = if j >= 4 - pad {
                0
            } else {
                value(c).ok_or(Error::InvalidEncoding)?
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let take = bytes.get(..3 - pad).ok_or(Error::InvalidEncoding)?;
        let end = len + take.len();
        out.get_mut(len..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(take);
        len = end;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> std::string::String {
        let mut buf = [0u8; 64];
        let mut w = TopicWriter::new(&mut buf);
        encode_into(&mut w, data).unwrap();
        w.finish().unwrap().into()
    }

    #[test]
    fn rfc4648_vectors_round_trip() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in vectors {
            assert_eq!(enc(plain.as_bytes()), coded);
            let mut out = [0u8; 8];
            let n = decode(coded.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], plain.as_bytes());
        }
        assert_eq!(enc(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn malformed_input_is_refused() {
        let mut out = [0u8; 8];
        for bad in [
            "Zg=", "Zg=a", "Z===", "=Zg=", "Zg==Zg==", "Zm9v!A==", "Zm 9",
        ] {
            assert_eq!(
                decode(bad.as_bytes(), &mut out),
                Err(Error::InvalidEncoding),
                "{bad}"
            );
        }
        assert_eq!(
            decode(b"Zm9vYmFy", &mut out[..5]),
            Err(Error::BufferTooSmall)
        );
    }
}
