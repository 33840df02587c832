//! The C types of the API. Names are the C names (`nimbus_*_t`); every
//! field and function pointer is documented here and lands in `nimbus.h`.

use core::ffi::{c_char, c_void};

/// The client: opaque storage the application provides (a static or a
/// global; never on a small task stack). Do not copy or move it after
/// `nimbus_init`. Its size is `NIMBUS_CLIENT_SIZE` bytes, which follows the
/// build-time bounds (`NIMBUS_CFG_*`) and the pointer size.
#[repr(C)]
pub struct nimbus_client_t {
    /// Private: only the library reads or writes it.
    pub opaque: [u64; NIMBUS_CLIENT_WORDS],
}

/// Bytes of a `nimbus_client_t` (the client state without its buffers) for
/// the bounds this library is built with, on this target: [`client_size`].
/// nimbus.h computes the same from the C compiler's `NIMBUS_CFG_*` values,
/// and `nimbus_init` refuses a smaller storage. Not in the header as a
/// number (cbindgen skips it): there it is a formula.
pub const NIMBUS_CLIENT_SIZE: usize = client_size(
    [
        crate::bounds::MAX_INFLIGHT,
        crate::bounds::MAX_SUBSCRIPTIONS,
        crate::bounds::MAX_HANDLERS,
        crate::bounds::MAX_SENSORS,
        crate::bounds::MAX_PENDING_REQUESTS,
        crate::bounds::MAX_TWIN_REQUESTS,
    ],
    core::mem::size_of::<*const u8>(),
);

/// Bytes of the client state for the bounds `[inflight, subscriptions,
/// handlers, sensors, pending requests, twin requests]` with pointers of
/// `pointer` bytes: what each table entry takes, beside a fixed part, plus
/// padding, in 8-byte words. nimbus.h's `NIMBUS_CLIENT_SIZE` is the same
/// formula (tests/client_size.rs compiles it with two C compilers and
/// compares); a build whose client outgrows it fails to compile
/// (`src/ffi/storage.rs`).
pub const fn client_size(bounds: [usize; 6], pointer: usize) -> usize {
    let [inflight, subscriptions, handlers, sensors, pending, twin] = bounds;
    let bytes = 504
        + 104 * pointer
        + 32 * inflight
        + 16 * subscriptions
        + 5 * pointer * handlers
        + 7 * pointer * sensors
        + (152 + 2 * pointer) * pending
        + 32 * twin;
    (bytes + 15) / 8 * 8
}

/// `NIMBUS_CLIENT_SIZE` in 64-bit words.
pub const NIMBUS_CLIENT_WORDS: usize = NIMBUS_CLIENT_SIZE / 8;

/// The cloud a client talks to.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_cloud_t {
    /// AWS IoT Core.
    NIMBUS_CLOUD_AWS = 0,
    /// Azure IoT Hub.
    NIMBUS_CLOUD_AZURE = 1,
}

/// The link state, from `nimbus_state`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_state_t {
    /// Not connecting (before `nimbus_connect`, after `nimbus_disconnect`).
    NIMBUS_STATE_STOPPED = 0,
    /// Waiting for the backoff delay before the next attempt.
    NIMBUS_STATE_WAITING = 1,
    /// Opening the link or waiting for the broker's answer.
    NIMBUS_STATE_CONNECTING = 2,
    /// Connected.
    NIMBUS_STATE_CONNECTED = 3,
    /// Closing cleanly.
    NIMBUS_STATE_DISCONNECTING = 4,
}

/// What a full queue of readings does with a new one.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_queue_policy_t {
    /// Refuse it (`NIMBUS_ERR_BUSY`, counted in `refused`): what was
    /// accepted stays.
    NIMBUS_QUEUE_REFUSE_NEW = 0,
    /// Drop the oldest reading held (counted in `dropped`; one already in
    /// flight may still arrive).
    NIMBUS_QUEUE_DROP_OLDEST = 1,
}

/// What became of the readings since boot (`nimbus_stats`). `refused` and
/// `dropped` are also written into the next reading sent, so the cloud
/// finds every gap.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct nimbus_stats_t {
    /// The `seq` of the last reading accepted.
    pub seq: u32,
    /// This boot's number (0 without a store).
    pub boot: u32,
    /// Readings accepted and not yet acknowledged, in the persisted queue
    /// (0 without a store).
    pub queued: u32,
    /// Readings dropped from a full queue (`NIMBUS_QUEUE_DROP_OLDEST`).
    pub dropped: u32,
    /// Readings refused: no room, the rate limit, a store error.
    pub refused: u32,
}

