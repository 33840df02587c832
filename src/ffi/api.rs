//! The exported functions. Each checks its arguments, reaches the client
//! through [`Storage`], and turns the result into a `nimbus_err_t`.
//!
//! # Safety
//! One rule for every function here, said once (here and in the header's
//! banner) rather than on each: every pointer is NULL (refused with
//! `NIMBUS_ERR_NULL_ARGUMENT` where a value is required) or valid for what
//! it points to, for as long as the function's documentation says.
#![allow(clippy::missing_safety_doc)] // the rule above covers every function

use core::ffi::{c_char, c_void};

use super::convert::{self, bytes, c_str_required, put, qos};
use super::error::nimbus_err_t;
use super::glue::{CApp, CHandler, CRandom, CSensor, CTransport};
use super::storage::Storage;
use super::types::*;
use crate::device::requests::RequestHandle;
use crate::device::route::MAX_PATH_LEN;
use crate::device::sensor::{Reading, SensorInfo, MAX_NAME_LEN};
use crate::device::Client;
use crate::mqtt::State;
#[cfg(feature = "record")]
use crate::record::DeviceRecord;
use crate::{Error, Result};

fn result(r: Result<()>) -> nimbus_err_t {
    r.into()
}

/// Sets up a client in `client` from `config` and the port's `transport`.
/// Nothing is sent until `nimbus_connect`. Strings and the buffer in the
/// configuration must outlive the client. Uses about two client sizes of
/// stack while it builds the client.
///
/// C code calls it as `nimbus_init(client, config, transport)`, the
/// header's inline function that passes `sizeof(nimbus_client_t)` as
/// `client_size`: the size the firmware was compiled with, from its
/// `NIMBUS_CFG_*` values. Other languages pass the size of the storage
/// they give.
///
/// Errors: NULL arguments, `NIMBUS_ERR_STORAGE_TOO_SMALL` (`client_size`
/// is smaller than this library's client: the firmware was compiled with
/// other `NIMBUS_CFG_*` values than the library was built with; or the
/// buffer), `NIMBUS_ERR_INVALID_NAME` (device, module or shadow name),
/// `NIMBUS_ERR_INVALID_ARGUMENT` (Azure without a hub, bad QoS, cloud or
/// encoding; a cloud, a SAS key or CBOR readings in a build that leaves
/// them out: Kconfig `NIMBUS_AWS`, `NIMBUS_AZURE`, `NIMBUS_SAS`,
/// `NIMBUS_CBOR`), `NIMBUS_ERR_INVALID_STATE` (the client is inside
/// `nimbus_poll`).
///
/// Not on a client inside `nimbus_poll` (from one of its callbacks):
/// `NIMBUS_ERR_INVALID_STATE`.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_init_sized(
    client: *mut nimbus_client_t,
    client_size: usize,
    config: *const nimbus_config_t,
    transport: *const nimbus_transport_t,
) -> nimbus_err_t {
    result(init(client, client_size, config, transport))
}

/// What C's `nimbus_init` is, for Rust callers of the C API (tests, fuzz
/// targets): [`nimbus_init_sized`] with the size of [`nimbus_client_t`].
#[must_use]
pub unsafe fn nimbus_init(
    client: *mut nimbus_client_t,
    config: *const nimbus_config_t,
    transport: *const nimbus_transport_t,
) -> nimbus_err_t {
    let size = core::mem::size_of::<nimbus_client_t>();
    // SAFETY: the same contract as nimbus_init_sized, with the true size.
    unsafe { nimbus_init_sized(client, size, config, transport) }
}

