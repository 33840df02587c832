//! Sensors: the registry behind `sensor/list` and `sensor/<n>/get`, and the
//! encoding of one reading as JSON or CBOR.

use crate::writer::TextWriter;
use crate::{Error, Result};
use minicbor::data::Tag;
use minicbor::Encoder;

/// Longest sensor type or unit name, in bytes.
pub const MAX_NAME_LEN: usize = 32;

/// What the cloud is told about one sensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SensorInfo<'a> {
    /// The sensor's number, `<n>` in `sensor/<n>/get` and in its telemetry topic.
    pub id: u16,
    /// What it measures, e.g. `temperature`.
    pub kind: &'a str,
    /// The unit of its readings, e.g. `Cel` (UCUM codes are a good choice).
    pub unit: &'a str,
}

/// One reading: the exact decimal `mantissa × 10^-decimals` (23.45 °C is
/// `{ mantissa: 2345, decimals: 2 }`), so no floating point is needed on
/// the device. `decimals` is at most 18.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The digits of the value.
    pub mantissa: i64,
    /// How many of them are after the decimal point.
    pub decimals: u8,
}

/// What numbers a reading: its sequence number, and with a store the boot
/// it was taken in (so that `(boot, seq)` tells a reboot from a replay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Counts the readings of the device (across reboots with a store).
    pub seq: u32,
    /// The boot number, with a store.
    pub boot: Option<u32>,
    /// Readings refused since boot (no room, rate limit, link): written
    /// as `refused` when not 0, so the cloud hears of every one.
    pub refused: u32,
    /// Readings dropped from a full queue since boot
    /// ([`QueuePolicy::DropOldest`](super::queue::QueuePolicy)): written
    /// as `dropped` when not 0.
    pub dropped: u32,
}

impl Stamp {
    /// A sequence number alone (no store, no boot number).
    pub const fn seq(seq: u32) -> Self {
        Stamp {
            seq,
            boot: None,
            refused: 0,
            dropped: 0,
        }
    }
}

/// How readings are encoded on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// `{"id":0,"type":"temperature","unit":"Cel","value":23.45,"seq":1}`.
    #[default]
    Json,
    /// The same map in CBOR, the value as a decimal fraction (tag 4,
    /// RFC 8949 §3.4.4): about half the bytes, for small links. On Azure
    /// the message carries `$.ct=application/cbor`.
    Cbor,
}

impl Encoding {
    /// The content type to announce with a message in this encoding.
    pub const fn content_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/json",
            Encoding::Cbor => "application/cbor",
        }
    }
}

/// A fixed table of at most `N` sensors, each with a unique id.
#[derive(Debug)]
pub struct Sensors<'a, const N: usize> {
    list: heapless::Vec<SensorInfo<'a>, N>,
}

impl<'a, const N: usize> Default for Sensors<'a, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, const N: usize> Sensors<'a, N> {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            list: heapless::Vec::new(),
        }
    }

    /// Adds a sensor. Errors: `InvalidArgument` for a duplicate id or a
    /// type or unit that is empty or over [`MAX_NAME_LEN`]; `Busy` when full.
    pub fn register(&mut self, info: SensorInfo<'a>) -> Result<()> {
        let name_ok = |s: &str| !s.is_empty() && s.len() <= MAX_NAME_LEN;
        if !name_ok(info.kind) || !name_ok(info.unit) || self.find(info.id).is_some() {
            return Err(Error::InvalidArgument);
        }
        self.list.push(info).map_err(|_| Error::Busy)
    }

    /// The sensor with this id.
    pub fn find(&self, id: u16) -> Option<&SensorInfo<'a>> {
        self.list.iter().find(|s| s.id == id)
    }

    /// Where the sensor with this id stands in registration order.
    pub fn index_of(&self, id: u16) -> Option<usize> {
        self.list.iter().position(|s| s.id == id)
    }

    /// The sensor at `index` in registration order.
    pub fn get(&self, index: usize) -> Option<&SensorInfo<'a>> {
        self.list.get(index)
    }

    /// How many sensors are registered.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether no sensor is registered.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Every sensor, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &SensorInfo<'a>> {
        self.list.iter()
    }

    /// Writes the answer to `sensor/list`,
    /// `{"sensors":[{"id":0,"type":"temperature","unit":"Cel"},...]}`, and
    /// returns its length.
    pub fn write_list(&self, out: &mut [u8]) -> Result<usize> {
        let mut w = TextWriter::new(out);
        w.raw("{\"sensors\":[")?;
        for (i, s) in self.list.iter().enumerate() {
            w.comma(i > 0)?;
            w.raw("{")?;
            write_info(&mut w, s)?;
            w.raw("}")?;
        }
        w.raw("]}")?;
        Ok(w.len())
    }
}

