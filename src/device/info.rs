//! Renders the properties a device usually reports as one JSON object.
//!
//! ```json
//! {"identity":{"name":"..","type":"..","model":"..","manufacturer":"..",
//!   "manufacturing_date":"..","hardware_version":"..","serial_number":".."},
//!  "network":{"ipv4":"..","ipv6":"..","mac":"aa:bb:cc:dd:ee:ff","netmask":"..",
//!   "gateway":"..","dns":{"primary":"..","secondary":".."}},
//!  "firmware_version":"..",
//!  "location":{"latitude":47.123456,"longitude":-8.5,"altitude_m":412,"description":".."}}
//! ```
//!
//! Unset fields are left out, and so is a group with nothing set (all unset:
//! `{}`). Names are valid on both clouds (no `.`, `$` or spaces), the
//! result nests 3 deep (fits the AWS shadow and Azure twin depth limits),
//! and there are no arrays (older Azure twins refuse them), hence `dns` as
//! an object. Coordinates are fixed-point (millionths of a degree) so that
//! no float formatting code is linked; addresses and numbers are written
//! without `core::fmt` (by the crate's own address writer).

use core::net::{IpAddr, Ipv4Addr};

use super::address;
use crate::writer::TextWriter as Out;
use crate::Result;

/// Who the device is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    /// Device name.
    pub name: Option<&'a str>,
    /// Device type (rendered as `type`).
    pub device_type: Option<&'a str>,
    /// Model.
    pub model: Option<&'a str>,
    /// Manufacturer.
    pub manufacturer: Option<&'a str>,
    /// Manufacturing date, as text (e.g. ISO 8601 `2024-05-01`).
    pub manufacturing_date: Option<&'a str>,
    /// Hardware version.
    pub hardware_version: Option<&'a str>,
    /// Serial number.
    pub serial_number: Option<&'a str>,
}

/// How the device is connected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Network {
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    pub ipv6: Option<core::net::Ipv6Addr>,
    /// MAC address, rendered `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<[u8; 6]>,
    /// IPv4 netmask.
    pub netmask: Option<Ipv4Addr>,
    /// Default gateway.
    pub gateway: Option<IpAddr>,
    /// Primary DNS server.
    pub dns_primary: Option<IpAddr>,
    /// Secondary DNS server.
    pub dns_secondary: Option<IpAddr>,
}

/// Where the device is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location<'a> {
    /// Latitude and longitude in millionths of a degree.
    pub coordinates: Option<(i32, i32)>,
    /// Altitude in metres.
    pub altitude_m: Option<i32>,
    /// Free text (site, building, room).
    pub description: Option<&'a str>,
}

/// Everything a device usually reports; see the module documentation for
/// the JSON it becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceInfo<'a> {
    /// Identity.
    pub identity: Identity<'a>,
    /// Network configuration.
    pub network: Network,
    /// Firmware version.
    pub firmware_version: Option<&'a str>,
    /// Location.
    pub location: Location<'a>,
}

