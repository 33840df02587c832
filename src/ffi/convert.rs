//! C arguments turned into the core's types: strings, byte ranges, the
//! configuration and the memory split.

use core::ffi::{c_char, CStr};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::ptr;

use super::types::*;
use crate::cloud::Cloud;
use crate::device::info::{DeviceInfo, Identity, Location, Network};
use crate::device::queue::QueuePolicy;
use crate::device::sensor::Encoding;
use crate::device::{Buffers, Sas, Settings};
use crate::mqtt::QoS;
#[cfg(feature = "record")]
use crate::record::DeviceRecord;
use crate::twin::SpacePolicy;
use crate::{Error, Result};

/// Longest string the API takes (identities, host names, keys, paths).
pub(crate) const MAX_STRING: usize = 256;

/// A NUL-terminated UTF-8 string of at most `max` bytes that outlives the
/// client; `None` for NULL. `InvalidString` when no NUL comes within
/// `max` bytes or the text is not UTF-8.
pub(crate) fn c_str(p: *const c_char, max: usize) -> Result<Option<&'static str>> {
    if p.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: the caller passes a NUL-terminated string; bytes are read
    // one at a time and never past its NUL or past `max`.
    while unsafe { *p.add(len) } != 0 {
        len += 1;
        if len > max {
            return Err(Error::InvalidString);
        }
    }
    // SAFETY: the `len` bytes before the NUL were just read; the API
    // contract keeps them alive and unchanged for the client's life.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    core::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Error::InvalidString)
}

/// A required string.
pub(crate) fn c_str_required(p: *const c_char, max: usize) -> Result<&'static str> {
    c_str(p, max)?.ok_or(Error::NullArgument)
}

/// `len` bytes at `p` for the duration of a call (NULL allowed when 0).
pub(crate) fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Error::NullArgument);
    }
    // SAFETY: the caller passes `len` readable bytes at `p` that stay
    // unchanged during the call.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// A QoS from C: 0 or 1 (2 is refused: neither cloud has it).
pub(crate) fn qos(q: u8) -> Result<QoS> {
    match q {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Err(Error::QosNotSupported),
        _ => Err(Error::InvalidArgument),
    }
}

/// Writes `value` through an optional out-pointer.
pub(crate) fn put<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: a non-null out-pointer from C points to a writable `T`.
        unsafe { ptr::write(out, value) };
    }
}

fn or<T: PartialEq + Default>(value: T, default: T) -> T {
    if value == T::default() {
        default
    } else {
        value
    }
}

/// The client's settings from the C configuration.
pub(crate) fn settings(c: &nimbus_config_t) -> Result<Settings<'static>> {
    let cloud = cloud(c.cloud)?;
    let mut s = Settings::new(cloud, c_str_required(c.device_id, MAX_STRING)?);
    s.module_id = c_str(c.module_id, MAX_STRING)?;
    s.hub_host = c_str(c.hub_host, MAX_STRING)?;
    s.shadow_name = c_str(c.shadow_name, MAX_STRING)?;
    s.sas = c_str(c.sas_key, MAX_STRING)?.map(|key_base64| Sas {
        key_base64,
        lifetime_s: or(c.sas_lifetime_s, 3600),
    });
    s.keep_alive_s = or(c.keepalive_s, s.keep_alive_s);
    s.clean_session = c.clean_session;
    s.backoff.base_ms = or(c.backoff_min_ms, s.backoff.base_ms);
    s.backoff.max_ms = or(c.backoff_max_ms, s.backoff.max_ms);
    s.backoff.stable_ms = or(c.backoff_stable_ms, s.backoff.stable_ms);
    s.backoff.min_interval_ms = or(c.connect_interval_ms, s.backoff.min_interval_ms);
    if !s.backoff.is_valid() {
        return Err(Error::InvalidArgument);
    }
    s.request_timeout_ms = or(c.request_timeout_ms, s.request_timeout_ms);
    s.twin_timeout_ms = or(c.twin_timeout_ms, s.twin_timeout_ms);
    s.telemetry_period_ms = c.telemetry_period_ms;
    s.telemetry_qos = qos(c.telemetry_qos)?;
    s.encoding = match c.encoding {
        e if e == nimbus_encoding_t::NIMBUS_ENCODING_JSON as u32 => Encoding::Json,
        e if e == nimbus_encoding_t::NIMBUS_ENCODING_CBOR as u32 => Encoding::Cbor,
        _ => return Err(Error::InvalidArgument),
    };
    s.manage_telemetry_period = !c.manual_telemetry_period;
    s.spaces = if c.strip_spaces {
        SpacePolicy::Remove
    } else {
        SpacePolicy::Reject
    };
    s.queue_len = or(c.queue_len, s.queue_len);
    s.queue_backlog_only = c.queue_backlog_only;
    s.queue_policy = match c.queue_policy {
        p if p == nimbus_queue_policy_t::NIMBUS_QUEUE_REFUSE_NEW as u32 => QueuePolicy::RefuseNew,
        p if p == nimbus_queue_policy_t::NIMBUS_QUEUE_DROP_OLDEST as u32 => QueuePolicy::DropOldest,
        _ => return Err(Error::InvalidArgument),
    };
    Ok(s)
}

