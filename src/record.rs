//! The provisioning record: a device's identity and connection settings,
//! written once at the factory into a flash partition and read at boot in
//! place (no copy, no heap).
//!
//! A record is a CBOR map (RFC 8949) with small unsigned-integer keys,
//! followed by the CRC-32 (IEEE 802.3, the zlib one) of the CBOR bytes,
//! 4 bytes little-endian:
//!
//! | key | field | CBOR type | rule |
//! | --- | --- | --- | --- |
//! | 0 | format version | unsigned | 1; the first key of the map |
//! | 1 | cloud | unsigned | 0 AWS IoT Core, 1 Azure IoT Hub (as `nimbus_cloud_t`) |
//! | 2 | host | text | required: the server name (DNS name), on Azure the hub host |
//! | 3 | port | unsigned | required, 1–65535 |
//! | 4 | device id | text | required: AWS thing name or Azure device id |
//! | 5 | module id | text | Azure only, optional |
//! | 6 | shadow name | text | AWS only, optional (classic shadow without it) |
//! | 7 | SAS key | text | Azure only, optional: the device key in base64 (1–64 bytes decoded) |
//! | 8 | CA certificates | text | optional, PEM |
//! | 9 | client certificate | text | optional, PEM; only with key 10 |
//! | 10 | client private key | text | optional, PEM; only with key 9 |
//!
//! Every text is stored with a terminating NUL inside the CBOR text string
//! (`"d1"` is the 3-byte text `d1\0`), so that C can use it in place; the
//! NUL must be there and be the only one, and the text must not be empty.
//! The map has a definite length, each key appears at most once, and keys
//! outside the table are refused: a record is either understood whole or
//! not at all. Writers put the keys in ascending order.
//!
//! Per cloud: AWS takes no module id and no SAS key (it authenticates with
//! X.509); Azure takes no shadow name, and a SAS key excludes a client
//! certificate and key. Names follow the cloud's rules
//! ([`check_thing_name`](crate::cloud::check_thing_name), [`check_shadow_name`](crate::cloud::check_shadow_name), [`check_azure_id`](crate::cloud::check_azure_id)).
//! Credentials may also live elsewhere (a secure element, a credential
//! store): the CA, certificate, key and SAS key are all optional.
//!
//! A record is read from the start of the bytes given: what follows its
//! CRC (the rest of an erased partition) is ignored.
//!
//! Refusals: [`Error::CorruptRecord`](crate::Error::CorruptRecord) when the bytes are too short, the
//! CBOR is not well-formed or the CRC does not match;
//! [`Error::InvalidRecord`](crate::Error::InvalidRecord) when the CRC matches but the content breaks
//! the format (not a map, unknown or duplicate key, wrong type, missing
//! field, unsupported version, port 0, empty text, a bad host, a field
//! the cloud does not take); [`Error::InvalidString`](crate::Error::InvalidString) for a text without
//! its NUL or with an inner NUL; [`Error::InvalidName`](crate::Error::InvalidName) for a name the
//! cloud refuses; [`Error::InvalidCredentials`](crate::Error::InvalidCredentials) for a SAS key that is not
//! base64 of 1–64 bytes.

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

use crate::cloud::sas::MAX_KEY_LEN;
use crate::cloud::{base64, check_azure_id, check_shadow_name, check_thing_name, Cloud};
use crate::writer::TextWriter;

use crate::seal::seal;
/// The record's CRC and its length ([`crate::seal`]).
pub use crate::seal::{crc32, CRC_LEN};
use crate::{Error, Result};

/// The format version this code reads and writes (key 0).
pub const RECORD_VERSION: u64 = 1;

/// Longest host name, in bytes (a DNS name).
pub const MAX_HOST_LEN: usize = 253;

