//! The generic topic scheme the firmware uses (DESIGN.md §2):
//! `<dev>/events`, `<dev>/request/<path>`, `<dev>/response/<path>`.
//!
//! A path is one or more `/`-separated segments. A segment is non-empty and
//! holds no `/`, `+`, `#`, `.` or control byte: `+`/`#` are MQTT wildcards,
//! and `.` is Azure's path separator (`sensor.12.get`), so a path that
//! passes here maps to both clouds and back without loss.

use super::scan::{eat, eq_lit, flags, split_byte, str_eq, NOT_SEGMENT};
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

/// Checks a path of `sep`-separated segments (see the module doc).
#[inline]
pub(crate) fn check_path(path: &[u8], sep: u8) -> Result<()> {
    // `sep` is always a forbidden segment byte, so one table lookup per
    // byte decides; separators must each end a non-empty segment.
    let mut after_sep = true;
    for &b in path {
        if flags(b) & NOT_SEGMENT == 0 {
            after_sep = false;
        } else if b != sep || after_sep {
            return Err(Error::NotGenericTopic);
        } else {
            after_sep = true;
        }
    }
    if after_sep {
        Err(Error::NotGenericTopic)
    } else {
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