/// A decoded record as C sees it: each text's NUL follows it in the
/// record bytes, so its pointer is a C string there.
#[cfg(feature = "record")]
pub(crate) fn record(r: &DeviceRecord<'_>) -> nimbus_record_t {
    let text = |t: &str| t.as_ptr().cast::<c_char>();
    let optional = |t: Option<&str>| t.map_or(ptr::null(), text);
    nimbus_record_t {
        cloud: match r.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => nimbus_cloud_t::NIMBUS_CLOUD_AWS as u32,
            #[cfg(feature = "azure")]
            Cloud::Azure => nimbus_cloud_t::NIMBUS_CLOUD_AZURE as u32,
        },
        port: r.port,
        host: text(r.host),
        device_id: text(r.device_id),
        module_id: optional(r.module_id),
        shadow_name: optional(r.shadow_name),
        sas_key: optional(r.sas_key),
        ca_pem: optional(r.ca_pem),
        cert_pem: optional(r.cert_pem),
        key_pem: optional(r.key_pem),
    }
}

/// The cloud a C integer names.
pub(crate) fn cloud(value: u32) -> Result<Cloud> {
    match value {
        #[cfg(feature = "aws")]
        v if v == nimbus_cloud_t::NIMBUS_CLOUD_AWS as u32 => Ok(Cloud::Aws),
        #[cfg(feature = "azure")]
        v if v == nimbus_cloud_t::NIMBUS_CLOUD_AZURE as u32 => Ok(Cloud::Azure),
        _ => Err(Error::InvalidArgument),
    }
}

/// The length of each region, defaults applied, in carving order:
/// rx, tx, inflight, filters, work, reply, credentials.
pub(crate) fn regions(memory: &nimbus_buffer_t, cloud: Cloud) -> [usize; 7] {
    let credentials = match cloud {
        #[cfg(feature = "aws")]
        Cloud::Aws => 0,
        #[cfg(feature = "azure")]
        Cloud::Azure => NIMBUS_AZURE_CREDENTIALS_LEN,
    };
    [
        or(memory.rx_len, NIMBUS_DEFAULT_RX_LEN),
        or(memory.tx_len, NIMBUS_DEFAULT_TX_LEN),
        or(memory.inflight_len, NIMBUS_DEFAULT_INFLIGHT_LEN),
        NIMBUS_FILTERS_LEN,
        or(memory.work_len, NIMBUS_DEFAULT_WORK_LEN),
        or(memory.reply_len, NIMBUS_DEFAULT_REPLY_LEN),
        credentials,
    ]
}

/// Bytes the configuration's memory must have.
pub(crate) fn memory_needed(c: &nimbus_config_t) -> Result<usize> {
    let regions = regions(&c.memory, cloud(c.cloud)?);
    Ok(regions.iter().fold(0usize, |a, b| a.saturating_add(*b)))
}

