//! The generic topic scheme the firmware uses (ARCHITECTURE.md §2):
//! `<dev>/events`, `<dev>/request/<path>`, `<dev>/response/<path>`.
//!
//! A path is one or more `/`-separated segments. A segment is non-empty and
//! holds no `/`, `+`, `#`, `.` or control byte: `+`/`#` are MQTT wildcards,
//! and `.` is Azure's path separator (`sensor.12.get`), so a path that
//! passes here maps to both clouds and back without loss.

use super::scan::{
    eat, eat_segment, eq_lit, flags, split_byte, str_eq, word_flags, NOT_IN_DOT_PATH,
    NOT_IN_SLASH_PATH, NOT_SEGMENT,
};
use super::swar;
use crate::{Error, Result};

/// A generic topic, split into its kind and path (borrowed from the topic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generic<'t> {
    /// `<dev>/events`: an asynchronous event.
    Events,
    /// `<dev>/request/<path>`: a request to the device.
    Request(&'t str),
    /// `<dev>/response/<path>`: a response or telemetry from the device.
    Response(&'t str),
}

/// True for a byte that may appear inside a path segment.
#[inline]
pub(crate) fn is_segment_byte(b: u8) -> bool {
    flags(b) & NOT_SEGMENT == 0
}

/// Checks a path of `sep`-separated segments (see the module doc); `sep`
/// is `/` (generic paths) or `.` (Azure method names).
///
/// Eight bytes at a time: a path is good when it neither starts nor ends
/// with a separator, holds no two separators in a row and no forbidden
/// byte. The last word overlaps the one before it (checking a byte twice
/// changes nothing); a path shorter than a word is padded with a letter.
#[inline]
pub(crate) fn check_path(path: &[u8], sep: u8) -> Result<()> {
    match (path.first(), path.last()) {
        (Some(&first), Some(&last)) if first != sep && last != sep => {}
        _ => return Err(Error::NotGenericTopic),
    }
    let stop = if sep == b'/' {
        NOT_IN_SLASH_PATH
    } else {
        NOT_IN_DOT_PATH
    };
    let Some(last) = swar::last_word(path) else {
        let padded = swar::load(path) | swar::PAD << (8 * path.len());
        return check_word(&padded.to_le_bytes(), sep, stop, 0).map(drop);
    };
    let mut before = 0;
    let mut rest = path;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        if tail.is_empty() {
            break;
        }
        before = check_word(word, sep, stop, before)?;
        rest = tail;
    }
    let before_last = match path.len().checked_sub(9).and_then(|i| path.get(i)) {
        Some(&b) if b == sep => 0x80,
        _ => 0,
    };
    check_word(last, sep, stop, before_last).map(drop)
}

/// Finds the first `end` in `s` and checks the bytes before it as a
/// `sep`-separated path, in one pass; returns the index of that `end`.
/// `end` is a byte no such path holds (`/` for `.`-separated paths).
/// [`Error::NotGenericTopic`] if there is no `end` or the path is bad.
#[inline]
pub(crate) fn check_path_until(s: &[u8], sep: u8, end: u8) -> Result<usize> {
    let stop = if sep == b'/' {
        NOT_IN_SLASH_PATH
    } else {
        NOT_IN_DOT_PATH
    };
    // As if a separator came first: a path may not start with one.
    let mut before = 0x80;
    let mut i = 0;
    while let Some(word) = s.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let v = u64::from_le_bytes(*word);
        let ends = swar::equal(v, end);
        if ends != 0 {
            return path_end(v, ends, sep, stop, before).map(|k| i + k);
        }
        before = check_word(word, sep, stop, before)?;
        i += 8;
    }
    let tail = s.get(i..).unwrap_or_default();
    if tail.is_empty() {
        return Err(Error::NotGenericTopic);
    }
    let v = swar::load(tail);
    let ends = swar::equal(v, end) & (swar::HI >> (64 - 8 * tail.len()));
    if ends == 0 {
        return Err(Error::NotGenericTopic);
    }
    path_end(v, ends, sep, stop, before).map(|k| i + k)
}

/// The word of [`check_path_until`] that holds the first `end` (flagged in
/// `ends`): checks the path bytes before it and returns its index.
#[inline]
fn path_end(word: u64, ends: u64, sep: u8, stop: u8, before: u64) -> Result<usize> {
    let k = swar::first(ends);
    // The bytes from the `end` on become padding.
    let keep = match k {
        0 => 0,
        _ => u64::MAX >> (64 - 8 * k),
    };
    let path = (word & keep) | (swar::PAD & !keep);
    // The path may not end with a separator (nor be empty: `before` starts
    // as one).
    let last_is_sep = match k {
        0 => before != 0,
        _ => swar::equal(word, sep) & (0x80 << (8 * (k - 1))) != 0,
    };
    if last_is_sep {
        return Err(Error::NotGenericTopic);
    }
    check_word(&path.to_le_bytes(), sep, stop, before)?;
    Ok(k)
}

/// One word of [`check_path`]: no byte flagged `stop`, no two separators in
/// a row. `before` has bit 7 set when the byte before the word is a
/// separator; returns the same for the byte after it.
#[inline]
fn check_word(word: &[u8; 8], sep: u8, stop: u8, before: u64) -> Result<u64> {
    let seps = swar::equal(u64::from_le_bytes(*word), sep);
    if word_flags(word) & stop != 0 || seps & ((seps << 8) | before) != 0 {
        return Err(Error::NotGenericTopic);
    }
    Ok(seps >> 56)
}