/// How readings are encoded.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_encoding_t {
    /// JSON: `{"id":0,"type":"temperature","unit":"Cel","value":23.45,"seq":1}`.
    NIMBUS_ENCODING_JSON = 0,
    /// The same map in CBOR (about half the size); on Azure marked
    /// `$.ct=application/cbor`.
    NIMBUS_ENCODING_CBOR = 1,
}

/// The port's link: four non-blocking functions on `ctx`, like coreMQTT's
/// transport interface plus open/close (reconnecting is the core's job).
/// Every function returns quickly; none may block for long.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_transport_t {
    /// Passed to every function.
    pub ctx: *mut c_void,
    /// Starts or continues opening the link (TCP connect, TLS handshake):
    /// 1 when ready, 0 while in progress (called again later), or a
    /// negative `nimbus_err_t` (-20 transport failed, -31 TLS failed).
    pub open: Option<extern "C" fn(ctx: *mut c_void) -> i32>,
    /// Sends up to `len` bytes: how many were taken (0: would block), or
    /// a negative `nimbus_err_t`.
    pub send: Option<extern "C" fn(ctx: *mut c_void, buf: *const u8, len: usize) -> i32>,
    /// Receives up to `len` bytes: how many arrived (0: nothing now), or a
    /// negative `nimbus_err_t` (-21 when the peer closed the link).
    pub recv: Option<extern "C" fn(ctx: *mut c_void, buf: *mut u8, len: usize) -> i32>,
    /// Closes the link; `open` may be called again afterwards.
    pub close: Option<extern "C" fn(ctx: *mut c_void)>,
}

/// Services of the platform that the core cannot have on its own.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_platform_t {
    /// Passed to every function.
    pub ctx: *mut c_void,
    /// A random 32-bit number, for the reconnect jitter (NULL: a PRNG
    /// seeded from the device id, so that a fleet does not reconnect in step).
    pub random_u32: Option<extern "C" fn(ctx: *mut c_void) -> u32>,
    /// HMAC-SHA256 of `msg` under `key` into `out` (32 bytes); 0 or a
    /// negative `nimbus_err_t`. Needed for Azure SAS tokens only (NULL
    /// otherwise; with the `rustcrypto` build option the core has its own).
    pub hmac_sha256: Option<
        extern "C" fn(
            ctx: *mut c_void,
            key: *const u8,
            key_len: usize,
            msg: *const u8,
            msg_len: usize,
            out: *mut u8,
        ) -> i32,
    >,
    /// Seconds since the Unix epoch, or a negative number while the time
    /// is unknown. Needed for Azure SAS tokens only (NULL otherwise).
    pub unix_time_s: Option<extern "C" fn(ctx: *mut c_void) -> i64>,
    /// The store for persistent records (both NULL: none), a key-value
    /// store of small records by 16-bit id (Zephyr NVS/ZMS, ESP-IDF NVS, a
    /// file per record). Reads record `id` into `buf` (`cap` bytes): its
    /// length, 0 when there is none, or a negative `nimbus_err_t`.
    ///
    /// What Nimbus keeps there:
    /// - ids 1 and 2: the boot counter and how far `seq` is reserved (17
    ///   bytes at most), written in turn, one write per 256 readings and
    ///   one at init; readings then carry `boot` and `seq` goes on across
    ///   reboots;
    /// - ids 16 to 16 + `queue_len` - 1: the queue of QoS 1 readings, one
    ///   record per reading (its payload + 22 bytes), written before the
    ///   publish returns and deleted (a write of length 0) when the broker
    ///   acknowledges it: two writes per reading.
    ///
    /// Every record ends with a CRC-32: one torn by a power cut is skipped
    /// and never costs another. At-least-once: a reading whose publish
    /// returned `NIMBUS_OK` arrives (maybe twice, if the power went between
    /// the broker's acknowledgement and the deletion) unless the queue's
    /// policy dropped it, which the next reading says.
    pub store_read:
        Option<extern "C" fn(ctx: *mut c_void, id: u16, buf: *mut u8, cap: usize) -> i32>,
    /// Writes record `id` whole (`len` bytes), replacing what was there,
    /// and durably (after a power cut the record is the old or the new
    /// one, or torn: then the CRC catches it); `len` 0 deletes it. Returns
    /// 0 or a negative `nimbus_err_t`.
    pub store_write:
        Option<extern "C" fn(ctx: *mut c_void, id: u16, data: *const u8, len: usize) -> i32>,
    /// The client's trace lines (NULL: none is even written): the link
    /// going down and why (a refused CONNACK, a malformed packet, a dead
    /// or closed link) with the next attempt, connections that keep
    /// dropping, oversized messages, refused and dropped readings, refused
    /// subscriptions, and each connection. `level`: 1 error, 2 warning,
    /// 3 information. `text` is `len` bytes (at most 120), not
    /// NUL-terminated, and never holds secrets or payloads. Called from
    /// `nimbus_poll` and the publish calls; it must not call the API.
    pub log: Option<extern "C" fn(ctx: *mut c_void, level: u8, text: *const c_char, len: usize)>,
}

