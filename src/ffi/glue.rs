//! The C function pointers behind the core's traits: the transport, the
//! random source and the application (handlers, sensors, callbacks,
//! platform services).

use core::ffi::c_void;
use core::ptr;

use super::error::from_c;
use super::storage::Storage;
use super::types::*;
use crate::cloud::sas::HmacSha256;
use crate::device::requests::RequestHandle;
use crate::device::sensor::{Reading, SensorInfo};
use crate::device::trace::Level;
use crate::device::{Actions, Answer, App, Connection, Request, Route, TwinResult};
use crate::mqtt::{OpenState, Random, Transport, TransportError};
use crate::{Error, Result};

type OpenFn = extern "C" fn(*mut c_void) -> i32;
type SendFn = extern "C" fn(*mut c_void, *const u8, usize) -> i32;
type RecvFn = extern "C" fn(*mut c_void, *mut u8, usize) -> i32;
type CloseFn = extern "C" fn(*mut c_void);

/// The port's transport, its four functions checked present.
pub(crate) struct CTransport {
    ctx: *mut c_void,
    open: OpenFn,
    send: SendFn,
    recv: RecvFn,
    close: CloseFn,
}

impl CTransport {
    pub(crate) fn new(t: &nimbus_transport_t) -> Result<Self> {
        match (t.open, t.send, t.recv, t.close) {
            (Some(open), Some(send), Some(recv), Some(close)) => Ok(CTransport {
                ctx: t.ctx,
                open,
                send,
                recv,
                close,
            }),
            _ => Err(Error::NullArgument),
        }
    }
}

/// What a negative transport result means to the engine.
fn link_error(code: i32) -> TransportError {
    match from_c(code) {
        Error::TlsFailed => TransportError::Tls,
        Error::ConnectionClosed => TransportError::Closed,
        _ => TransportError::Failed,
    }
}

/// A byte count from C: never more than was offered.
fn count(n: i32, limit: usize) -> core::result::Result<usize, TransportError> {
    match usize::try_from(n) {
        Ok(n) if n <= limit => Ok(n),
        Ok(_) => Err(TransportError::Failed),
        Err(_) => Err(link_error(n)),
    }
}

impl Transport for CTransport {
    fn open(&mut self) -> core::result::Result<OpenState, TransportError> {
        match (self.open)(self.ctx) {
            0 => Ok(OpenState::Pending),
            n if n > 0 => Ok(OpenState::Ready),
            n => Err(link_error(n)),
        }
    }

    fn send(&mut self, buf: &[u8]) -> core::result::Result<usize, TransportError> {
        count((self.send)(self.ctx, buf.as_ptr(), buf.len()), buf.len())
    }

    fn recv(&mut self, buf: &mut [u8]) -> core::result::Result<usize, TransportError> {
        count(
            (self.recv)(self.ctx, buf.as_mut_ptr(), buf.len()),
            buf.len(),
        )
    }

    fn close(&mut self) {
        (self.close)(self.ctx)
    }
}

/// The platform's random source, or a xorshift PRNG when it has none.
pub(crate) struct CRandom {
    ctx: *mut c_void,
    f: Option<extern "C" fn(*mut c_void) -> u32>,
    state: u32,
}

impl CRandom {
    pub(crate) fn new(p: &nimbus_platform_t, seed: &str) -> Self {
        // FNV-1a of the device id: devices of a fleet start apart.
        let state = seed.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        }) | 1;
        CRandom {
            ctx: p.ctx,
            f: p.random_u32,
            state,
        }
    }
}

impl Random for CRandom {
    fn next_u32(&mut self) -> u32 {
        if let Some(f) = self.f {
            return f(self.ctx);
        }
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.state = x;
        x
    }
}

/// A registered request handler.
#[derive(Clone, Copy)]
pub(crate) struct CHandler {
    pub(crate) f: extern "C" fn(
        *mut c_void,
        *mut nimbus_client_t,
        *const nimbus_request_t,
        *mut u8,
        usize,
        *mut usize,
    ) -> i32,
    pub(crate) user: *mut c_void,
}

/// A registered sensor's read function.
#[derive(Clone, Copy)]
pub(crate) struct CSensor {
    pub(crate) f: extern "C" fn(*mut c_void, u16, *mut i64, *mut u8) -> i32,
    pub(crate) user: *mut c_void,
}

impl CSensor {
    pub(crate) fn read(&self, id: u16) -> Result<Reading> {
        let (mut mantissa, mut decimals) = (0i64, 0u8);
        match (self.f)(self.user, id, &mut mantissa, &mut decimals) {
            0 if decimals <= 18 => Ok(Reading { mantissa, decimals }),
            0 => Err(Error::InvalidArgument),
            _ => Err(Error::SensorFailed),
        }
    }
}

