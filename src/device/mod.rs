//! The device facade: requests and responses, telemetry, events, reported/desired.

pub mod pending;
pub mod route;
pub mod schedule;
pub mod sensor;
pub mod writer;
