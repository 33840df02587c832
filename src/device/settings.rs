//! How a client is set up: identity, credentials, timers and options.

use crate::cloud::{azure, Cloud};
use crate::device::queue::{QueuePolicy, DEFAULT_QUEUE_LEN};
use crate::device::sensor::Encoding;
use crate::mqtt::{BackoffConfig, QoS};
use crate::twin::SpacePolicy;

/// Azure SAS authentication: the device key and how long a token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sas<'a> {
    /// The device's primary or secondary key, base64, as Azure shows it.
    pub key_base64: &'a str,
    /// Lifetime of each token in seconds; the client renews it (a clean
    /// reconnect with a fresh token) before it expires.
    pub lifetime_s: u32,
}

/// Everything a [`Client`](super::Client) needs to know beyond its
/// buffers. [`Settings::new`] gives the defaults; change fields as needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings<'a> {
    /// The cloud.
    pub cloud: Cloud,
    /// The AWS thing name / Azure device id (also the MQTT client id).
    pub device_id: &'a str,
    /// Azure module identity, if the client is a module.
    pub module_id: Option<&'a str>,
    /// Azure: the IoT Hub host name, e.g. `myhub.azure-devices.net`
    /// (required on Azure: it is part of the user name and the SAS token).
    pub hub_host: Option<&'a str>,
    /// Azure: the API version in the user name.
    pub api_version: &'a str,
    /// AWS: a named shadow instead of the classic one.
    pub shadow_name: Option<&'a str>,
    /// Azure: SAS authentication; `None` for X.509 (the port's TLS does it).
    pub sas: Option<Sas<'a>>,
    /// MQTT keepalive in seconds (AWS: 30–1200; Azure: at most 1177).
    pub keep_alive_s: u16,
    /// Start a new MQTT session at every connection.
    pub clean_session: bool,
    /// Reconnect backoff bounds (exponential, full jitter).
    pub backoff: BackoffConfig,
    /// Time allowed to open the link and get the CONNACK.
    pub connect_timeout_ms: u32,
    /// Time after which an unacknowledged QoS 1 publish is resent.
    pub ack_timeout_ms: u32,
    /// Time a request may wait for the application's answer.
    pub request_timeout_ms: u32,
    /// Time a shadow/twin request may wait for the cloud's answer.
    pub twin_timeout_ms: u32,
    /// Period of the automatic telemetry of every sensor (0: off).
    pub telemetry_period_ms: u32,
    /// QoS of the automatic telemetry.
    pub telemetry_qos: QoS,
    /// QoS of answers to AWS requests and Azure C2D requests (Azure direct
    /// methods are always answered at QoS 0, as the hub calls them).
    pub response_qos: QoS,
    /// Encoding of sensor readings.
    pub encoding: Encoding,
    /// Apply the desired property `telemetry_period_ms` to the telemetry
    /// schedule and report the value back.
    pub manage_telemetry_period: bool,
    /// What to do with spaces in reported property names (Azure forbids them).
    pub spaces: SpacePolicy,
    /// Publishes per second allowed to the application before
    /// `RateLimited` (the cloud's default: 100/s on both).
    pub publish_rate_per_s: u32,
    /// With a store: slots of the persisted queue of QoS 1 readings
    /// (records in the store; 0: readings are not persisted). See
    /// [`queue`](super::queue).
    pub queue_len: u16,
    /// What a full queue does with a new reading.
    pub queue_policy: QueuePolicy,
    /// Persist only the readings that cannot go out at once (the backlog
    /// of an outage or a slow link): no store write while the link keeps
    /// up, at the cost of the readings in flight at a power cut.
    pub queue_backlog_only: bool,
}

impl<'a> Settings<'a> {
    /// Settings for `device_id` on `cloud` with the defaults: keepalive
    /// 240 s, persistent session, backoff 1 s doubling to 30 s, 10 s
    /// connect/ack/twin timeouts, 30 s to answer a request, telemetry off
    /// at QoS 1, answers at QoS 1, JSON readings, spaces refused, 100
    /// publishes/s, a queue of 64 readings that refuses new ones when full.
    pub const fn new(cloud: Cloud, device_id: &'a str) -> Self {
        Settings {
            cloud,
            device_id,
            module_id: None,
            hub_host: None,
            api_version: azure::DEFAULT_API_VERSION,
            shadow_name: None,
            sas: None,
            keep_alive_s: 240,
            clean_session: false,
            backoff: BackoffConfig::DEFAULT,
            connect_timeout_ms: 10_000,
            ack_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            twin_timeout_ms: 10_000,
            telemetry_period_ms: 0,
            telemetry_qos: QoS::AtLeastOnce,
            response_qos: QoS::AtLeastOnce,
            encoding: Encoding::Json,
            manage_telemetry_period: true,
            spaces: SpacePolicy::Reject,
            publish_rate_per_s: 100,
            queue_len: DEFAULT_QUEUE_LEN,
            queue_policy: QueuePolicy::RefuseNew,
            queue_backlog_only: false,
        }
    }
}