/// The keys of the record map.
mod key {
    pub const VERSION: u64 = 0;
    pub const CLOUD: u64 = 1;
    pub const HOST: u64 = 2;
    pub const PORT: u64 = 3;
    pub const DEVICE_ID: u64 = 4;
    pub const MODULE_ID: u64 = 5;
    pub const SHADOW_NAME: u64 = 6;
    pub const SAS_KEY: u64 = 7;
    pub const CA_PEM: u64 = 8;
    pub const CERT_PEM: u64 = 9;
    pub const KEY_PEM: u64 = 10;
    /// One past the largest key.
    pub const END: u64 = 11;
}

/// A device's provisioning record. Texts borrow from the record bytes; in
/// a decoded record each is followed there by its NUL, so C may use them
/// as C strings in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceRecord<'a> {
    /// The cloud.
    pub cloud: Cloud,
    /// The server name (TLS SNI and verification); on Azure, the hub host.
    pub host: &'a str,
    /// The server's TCP port (never 0).
    pub port: u16,
    /// The AWS thing name or the Azure device id.
    pub device_id: &'a str,
    /// The Azure module id.
    pub module_id: Option<&'a str>,
    /// The AWS named shadow (the classic shadow when `None`).
    pub shadow_name: Option<&'a str>,
    /// The Azure device key in base64 (SAS authentication).
    pub sas_key: Option<&'a str>,
    /// The trusted CA certificates, PEM.
    pub ca_pem: Option<&'a str>,
    /// The client certificate (chain), PEM.
    pub cert_pem: Option<&'a str>,
    /// The client certificate's private key, PEM.
    pub key_pem: Option<&'a str>,
}

impl<'a> DeviceRecord<'a> {
    /// A record of the required fields, the optional ones absent.
    pub const fn new(cloud: Cloud, host: &'a str, port: u16, device_id: &'a str) -> Self {
        DeviceRecord {
            cloud,
            host,
            port,
            device_id,
            module_id: None,
            shadow_name: None,
            sas_key: None,
            ca_pem: None,
            cert_pem: None,
            key_pem: None,
        }
    }

    /// Reads the record at the start of `data` (bytes after its CRC are
    /// ignored) and checks every rule of the format (see the module
    /// documentation for the errors).
    pub fn decode(data: &'a [u8]) -> Result<Self> {
        let cbor = checked_cbor(data)?;
        let record = decode_map(cbor)?;
        record.check()?;
        Ok(record)
    }