/// Like [`check_path`] over any byte source (e.g. decoded bytes of a
/// percent-encoded property value).
pub(crate) fn check_path_bytes(bytes: impl Iterator<Item = u8>, sep: u8) -> Result<()> {
    let mut segment_len = 0usize;
    for b in bytes {
        if b == sep {
            if segment_len == 0 {
                return Err(Error::NotGenericTopic);
            }
            segment_len = 0;
        } else if is_segment_byte(b) {
            segment_len += 1;
        } else {
            return Err(Error::NotGenericTopic);
        }
    }
    if segment_len == 0 {
        return Err(Error::NotGenericTopic);
    }
    Ok(())
}

/// Splits `topic` into its kind and path and checks that it belongs to
/// `device`. [`Error::NotGenericTopic`] if it is not in the scheme,
/// [`Error::OtherDevice`] if it is for another device.
pub fn parse<'t>(device: &str, topic: &'t str) -> Result<Generic<'t>> {
    let kind = split(device, topic)?;
    if let Generic::Request(path) | Generic::Response(path) = kind {
        check_path(path.as_bytes(), b'/')?;
    }
    Ok(kind)
}

/// [`parse`] without checking the path, for callers that check it while
/// they copy it.
#[inline]
pub(crate) fn split<'t>(device: &str, topic: &'t str) -> Result<Generic<'t>> {
    // The device's own topics are the ones it sends: try them first.
    match eat_segment(topic, device).and_then(kind) {
        Some(kind) => Ok(kind),
        None => Err(refusal(device, topic)),
    }
}

/// The kind of a generic topic from what follows `<dev>/`.
#[inline(always)]
fn kind(rest: &str) -> Option<Generic<'_>> {
    if let Some(path) = eat(rest, "response/") {
        Some(Generic::Response(path))
    } else if let Some(path) = eat(rest, "request/") {
        Some(Generic::Request(path))
    } else if eq_lit(rest, "events") {
        Some(Generic::Events)
    } else {
        None
    }
}

/// Why [`split`] refuses `topic`: [`Error::OtherDevice`] for a generic
/// topic of another device, [`Error::NotGenericTopic`] for anything else.
#[cold]
fn refusal(device: &str, topic: &str) -> Error {
    match split_byte(topic, b'/') {
        Some((dev, rest)) if !dev.is_empty() && kind(rest).is_some() => {
            if str_eq(dev, device) {
                Error::NotGenericTopic
            } else {
                Error::OtherDevice
            }
        }
        _ => Error::NotGenericTopic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_kinds() {
        assert_eq!(parse("d1", "d1/events"), Ok(Generic::Events));
        assert_eq!(
            parse("d1", "d1/request/sensor/12/get"),
            Ok(Generic::Request("sensor/12/get"))
        );
        assert_eq!(
            parse("d1", "d1/response/general_information"),
            Ok(Generic::Response("general_information"))
        );
    }

    #[test]
    fn refuses_topics_outside_the_scheme() {
        for bad in [
            "d1",
            "d1/",
            "d1/event",
            "d1/events/x",
            "d1/request",
            "d1/request/",
            "d1/request//x",
            "d1/request/x/",
            "d1/response/a.b",
            "d1/response/a+",
            "d1/response/#",
            "d1/response/a\u{1}",
            "d1/telemetry/x",
            "/events",
        ] {
            assert_eq!(parse("d1", bad), Err(Error::NotGenericTopic), "{bad:?}");
        }
    }

    /// Byte-at-a-time reference for [`check_path`].
    fn reference(path: &[u8], sep: u8) -> bool {
        !path.is_empty()
            && path
                .split(|&b| b == sep)
                .all(|seg| !seg.is_empty() && seg.iter().all(|&b| is_segment_byte(b)))
    }

    #[test]
    fn word_checks_agree_with_the_reference() {
        const ALPHABET: &[u8] = b"az09/./+#\x00\x1f\x7f\xc3\xa9?$ ";
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..20_000 {
            let len = i % 27;
            let path: std::vec::Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let k = (seed % 48) as usize;
                    ALPHABET.get(k).copied().unwrap_or(b'a' + (k % 26) as u8)
                })
                .collect();
            for sep in [b'/', b'.'] {
                assert_eq!(
                    check_path(&path, sep).is_ok(),
                    reference(&path, sep),
                    "{path:?} {}",
                    sep as char
                );
            }
        }
    }

    #[test]
    fn one_pass_check_agrees_with_find_then_check() {
        const ALPHABET: &[u8] = b"az09/./+#\x00\x7f?$ ";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..20_000 {
            let len = i % 29;
            let s: std::vec::Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let k = (seed % 40) as usize;
                    ALPHABET.get(k).copied().unwrap_or(b'a' + (k % 26) as u8)
                })
                .collect();
            let want = match s.iter().position(|&b| b == b'/') {
                Some(k) if reference(&s[..k], b'.') => Ok(k),
                _ => Err(Error::NotGenericTopic),
            };
            assert_eq!(check_path_until(&s, b'.', b'/'), want, "{s:?}");
        }
    }

    #[test]
    fn refuses_other_devices() {
        assert_eq!(parse("d1", "d2/events"), Err(Error::OtherDevice));
        assert_eq!(parse("d1", "d11/request/x"), Err(Error::OtherDevice));
        assert_eq!(parse("d11", "d1/request/x"), Err(Error::OtherDevice));
    }
}
