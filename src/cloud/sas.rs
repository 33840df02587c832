//! Azure shared access signature (SAS) tokens, the MQTT password of a
//! device that authenticates with a symmetric key:
//!
//! `SharedAccessSignature sr=<enc resource>&sig=<enc base64 HMAC>&se=<expiry>`
//!
//! where the HMAC-SHA256 is taken over `"<enc resource>\n<expiry>"` with the
//! base64-decoded device key, `<enc …>` is percent-encoding, and the
//! resource is `<hub>/devices/<dev>` (modules: `<hub>/devices/<dev>/modules/<mod>`).
//!
//! The HMAC comes from the port through [`HmacSha256`] (mbedTLS is already
//! on the device); the `rustcrypto` feature adds `RustCryptoHmac`.

use super::percent::encode_into;
use super::topic_writer::TopicWriter;
use super::{azure, base64, names};
use crate::writer::digits;
use crate::{Error, Result};

/// Longest device key, decoded (Azure keys are 16 to 64 bytes).
pub const MAX_KEY_LEN: usize = 64;

/// HMAC-SHA256, implemented by the port (or by `RustCryptoHmac` with the
/// `rustcrypto` feature).
pub trait HmacSha256 {
    /// The HMAC-SHA256 under `key` of the concatenation of `message`'s parts.
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> Result<[u8; 32]>;
}

/// HMAC-SHA256 from RustCrypto's `hmac` and `sha2` crates.
#[cfg(feature = "rustcrypto")]
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCryptoHmac;

#[cfg(feature = "rustcrypto")]
impl HmacSha256 for RustCryptoHmac {
    fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> Result<[u8; 32]> {
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
            .map_err(|_| Error::InvalidCredentials)?;
        for part in message {
            mac.update(part);
        }
        Ok(mac.finalize().into_bytes().into())
    }
}

/// Writes a SAS token for `device` (and `module`) on `hub`, valid until
/// `expiry` (Unix seconds), signed with `key_base64` (the device's primary
/// or secondary key as shown by Azure). [`Error::InvalidCredentials`] for a
/// key that is not base64 or not 1–[`MAX_KEY_LEN`] bytes;
/// [`Error::InvalidName`] / [`Error::InvalidArgument`] for bad identity or hub.
pub fn token<'b>(
    hmac: &mut impl HmacSha256,
    hub: &str,
    device: &str,
    module: Option<&str>,
    key_base64: &str,
    expiry: u64,
    buf: &'b mut [u8],
) -> Result<&'b str> {
    azure::check_hub(hub)?;
    names::check_azure_id(device)?;
    if let Some(m) = module {
        names::check_azure_id(m)?;
    }
    let mut key = [0u8; MAX_KEY_LEN];
    let key_len =
        base64::decode(key_base64.as_bytes(), &mut key).map_err(|_| Error::InvalidCredentials)?;
    let key = key
        .get(..key_len)
        .filter(|k| !k.is_empty())
        .ok_or(Error::InvalidCredentials)?;
    let mut expiry_buf = [0u8; 20];
    let expiry = digits(expiry, 1, &mut expiry_buf);

    let mut w = TopicWriter::new(buf);
    w.push_str("SharedAccessSignature sr=")?;
    let start = w.len();
    encode_into(&mut w, hub.as_bytes())?;
    encode_into(&mut w, b"/devices/")?;
    encode_into(&mut w, device.as_bytes())?;
    if let Some(m) = module {
        encode_into(&mut w, b"/modules/")?;
        encode_into(&mut w, m.as_bytes())?;
    }
    let resource = w.written().get(start..).ok_or(Error::BufferTooSmall)?;
    let mac = hmac.hmac_sha256(key, &[resource, b"\n", expiry])?;

    // base64 of 32 bytes is 44 characters; percent-encode it into place.
    let mut sig_buf = [0u8; 44];
    let mut sig = TopicWriter::new(&mut sig_buf);
    base64::encode_into(&mut sig, &mac)?;
    w.push_str("&sig=")?;
    encode_into(&mut w, sig.written())?;
    w.push_str("&se=")?;
    w.push_ascii(expiry)?;
    w.finish()
}

/// Renewal margin floor: renew at least this long before expiry (seconds).
pub const MIN_RENEW_MARGIN_S: u64 = 60;

