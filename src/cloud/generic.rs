//! The generic topic scheme the firmware uses (DESIGN.md §2):
//! `<dev>/events`, `<dev>/request/<path>`, `<dev>/response/<path>`.
//!
//! A path is one or more `/`-separated segments. A segment is non-empty and
//! holds no `/`, `+`, `#`, `.` or control byte: `+`/`#` are MQTT wildcards,
//! and `.` is Azure's path separator (`sensor.12.get`), so a path that
//! passes here maps to both clouds and back without loss.

use super::scan::{
    eat, eq_lit, flags, split_byte, str_eq, word_flags, NOT_IN_DOT_PATH, NOT_IN_SLASH_PATH,
    NOT_SEGMENT,
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
#[inline]
pub(crate) fn check_path(path: &[u8], sep: u8) -> Result<()> {
    let mut check = Segments::new(sep);
    let mut i = 0;
    while let Some(word) = path.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        check.word(word)?;
        i += 8;
    }
    for &b in path.get(i..).unwrap_or_default() {
        check.byte(b)?;
    }
    check.finish()
}

/// The segment rules, checked as a path goes by: every separator ends a
/// non-empty segment, and segments hold no forbidden byte.
pub(crate) struct Segments {
    sep: u8,
    /// The byte flag of the bytes that may not appear in a path with this
    /// separator (see [`super::scan::FLAGS`]).
    stop: u8,
    /// The last byte was a separator, or there was none yet: a separator
    /// now would end an empty segment.
    after_sep: bool,
}

impl Segments {
    /// The rules for `sep`-separated paths (`/` or `.`).
    #[inline(always)]
    pub(crate) fn new(sep: u8) -> Self {
        Segments {
            sep,
            stop: if sep == b'/' {
                NOT_IN_SLASH_PATH
            } else {
                NOT_IN_DOT_PATH
            },
            after_sep: true,
        }
    }

    /// Checks eight bytes; returns the mask of their separators (see
    /// [`super::swar`]).
    #[inline(always)]
    pub(crate) fn word(&mut self, word: &[u8; 8]) -> Result<u64> {
        if word_flags(word) & self.stop != 0 {
            // A forbidden byte somewhere: let the byte rules say which.
            let mut seps = 0;
            for (i, &b) in word.iter().enumerate() {
                if self.byte(b)? {
                    seps |= 0x80 << (8 * i);
                }
            }
            return Ok(seps);
        }
        self.clean_word(u64::from_le_bytes(*word))
    }

    /// [`word`](Self::word) for a word known to hold only segment bytes
    /// and separators.
    #[inline(always)]
    pub(crate) fn clean_word(&mut self, word: u64) -> Result<u64> {
        // An empty segment is two separators in a row, or one first right
        // after a separator.
        let seps = swar::equal(word, self.sep);
        if seps & (seps << 8) != 0 || (self.after_sep && seps & 0x80 != 0) {
            return Err(Error::NotGenericTopic);
        }
        self.after_sep = seps >> 63 != 0;
        Ok(seps)
    }

    /// Checks one byte; returns whether it is a separator.
    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) -> Result<bool> {
        if b == self.sep && !self.after_sep {
            self.after_sep = true;
            return Ok(true);
        }
        if flags(b) & NOT_SEGMENT != 0 {
            return Err(Error::NotGenericTopic);
        }
        self.after_sep = false;
        Ok(false)
    }

    /// The path ended: it may not be empty or end with a separator.
    #[inline(always)]
    pub(crate) fn finish(self) -> Result<()> {
        if self.after_sep {
            return Err(Error::NotGenericTopic);
        }
        Ok(())
    }
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
pub(crate) fn split<'t>(device: &str, topic: &'t str) -> Result<Generic<'t>> {
    let (dev, rest) = split_byte(topic, b'/').ok_or(Error::NotGenericTopic)?;
    let kind = if let Some(path) = eat(rest, "response/") {
        Generic::Response(path)
    } else if let Some(path) = eat(rest, "request/") {
        Generic::Request(path)
    } else if eq_lit(rest, "events") {
        Generic::Events
    } else {
        return Err(Error::NotGenericTopic);
    };
    if !str_eq(dev, device) {
        return Err(if dev.is_empty() {
            Error::NotGenericTopic
        } else {
            Error::OtherDevice
        });
    }
    Ok(kind)
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

    #[test]
    fn refuses_other_devices() {
        assert_eq!(parse("d1", "d2/events"), Err(Error::OtherDevice));
        assert_eq!(parse("d1", "d11/request/x"), Err(Error::OtherDevice));
        assert_eq!(parse("d11", "d1/request/x"), Err(Error::OtherDevice));
    }
}
