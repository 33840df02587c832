//! The C API: `include/nimbus.h` is generated from this module by cbindgen.
//!
//! The client lives in a `nimbus_client_t` the application provides; its
//! buffers in one caller buffer (`nimbus_buffer_t`). The port hands the
//! core a transport of four non-blocking functions and calls
//! `nimbus_poll` from its loop. Every function returns a `nimbus_err_t`.
//!
//! The API is single-threaded: one thread (or a port's lock) calls it.
//! Callbacks run inside `nimbus_poll` and may act on the client they are
//! given (answer, report, publish); that is the only re-entry allowed, and
//! anything else gets `NIMBUS_ERR_INVALID_STATE`.
//!
//! This is the only place in the crate with `unsafe`: turning C pointers
//! into Rust references, each block with the reason it is sound.
#![allow(non_camel_case_types, unsafe_code)]

mod api;
mod convert;
mod error;
mod glue;
mod runtime;
mod storage;
mod types;

pub use api::*;
pub use error::nimbus_err_t;
pub use types::*;