/// The caller's buffer cut into the client's regions.
pub(crate) fn buffers(c: &nimbus_config_t) -> Result<Buffers<'static>> {
    let m = &c.memory;
    if m.buffer.is_null() {
        return Err(Error::NullArgument);
    }
    if m.len < memory_needed(c)? {
        return Err(Error::StorageTooSmall);
    }
    // SAFETY: the API contract gives the client `len` bytes at `buffer`,
    // for its whole life and for its use only.
    let mut rest: &'static mut [u8] = unsafe { core::slice::from_raw_parts_mut(m.buffer, m.len) };
    let mut take = |n: usize| -> Result<&'static mut [u8]> {
        let (head, tail) = core::mem::take(&mut rest)
            .split_at_mut_checked(n)
            .ok_or(Error::StorageTooSmall)?;
        rest = tail;
        Ok(head)
    };
    let [rx, tx, inflight, filters, work, reply, credentials] = regions(m, cloud(c.cloud)?);
    Ok(Buffers {
        rx: take(rx)?,
        tx: take(tx)?,
        inflight: take(inflight)?,
        filters: take(filters)?,
        work: take(work)?,
        reply: take(reply)?,
        credentials: take(credentials)?,
    })
}

/// An address from C: `None` for version 0, `InvalidArgument` for any
/// version but 4 or 6.
fn ip(a: &nimbus_ip_t) -> Result<Option<IpAddr>> {
    let [a0, a1, a2, a3, ..] = a.bytes;
    match a.version {
        0 => Ok(None),
        4 => Ok(Some(IpAddr::V4(Ipv4Addr::new(a0, a1, a2, a3)))),
        6 => Ok(Some(IpAddr::V6(Ipv6Addr::from(a.bytes)))),
        _ => Err(Error::InvalidArgument),
    }
}

/// An IPv4 address from C (version 0 or 4).
fn v4(a: &nimbus_ip_t) -> Result<Option<Ipv4Addr>> {
    match ip(a)? {
        Some(IpAddr::V6(_)) => Err(Error::InvalidArgument),
        Some(IpAddr::V4(v4)) => Ok(Some(v4)),
        None => Ok(None),
    }
}

/// An IPv6 address from C (version 0 or 6).
fn v6(a: &nimbus_ip_t) -> Result<Option<Ipv6Addr>> {
    match ip(a)? {
        Some(IpAddr::V4(_)) => Err(Error::InvalidArgument),
        Some(IpAddr::V6(v6)) => Ok(Some(v6)),
        None => Ok(None),
    }
}

/// The device information from C.
pub(crate) fn device_info(c: &nimbus_device_info_t) -> Result<DeviceInfo<'static>> {
    let text = |p| c_str(p, MAX_STRING);
    let mac = if c.mac.is_null() {
        None
    } else {
        let six = bytes(c.mac, 6)?.first_chunk::<6>();
        Some(*six.ok_or(Error::InvalidArgument)?)
    };
    Ok(DeviceInfo {
        identity: Identity {
            name: text(c.name)?,
            device_type: text(c.device_type)?,
            model: text(c.model)?,
            manufacturer: text(c.manufacturer)?,
            manufacturing_date: text(c.manufacturing_date)?,
            hardware_version: text(c.hardware_version)?,
            serial_number: text(c.serial_number)?,
        },
        network: Network {
            ipv4: v4(&c.ipv4)?,
            ipv6: v6(&c.ipv6)?,
            mac,
            netmask: v4(&c.netmask)?,
            gateway: ip(&c.gateway)?,
            dns_primary: ip(&c.dns_primary)?,
            dns_secondary: ip(&c.dns_secondary)?,
        },
        firmware_version: text(c.firmware_version)?,
        location: Location {
            coordinates: c
                .has_coordinates
                .then_some((c.latitude_udeg, c.longitude_udeg)),
            altitude_m: c.has_altitude.then_some(c.altitude_m),
            description: text(c.location)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cloud left out of the build (`aws` or `azure` feature off) is
    /// refused by `nimbus_init` and `nimbus_buffer_len`; a built one is
    /// taken.
    #[test]
    fn only_the_clouds_of_the_build_are_taken() {
        let aws = cloud(nimbus_cloud_t::NIMBUS_CLOUD_AWS as u32);
        let azure = cloud(nimbus_cloud_t::NIMBUS_CLOUD_AZURE as u32);
        assert_eq!(aws.is_ok(), cfg!(feature = "aws"));
        assert_eq!(azure.is_ok(), cfg!(feature = "azure"));
        for refused in [aws, azure].into_iter().filter(Result::is_err) {
            assert_eq!(refused, Err(Error::InvalidArgument));
        }
        assert_eq!(cloud(2), Err(Error::InvalidArgument));
    }
}