fn init(
    client: *mut nimbus_client_t,
    client_size: usize,
    config: *const nimbus_config_t,
    transport: *const nimbus_transport_t,
) -> Result<()> {
    if client.is_null() || config.is_null() || transport.is_null() {
        return Err(Error::NullArgument);
    }
    if !Storage::fits(client_size) {
        return Err(Error::StorageTooSmall);
    }
    if Storage::get(client).is_ok_and(Storage::is_busy) {
        return Err(Error::InvalidState);
    }
    // SAFETY: both are non-null pointers to structs the caller filled.
    let (config, transport) = unsafe { (&*config, &*transport) };
    let settings = convert::settings(config)?;
    let buffers = convert::buffers(config)?;
    let transport = CTransport::new(transport)?;
    let random = CRandom::new(&config.platform, settings.device_id);
    let app = CApp {
        callbacks: config.callbacks,
        platform: config.platform,
        storage: client.cast_const().cast(),
    };
    let built = Client::new(settings, transport, random, app, buffers)?;
    Storage::install(client, built);
    Ok(())
}

/// Forgets the client: later calls on it fail with
/// `NIMBUS_ERR_INVALID_STATE` until `nimbus_init`. The port closes its link.
///
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_deinit(client: *mut nimbus_client_t) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| s.retire()))
}

/// Bytes `config->memory.buffer` must have for this configuration (0 for
/// a NULL or invalid configuration).
///
/// Needs no client: may be called anywhere, from a callback too.
#[no_mangle]
pub unsafe extern "C" fn nimbus_buffer_len(config: *const nimbus_config_t) -> usize {
    if config.is_null() {
        return 0;
    }
    // SAFETY: a non-null pointer to a configuration the caller filled.
    convert::memory_needed(unsafe { &*config }).unwrap_or(0)
}

/// Registers `handler` (with `user`) for request paths matching `pattern`:
/// `general_information`, `sensor/+/get` (`+` one level), or a trailing
/// `#` (the rest). An exact or `+` pattern overrides the built-in device
/// model; `#` catches what nothing else handles. `pattern` must outlive
/// the client. Errors: `NIMBUS_ERR_INVALID_ARGUMENT`, `NIMBUS_ERR_BUSY`
/// (table full), `NIMBUS_ERR_INVALID_STATE` (inside a callback).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_register_handler(
    client: *mut nimbus_client_t,
    pattern: *const c_char,
    handler: nimbus_request_fn,
    user: *mut c_void,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let pattern = c_str_required(pattern, MAX_PATH_LEN)?;
        let f = handler.ok_or(Error::NullArgument)?;
        storage.with_client(None, |c| c.register_handler(pattern, CHandler { f, user }))
    })())
}

/// Registers sensor `id` of `type` (e.g. `temperature`) measured in
/// `unit` (e.g. `Cel`), read by `read` (with `user`), for `sensor/list`,
/// `sensor/<id>/get` and the automatic telemetry. The strings must outlive
/// the client. Errors: `NIMBUS_ERR_INVALID_ARGUMENT` (duplicate id, empty
/// or long names), `NIMBUS_ERR_BUSY`, `NIMBUS_ERR_INVALID_STATE`.
///
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_register_sensor(
    client: *mut nimbus_client_t,
    id: u16,
    kind: *const c_char,
    unit: *const c_char,
    read: nimbus_sensor_read_fn,
    user: *mut c_void,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let info = SensorInfo {
            id,
            kind: c_str_required(kind, MAX_NAME_LEN)?,
            unit: c_str_required(unit, MAX_NAME_LEN)?,
        };
        let f = read.ok_or(Error::NullArgument)?;
        storage.with_client(None, |c| c.register_sensor(info, CSensor { f, user }))
    })())
}

/// Sets what `general_information` answers and what is reported to the
/// shadow/twin once per boot, at the first connection. Strings must
/// outlive the client. Errors: `NIMBUS_ERR_INVALID_ARGUMENT` (an address
/// of a version other than 0, 4 or 6, or of the wrong one for its field),
/// `NIMBUS_ERR_INVALID_STRING`.
///
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_set_device_info(
    client: *mut nimbus_client_t,
    info: *const nimbus_device_info_t,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        if info.is_null() {
            return Err(Error::NullArgument);
        }
        // SAFETY: a non-null pointer to a struct the caller filled.
        let info = convert::device_info(unsafe { &*info })?;
        storage.with_client(None, |c| {
            c.set_device_info(info);
            Ok(())
        })
    })())
}