    /// Writes the record (CBOR map and CRC) into `buf` and returns its
    /// length. Refuses what [`decode`](Self::decode) would refuse (texts
    /// with a NUL are [`Error::InvalidString`]);
    /// [`Error::BufferTooSmall`] when it does not fit.
    pub fn encode(&self, buf: &mut [u8]) -> Result<usize> {
        for text in self.texts().into_iter().flatten() {
            if text.bytes().any(|b| b == 0) {
                return Err(Error::InvalidString);
            }
        }
        self.check()?;
        let fields = self.texts();
        let present = fields.iter().filter(|t| t.is_some()).count();
        let mut e = Encoder::new(TextWriter::new(buf));
        // version, cloud, port + the texts present.
        e.map(3 + present as u64).map_err(encode_error)?;
        e.u64(key::VERSION)
            .and_then(|e| e.u64(RECORD_VERSION))
            .map_err(encode_error)?;
        let cloud = match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => 0,
            #[cfg(feature = "azure")]
            Cloud::Azure => 1,
        };
        e.u64(key::CLOUD)
            .and_then(|e| e.u64(cloud))
            .map_err(encode_error)?;
        for (k, text) in (key::HOST..key::END).zip(fields) {
            if k == key::PORT {
                e.u64(k)
                    .and_then(|e| e.u64(u64::from(self.port)))
                    .map_err(encode_error)?;
            }
            if let Some(text) = text {
                e.u64(k)
                    .and_then(|e| e.str_len(text.len() as u64 + 1))
                    .map_err(encode_error)?;
                let w = e.writer_mut();
                w.push(text.as_bytes())?;
                w.byte(0)?;
            }
        }
        let len = e.writer().len();
        seal(buf, 0..len)
    }

    /// The text fields from key 2 to key 10, the port's slot (key 3) `None`.
    fn texts(&self) -> [Option<&'a str>; 9] {
        [
            Some(self.host),
            None,
            Some(self.device_id),
            self.module_id,
            self.shadow_name,
            self.sas_key,
            self.ca_pem,
            self.cert_pem,
            self.key_pem,
        ]
    }

    /// The rules that do not depend on the encoding.
    fn check(&self) -> Result<()> {
        if self.port == 0 || !is_host(self.host) {
            return Err(Error::InvalidRecord);
        }
        if self.texts().into_iter().flatten().any(str::is_empty) {
            return Err(Error::InvalidRecord);
        }
        if self.cert_pem.is_some() != self.key_pem.is_some() {
            return Err(Error::InvalidRecord);
        }
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                if self.module_id.is_some() || self.sas_key.is_some() {
                    return Err(Error::InvalidRecord);
                }
                check_thing_name(self.device_id)?;
                if let Some(shadow) = self.shadow_name {
                    check_shadow_name(shadow)?;
                }
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                if self.shadow_name.is_some() || (self.sas_key.is_some() && self.cert_pem.is_some())
                {
                    return Err(Error::InvalidRecord);
                }
                check_azure_id(self.device_id)?;
                if let Some(module) = self.module_id {
                    check_azure_id(module)?;
                }
                if let Some(sas) = self.sas_key {
                    let mut key = [0u8; MAX_KEY_LEN];
                    let len = base64::decode(sas.as_bytes(), &mut key)
                        .map_err(|_| Error::InvalidCredentials)?;
                    if len == 0 {
                        return Err(Error::InvalidCredentials);
                    }
                }
            }
        }
        Ok(())
    }
}

fn encode_error(_: minicbor::encode::Error<Error>) -> Error {
    Error::BufferTooSmall
}

/// 1–[`MAX_HOST_LEN`] bytes of ASCII letters, digits, `.` and `-`.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// The CBOR bytes at the start of `data`, after checking that one
/// well-formed data item is followed by its CRC.
fn checked_cbor(data: &[u8]) -> Result<&[u8]> {
    let mut d = Decoder::new(data);
    // `skip` takes a lone break as an item; it is not one.
    if d.datatype().map_err(|_| Error::CorruptRecord)? == Type::Break {
        return Err(Error::CorruptRecord);
    }
    d.skip().map_err(|_| Error::CorruptRecord)?;
    let (cbor, rest) = data
        .split_at_checked(d.position())
        .ok_or(Error::CorruptRecord)?;
    let stored = rest.first_chunk::<CRC_LEN>().ok_or(Error::CorruptRecord)?;
    if u32::from_le_bytes(*stored) != crc32(cbor) {
        return Err(Error::CorruptRecord);
    }
    Ok(cbor)
}

/// A cloud of this build, in the record being read until its key 1 is.
#[cfg(feature = "aws")]
const PLACEHOLDER_CLOUD: Cloud = Cloud::Aws;
#[cfg(not(feature = "aws"))]
const PLACEHOLDER_CLOUD: Cloud = Cloud::Azure;

