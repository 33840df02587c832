//! What lives inside a `nimbus_client_t`, and the only two ways to reach
//! the client in it: whole (outside callbacks) or through the actions a
//! running callback was lent.

use core::cell::{Cell, UnsafeCell};
use core::ffi::c_void;
use core::ptr;

use super::glue::{CApp, CRandom, CTransport};
use super::types::nimbus_client_t;
use crate::device::{Actions, Client};
use crate::{Error, Result};

/// The client as the C API instantiates it.
pub(crate) type CClient = Client<'static, CTransport, CRandom, CApp>;

/// Written by `nimbus_init` at the start of a `nimbus_client_t`.
#[repr(C)]
pub(crate) struct Storage {
    /// `MAGIC` while the client is in use; `nimbus_deinit` clears it
    /// through the shared reference (hence a `Cell`).
    magic: Cell<u32>,
    /// A call is using the client (`nimbus_poll`, or any other call that
    /// needs it whole): callbacks may only act through `actions`.
    busy: Cell<bool>,
    /// The actions a running callback was lent (null otherwise).
    pub(crate) actions: Cell<*mut c_void>,
    /// The time of the last `nimbus_poll`, for calls made outside it.
    last_now_ms: Cell<u64>,
    client: UnsafeCell<CClient>,
}

const MAGIC: u32 = 0x4e49_4d42;

const _: () = assert!(
    core::mem::size_of::<Storage>() <= super::types::NIMBUS_CLIENT_SIZE,
    "the client outgrew NIMBUS_CLIENT_SIZE: update ffi::types::client_size and nimbus.h's formula"
);
const _: () = assert!(core::mem::align_of::<Storage>() <= core::mem::align_of::<nimbus_client_t>());

impl Storage {
    /// Whether `size` bytes of caller storage hold a client.
    pub(crate) fn fits(size: usize) -> bool {
        size >= core::mem::size_of::<Storage>()
    }

    /// Puts a new client into `at`, storage that [`fits`](Self::fits).
    pub(crate) fn install(at: *mut nimbus_client_t, client: CClient) {
        let storage = Storage {
            magic: Cell::new(MAGIC),
            busy: Cell::new(false),
            actions: Cell::new(ptr::null_mut()),
            last_now_ms: Cell::new(0),
            client: UnsafeCell::new(client),
        };
        // SAFETY: `at` is non-null and its storage large enough (both
        // checked by the caller, `fits`), aligned for a Storage as every
        // `nimbus_client_t` is (asserted above); a client already there is
        // not in use (checked by the caller) and holds nothing that needs
        // dropping.
        unsafe { ptr::write(at.cast::<Storage>(), storage) };
    }

    /// The storage behind a client pointer from C, if `nimbus_init` made it.
    pub(crate) fn get<'s>(at: *const nimbus_client_t) -> Result<&'s Storage> {
        if at.is_null() {
            return Err(Error::NullArgument);
        }
        // SAFETY: `at` points to a caller's `nimbus_client_t` (at least 4
        // aligned bytes); its first word is our marker once initialised.
        let magic = unsafe { ptr::read(at.cast::<u32>()) };
        if magic != MAGIC {
            return Err(Error::InvalidState);
        }
        // SAFETY: the marker says `nimbus_init` wrote a Storage here, and the
        // API contract keeps it in place for as long as C uses the client.
        Ok(unsafe { &*at.cast::<Storage>() })
    }

    /// The time of the last `nimbus_poll` (or connect/disconnect).
    pub(crate) fn now_ms(&self) -> u64 {
        self.last_now_ms.get()
    }

    /// Whether a call is using the client right now.
    pub(crate) fn is_busy(&self) -> bool {
        self.busy.get()
    }

    /// Forgets the client (`nimbus_deinit`): later calls fail cleanly.
    /// The marker is cleared through `self` (a `Cell`), not through a raw
    /// pointer that `self` also covers.
    pub(crate) fn retire(&self) -> Result<()> {
        if self.busy.get() {
            return Err(Error::InvalidState);
        }
        self.magic.set(0);
        Ok(())
    }

    /// Runs `f` on the whole client. Refused (`InvalidState`) while another
    /// call, e.g. the `nimbus_poll` running a callback, is using it.
    pub(crate) fn with_client<R>(
        &self,
        now_ms: Option<u64>,
        f: impl FnOnce(&mut CClient) -> Result<R>,
    ) -> Result<R> {
        if self.busy.replace(true) {
            return Err(Error::InvalidState);
        }
        if let Some(now) = now_ms {
            self.last_now_ms.set(now);
        }
        // SAFETY: the API is single-threaded by contract, and `busy` keeps
        // every other path to the client (callbacks re-entering the API)
        // out while this reference lives.
        let result = f(unsafe { &mut *self.client.get() });
        self.busy.set(false);
        result
    }

    /// Runs `f` on the client's actions: those lent to the running
    /// callback inside `nimbus_poll`, otherwise the client's own.
    pub(crate) fn with_actions<R>(
        &self,
        f: impl FnOnce(&mut Actions<'_, 'static>) -> Result<R>,
    ) -> Result<R> {
        if self.busy.get() {
            let lent = self.actions.get();
            if lent.is_null() {
                return Err(Error::InvalidState);
            }
            // SAFETY: `lent` was set by `CApp::lend` to the `Actions` the
            // poll loop handed the callback that is running now (and is
            // reset when it returns); the poll loop does not touch them
            // until then, so this is the only live reference.
            return f(unsafe { &mut *lent.cast::<Actions<'_, 'static>>() });
        }
        let now = self.last_now_ms.get();
        self.with_client(None, |client| f(&mut client.actions(now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_fits_its_storage() {
        let size = core::mem::size_of::<Storage>();
        std::println!("Storage is {size} bytes on this target");
        assert!(size <= super::super::types::NIMBUS_CLIENT_SIZE);
    }
}