/// A request from the cloud: an AWS request topic, an Azure direct method
/// or an Azure cloud-to-device message.
#[repr(C)]
pub struct nimbus_request_t {
    /// Names the request for a later `nimbus_respond` (never 0).
    pub handle: u32,
    /// The generic path, e.g. `sensor/12/get` (not NUL-terminated).
    pub path: *const c_char,
    /// Bytes of `path`.
    pub path_len: usize,
    /// The payload as received (not NUL-terminated; may be empty).
    pub payload: *const u8,
    /// Bytes of `payload`.
    pub payload_len: usize,
    /// How the request came, and so how its answer goes back.
    pub route: nimbus_route_t,
}

/// How a request came (`nimbus_request_t.route`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_route_t {
    /// An AWS request topic (`<device>/request/<path>`).
    NIMBUS_ROUTE_TOPIC = 0,
    /// An Azure cloud-to-device message (`subtopic=request.<path>`).
    NIMBUS_ROUTE_C2D = 1,
    /// An Azure direct method.
    NIMBUS_ROUTE_METHOD = 2,
}

/// A request handler: write an immediate answer of at most `reply_cap`
/// bytes into `reply`, set `*reply_len`, and return its status (200 with
/// a JSON body, 204 without, 4xx or 5xx); or return `NIMBUS_DEFER` (0) and
/// answer later with `nimbus_respond`. A negative return answers 500.
pub type nimbus_request_fn = Option<
    extern "C" fn(
        user: *mut c_void,
        client: *mut nimbus_client_t,
        request: *const nimbus_request_t,
        reply: *mut u8,
        reply_cap: usize,
        reply_len: *mut usize,
    ) -> i32,
>;

/// Return value of a `nimbus_request_fn` that answers later.
pub const NIMBUS_DEFER: i32 = 0;

/// Reads a sensor: its value is `*mantissa` × 10^-`*decimals` (23.45 is
/// 2345 and 2; `decimals` at most 18). Returns 0 or a negative
/// `nimbus_err_t`.
pub type nimbus_sensor_read_fn =
    Option<extern "C" fn(user: *mut c_void, id: u16, mantissa: *mut i64, decimals: *mut u8) -> i32>;

/// What a shadow/twin request ended with, for `on_twin`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum nimbus_twin_kind_t {
    /// A report was accepted (`version` is the new version if `has_version`).
    NIMBUS_TWIN_ACCEPTED = 0,
    /// The whole document (`desired`, `reported`, `version`).
    NIMBUS_TWIN_DOCUMENT = 1,
    /// The cloud refused (`status`, `message`).
    NIMBUS_TWIN_REJECTED = 2,
    /// No usable answer (`status` is a negative `nimbus_err_t`, e.g. timeout).
    NIMBUS_TWIN_FAILED = 3,
}

