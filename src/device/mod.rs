//! The device facade: the [`Client`](crate::device::Client) the firmware uses.
//!
//! A client joins one MQTT [`Session`](crate::mqtt::Session), one cloud
//! [`Dialect`](crate::cloud::Dialect), the shadow/twin model
//! ([`Twin`](crate::twin::Twin)), a table of request handlers, the
//! sensors, and the application ([`App`](crate::device::App)):
//!
//! - requests from AWS request topics, Azure direct methods and Azure C2D
//!   messages reach one handler per path, and the answer goes back the way
//!   the request came ([`Actions::respond`](crate::device::Actions::respond));
//! - `general_information`, `sensor/list` and `sensor/<n>/get` are answered
//!   by the client unless the application overrides them;
//! - reported/desired state goes through one model on both clouds
//!   ([`Actions::report`](crate::device::Actions::report), [`App::on_desired`](crate::device::App::on_desired), [`App::on_twin`](crate::device::App::on_twin)), and the
//!   document is fetched after every connection so that nothing changed
//!   offline is missed;
//! - telemetry and events are published on the generic topics, translated
//!   per cloud, optionally on a schedule driven by `poll`;
//! - the device information ([`info`](crate::device::info)) answers
//!   `general_information` and is reported once per boot.
//!
//! Like the rest of the core it is sans-I/O and never allocates: the
//! caller provides every buffer ([`Buffers`](crate::device::Buffers)) and the tables are sized by
//! [`crate::bounds`](crate::bounds).

pub mod actions;
mod address;
pub mod app;
pub mod boot;
mod builtin;
mod client;
pub mod info;
pub mod queue;
pub mod requests;
pub mod route;
pub mod schedule;
pub mod sensor;
pub mod settings;
pub mod trace;

pub use crate::cloud::Route;
pub use actions::Actions;
pub use app::{Answer, App, Connection, Request, TwinResult};
pub use builtin::is_builtin;
pub use client::{Buffers, Client, Stats, MIN_SAS_LIFETIME_S};
pub use settings::{Sas, Settings};
