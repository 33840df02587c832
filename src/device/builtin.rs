//! The built-in device model: `general_information`, `sensor/list` and
//! `sensor/<n>/get`, answered by the client unless the application
//! registers its own handler for them. Without the `builtin` feature
//! there is none: a request no handler takes is answered 404.

use crate::device::actions::Actions;
use crate::device::app::{Answer, App};
use crate::device::sensor::{self, sensor_in_path};
use crate::writer::{div_rem, TextWriter};
use crate::{Error, Result};
use core::num::NonZeroU16;

/// Whether the client answers `path` itself.
pub fn is_builtin(path: &str) -> bool {
    cfg!(feature = "builtin")
        && (matches!(path, "general_information" | "sensor/list") || sensor_in_path(path).is_some())
}

/// Answers a request no handler took: a built-in one, or 404.
pub(crate) fn answer<A: App>(
    path: &str,
    reply: &mut [u8],
    actions: &mut Actions<'_, '_>,
    app: &mut A,
    sources: &[A::Sensor],
) -> Answer {
    let result = match path {
        _ if !cfg!(feature = "builtin") => Err(Error::NotFound),
        "general_information" => general_information(reply, actions),
        "sensor/list" => actions.core.sensors.write_list(reply),
        _ => match sensor_in_path(path) {
            Some(id) => read_one(id, reply, actions, app, sources),
            None => Err(Error::NotFound),
        },
    };
    let (status, error) = match result {
        Ok(len) => return Answer::Now { status: 200, len },
        Err(Error::NotFound) => (404, "not found"),
        Err(Error::SensorFailed) => (503, "sensor failed"),
        Err(Error::BufferTooSmall) => (507, "answer too large"),
        Err(_) => (500, "internal error"),
    };
    match error_body(reply, status, error, path) {
        Ok(len) => Answer::Now { status, len },
        Err(_) => Answer::Now { status, len: 0 },
    }
}

/// `{"status":404,"error":"not found","path":"..."}`: the body of an
/// error answer (on AWS and C2D routes the status travels only here).
pub(crate) fn error_body(out: &mut [u8], status: u16, error: &str, path: &str) -> Result<usize> {
    let mut w = TextWriter::new(out);
    w.raw("{")?;
    w.key("status")?;
    w.uint(u64::from(status))?;
    w.raw(",")?;
    w.key("error")?;
    w.string(error)?;
    w.raw(",")?;
    w.key("path")?;
    w.string(path)?;
    w.raw("}")?;
    Ok(w.len())
}

/// The device information with its uptime in seconds.
fn general_information(out: &mut [u8], actions: &Actions<'_, '_>) -> Result<usize> {
    let uptime_ms = actions
        .now_ms
        .saturating_sub(actions.core.started_ms.unwrap_or(actions.now_ms));
    let (uptime_s, _) = div_rem(uptime_ms, const { NonZeroU16::new(1000).unwrap() });
    let info = actions.core.info.unwrap_or_default();
    // The information object, then its closing brace replaced by the uptime.
    let len = info.write_json(out)?;
    let open = len.checked_sub(1).ok_or(Error::BufferTooSmall)?;
    let rest = out.get_mut(open..).ok_or(Error::BufferTooSmall)?;
    let mut w = TextWriter::new(rest);
    w.raw(if len > 2 { "," } else { "" })?;
    w.key("uptime_s")?;
    w.uint(uptime_s)?;
    w.raw("}")?;
    Ok(open + w.len())
}

fn read_one<A: App>(
    id: u16,
    out: &mut [u8],
    actions: &Actions<'_, '_>,
    app: &mut A,
    sources: &[A::Sensor],
) -> Result<usize> {
    let index = actions.core.sensors.index_of(id).ok_or(Error::NotFound)?;
    let info = *actions.core.sensors.get(index).ok_or(Error::NotFound)?;
    let source = *sources.get(index).ok_or(Error::NotFound)?;
    let reading = app
        .read_sensor(&info, source)
        .map_err(|_| Error::SensorFailed)?;
    sensor::write_reading(&info, reading, None, actions.core.settings.encoding, out)
}