/// The outcome of `nimbus_report` / `nimbus_get_twin`. Pointers are valid
/// during the callback only.
#[repr(C)]
pub struct nimbus_twin_result_t {
    /// The id the request returned.
    pub request_id: u32,
    /// What happened.
    pub kind: nimbus_twin_kind_t,
    /// The cloud's status (200/204 accepted, 4xx/5xx) or a negative `nimbus_err_t`.
    pub status: i32,
    /// Whether `version` is known.
    pub has_version: bool,
    /// The document version.
    pub version: u64,
    /// The desired section (JSON object), for a document.
    pub desired: *const c_char,
    /// Bytes of `desired`.
    pub desired_len: usize,
    /// The reported section (JSON object), for a document.
    pub reported: *const c_char,
    /// Bytes of `reported`.
    pub reported_len: usize,
    /// The cloud's message, for a rejection.
    pub message: *const c_char,
    /// Bytes of `message`.
    pub message_len: usize,
}

/// Callbacks, all optional (NULL). They run inside `nimbus_poll` (and
/// `on_error` also inside a call that reports through it) and each is
/// given its client, on which it may call `nimbus_respond`,
/// `nimbus_report`, `nimbus_get_twin`, `nimbus_publish_*` and
/// `nimbus_set_telemetry_period` (not `nimbus_poll`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_callbacks_t {
    /// Passed to every callback.
    pub user: *mut c_void,
    /// The link came up (`up`, `reason` 0) or went down (`reason` a
    /// negative `nimbus_err_t`, 0 after `nimbus_disconnect`).
    pub on_connection: Option<
        extern "C" fn(user: *mut c_void, client: *mut nimbus_client_t, up: bool, reason: i32),
    >,
    /// Desired properties changed: the JSON patch and its version.
    pub on_desired: Option<
        extern "C" fn(
            user: *mut c_void,
            client: *mut nimbus_client_t,
            json: *const c_char,
            len: usize,
            version: u64,
        ),
    >,
    /// A shadow/twin request completed.
    pub on_twin: Option<
        extern "C" fn(
            user: *mut c_void,
            client: *mut nimbus_client_t,
            result: *const nimbus_twin_result_t,
        ),
    >,
    /// The broker acknowledged a QoS 1 publish.
    pub on_published:
        Option<extern "C" fn(user: *mut c_void, client: *mut nimbus_client_t, packet_id: u16)>,
    /// A request expired unanswered (its handle is no longer valid): its
    /// handle and path, not NUL-terminated.
    pub on_request_expired: Option<
        extern "C" fn(
            user: *mut c_void,
            client: *mut nimbus_client_t,
            handle: u32,
            path: *const c_char,
            path_len: usize,
        ),
    >,
    /// Something the client could not act on: the error and what it
    /// concerned (a topic or a short word), not NUL-terminated. Among
    /// them: `NIMBUS_ERR_PACKET_TOO_LARGE` (a message larger than `rx_len`,
    /// skipped), `NIMBUS_ERR_UNSTABLE_CONNECTION` (connections keep ending
    /// right after CONNACK), `NIMBUS_ERR_BUSY` (a request that found no room
    /// for its answer; it was refused 503 where that fitted).
    pub on_error: Option<
        extern "C" fn(
            user: *mut c_void,
            client: *mut nimbus_client_t,
            error: i32,
            what: *const c_char,
            what_len: usize,
        ),
    >,
}

/// How the client's buffer is divided. A zero length takes the default
/// `NIMBUS_DEFAULT_*_LEN`; `nimbus_buffer_len` says how much it needs.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_buffer_t {
    /// The memory (any alignment); it must outlive the client.
    pub buffer: *mut u8,
    /// Its size in bytes.
    pub len: usize,
    /// Largest incoming message + 5 bytes (default 2048). A larger message
    /// is never fatal: it is read and discarded as it arrives, acknowledged
    /// when QoS 1 (so the cloud does not deliver it again), reported once
    /// through `on_error` with `NIMBUS_ERR_PACKET_TOO_LARGE` and its topic;
    /// a request among them is answered 413 (AWS request topic, Azure
    /// method or C2D), a shadow/twin answer completes its request as
    /// `NIMBUS_TWIN_FAILED` with the same error.
    pub rx_len: usize,
    /// Control packets and QoS 0 publishes waiting to be sent (default 1024).
    pub tx_len: usize,
    /// Unacknowledged QoS 1 publishes, kept across reconnects (default 4096).
    pub inflight_len: usize,
    /// Payloads the client writes: twin requests, readings (default 1024).
    pub work_len: usize,
    /// Immediate answers written by request handlers (default 1024).
    pub reply_len: usize,
}

