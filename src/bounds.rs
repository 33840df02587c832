//! The build-time bounds of the client's fixed tables.
//!
//! Each is set by an environment variable `NIMBUS_CFG_<NAME>` (1–255) when
//! cargo builds the core (the Zephyr module and the ESP-IDF component pass
//! their Kconfig values this way) and sizes a table inside the client
//! state, so changing one changes the client's RAM.

include!(concat!(env!("OUT_DIR"), "/bounds.rs"));