/// The application as C gives it: callbacks and platform services, plus
/// where its client lives (to hand the callbacks a usable client).
pub(crate) struct CApp {
    pub(crate) callbacks: nimbus_callbacks_t,
    pub(crate) platform: nimbus_platform_t,
    pub(crate) storage: *const Storage,
}

impl CApp {
    /// Runs `f` with the client pointer that callbacks get, lending them
    /// `actions` so that API calls made from inside the callback act on it.
    fn lend<R>(
        &self,
        actions: &mut Actions<'_, '_>,
        f: impl FnOnce(*mut nimbus_client_t) -> R,
    ) -> R {
        let lent = (actions as *mut Actions<'_, '_>).cast::<c_void>();
        // SAFETY: `storage` was set by `nimbus_init` to the live storage
        // this application belongs to; only its `actions` cell is touched,
        // which lies outside the client that `&mut self` borrows.
        let cell = unsafe { &*ptr::addr_of!((*self.storage).actions) };
        let previous = cell.replace(lent);
        let result = f(self.storage.cast_mut().cast::<nimbus_client_t>());
        cell.set(previous);
        result
    }

    fn user(&self) -> *mut c_void {
        self.callbacks.user
    }
}

impl HmacSha256 for CApp {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> Result<[u8; 32]> {
        let Some(f) = self.platform.hmac_sha256 else {
            #[cfg(feature = "rustcrypto")]
            return crate::cloud::sas::RustCryptoHmac.hmac_sha256(key, message);
            #[cfg(not(feature = "rustcrypto"))]
            return Err(Error::InvalidCredentials);
        };
        // The port's function takes one message: join the parts.
        let mut joined = [0u8; 512];
        let mut len = 0;
        for part in message {
            let free = joined.get_mut(len..).ok_or(Error::BufferTooSmall)?;
            crate::bytes::copy(free, part)?;
            len += part.len();
        }
        let mut out = [0u8; 32];
        match f(
            self.platform.ctx,
            key.as_ptr(),
            key.len(),
            joined.as_ptr(),
            len,
            out.as_mut_ptr(),
        ) {
            0 => Ok(out),
            e => Err(from_c(e)),
        }
    }
}

fn status_of(e: Error) -> i32 {
    -i32::from(e.code())
}

impl App for CApp {
    type Handler = CHandler;
    type Sensor = CSensor;

    fn on_request(
        &mut self,
        handler: CHandler,
        request: &Request<'_>,
        reply: &mut [u8],
        actions: &mut Actions<'_, '_>,
    ) -> Answer {
        let c_request = nimbus_request_t {
            handle: request.handle.to_raw(),
            path: request.path.as_ptr().cast(),
            path_len: request.path.len(),
            payload: request.payload.as_ptr(),
            payload_len: request.payload.len(),
            route: match request.route {
                Route::Topic => nimbus_route_t::NIMBUS_ROUTE_TOPIC,
                Route::C2d => nimbus_route_t::NIMBUS_ROUTE_C2D,
                Route::Method => nimbus_route_t::NIMBUS_ROUTE_METHOD,
            },
        };
        let mut len = 0usize;
        let (ptr, cap) = (reply.as_mut_ptr(), reply.len());
        let status = self.lend(actions, |client| {
            (handler.f)(handler.user, client, &c_request, ptr, cap, &mut len)
        });
        match status {
            NIMBUS_DEFER => Answer::Later,
            100..=599 if len <= cap => Answer::Now {
                status: status as u16,
                len,
            },
            _ => Answer::Now {
                status: 500,
                len: 0,
            },
        }
    }

    fn read_sensor(&mut self, sensor: &SensorInfo<'_>, source: CSensor) -> Result<Reading> {
        source.read(sensor.id)
    }

    fn unix_time_s(&mut self) -> Option<u64> {
        let f = self.platform.unix_time_s?;
        u64::try_from(f(self.platform.ctx)).ok()
    }

    fn has_store(&self) -> bool {
        self.platform.store_read.is_some() && self.platform.store_write.is_some()
    }

    fn store_read(&mut self, id: u16, buf: &mut [u8]) -> Result<Option<usize>> {
        let f = self.platform.store_read.ok_or(Error::NotFound)?;
        let n = f(self.platform.ctx, id, buf.as_mut_ptr(), buf.len());
        match usize::try_from(n) {
            Ok(0) => Ok(None),
            // A port claiming more than it was given is broken.
            Ok(n) if n <= buf.len() => Ok(Some(n)),
            Ok(_) => Err(Error::CorruptRecord),
            Err(_) => Err(super::error::from_c(n)),
        }
    }