/// Default `rx_len`.
pub const NIMBUS_DEFAULT_RX_LEN: usize = 2048;
/// The library's version, major part (`nimbus_version()` gives it all as
/// text). Equal to the crate's version: a test checks it.
pub const NIMBUS_VERSION_MAJOR: u32 = 0;
/// The library's version, minor part.
pub const NIMBUS_VERSION_MINOR: u32 = 1;
/// The library's version, patch part.
pub const NIMBUS_VERSION_PATCH: u32 = 0;

/// Default `tx_len`.
pub const NIMBUS_DEFAULT_TX_LEN: usize = 1024;
/// Default `inflight_len`.
pub const NIMBUS_DEFAULT_INFLIGHT_LEN: usize = 4096;
/// Default `work_len`.
pub const NIMBUS_DEFAULT_WORK_LEN: usize = 1024;
/// Default `reply_len`.
pub const NIMBUS_DEFAULT_REPLY_LEN: usize = 1024;
/// Bytes for subscription filters, always taken from the buffer.
pub const NIMBUS_FILTERS_LEN: usize = 512;
/// Bytes for Azure credentials (client id, user name, SAS token), taken
/// from the buffer on Azure only.
pub const NIMBUS_AZURE_CREDENTIALS_LEN: usize = 768;

/// Everything `nimbus_init` needs. Strings are NUL-terminated and must
/// outlive the client (string literals or static storage). Zero or NULL
/// fields take the defaults given.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_config_t {
    /// The cloud: a `nimbus_cloud_t` (kept as an integer so that a wrong
    /// value is an error, not undefined behaviour).
    pub cloud: u32,
    /// The AWS thing name or Azure device id (also the MQTT client id).
    pub device_id: *const c_char,
    /// Azure module identity, or NULL.
    pub module_id: *const c_char,
    /// Azure IoT Hub host name (required on Azure), or NULL.
    pub hub_host: *const c_char,
    /// AWS named shadow, or NULL for the classic shadow.
    pub shadow_name: *const c_char,
    /// Azure SAS: the device key in base64, or NULL for X.509.
    pub sas_key: *const c_char,
    /// Lifetime of each SAS token in seconds (default 3600, at least 10);
    /// renewed before expiry.
    pub sas_lifetime_s: u32,
    /// MQTT keepalive in seconds (default 240).
    pub keepalive_s: u16,
    /// Start a new MQTT session at every connection.
    pub clean_session: bool,
    /// Smallest reconnect delay cap in ms (default 1000).
    pub backoff_min_ms: u32,
    /// Largest reconnect delay in ms (default 30000): after an outage of
    /// any length the first attempt comes within it (plus one connect
    /// timeout), or at once after `nimbus_network_up`.
    pub backoff_max_ms: u32,
    /// How long a connection must stay up before the backoff starts again
    /// from `backoff_min_ms`, in ms (default 60000); one that ends sooner
    /// counts as a failed attempt.
    pub backoff_stable_ms: u32,
    /// Shortest time between two connection attempts in ms (default 1000:
    /// AWS IoT accepts 1 CONNECT per second per client id).
    pub connect_interval_ms: u32,
    /// Time a request may wait for its answer in ms (default 30000).
    pub request_timeout_ms: u32,
    /// Time a shadow/twin request may wait in ms (default 10000).
    pub twin_timeout_ms: u32,
    /// Automatic telemetry of every sensor, period in ms (0: off).
    pub telemetry_period_ms: u32,
    /// QoS of the automatic telemetry (0 or 1).
    pub telemetry_qos: u8,
    /// Encoding of readings: a `nimbus_encoding_t`.
    pub encoding: u32,
    /// Do not apply the desired `telemetry_period_ms` automatically.
    pub manual_telemetry_period: bool,
    /// Remove spaces from reported property names instead of refusing them.
    pub strip_spaces: bool,
    /// With a store (`platform.store_read`/`store_write`): readings the
    /// persisted queue holds (default 64), one store record each. Every
    /// QoS 1 reading is in the store when its publish returns
    /// `NIMBUS_OK`, and deleted once acknowledged; after an outage or a
    /// power cut the queue is delivered in order, at the publish rate.
    /// Without a store, QoS 1 readings wait in the in-flight area only.
    pub queue_len: u16,
    /// What a full queue does with a new reading: a
    /// `nimbus_queue_policy_t` (default `NIMBUS_QUEUE_REFUSE_NEW`).
    pub queue_policy: u32,
    /// Persist only the readings that cannot go out at once (an outage's
    /// or a slow link's backlog): no store write while the link keeps up,
    /// and a power cut may then cost the readings in flight (at most the
    /// in-flight table less 2). Default false: every QoS 1 reading.
    pub queue_backlog_only: bool,
    /// The memory of the client.
    pub memory: nimbus_buffer_t,
    /// Callbacks.
    pub callbacks: nimbus_callbacks_t,
    /// Platform services.
    pub platform: nimbus_platform_t,
}

