//! The client's trace points: one line for each thing a firmware engineer
//! wants in the log when the cloud or the network misbehaves (link down
//! and why, refused CONNACKs and malformed packets among the reasons, the
//! next attempt, unstable connections, oversized messages, refused and
//! dropped readings, refused subscriptions).
//!
//! Off costs a branch: nothing is written unless the application says it
//! logs at that level ([`App::log_level`]).
//! Without the `trace` feature (on by default) the trace points are not
//! even compiled in. Lines are plain text, at most
//! [`MAX_LINE`] bytes (longer ones are cut), written without `core::fmt`,
//! and never hold secrets (no credentials, no payloads).

use crate::device::app::App;
#[cfg(feature = "trace")]
use crate::writer::TextWriter;
use crate::Error;

/// Longest line the client writes.
pub const MAX_LINE: usize = 120;

/// How much a line matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// The client cannot do what it was asked (a refused subscription).
    Error = 1,
    /// The cloud or the network misbehaves; the client copes.
    Warn = 2,
    /// Normal life: connected.
    Info = 3,
}

/// One piece of a line.
#[derive(Clone, Copy, Debug)]
pub enum Part<'a> {
    /// Text as it is.
    Text(&'a str),
    /// A number in decimal.
    Num(u64),
    /// An error's description.
    Err(Error),
}

/// Writes the line of `parts` and hands it to the application, if it
/// logs at `level`.
#[cfg(feature = "trace")]
pub(crate) fn trace<A: App + ?Sized>(app: &mut A, level: Level, parts: &[Part<'_>]) {
    if app.log_level().is_none_or(|max| level > max) {
        return;
    }
    let mut buf = [0u8; MAX_LINE];
    let mut w = TextWriter::new(&mut buf);
    for part in parts {
        // What does not fit is cut: the line so far is still worth it.
        let fits = match *part {
            Part::Text(t) => w.raw(t),
            Part::Num(n) => w.uint(n),
            Part::Err(e) => w.raw(e.as_str()),
        };
        if fits.is_err() {
            break;
        }
    }
    app.log(level, w.as_str());
}

/// Without the `trace` feature: nothing (the lines are not compiled in).
#[cfg(not(feature = "trace"))]
#[inline(always)]
pub(crate) fn trace<A: App + ?Sized>(_app: &mut A, _level: Level, _parts: &[Part<'_>]) {}