    fn store_write(&mut self, id: u16, data: &[u8]) -> Result<()> {
        let f = self.platform.store_write.ok_or(Error::NotFound)?;
        match f(self.platform.ctx, id, data.as_ptr(), data.len()) {
            0 => Ok(()),
            n => Err(super::error::from_c(n)),
        }
    }

    fn on_connection(&mut self, event: Connection, actions: &mut Actions<'_, '_>) {
        let Some(f) = self.callbacks.on_connection else {
            return;
        };
        let (up, reason) = match event {
            Connection::Up { .. } => (true, 0),
            Connection::Down { reason, .. } => (false, reason.map_or(0, status_of)),
        };
        let user = self.user();
        self.lend(actions, |client| f(user, client, up, reason));
    }

    fn on_desired(&mut self, patch: &[u8], version: u64, actions: &mut Actions<'_, '_>) {
        let Some(f) = self.callbacks.on_desired else {
            return;
        };
        let user = self.user();
        self.lend(actions, |client| {
            f(user, client, patch.as_ptr().cast(), patch.len(), version)
        });
    }

    fn on_twin(&mut self, result: TwinResult<'_>, actions: &mut Actions<'_, '_>) {
        let Some(f) = self.callbacks.on_twin else {
            return;
        };
        let mut c = nimbus_twin_result_t {
            request_id: 0,
            kind: nimbus_twin_kind_t::NIMBUS_TWIN_ACCEPTED,
            status: 0,
            has_version: false,
            version: 0,
            desired: ptr::null(),
            desired_len: 0,
            reported: ptr::null(),
            reported_len: 0,
            message: ptr::null(),
            message_len: 0,
        };
        match result {
            TwinResult::Accepted { id, version } => {
                c.request_id = id.value();
                c.status = 200;
                c.has_version = version.is_some();
                c.version = version.unwrap_or(0);
            }
            TwinResult::Document {
                id,
                desired,
                reported,
                version,
            } => {
                c.request_id = id.value();
                c.kind = nimbus_twin_kind_t::NIMBUS_TWIN_DOCUMENT;
                c.status = 200;
                c.has_version = true;
                c.version = version;
                (c.desired, c.desired_len) = (desired.as_ptr().cast(), desired.len());
                (c.reported, c.reported_len) = (reported.as_ptr().cast(), reported.len());
            }
            TwinResult::Rejected {
                id,
                status,
                message,
            } => {
                c.request_id = id.value();
                c.kind = nimbus_twin_kind_t::NIMBUS_TWIN_REJECTED;
                c.status = i32::from(status);
                (c.message, c.message_len) = (message.as_ptr().cast(), message.len());
            }
            TwinResult::Failed { id, error } => {
                c.request_id = id.value();
                c.kind = nimbus_twin_kind_t::NIMBUS_TWIN_FAILED;
                c.status = status_of(error);
            }
        }
        let user = self.user();
        self.lend(actions, |client| f(user, client, &c));
    }

    fn on_published(&mut self, packet_id: u16, actions: &mut Actions<'_, '_>) {
        let Some(f) = self.callbacks.on_published else {
            return;
        };
        let user = self.user();
        self.lend(actions, |client| f(user, client, packet_id));
    }

    fn on_request_expired(
        &mut self,
        handle: RequestHandle,
        path: &str,
        actions: &mut Actions<'_, '_>,
    ) {
        let Some(f) = self.callbacks.on_request_expired else {
            return;
        };
        let user = self.user();
        let (raw, text, len) = (handle.to_raw(), path.as_ptr().cast(), path.len());
        self.lend(actions, |client| f(user, client, raw, text, len));
    }

    fn log_level(&self) -> Option<Level> {
        self.platform.log.map(|_| Level::Info)
    }

    fn log(&mut self, level: Level, line: &str) {
        if let Some(f) = self.platform.log {
            f(
                self.platform.ctx,
                level as u8,
                line.as_ptr().cast(),
                line.len(),
            );
        }
    }

    fn on_error(&mut self, error: Error, what: &str, actions: &mut Actions<'_, '_>) {
        let Some(f) = self.callbacks.on_error else {
            return;
        };
        let user = self.user();
        let (code, text, len) = (status_of(error), what.as_ptr().cast(), what.len());
        self.lend(actions, |client| f(user, client, code, text, len));
    }
}
