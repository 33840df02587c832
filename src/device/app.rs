//! What the application gives the client: its request handlers, its
//! sensors, the platform services the core cannot have on its own, and the
//! callbacks through which it hears what happened.

use crate::cloud::sas::HmacSha256;
use crate::cloud::Route;
use crate::device::actions::Actions;
use crate::device::requests::RequestHandle;
use crate::device::sensor::{Reading, SensorInfo};
use crate::device::trace::Level;
use crate::twin::RequestId;
use crate::{Error, Result};

/// An incoming request, handed to [`App::on_request`].
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Names the request for [`Actions::respond`].
    pub handle: RequestHandle,
    /// The generic path, e.g. `sensor/12/get`.
    pub path: &'a str,
    /// The request's payload as received.
    pub payload: &'a [u8],
    /// How it came.
    pub route: Route,
}

/// What a request handler decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Answer now with `status` (200 with a JSON body, 204 without, 4xx or
    /// 5xx) and the first `len` bytes of the reply buffer.
    Now {
        /// The status (on Azure methods it is the method's status; on the
        /// other routes it travels in the body the handler wrote).
        status: u16,
        /// Bytes of the reply buffer to send.
        len: usize,
    },
    /// Answer later with [`Actions::respond`], before the request expires.
    Later,
}

/// The outcome of a shadow/twin request made with [`Actions::report`] or
/// [`Actions::get_twin`] (a normalised [`crate::twin::TwinEvent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwinResult<'a> {
    /// The cloud accepted a report; the document's new version, if given.
    Accepted {
        /// The request.
        id: RequestId,
        /// The version after the report.
        version: Option<u64>,
    },
    /// The whole document, answering a get.
    Document {
        /// The request.
        id: RequestId,
        /// The desired section (a JSON object).
        desired: &'a [u8],
        /// The reported section (a JSON object).
        reported: &'a [u8],
        /// The document version.
        version: u64,
    },
    /// The cloud refused the request.
    Rejected {
        /// The request.
        id: RequestId,
        /// The cloud's status (AWS `code`, Azure status).
        status: u16,
        /// The cloud's message (AWS: JSON-escaped text; Azure: the body).
        message: &'a [u8],
    },
    /// No usable answer: [`Error::Timeout`], or an unreadable answer.
    Failed {
        /// The request.
        id: RequestId,
        /// Why.
        error: Error,
    },
}

/// The link came up or went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// Connected; `session_present` when the broker resumed the session.
    Up {
        /// The broker kept the previous session.
        session_present: bool,
    },
    /// Disconnected, with the reason (`None` after a requested disconnect)
    /// and when the next attempt is made (`None`: no new attempt).
    Down {
        /// Why.
        reason: Option<Error>,
        /// Delay before the next attempt.
        reconnect_in_ms: Option<u32>,
    },
}

/// The application side of a [`Client`](super::Client). Every callback
/// runs inside `poll` and may act on the client through `actions`
/// (answer, report, publish); none may block.
///
/// `Handler` and `Sensor` are what the application registers with a
/// request pattern and a sensor (a function pointer, an index, ...): the
/// client hands them back to [`on_request`](App::on_request) and
/// [`read_sensor`](App::read_sensor).
pub trait App: HmacSha256 {
    /// What is registered with a request pattern.
    type Handler: Copy;
    /// What is registered with a sensor.
    type Sensor: Copy;

    /// A request matched a pattern registered with `handler`. Write an
    /// immediate answer into `reply` and return [`Answer::Now`], or return
    /// [`Answer::Later`] and call [`Actions::respond`] later.
    fn on_request(
        &mut self,
        handler: Self::Handler,
        request: &Request<'_>,
        reply: &mut [u8],
        actions: &mut Actions<'_, '_>,
    ) -> Answer;