/// Starts connecting, and reconnecting after every failure with backoff.
/// On Azure with SAS a token is made first (`NIMBUS_ERR_INVALID_CREDENTIALS`
/// without a clock or with a bad key).
///
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_connect(client: *mut nimbus_client_t, now_ms: u64) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| s.with_client(Some(now_ms), |c| c.connect(now_ms))))
}

/// Disconnects cleanly; queued QoS 1 messages are kept for a later connect.
/// The DISCONNECT goes out at the next `nimbus_poll`s, which then close
/// the link and stop reconnecting (`on_connection` with `up` false).
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_STATE` (not
/// initialised, or inside a callback).
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_disconnect(
    client: *mut nimbus_client_t,
    now_ms: u64,
) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| {
        s.with_client(Some(now_ms), |c| {
            c.disconnect(now_ms);
            Ok(())
        })
    }))
}

/// Tells the client that the network came back (call it from the RTOS's
/// network-up event, e.g. Zephyr's `NET_EVENT_L4_CONNECTED` or ESP-IDF's
/// `IP_EVENT_STA_GOT_IP`): a client waiting for its backoff delay tries
/// again at once (still at least `connect_interval_ms` after its last
/// attempt), a connected one probes its link with a PINGREQ. The next
/// `nimbus_poll` does the work: call it (or wake the thread that does).
/// May be called from a callback.
///
/// Errors: NULL arguments, `NIMBUS_ERR_INVALID_STATE` (not initialised).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_network_up(
    client: *mut nimbus_client_t,
    now_ms: u64,
) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| {
        s.with_actions(|a| {
            a.outbox.network_up(now_ms);
            Ok(())
        })
    }))
}

/// Does all pending work at `now_ms` (a monotonic millisecond clock):
/// sends, receives, calls the callbacks, retries, keeps alive. Stores in
/// `*next_wake_ms` (if not NULL) the time by which it must be called again;
/// call it sooner when the link becomes readable. Never blocks.
///
/// Bounds: at most 16 received packets are handled per call
/// (`MAX_PACKETS_PER_POLL`; with more waiting, `*next_wake_ms` is `now_ms`);
/// its peak stack, answering a direct method on a Cortex-M3, is 1,688
/// bytes (measured by the QEMU run, README "Stack").
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_STATE` (called
/// from a callback). A broken link is not an error: it reaches
/// `on_connection` and `on_error`, and the client reconnects.
///
/// ```c
/// for (;;) {                                  // the port's thread
///     uint64_t wake;
///     nimbus_err_t err = nimbus_poll(&client, now_ms(), &wake);
///     if (err != NIMBUS_OK)
///         log_error("nimbus_poll: %s", nimbus_strerror(err));
///     wait_readable_or_until(socket, wake);   // select(), k_poll(), ...
/// }
/// ```
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_poll(
    client: *mut nimbus_client_t,
    now_ms: u64,
    next_wake_ms: *mut u64,
) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| {
        let wake = s.with_client(Some(now_ms), |c| Ok(c.poll(now_ms)))?;
        put(next_wake_ms, wake);
        Ok(())
    }))
}

