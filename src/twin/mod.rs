//! Device shadow (AWS) and device twin (Azure) behind one reported/desired model.
//!
//! The layer is sans-I/O and knows no topics: requests are written into
//! caller buffers as plain data ([`TwinRequest`](crate::twin::TwinRequest): operation, request id, payload
//! length) for the dialect layer to put on the right topic, and answers come
//! back already classified ([`Response`](crate::twin::Response), [`Twin::on_desired`](crate::twin::Twin::on_desired)). Each input
//! yields an [`Outcome`](crate::twin::Outcome): a [`TwinEvent`](crate::twin::TwinEvent) borrowing the received payload, or
//! the reason it was [`Ignored`](crate::twin::Ignored).
//!
//! - [`json`](crate::twin::json): the zero-copy JSON scanner/validator used throughout;
//! - [`Twin`](crate::twin::Twin): the state machine (pending requests, timeouts, versions);
//!
//! Bounds: [`MAX_PENDING`](crate::twin::MAX_PENDING) requests by default (const generic `N`), ids of
//! at most [`MAX_REQUEST_ID_LEN`](crate::twin::MAX_REQUEST_ID_LEN) bytes, JSON nesting of at most
//! [`json::MAX_DEPTH`](crate::twin::json::MAX_DEPTH), and the per-cloud limits in this module's constants.

pub mod json;

mod id;
mod inflight;
mod model;
mod rules;

pub use id::{RequestId, MAX_REQUEST_ID_LEN};
pub use inflight::Op;
pub use model::{
    AwsReply, Ignored, Outcome, Response, Twin, TwinConfig, TwinEvent, TwinRequest,
    DEFAULT_TIMEOUT_MS, MAX_PENDING,
};
pub use rules::{
    max_in_flight, SpacePolicy, AWS_MAX_CLIENT_TOKEN, AWS_MAX_DEPTH, AWS_MAX_DOCUMENT,
    AWS_MAX_IN_FLIGHT, AZURE_MAX_DEPTH, AZURE_MAX_NAME, AZURE_MAX_SECTION,
};