/// The fields of a well-formed, CRC-checked map.
fn decode_map(cbor: &[u8]) -> Result<DeviceRecord<'_>> {
    let mut d = Decoder::new(cbor);
    if d.datatype().map_err(|_| Error::CorruptRecord)? != Type::Map {
        return Err(Error::InvalidRecord);
    }
    let entries = d.map().map_err(|_| Error::CorruptRecord)?.unwrap_or(0);
    let mut seen = 0u16;
    let (mut cloud, mut host, mut port, mut device_id) = (None, None, None, None);
    let mut r = DeviceRecord::new(PLACEHOLDER_CLOUD, "", 0, "");
    for i in 0..entries {
        let k = uint(&mut d)?;
        if k >= key::END || seen & (1 << k) != 0 || (i == 0) != (k == key::VERSION) {
            return Err(Error::InvalidRecord);
        }
        seen |= 1 << k;
        match k {
            key::VERSION => {
                if uint(&mut d)? != RECORD_VERSION {
                    return Err(Error::InvalidRecord);
                }
            }
            key::CLOUD => {
                cloud = Some(match uint(&mut d)? {
                    #[cfg(feature = "aws")]
                    0 => Cloud::Aws,
                    #[cfg(feature = "azure")]
                    1 => Cloud::Azure,
                    _ => return Err(Error::InvalidRecord),
                })
            }
            key::PORT => {
                port = Some(u16::try_from(uint(&mut d)?).map_err(|_| Error::InvalidRecord)?)
            }
            key::HOST => host = Some(text(&mut d)?),
            key::DEVICE_ID => device_id = Some(text(&mut d)?),
            key::MODULE_ID => r.module_id = Some(text(&mut d)?),
            key::SHADOW_NAME => r.shadow_name = Some(text(&mut d)?),
            key::SAS_KEY => r.sas_key = Some(text(&mut d)?),
            key::CA_PEM => r.ca_pem = Some(text(&mut d)?),
            key::CERT_PEM => r.cert_pem = Some(text(&mut d)?),
            key::KEY_PEM => r.key_pem = Some(text(&mut d)?),
            _ => return Err(Error::InvalidRecord),
        }
    }
    match (cloud, host, port, device_id) {
        (Some(cloud), Some(host), Some(port), Some(device_id)) => Ok(DeviceRecord {
            cloud,
            host,
            port,
            device_id,
            ..r
        }),
        _ => Err(Error::InvalidRecord),
    }
}

/// An unsigned integer ([`Error::InvalidRecord`] for another type).
fn uint(d: &mut Decoder<'_>) -> Result<u64> {
    match d.datatype().map_err(|_| Error::CorruptRecord)? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => d.u64().map_err(|_| Error::CorruptRecord),
        _ => Err(Error::InvalidRecord),
    }
}

/// A definite-length text ending in its only NUL, without the NUL.
fn text<'a>(d: &mut Decoder<'a>) -> Result<&'a str> {
    if d.datatype().map_err(|_| Error::CorruptRecord)? != Type::String {
        return Err(Error::InvalidRecord);
    }
    let s = d.str().map_err(|_| Error::InvalidString)?;
    match s.as_bytes().split_last() {
        Some((0, body)) if body.iter().all(|&b| b != 0) => {
            s.get(..body.len()).ok_or(Error::InvalidString)
        }
        _ => Err(Error::InvalidString),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{0: 1, 1: cloud, 2: "h", 3: 8883, 4: "d"}` and its CRC.
    fn minimal(cloud: u8) -> [u8; 21] {
        let cbor = [
            0xA5, 0x00, 0x01, 0x01, cloud, 0x02, 0x62, b'h', 0, 0x03, 0x19, 0x22, 0xB3, 0x04, 0x62,
            b'd', 0,
        ];
        let mut r = [0u8; 21];
        r[..17].copy_from_slice(&cbor);
        r[17..].copy_from_slice(&crc32(&cbor).to_le_bytes());
        r
    }

    /// A record for a cloud left out of the build (`aws` or `azure`
    /// feature off) is refused; one for a built cloud is read.
    #[test]
    fn only_records_for_the_clouds_of_the_build_are_read() {
        for (code, built) in [(0, cfg!(feature = "aws")), (1, cfg!(feature = "azure"))] {
            let record = minimal(code);
            match DeviceRecord::decode(&record) {
                Ok(r) => {
                    assert!(built, "cloud {code}");
                    assert_eq!((r.host, r.port, r.device_id), ("h", 8883, "d"));
                }
                Err(e) => {
                    assert!(!built, "cloud {code}: {e:?}");
                    assert_eq!(e, Error::InvalidRecord);
                }
            }
        }
    }
}
