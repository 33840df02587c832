//! Request ids: the AWS `clientToken` / Azure `$rid` of a twin request.

/// Longest rendered request id: 8 lowercase hex digits (a `u32`), far
/// below the AWS `clientToken` bound of 64 bytes.
pub const MAX_REQUEST_ID_LEN: usize = 8;

/// The id of one twin request, kept with its rendered text so that it can
/// be handed out as a string without formatting.
///
/// The text is the value in lowercase hex without leading zeros (`1`, `2a`,
/// `ffffffff`); 0 is never used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestId {
    value: u32,
    len: u8,
    text: [u8; MAX_REQUEST_ID_LEN],
}

impl RequestId {
    /// The id for a counter value, `None` for 0.
    pub const fn new(value: u32) -> Option<Self> {
        if value == 0 {
            return None;
        }
        let mut text = [0u8; MAX_REQUEST_ID_LEN];
        let mut len = 0;
        let mut shift = 28i32;
        while shift >= 0 {
            let nibble = ((value >> shift) & 0xF) as u8;
            // `len < MAX_REQUEST_ID_LEN` always holds (a `u32` has 8
            // nibbles); saying so spares the index its panic path.
            if (nibble != 0 || len > 0) && len < MAX_REQUEST_ID_LEN {
                text[len] = if nibble < 10 {
                    b'0' + nibble
                } else {
                    b'a' + nibble - 10
                };
                len += 1;
            }
            shift -= 4;
        }
        Some(RequestId {
            value,
            len: len as u8,
            text,
        })
    }

    /// Parses the canonical text of an id (as produced by [`RequestId::as_str`]).
    /// Anything else (upper case, leading zeros, empty, too long) is `None`:
    /// such a token cannot belong to a request of ours.
    pub fn parse(text: &[u8]) -> Option<Self> {
        if text.is_empty() || text.len() > MAX_REQUEST_ID_LEN || text.first() == Some(&b'0') {
            return None;
        }
        // The text is canonical once it parses: keep it rather than
        // render the value again.
        let mut value = 0u32;
        let mut kept = [0u8; MAX_REQUEST_ID_LEN];
        for (&b, slot) in text.iter().zip(kept.iter_mut()) {
            let d = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => return None,
            };
            value = (value << 4) | u32::from(d);
            *slot = b;
        }
        Some(RequestId {
            value,
            len: text.len() as u8,
            text: kept,
        })
    }

    /// The numeric value.
    pub const fn value(&self) -> u32 {
        self.value
    }

    /// The text sent to the cloud.
    pub fn as_bytes(&self) -> &[u8] {
        self.text.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The text sent to the cloud, as a string.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_canonical_hex() {
        for (v, s) in [
            (1u32, "1"),
            (0x2a, "2a"),
            (0x1000, "1000"),
            (u32::MAX, "ffffffff"),
        ] {
            let id = RequestId::new(v).unwrap();
            assert_eq!(id.as_str(), s);
            assert_eq!(RequestId::parse(s.as_bytes()), Some(id));
        }
        assert_eq!(RequestId::new(0), None);
        for bad in ["", "0", "01", "2A", "1ffffffff", "g", "-1", " 1"] {
            assert_eq!(RequestId::parse(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