fn write_info(w: &mut TextWriter<'_>, s: &SensorInfo<'_>) -> Result<()> {
    w.key("id")?;
    w.uint(u64::from(s.id))?;
    w.raw(",")?;
    w.key("type")?;
    w.string(s.kind)?;
    w.raw(",")?;
    w.key("unit")?;
    w.string(s.unit)
}

/// The sensor number in a request path `sensor/<n>/get`, if it is one.
pub fn sensor_in_path(path: &str) -> Option<u16> {
    let n = path.strip_prefix("sensor/")?.strip_suffix("/get")?;
    if n.is_empty() || n.len() > 5 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// Writes one reading of `sensor`, with its sequence number when it is
/// telemetry, and returns its length. Errors: `BufferTooSmall`,
/// `InvalidArgument` for `decimals` > 18.
pub fn write_reading(
    sensor: &SensorInfo<'_>,
    reading: Reading,
    stamp: Option<Stamp>,
    encoding: Encoding,
    out: &mut [u8],
) -> Result<usize> {
    if reading.decimals > 18 {
        return Err(Error::InvalidArgument);
    }
    match encoding {
        Encoding::Json => {
            let mut w = TextWriter::new(out);
            w.raw("{")?;
            write_info(&mut w, sensor)?;
            w.raw(",")?;
            w.key("value")?;
            w.decimal(reading.mantissa, reading.decimals)?;
            if let Some(stamp) = stamp {
                w.raw(",")?;
                w.key("seq")?;
                w.uint(u64::from(stamp.seq))?;
                if let Some(boot) = stamp.boot {
                    w.raw(",")?;
                    w.key("boot")?;
                    w.uint(u64::from(boot))?;
                }
                for (key, n) in [("refused", stamp.refused), ("dropped", stamp.dropped)] {
                    if n != 0 {
                        w.raw(",")?;
                        w.key(key)?;
                        w.uint(u64::from(n))?;
                    }
                }
            }
            w.raw("}")?;
            Ok(w.len())
        }
        Encoding::Cbor if !cfg!(feature = "cbor") => Err(Error::InvalidArgument),
        Encoding::Cbor => {
            let mut e = Encoder::new(TextWriter::new(out));
            (|| {
                let fields = stamp.map_or(4, |s| {
                    5 + u64::from(s.boot.is_some())
                        + u64::from(s.refused != 0)
                        + u64::from(s.dropped != 0)
                });
                e.map(fields)?
                    .str("id")?
                    .u64(u64::from(sensor.id))?
                    .str("type")?
                    .str(sensor.kind)?
                    .str("unit")?
                    .str(sensor.unit)?
                    .str("value")?
                    .tag(Tag::new(4))?
                    .array(2)?
                    .i64(-i64::from(reading.decimals))?
                    .i64(reading.mantissa)?;
                if let Some(stamp) = stamp {
                    e.str("seq")?.u64(u64::from(stamp.seq))?;
                    if let Some(boot) = stamp.boot {
                        e.str("boot")?.u64(u64::from(boot))?;
                    }
                    for (key, n) in [("refused", stamp.refused), ("dropped", stamp.dropped)] {
                        if n != 0 {
                            e.str(key)?.u64(u64::from(n))?;
                        }
                    }
                }
                Ok::<_, minicbor::encode::Error<_>>(())
            })()
            .map_err(|_| Error::BufferTooSmall)?;
            Ok(e.writer().len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMP: SensorInfo<'static> = SensorInfo {
        id: 0,
        kind: "temperature",
        unit: "Cel",
    };

    #[test]
    fn list_and_lookup() {
        let mut s: Sensors<'_, 2> = Sensors::new();
        assert_eq!(s.write_list(&mut [0; 32]), Ok(14));
        s.register(TEMP).unwrap();
        s.register(SensorInfo {
            id: 12,
            kind: "humidity",
            unit: "%",
        })
        .unwrap();
        assert_eq!(
            s.register(SensorInfo {
                id: 3,
                kind: "x",
                unit: "y"
            }),
            Err(Error::Busy)
        );
        let mut out = [0u8; 128];
        let n = s.write_list(&mut out).unwrap();
        assert_eq!(
            core::str::from_utf8(&out[..n]).unwrap(),
            r#"{"sensors":[{"id":0,"type":"temperature","unit":"Cel"},{"id":12,"type":"humidity","unit":"%"}]}"#
        );
        assert_eq!(s.write_list(&mut out[..40]), Err(Error::BufferTooSmall));
        assert_eq!(s.find(12).map(|i| i.kind), Some("humidity"));
    }

    #[test]
    fn bad_registrations_are_refused() {
        let long = "x".repeat(MAX_NAME_LEN + 1);
        let mut s: Sensors<'_, 4> = Sensors::new();
        s.register(TEMP).unwrap();
        assert_eq!(
            s.register(TEMP),
            Err(Error::InvalidArgument),
            "duplicate id"
        );
        assert_eq!(
            s.register(SensorInfo {
                id: 1,
                kind: "",
                unit: "u"
            }),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            s.register(SensorInfo {
                id: 1,
                kind: "k",
                unit: &long
            }),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    fn sensor_paths() {
        assert_eq!(sensor_in_path("sensor/12/get"), Some(12));
        assert_eq!(sensor_in_path("sensor/0/get"), Some(0));
        for bad in [
            "sensor//get",
            "sensor/-1/get",
            "sensor/70000/get",
            "sensor/1/2/get",
            "sensor/list",
            "sensor/1a/get",
        ] {
            assert_eq!(sensor_in_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_reading() {
        let mut out = [0u8; 96];
        let r = Reading {
            mantissa: -2345,
            decimals: 2,
        };
        let n = write_reading(&TEMP, r, Some(Stamp::seq(7)), Encoding::Json, &mut out).unwrap();
        assert_eq!(
            core::str::from_utf8(&out[..n]).unwrap(),
            r#"{"id":0,"type":"temperature","unit":"Cel","value":-23.45,"seq":7}"#
        );
        assert_eq!(
            write_reading(
                &TEMP,
                r,
                Some(Stamp::seq(7)),
                Encoding::Json,
                &mut out[..n - 1]
            ),
            Err(Error::BufferTooSmall)
        );
        let bad = Reading {
            mantissa: 1,
            decimals: 19,
        };
        assert_eq!(
            write_reading(&TEMP, bad, None, Encoding::Json, &mut out),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    #[cfg(not(feature = "cbor"))]
    fn left_out_cbor_is_refused() {
        let r = Reading {
            mantissa: 215,
            decimals: 1,
        };
        let mut out = [0u8; 64];
        assert_eq!(
            write_reading(&TEMP, r, None, Encoding::Cbor, &mut out),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    #[cfg(feature = "cbor")]
    fn cbor_reading_uses_a_decimal_fraction() {
        let mut out = [0u8; 96];
        let r = Reading {
            mantissa: 27315,
            decimals: 2,
        };
        let n = write_reading(&TEMP, r, Some(Stamp::seq(1)), Encoding::Cbor, &mut out).unwrap();
        let b = &out[..n];
        assert_eq!(b[0], 0xa5, "map of five");
        // "value": 4([-2, 27315]), the example of RFC 8949 §3.4.4.
        let value = [
            0x65, b'v', b'a', b'l', b'u', b'e', 0xc4, 0x82, 0x21, 0x19, 0x6a, 0xb3,
        ];
        assert!(b.windows(value.len()).any(|w| w == value), "{b:02x?}");
        assert!(b.ends_with(&[0x63, b's', b'e', b'q', 0x01]));
        assert!(n < 60, "CBOR is compact: {n} bytes");
        let n = write_reading(&TEMP, r, None, Encoding::Cbor, &mut out).unwrap();
        assert_eq!(out[0], 0xa4, "a get's reading has no sequence number");
        assert!(!out[..n].windows(3).any(|w| w == b"seq"));
        assert_eq!(
            write_reading(
                &TEMP,
                r,
                Some(Stamp::seq(1)),
                Encoding::Cbor,
                &mut out[..n - 1]
            ),
            Err(Error::BufferTooSmall)
        );
    }
}