/// The link state, into `*state`.
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT` (`client` or `state`),
/// `NIMBUS_ERR_INVALID_STATE` (not initialised, or inside a callback).
/// Not from a callback: `NIMBUS_ERR_INVALID_STATE` there (the client is
/// inside `nimbus_poll`).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_state(
    client: *mut nimbus_client_t,
    state: *mut nimbus_state_t,
) -> nimbus_err_t {
    result((|| {
        if state.is_null() {
            return Err(Error::NullArgument);
        }
        let now = Storage::get(client)?.with_client(None, |c| Ok(c.state()))?;
        put(
            state,
            match now {
                State::Stopped => nimbus_state_t::NIMBUS_STATE_STOPPED,
                State::Waiting => nimbus_state_t::NIMBUS_STATE_WAITING,
                State::Connecting => nimbus_state_t::NIMBUS_STATE_CONNECTING,
                State::Connected => nimbus_state_t::NIMBUS_STATE_CONNECTED,
                State::Disconnecting => nimbus_state_t::NIMBUS_STATE_DISCONNECTING,
            },
        );
        Ok(())
    })())
}

/// What became of the readings since boot, into `*stats`: the last `seq`,
/// the boot number, and the readings queued, dropped and refused.
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_STATE` (from a
/// callback).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_stats(
    client: *mut nimbus_client_t,
    stats: *mut nimbus_stats_t,
) -> nimbus_err_t {
    result((|| {
        if stats.is_null() {
            return Err(Error::NullArgument);
        }
        let s = Storage::get(client)?.with_client(None, |c| Ok(c.stats()))?;
        put(
            stats,
            nimbus_stats_t {
                seq: s.seq,
                boot: s.boot,
                queued: s.queued,
                dropped: s.dropped,
                refused: s.refused,
            },
        );
        Ok(())
    })())
}

/// Answers the request `handle` names, the way it came, with `status`
/// (200 with a JSON body, 204 without, 4xx/5xx) and `len` bytes of
/// `payload`. May be called from a callback (a handler that answers
/// another request) or later, from the client's thread.
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_UNKNOWN_REQUEST`
/// (answered, expired or unknown), `NIMBUS_ERR_PAYLOAD_TOO_LARGE` (the
/// cloud's limit), `NIMBUS_ERR_BUSY` (no room now: the request stays open,
/// retry).
///
/// A deferred answer: the handler keeps the handle and returns
/// `NIMBUS_DEFER`; the answer goes when the work is done.
///
/// ```c
/// static uint32_t pending;                    // 0: none
/// static int32_t on_calibrate(void *user, nimbus_client_t *c, const nimbus_request_t *req,
///                             uint8_t *reply, size_t cap, size_t *len) {
///     pending = req->handle;
///     start_calibration();
///     return NIMBUS_DEFER;
/// }
/// void calibration_done(bool ok) {            // later, on the client's thread
///     static const char body[] = "{\"calibrated\":true}";
///     nimbus_err_t err = ok ? nimbus_respond(&client, pending, 200, (const uint8_t *)body, sizeof body - 1)
///                           : nimbus_respond(&client, pending, 500, NULL, 0);
///     if (err == NIMBUS_ERR_BUSY)
///         retry_later();                      // the request stays open
///     else
///         pending = 0;
/// }
/// ```
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_respond(
    client: *mut nimbus_client_t,
    handle: u32,
    status: u16,
    payload: *const u8,
    len: usize,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let payload = bytes(payload, len)?;
        storage.with_actions(|a| a.respond(RequestHandle::from_raw(handle), status, payload))
    })())
}

/// Reports a patch of reported properties (`len` bytes of a JSON object)
/// to the shadow/twin; its id goes to `*request_id` (if not NULL) and the
/// outcome to `on_twin`. May be called from a callback (`on_desired`
/// reporting what it applied).
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_JSON`,
/// `NIMBUS_ERR_JSON_TOO_DEEP`, `NIMBUS_ERR_DOCUMENT_TOO_LARGE`,
/// `NIMBUS_ERR_INVALID_PROPERTY_NAME`, `NIMBUS_ERR_BUSY` (as many reports
/// in flight as the cloud allows: retry after an `on_twin`).
///
/// ```c
/// static const char patch[] = "{\"firmware_version\":\"1.4.2\",\"led\":true}";
/// uint32_t id;
/// nimbus_err_t err = nimbus_report(&client, patch, sizeof patch - 1, &id);
/// if (err != NIMBUS_OK)
///     log_error("report: %s", nimbus_strerror(err));
/// // on_twin(..., result) later: result->request_id == id, accepted with
/// // its version, or rejected with the cloud's status
/// ```
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_report(
    client: *mut nimbus_client_t,
    json: *const c_char,
    len: usize,
    request_id: *mut u32,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let patch = bytes(json.cast(), len)?;
        let id = storage.with_actions(|a| a.report(patch))?;
        put(request_id, id.value());
        Ok(())
    })())
}

