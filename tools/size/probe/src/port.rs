//! What a C port hands the core: an opaque context and plain functions
//! taking integers and pointers, as `nimbus.h` will declare them.
//!
//! The port's functions here are stand-ins (they never touch memory
//! through the pointers); what matters is that the core reaches them only
//! through function pointers the compiler cannot see through
//! (`black_box`), exactly as it reaches a C port's, so every path of the
//! engine that depends on their results stays in the image.

use core::hint::black_box;
use nimbus::cloud::sas::HmacSha256;
use nimbus::mqtt::{OpenState, Random, Transport, TransportError};
use nimbus::{Error, Result};

/// `int open(void *ctx)`: 0 ready, 1 in progress, negative on failure.
pub type OpenFn = extern "C" fn(ctx: usize) -> i32;
/// `int send(void *ctx, const uint8_t *buf, size_t len)`: bytes taken,
/// 0 would block, negative on failure (see [`link_error`]).
pub type SendFn = extern "C" fn(ctx: usize, buf: *const u8, len: usize) -> i32;
/// `int recv(void *ctx, uint8_t *buf, size_t len)`: bytes written, 0 none
/// now, negative on failure (see [`link_error`]).
pub type RecvFn = extern "C" fn(ctx: usize, buf: *mut u8, len: usize) -> i32;
/// `void close(void *ctx)`.
pub type CloseFn = extern "C" fn(ctx: usize);
/// `uint32_t random(void *ctx)`.
pub type RandomFn = extern "C" fn(ctx: usize) -> u32;
/// `int hmac_sha256(void *ctx, key, key_len, msg, msg_len, uint8_t out[32])`,
/// called once per message part with `key == NULL` after the first
/// (a streaming MAC, as mbedTLS offers it); 0 on success.
pub type HmacFn = extern "C" fn(
    ctx: usize,
    key: *const u8,
    key_len: usize,
    msg: *const u8,
    msg_len: usize,
    out: *mut u8,
) -> i32;

/// A transport of C function pointers.
#[derive(Clone, Copy)]
pub struct PortTransport {
    ctx: usize,
    open: OpenFn,
    send: SendFn,
    recv: RecvFn,
    close: CloseFn,
}

/// A random source of a C function pointer.
#[derive(Clone, Copy)]
pub struct PortRandom {
    ctx: usize,
    next: RandomFn,
}

/// HMAC-SHA256 of a C function pointer (e.g. over mbedTLS).
#[derive(Clone, Copy)]
pub struct PortHmac {
    ctx: usize,
    mac: HmacFn,
}

/// The transport a port would register, with context `ctx`.
pub fn transport(ctx: u32) -> PortTransport {
    PortTransport {
        ctx: ctx as usize,
        open: black_box(port_open as OpenFn),
        send: black_box(port_send as SendFn),
        recv: black_box(port_recv as RecvFn),
        close: black_box(port_close as CloseFn),
    }
}

/// The random source a port would register.
pub fn random(ctx: u32) -> PortRandom {
    PortRandom {
        ctx: ctx as usize,
        next: black_box(port_random as RandomFn),
    }
}

/// The HMAC a port would register.
pub fn hmac(ctx: u32) -> PortHmac {
    PortHmac {
        ctx: ctx as usize,
        mac: black_box(port_hmac as HmacFn),
    }
}

/// The transport error a negative return code stands for: -2 closed by
/// the peer, -3 TLS, anything else a failed link.
fn link_error(code: i32) -> TransportError {
    match code {
        -2 => TransportError::Closed,
        -3 => TransportError::Tls,
        _ => TransportError::Failed,
    }
}

fn byte_count(code: i32) -> core::result::Result<usize, TransportError> {
    usize::try_from(code).map_err(|_| link_error(code))
}

impl Transport for PortTransport {
    fn open(&mut self) -> core::result::Result<OpenState, TransportError> {
        match (self.open)(self.ctx) {
            0 => Ok(OpenState::Ready),
            1 => Ok(OpenState::Pending),
            code => Err(link_error(code)),
        }
    }

    fn send(&mut self, buf: &[u8]) -> core::result::Result<usize, TransportError> {
        byte_count((self.send)(self.ctx, buf.as_ptr(), buf.len()))
    }

    fn recv(&mut self, buf: &mut [u8]) -> core::result::Result<usize, TransportError> {
        byte_count((self.recv)(self.ctx, buf.as_mut_ptr(), buf.len()))
    }

    fn close(&mut self) {
        (self.close)(self.ctx)
    }
}

impl Random for PortRandom {
    fn next_u32(&mut self) -> u32 {
        (self.next)(self.ctx)
    }
}

impl HmacSha256 for PortHmac {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> Result<[u8; 32]> {
        let mut out = [0u8; 32];
        let mut key_ptr = key.as_ptr();
        for part in message {
            let code = (self.mac)(
                self.ctx,
                key_ptr,
                key.len(),
                part.as_ptr(),
                part.len(),
                out.as_mut_ptr(),
            );
            if code != 0 {
                return Err(Error::InvalidCredentials);
            }
            key_ptr = core::ptr::null();
        }
        Ok(out)
    }
}

// The stand-in port. Each depends on `ctx` only, so nothing about the
// link's behaviour is known when the core is compiled.

extern "C" fn port_open(ctx: usize) -> i32 {
    (ctx & 1) as i32
}

extern "C" fn port_send(ctx: usize, _buf: *const u8, len: usize) -> i32 {
    i32::try_from(len.min(ctx)).unwrap_or(-1)
}

extern "C" fn port_recv(ctx: usize, _buf: *mut u8, len: usize) -> i32 {
    i32::try_from(len.min(ctx >> 8)).unwrap_or(-2)
}

extern "C" fn port_close(_ctx: usize) {}

extern "C" fn port_random(ctx: usize) -> u32 {
    ctx as u32
}

extern "C" fn port_hmac(
    ctx: usize,
    _key: *const u8,
    _kl: usize,
    _msg: *const u8,
    _ml: usize,
    _out: *mut u8,
) -> i32 {
    (ctx & 2) as i32
}