impl DeviceInfo<'_> {
    /// Renders the object into `out`; returns its length.
    ///
    /// Errors: [`Error::BufferTooSmall`] (the buffer content is then
    /// unspecified).
    ///
    /// [`Error::BufferTooSmall`]: crate::Error::BufferTooSmall
    pub fn write_json(&self, out: &mut [u8]) -> Result<usize> {
        let mut w = Out::new(out);
        let mut top = Object::open(&mut w)?;

        let id = &self.identity;
        let ids = [
            ("name", id.name),
            ("type", id.device_type),
            ("model", id.model),
            ("manufacturer", id.manufacturer),
            ("manufacturing_date", id.manufacturing_date),
            ("hardware_version", id.hardware_version),
            ("serial_number", id.serial_number),
        ];
        if ids.iter().any(|(_, v)| v.is_some()) {
            top.key(&mut w, "identity")?;
            let mut o = Object::open(&mut w)?;
            for (name, value) in ids {
                if let Some(v) = value {
                    o.key(&mut w, name)?;
                    w.string(v)?;
                }
            }
            o.close(&mut w)?;
        }

        let n = &self.network;
        if *n != Network::default() {
            top.key(&mut w, "network")?;
            let mut o = Object::open(&mut w)?;
            if let Some(ip) = n.ipv4 {
                o.address(&mut w, "ipv4", IpAddr::V4(ip))?;
            }
            if let Some(ip) = n.ipv6 {
                o.address(&mut w, "ipv6", IpAddr::V6(ip))?;
            }
            if let Some(mac) = n.mac {
                o.key(&mut w, "mac")?;
                w.byte(b'"')?;
                address::write_mac(&mut w, mac)?;
                w.byte(b'"')?;
            }
            if let Some(ip) = n.netmask {
                o.address(&mut w, "netmask", IpAddr::V4(ip))?;
            }
            if let Some(ip) = n.gateway {
                o.address(&mut w, "gateway", ip)?;
            }
            if n.dns_primary.is_some() || n.dns_secondary.is_some() {
                o.key(&mut w, "dns")?;
                let mut d = Object::open(&mut w)?;
                if let Some(ip) = n.dns_primary {
                    d.address(&mut w, "primary", ip)?;
                }
                if let Some(ip) = n.dns_secondary {
                    d.address(&mut w, "secondary", ip)?;
                }
                d.close(&mut w)?;
            }
            o.close(&mut w)?;
        }

        if let Some(v) = self.firmware_version {
            top.key(&mut w, "firmware_version")?;
            w.string(v)?;
        }

        let l = &self.location;
        if *l != Location::default() {
            top.key(&mut w, "location")?;
            let mut o = Object::open(&mut w)?;
            if let Some((lat, lon)) = l.coordinates {
                o.key(&mut w, "latitude")?;
                micro_degrees(&mut w, lat)?;
                o.key(&mut w, "longitude")?;
                micro_degrees(&mut w, lon)?;
            }
            if let Some(alt) = l.altitude_m {
                o.key(&mut w, "altitude_m")?;
                w.int(i64::from(alt))?;
            }
            if let Some(d) = l.description {
                o.key(&mut w, "description")?;
                w.string(d)?;
            }
            o.close(&mut w)?;
        }

        top.close(&mut w)?;
        Ok(w.len())
    }
}

/// Tracks the commas of one object being written.
struct Object {
    first: bool,
}

impl Object {
    fn open(w: &mut Out<'_>) -> Result<Self> {
        w.byte(b'{')?;
        Ok(Object { first: true })
    }

    /// Writes `"name":` (names here are constants that need no escaping).
    fn key(&mut self, w: &mut Out<'_>, name: &str) -> Result<()> {
        if !self.first {
            w.byte(b',')?;
        }
        self.first = false;
        w.byte(b'"')?;
        w.push(name.as_bytes())?;
        w.push(b"\":")
    }

    /// Writes a member whose value is an address, quoted (its text needs
    /// no escaping).
    fn address(&mut self, w: &mut Out<'_>, name: &str, ip: IpAddr) -> Result<()> {
        self.key(w, name)?;
        w.byte(b'"')?;
        address::write_ip(w, ip)?;
        w.byte(b'"')
    }

    fn close(self, w: &mut Out<'_>) -> Result<()> {
        w.byte(b'}')
    }
}

/// Writes millionths of a degree as a decimal number without trailing
/// zeros (`-8.5`, `47.123456`, `12`).
fn micro_degrees(w: &mut Out<'_>, v: i32) -> Result<()> {
    let (mut mantissa, mut decimals) = (v, 6);
    while decimals > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        decimals -= 1;
    }
    w.decimal(i64::from(mantissa), decimals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    /// The coordinate text as `core::fmt` wrote it before.
    fn formatted(v: i32) -> String {
        let sign = if v < 0 { "-" } else { "" };
        let abs = v.unsigned_abs();
        let (int, mut frac) = (abs / 1_000_000, abs % 1_000_000);
        if frac == 0 {
            return std::format!("{sign}{int}");
        }
        let mut digits = 6;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        std::format!("{sign}{int}.{frac:0digits$}")
    }

    #[test]
    fn coordinates_read_as_before() {
        let mut values = std::vec![i32::MIN, i32::MAX, 0, 1, -1, 10, -10, 999_999, -999_999];
        values.extend((-3_000_000..3_000_000).step_by(12_347));
        values.extend((0..7).map(|e| 10i32.pow(e)));
        values.extend((0..7).map(|e| -(10i32.pow(e)) * 3));
        for v in values {
            let mut buf = [0u8; 24];
            let mut w = Out::new(&mut buf);
            micro_degrees(&mut w, v).unwrap();
            assert_eq!(w.as_str(), formatted(v), "{v}");
        }
    }
}