/// Asks for the whole shadow/twin document; it comes to `on_twin`.
/// At most one get is outstanding: `NIMBUS_ERR_BUSY` while one is (also
/// the one the client sends itself after every connection).
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_STATE` (not
/// initialised), `NIMBUS_ERR_BUSY`, `NIMBUS_ERR_BUFFER_TOO_SMALL` (the
/// work buffer), and the publish errors (`NIMBUS_ERR_NOT_CONNECTED` is
/// not one: the request waits in the in-flight area for the link).
/// May be called from a callback, on the client the callback was given.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_get_twin(
    client: *mut nimbus_client_t,
    request_id: *mut u32,
) -> nimbus_err_t {
    result((|| {
        let id = Storage::get(client)?.with_actions(|a| a.get_twin())?;
        put(request_id, id.value());
        Ok(())
    })())
}

/// Publishes an event (`<device>/events` translated for the cloud) at
/// `qos` 0 or 1; a QoS 1 packet id goes to `*packet_id` (0 for QoS 0, and
/// for a QoS 1 event that waits in the store's queue). With a store a QoS
/// 1 event is queued and persisted like a reading (see
/// `nimbus_publish_reading`), in order with them, and must fit `work_len`
/// less 22 bytes. Errors: `NIMBUS_ERR_QOS_NOT_SUPPORTED` (QoS 2),
/// `NIMBUS_ERR_RATE_LIMITED`, `NIMBUS_ERR_PAYLOAD_TOO_LARGE`,
/// `NIMBUS_ERR_BUSY`, `NIMBUS_ERR_NOT_CONNECTED` (QoS 0 while offline),
/// `NIMBUS_ERR_BUFFER_TOO_SMALL` (with a store: larger than the work
/// buffer allows), the store's error.
///
/// May be called from a callback, on the client the callback was given.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_publish_event(
    client: *mut nimbus_client_t,
    payload: *const u8,
    len: usize,
    qos_level: u8,
    packet_id: *mut u16,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let (payload, q) = (bytes(payload, len)?, qos(qos_level)?);
        let id = storage.with_actions(|a| a.publish_event(payload, q))?;
        put(packet_id, id.unwrap_or(0));
        Ok(())
    })())
}

/// Publishes a reading of sensor `id` (`mantissa` × 10^-`decimals`) as
/// telemetry, with the next sequence number. With a store and QoS 1 the
/// reading is in the store's queue when this returns `NIMBUS_OK`:
/// `*packet_id` is its packet id when it went straight into the in-flight
/// window, 0 when it waits behind others (`nimbus_poll` sends it, in
/// order). From a callback the store cannot be written: the reading then
/// goes to the in-flight window only, and `NIMBUS_ERR_BUSY` when readings
/// wait in the queue. Errors: `NIMBUS_ERR_NOT_FOUND` (no such sensor),
/// `NIMBUS_ERR_BUSY` (queue or window full: counted, and said in the next
/// reading), `NIMBUS_ERR_RATE_LIMITED`, `NIMBUS_ERR_NOT_CONNECTED` (QoS 0
/// offline), the store's error (nothing was accepted).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_publish_reading(
    client: *mut nimbus_client_t,
    id: u16,
    mantissa: i64,
    decimals: u8,
    qos_level: u8,
    packet_id: *mut u16,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let q = qos(qos_level)?;
        let reading = Reading { mantissa, decimals };
        let packet = storage.with_actions(|a| a.publish_reading(id, reading, q))?;
        put(packet_id, packet.unwrap_or(0));
        Ok(())
    })())
}

/// Reads sensor `id` through its read function and publishes the reading
/// as telemetry, like `nimbus_publish_reading`. Not from a callback
/// (`NIMBUS_ERR_INVALID_STATE`): use `nimbus_publish_reading` there.
/// Errors: those of `nimbus_publish_reading`, and the sensor's (its read
/// function's negative result).
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_publish_sensor(
    client: *mut nimbus_client_t,
    id: u16,
    qos_level: u8,
    packet_id: *mut u16,
) -> nimbus_err_t {
    result((|| {
        let storage = Storage::get(client)?;
        let q = qos(qos_level)?;
        let now = storage.now_ms();
        let packet = storage.with_client(None, |c| c.publish_sensor(id, q, now))?;
        put(packet_id, packet.unwrap_or(0));
        Ok(())
    })())
}

/// The former name of `nimbus_publish_sensor` (which is what it does):
/// kept for one release. Same parameters, errors and callback rule.
#[no_mangle]
#[deprecated(note = "use nimbus_publish_sensor")]
#[must_use]
pub unsafe extern "C" fn nimbus_publish_telemetry(
    client: *mut nimbus_client_t,
    id: u16,
    qos_level: u8,
    packet_id: *mut u16,
) -> nimbus_err_t {
    // SAFETY: the same contract, passed on unchanged.
    unsafe { nimbus_publish_sensor(client, id, qos_level, packet_id) }
}

/// Changes the period of the automatic telemetry (0: off); the next
/// reading is due one new period from now.
///
/// Errors: `NIMBUS_ERR_NULL_ARGUMENT`, `NIMBUS_ERR_INVALID_STATE` (not
/// initialised).
/// May be called from a callback, on the client the callback was given.
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_set_telemetry_period(
    client: *mut nimbus_client_t,
    period_ms: u32,
) -> nimbus_err_t {
    result(Storage::get(client).and_then(|s| {
        s.with_actions(|a| {
            a.set_telemetry_period(period_ms);
            Ok(())
        })
    }))
}

/// Reads the provisioning record at the start of the `len` bytes at
/// `data` (e.g. a memory-mapped flash partition; bytes after the record's
/// CRC are ignored) into `*out`, in place: the strings in `*out` point
/// into `data`, which must stay mapped and unchanged while they are used
/// (for a client, as long as it lives). Nothing is copied or allocated.
///
/// Errors, `*out` untouched: `NIMBUS_ERR_NULL_ARGUMENT` (`data` or `out`),
/// `NIMBUS_ERR_CORRUPT_RECORD` (too short, not CBOR, CRC mismatch),
/// `NIMBUS_ERR_INVALID_RECORD` (unknown, duplicate, missing or mistyped
/// field, unsupported version, port 0, a field the cloud does not take),
/// `NIMBUS_ERR_INVALID_STRING` (a text without its NUL or with an inner
/// one), `NIMBUS_ERR_INVALID_NAME` (a name the cloud refuses),
/// `NIMBUS_ERR_INVALID_CREDENTIALS` (a SAS key that is not base64).
///
/// Built with the `record` feature (Kconfig `NIMBUS_RECORD`, on by
/// default); without it the function is left out and a call to it fails
/// to link.
#[cfg(feature = "record")]
#[no_mangle]
#[must_use]
pub unsafe extern "C" fn nimbus_record_parse(
    data: *const u8,
    len: usize,
    out: *mut nimbus_record_t,
) -> nimbus_err_t {
    result((|| {
        if data.is_null() || out.is_null() {
            return Err(Error::NullArgument);
        }
        let record = DeviceRecord::decode(bytes(data, len)?)?;
        put(out, convert::record(&record));
        Ok(())
    })())
}

/// A short English description of `err` (a `nimbus_err_t`); never NULL.
///
/// Needs no client: may be called anywhere, from a callback too.
#[no_mangle]
pub extern "C" fn nimbus_strerror(err: i32) -> *const c_char {
    if err == 0 {
        return c"success".as_ptr();
    }
    err.checked_neg()
        .and_then(|c| u16::try_from(c).ok())
        .and_then(Error::from_code)
        .map_or(c"unknown error".as_ptr(), |e| e.as_cstr().as_ptr())
}

/// The library's version, e.g. `0.1.0`.
///
/// Needs no client: may be called anywhere, from a callback too.
#[no_mangle]
pub extern "C" fn nimbus_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}
