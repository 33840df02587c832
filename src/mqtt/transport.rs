//! What a port supplies: a non-blocking byte link and a random source.
//!
//! The trait mirrors coreMQTT's two transport function pointers (`send`,
//! `recv`) plus `open`/`close`, because reconnecting with backoff is the
//! engine's job: the engine *asks* the port to open or close the link and
//! never blocks waiting for it.

use crate::Error;

/// Why a transport call failed. Every variant ends the connection; the
/// engine then backs off and reconnects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The link failed (socket error, DNS failure, refused connection, ...).
    Failed,
    /// The peer closed the link.
    Closed,
    /// The TLS handshake or certificate verification failed.
    Tls,
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Failed => Error::TransportFailed,
            TransportError::Closed => Error::ConnectionClosed,
            TransportError::Tls => Error::TlsFailed,
        }
    }
}

/// Progress of a non-blocking [`Transport::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenState {
    /// Still connecting (TCP or TLS handshake under way): call `open` again.
    Pending,
    /// The link is up; `send` and `recv` may be used.
    Ready,
}

/// A non-blocking byte link (TCP, TLS over TCP, ...) owned by the port.
///
/// No call may block for long: the engine runs inside the port's `poll`
/// loop and every wait it needs is expressed as a deadline.
pub trait Transport {
    /// Starts or continues opening the link. Called again while it returns
    /// [`OpenState::Pending`]; after [`OpenState::Ready`] the engine uses
    /// `send`/`recv` until it calls [`close`](Transport::close).
    fn open(&mut self) -> Result<OpenState, TransportError>;

    /// Sends up to `buf.len()` bytes and returns how many were taken;
    /// `Ok(0)` means "would block, try later".
    fn send(&mut self, buf: &[u8]) -> Result<usize, TransportError>;

    /// Receives up to `buf.len()` bytes and returns how many were written;
    /// `Ok(0)` means "nothing now". A closed link is
    /// `Err(TransportError::Closed)`, never `Ok(0)`.
    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError>;

    /// Closes the link (idempotent). The next `open` starts afresh.
    fn close(&mut self);
}

/// A source of random numbers for the reconnect jitter (a hardware RNG,
/// or any PRNG seeded per device so that a fleet does not reconnect in
/// lockstep). Any `FnMut() -> u32` is one.
pub trait Random {
    /// Returns the next random 32-bit value.
    fn next_u32(&mut self) -> u32;
}

impl<F: FnMut() -> u32> Random for F {
    fn next_u32(&mut self) -> u32 {
        self()
    }
}