/// When to renew a SAS token and reconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Renew now (the renewal point has passed, or the token has expired).
    Now,
    /// Renew in this many seconds.
    In(u64),
}

/// The renewal policy: a token issued at `issued_at` with `lifetime`
/// seconds is renewed once 80 % of its lifetime has passed, and never later
/// than [`MIN_RENEW_MARGIN_S`] before it expires, but never before half of
/// its lifetime (so that a short-lived token is still used before it is
/// replaced). All times are Unix seconds; a clock that went back
/// before `issued_at` only delays the answer, never overflows.
pub fn renewal(issued_at: u64, lifetime: u64, now: u64) -> Renewal {
    let margin = (lifetime / 5).max(MIN_RENEW_MARGIN_S).min(lifetime / 2);
    let renew_at = issued_at.saturating_add(lifetime - margin);
    match renew_at.checked_sub(now) {
        Some(wait) if wait > 0 => Renewal::In(wait),
        _ => Renewal::Now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the message it was given; returns a fixed MAC.
    struct Recorder(std::vec::Vec<u8>, std::vec::Vec<u8>);

    impl HmacSha256 for Recorder {
        fn hmac_sha256(&mut self, key: &[u8], message: &[&[u8]]) -> Result<[u8; 32]> {
            self.0 = key.to_vec();
            self.1 = message.concat();
            Ok([0xfb; 32])
        }
    }

    #[test]
    fn token_signs_encoded_resource_and_expiry() {
        let mut rec = Recorder(vec![], vec![]);
        let mut buf = [0u8; 256];
        let t = token(
            &mut rec,
            "h.azure-devices.net",
            "d1",
            Some("m$"),
            "AQID",
            1700000000,
            &mut buf,
        )
        .unwrap();
        assert_eq!(rec.0, [1, 2, 3]);
        assert_eq!(
            rec.1,
            b"h.azure-devices.net%2Fdevices%2Fd1%2Fmodules%2Fm%24\n1700000000"
        );
        // base64([0xfb; 32]) = "+/v7" × 10 + "+/s=", then percent-encoded.
        let sig = "%2B%2Fv7".repeat(10) + "%2B%2Fs%3D";
        assert_eq!(
            t,
            format!(
                "SharedAccessSignature sr=h.azure-devices.net%2Fdevices%2Fd1%2Fmodules%2Fm%24&sig={sig}&se=1700000000"
            )
        );
    }

    #[test]
    fn bad_keys_are_invalid_credentials() {
        let mut rec = Recorder(vec![], vec![]);
        let mut buf = [0u8; 256];
        let too_long = "A".repeat(92);
        for key in ["", "AQI", "!!!!", too_long.as_str()] {
            assert_eq!(
                token(&mut rec, "h", "d1", None, key, 1, &mut buf),
                Err(Error::InvalidCredentials),
                "{key}"
            );
        }
        assert_eq!(
            token(&mut rec, "h", "d1", None, "AQID", 1, &mut [0u8; 40]),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(
            token(&mut rec, "h/x", "d1", None, "AQID", 1, &mut buf),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    fn renewal_at_80_percent_with_a_floor() {
        // One hour: margin 720 s, renew at 2880 s.
        assert_eq!(renewal(1000, 3600, 1000), Renewal::In(2880));
        assert_eq!(renewal(1000, 3600, 3879), Renewal::In(1));
        assert_eq!(renewal(1000, 3600, 3880), Renewal::Now);
        assert_eq!(renewal(1000, 3600, 99_999), Renewal::Now);
        // Two minutes: the 60 s floor wins over 24 s.
        assert_eq!(renewal(0, 120, 0), Renewal::In(60));
        // Shorter than twice the floor: at half its life, not at once.
        assert_eq!(renewal(0, 30, 0), Renewal::In(15));
        assert_eq!(renewal(0, 30, 15), Renewal::Now);
        assert_eq!(renewal(0, 61, 0), Renewal::In(31));
        assert_eq!(renewal(0, 0, 0), Renewal::Now);
        // Clock before issue: just a longer wait.
        assert_eq!(renewal(1000, 3600, 0), Renewal::In(3880));
        assert_eq!(renewal(u64::MAX, u64::MAX, 0), Renewal::In(u64::MAX));
    }
}
