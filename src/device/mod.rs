//! The device facade: requests and responses, telemetry, events, reported/desired.
