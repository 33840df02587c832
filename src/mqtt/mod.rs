//! The MQTT 3.1.1 session engine (sans-I/O, no heap).
//!
//! A [`Session`](crate::mqtt::Session) owns a port's [`Transport`](crate::mqtt::Transport) and [`Random`](crate::mqtt::Random) source and
//! borrows four caller buffers ([`Buffers`](crate::mqtt::Buffers)); [`Session::poll`](crate::mqtt::Session::poll) does all
//! pending work at a given time and returns when it must run next. It
//! connects (CONNECT with client id, credentials, keepalive, clean session
//! and will), subscribes and unsubscribes, publishes and receives QoS 0 and
//! QoS 1, pings when idle, and after any failure reconnects with
//! exponential backoff and full jitter, resending what is unacknowledged
//! and renewing the subscriptions on a new session. QoS 2 is refused.
//!
//! ```text
//! poll(now) ─ open/connect ─ recv → decode → Event + &mut Outbox → handler
//!           └ timers (CONNACK, keepalive, ping, ack) ─ flush → send
//! ```
//!
//! # Memory
//! Everything is owned by the `Session` value (no globals); RAM is its size
//! plus the caller buffers:
//! - `Buffers::rx` bounds the largest incoming packet;
//! - `Buffers::tx` holds CONNECT, QoS 0 publishes and control packets;
//! - `Buffers::inflight` holds the bytes of the unacknowledged QoS 1
//!   publishes, at most `INFLIGHT` of them (const generic, default 8);
//! - `Buffers::filters` holds the stored filters, at most `SUBS` (default 8).
//!
//! `Session<'_, T, R, 8, 8>` with zero-sized `T` and `R`
//! is 736 bytes on x86-64 (the `session_size` test); the size report
//! gives it for the firmware targets.
//!
//! # Events and the outbox
//! The handler gets an [`Event`](crate::mqtt::Event) borrowing the receive buffer and a
//! `&mut` [`Outbox`](crate::mqtt::Outbox) (a disjoint part of the session), so an incoming
//! topic and payload can be answered without copying them.

mod backoff;
pub mod codec;
mod config;
mod event;
mod inbound;
mod link;
mod outbox;
mod session;
mod slab;
pub mod topic;
mod transport;
mod tx;

pub use backoff::{Backoff, BackoffConfig};
pub use codec::{Publish, QoS, Will};
pub use config::Config;
pub use event::{Event, SubscriptionId};
pub use outbox::{Outbox, SubscriptionInfo};
pub use session::{Buffers, Session, State, MAX_PACKETS_PER_POLL, MIN_RX_BUFFER, UNSTABLE_AFTER};
pub use transport::{OpenState, Random, Transport, TransportError};