    /// Reads a registered sensor (for `sensor/<n>/get` and telemetry).
    fn read_sensor(&mut self, sensor: &SensorInfo<'_>, source: Self::Sensor) -> Result<Reading>;

    /// Seconds since the Unix epoch, if the device knows the time (needed
    /// only for Azure SAS tokens, which carry an expiry time).
    fn unix_time_s(&mut self) -> Option<u64> {
        None
    }

    /// Whether the port gives the client a store for persistent records
    /// ([`store_read`](App::store_read), [`store_write`](App::store_write)).
    /// With one, the boot counter and the readings' `seq` survive reboots
    /// (see [`boot`](crate::device::boot)); readings then carry `boot`.
    fn has_store(&self) -> bool {
        false
    }

    /// Reads persistent record `id` into `buf`: its length, or `None` when
    /// there is none. Errors: the port's (the record is then skipped).
    fn store_read(&mut self, _id: u16, _buf: &mut [u8]) -> Result<Option<usize>> {
        Ok(None)
    }

    /// Writes persistent record `id` whole, replacing what was there (a
    /// torn write is caught by the record's CRC). Errors: the port's.
    fn store_write(&mut self, _id: u16, _data: &[u8]) -> Result<()> {
        Err(Error::NotFound)
    }

    /// The link came up or went down.
    fn on_connection(&mut self, _event: Connection, _actions: &mut Actions<'_, '_>) {}

    /// Desired properties changed (AWS delta, Azure desired patch, or the
    /// newer desired section fetched after a reconnect).
    fn on_desired(&mut self, _patch: &[u8], _version: u64, _actions: &mut Actions<'_, '_>) {}

    /// A shadow/twin request completed.
    fn on_twin(&mut self, _result: TwinResult<'_>, _actions: &mut Actions<'_, '_>) {}

    /// A QoS 1 publish was acknowledged by the broker.
    fn on_published(&mut self, _packet_id: u16, _actions: &mut Actions<'_, '_>) {}

    /// A request was not answered before it expired (it can no longer be;
    /// the actions can still publish, report or answer other requests).
    fn on_request_expired(
        &mut self,
        _handle: RequestHandle,
        _path: &str,
        _actions: &mut Actions<'_, '_>,
    ) {
    }

    /// Something arrived or happened that the client could not act on (a
    /// topic it does not know, a request it could not answer, telemetry it
    /// could not send): the error and what it concerned (a topic or a short
    /// word). Nothing is dropped without passing through here.
    fn on_error(&mut self, _error: Error, _what: &str, _actions: &mut Actions<'_, '_>) {}

    /// The most detailed level the application logs (`None`: no trace
    /// line is even written). With the `defmt` feature the default is
    /// every level (defmt drops what `DEFMT_LOG` leaves out, at build
    /// time); with the `log` feature it follows the `log` crate's maximum
    /// level.
    fn log_level(&self) -> Option<Level> {
        #[cfg(feature = "defmt")]
        {
            Some(Level::Info)
        }
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        {
            match log::max_level() {
                log::LevelFilter::Off => None,
                log::LevelFilter::Error => Some(Level::Error),
                log::LevelFilter::Warn => Some(Level::Warn),
                _ => Some(Level::Info),
            }
        }
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        {
            None
        }
    }

    /// One trace line of the client ([`trace`](super::trace)); with the
    /// `defmt` feature the default hands it to defmt (`{=str}`, at its
    /// level), with the `log` feature to the `log` crate (target `nimbus`).
    fn log(&mut self, _level: Level, _line: &str) {
        #[cfg(feature = "defmt")]
        match _level {
            Level::Error => defmt::error!("{=str}", _line),
            Level::Warn => defmt::warn!("{=str}", _line),
            Level::Info => defmt::info!("{=str}", _line),
        }
        #[cfg(all(feature = "log", not(feature = "defmt")))]
        {
            let level = match _level {
                Level::Error => log::Level::Error,
                Level::Warn => log::Level::Warn,
                Level::Info => log::Level::Info,
            };
            log::log!(target: "nimbus", level, "{}", _line);
        }
    }
}