/// A network address in binary, as the network stack holds it (no text
/// parsing in the library): `version` 0 (unset), 4 (`bytes[0..4]`, e.g.
/// `{4, {192, 0, 2, 10}}`) or 6 (all 16 bytes, network order).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct nimbus_ip_t {
    /// 0, 4 or 6.
    pub version: u8,
    /// The address, network byte order.
    pub bytes: [u8; 16],
}

/// What `general_information` answers and what is reported once per boot.
/// Every field is optional (NULL / false); strings must outlive the client.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_device_info_t {
    /// Device name.
    pub name: *const c_char,
    /// Device type.
    pub device_type: *const c_char,
    /// Model.
    pub model: *const c_char,
    /// Manufacturer.
    pub manufacturer: *const c_char,
    /// Manufacturing date, e.g. `2024-05-01`.
    pub manufacturing_date: *const c_char,
    /// Hardware version.
    pub hardware_version: *const c_char,
    /// Serial number.
    pub serial_number: *const c_char,
    /// Firmware version.
    pub firmware_version: *const c_char,
    /// IPv4 address (`version` 0 or 4).
    pub ipv4: nimbus_ip_t,
    /// IPv6 address (`version` 0 or 6).
    pub ipv6: nimbus_ip_t,
    /// IPv4 netmask (`version` 0 or 4).
    pub netmask: nimbus_ip_t,
    /// Default gateway.
    pub gateway: nimbus_ip_t,
    /// Primary DNS server.
    pub dns_primary: nimbus_ip_t,
    /// Secondary DNS server.
    pub dns_secondary: nimbus_ip_t,
    /// MAC address (6 bytes), or NULL.
    pub mac: *const u8,
    /// Whether `latitude_udeg`/`longitude_udeg` are set.
    pub has_coordinates: bool,
    /// Latitude in millionths of a degree.
    pub latitude_udeg: i32,
    /// Longitude in millionths of a degree.
    pub longitude_udeg: i32,
    /// Whether `altitude_m` is set.
    pub has_altitude: bool,
    /// Altitude in metres.
    pub altitude_m: i32,
    /// Location as free text (site, building, room).
    pub location: *const c_char,
}

/// A provisioning record read by `nimbus_record_parse`. Every string
/// points into the record's bytes (NUL-terminated there) and is valid as
/// long as they are; absent optional fields are NULL.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nimbus_record_t {
    /// The cloud: a `nimbus_cloud_t`, ready for `nimbus_config_t.cloud`.
    pub cloud: u32,
    /// The server's TCP port (1-65535).
    pub port: u16,
    /// The server name, for the transport (`nimbus_net_config_t.host`);
    /// on Azure also the hub (`nimbus_config_t.hub_host`).
    pub host: *const c_char,
    /// The AWS thing name or Azure device id.
    pub device_id: *const c_char,
    /// The Azure module id, or NULL.
    pub module_id: *const c_char,
    /// The AWS named shadow, or NULL for the classic shadow.
    pub shadow_name: *const c_char,
    /// The Azure device key in base64 (SAS), or NULL.
    pub sas_key: *const c_char,
    /// The trusted CA certificates as PEM text, or NULL.
    pub ca_pem: *const c_char,
    /// The client certificate (chain) as PEM text, or NULL.
    pub cert_pem: *const c_char,
    /// The client certificate's private key as PEM text, or NULL.
    pub key_pem: *const c_char,
}
